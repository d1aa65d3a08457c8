//! One module per subcommand (xsv style), each with a `run` function; this file only dispatches.
//! `run` is the one function the binary (and later a Lambda handler) calls.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod demo;
mod generate;
mod history;
mod init;
mod job;
mod report;
mod setup;
mod status;
mod watch;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    setup::init_logging(&cli.global);
    let global = &cli.global;
    match &cli.command {
        Command::Report(args) => report::run(global, args),
        Command::Check(args) => job::run(global, job::Action::Check, args.dry_run.dry_run),
        Command::Watch(args) => watch::run(global, args),
        Command::Status(args) => status::run(global, args),
        Command::History(args) => history::run(global, args),
        Command::Start(args) => job::run(global, job::Action::Start(args), args.dry_run.dry_run),
        Command::Stop(args) => job::run(global, job::Action::Stop(args), args.dry_run.dry_run),
        Command::Budget(cmd) => job::run(global, job::Action::Budget(cmd), false),
        Command::Reconcile(args) => job::run(global, job::Action::Reconcile, args.dry_run),
        Command::Demo(args) => demo::run(global, args),
        Command::Init(args) => init::run(global, args),
        Command::Generate(args) => generate::run(args),
    }
}
