//! `nat-flowrec generate`: placeholder until the parsers' synth generator lands.
use std::process::ExitCode;

use crate::cli::GenerateArgs;

pub fn run(_args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("generate: not built yet")
}
