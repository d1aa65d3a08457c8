//! The export's progress on a terminal: a spinner with the events read so far and their rate.
//! Silent when stderr is not a terminal (cron, systemd, Lambda, tests), so logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counts exported events; draws only on a terminal. Cheap to clone (one shared bar).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Draws on stderr when it is a terminal, otherwise counts silently.
    pub fn auto(label: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {msg}: {human_pos} events ({per_sec})")
            {
                bar.set_style(style);
            }
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress { bar }
        } else {
            Progress::hidden()
        }
    }

    /// Never draws.
    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    pub fn add(&self, events: u64) {
        self.bar.inc(events);
    }

    /// Events counted so far.
    pub fn events(&self) -> u64 {
        self.bar.position()
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_progress_still_counts() {
        let p = Progress::hidden();
        p.add(3);
        p.clone().add(4);
        assert_eq!(p.events(), 7);
        p.finish();
    }
}
