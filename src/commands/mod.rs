//! One module per subcommand (xsv style), each with a `run` function; this file only dispatches.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod generate;
mod report;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report(args) => report::run(&cli.global, &args),
        Command::Generate(args) => generate::run(&args),
        other => anyhow::bail!("{other:?}: not built yet"),
    }
}
