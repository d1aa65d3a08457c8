//! The exit codes of the binary in one place, so that `--help` (`cli::EXIT_CODES_HELP`), the
//! README and the code say the same thing. Schedulers (cron, systemd, EventBridge) act on them:
//! a run that found another run holding the lock did nothing wrong, but did nothing either, and
//! a script may want to tell that apart from success.

use std::process::ExitCode;

/// Done, also when there was nothing to do.
pub const DONE: u8 = 0;
/// Configuration, AWS, the event log, or a decision that failed.
pub const ERROR: u8 = 1;
/// Unknown command or option, or an invalid value (clap exits with it while parsing).
pub const USAGE: u8 = 2;
/// Another run holds the event log's lock; that run does this run's work.
pub const LOCKED: u8 = 3;

pub fn locked() -> ExitCode {
    ExitCode::from(LOCKED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::EXIT_CODES_HELP;

    #[test]
    fn help_lists_every_exit_code_with_its_meaning() {
        for (code, words) in [
            (DONE, "done"),
            (ERROR, "error"),
            (USAGE, "usage"),
            (LOCKED, "lock"),
        ] {
            let row = EXIT_CODES_HELP
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{code} ")))
                .unwrap_or_else(|| panic!("no row for exit code {code} in:\n{EXIT_CODES_HELP}"));
            assert!(row.contains(words), "{row}");
        }
    }

    #[test]
    fn clap_usage_errors_exit_with_the_documented_code() {
        use clap::Parser;
        let err = crate::cli::Cli::try_parse_from(["nat-flowrec", "chek"]).unwrap_err();
        assert_eq!(err.exit_code(), i32::from(USAGE));
    }
}
