//! `nat-flowrec completions <shell>`: the completion script clap derives from the command line
//! itself, so it never falls behind a new option.

use std::process::ExitCode;

use crate::cli::CompletionsArgs;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::cli::command();
    let name = cmd.get_name().to_string();
    // Into memory first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    super::out::write_bytes(&script)?;
    Ok(ExitCode::SUCCESS)
}
