//! The `nat-flowrec` binary: parse the command line, run one command, turn its outcome into an
//! exit code. Everything else lives in the library (ripgrep's thin binary).

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nat_flowrec::cli::Cli::parse_args();
    // With `--log-format json` every line on stderr is JSON, the final error included.
    let json = cli.global.log_format == nat_flowrec::cli::LogFormat::Json;
    match nat_flowrec::commands::run(cli) {
        Ok(code) => code,
        // `nat-flowrec history | head -1`: the reader has all it wanted.
        Err(err) if nat_flowrec::commands::out::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if json => {
            tracing::error!("{}", nat_flowrec::error_chain::once_each(err.chain()));
            ExitCode::from(nat_flowrec::commands::exit::ERROR)
        }
        Err(err) => {
            eprintln!(
                "error: {}",
                nat_flowrec::error_chain::once_each(err.chain())
            );
            ExitCode::from(nat_flowrec::commands::exit::ERROR)
        }
    }
}
