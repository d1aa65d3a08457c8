//! One module per subcommand (xsv style), each with a `run` function; this file only dispatches.
//! `run` is the one function the binary (and later a Lambda handler) calls.

use std::process::ExitCode;

use crate::cli::{BudgetCommand, Cli, Command};

mod completions;
mod demo;
mod doctor;
pub mod exit;
mod export;
mod generate;
mod history;
mod iam_policy;
mod init;
pub(crate) mod job;
pub mod json;
mod man;
mod notify;
pub mod out;
mod report;
mod report_insights;
pub(crate) mod setup;
pub(crate) mod status;
pub(crate) mod update_ip_ranges;
mod watch;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    setup::init_logging(&cli.global);
    let global = &cli.global;
    match &cli.command {
        Command::Report(args) => report::run(global, args),
        Command::Check(args) => job::run(
            global,
            job::Action::Check,
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Watch(args) => watch::run(global, args),
        Command::Status(args) => status::run(global, args),
        Command::History(args) => history::run(global, args),
        Command::Start(args) => job::run(
            global,
            job::Action::Start(args),
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Stop(args) => job::run(
            global,
            job::Action::Stop(args),
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Budget(cmd) => {
            let BudgetCommand::Reset { output, .. } = cmd;
            job::run(global, job::Action::Budget(cmd), false, output.format())
        }
        Command::Reconcile(args) => job::run(
            global,
            job::Action::Reconcile,
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Export(args) => export::run(global, args),
        Command::Notify(args) => notify::run(global, args),
        Command::Doctor(args) => doctor::run(global, args),
        Command::IamPolicy(args) => iam_policy::run(global, args),
        Command::Demo(args) => demo::run(global, args),
        Command::Init(args) => init::run(global, args),
        Command::UpdateIpRanges(args) => update_ip_ranges::run(global, args),
        Command::Generate(args) => generate::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
