//! The `nat-flowrec` binary: parse the command line, run one command, turn its outcome into an
//! exit code. Everything else lives in the library (ripgrep's thin binary).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = nat_flowrec::cli::Cli::parse();
    match nat_flowrec::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
