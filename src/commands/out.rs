//! Standard output for every command: written with `?`, never with `println!`, so a reader that
//! goes away (`nat-flowrec history | head -1`) ends the command through its error path, and
//! `main` turns that broken pipe into a quiet exit 0 (what `cat`, `rg` and the AWS CLI do).

use std::io::{self, Write};

/// Writes `text` to stdout and flushes it, so a closed pipe shows up here and not in a panic.
pub fn write(text: std::fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(text)?;
    out.flush()
}

/// Writes bytes (a rendered page, a generated script) to stdout and flushes them.
pub fn write_bytes(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// The reader of stdout went away: somewhere in the error's chain is a broken pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<nat_flowrec_reports::ReportError>()
                .is_some_and(nat_flowrec_reports::ReportError::is_broken_pipe)
    })
}

/// `print!` that returns the write's error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::out::write(format_args!($($arg)*))
    };
}

/// `println!` that returns the write's error instead of panicking.
macro_rules! outln {
    () => {
        $crate::commands::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
