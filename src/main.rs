//! The `nat-flowrec` binary: parse the command line, run one command, turn its outcome into an
//! exit code. Everything else lives in the library (ripgrep's thin binary).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = nat_flowrec::cli::Cli::parse();
    // With `--log-format json` every line on stderr is JSON, the final error included.
    let json = cli.global.log_format == nat_flowrec::cli::LogFormat::Json;
    match nat_flowrec::commands::run(cli) {
        Ok(code) => code,
        Err(err) if json => {
            tracing::error!("{err:#}");
            ExitCode::from(nat_flowrec::commands::exit::ERROR)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(nat_flowrec::commands::exit::ERROR)
        }
    }
}
