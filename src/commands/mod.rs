//! One module per subcommand (xsv style), each with a `run` function; this file only dispatches.
//! `run` is the one function the binary calls: it resolves the command line into
//! [`crate::app::Settings`] and an [`Action`] or a command's arguments.

use std::process::ExitCode;

use crate::app::Action;
use crate::cli::{BudgetCommand, Cli, Command, TriggerCommand};

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
mod report_athena;
mod report_insights;
pub(crate) mod status;
pub(crate) mod trigger;
pub(crate) mod update_ip_ranges;
mod watch;
pub(crate) mod wiring;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.global.settings();
    wiring::init_logging(&settings);
    let global = &settings;
    match &cli.command {
        Command::Report(args) => report::run(global, args),
        Command::Check(args) => job::run(
            global,
            &Action::Check,
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Watch(args) => watch::run(global, args),
        Command::Status(args) => status::run(global, args),
        Command::History(args) => history::run(global, args),
        Command::Start(args) => job::run(
            global,
            &Action::Start {
                nat: args.nat.clone(),
                seconds: args.seconds,
                force: args.force,
            },
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Stop(args) => job::run(
            global,
            &Action::Stop {
                nat: args.target.nat.clone(),
            },
            args.dry_run.dry_run,
            args.output.format(),
        ),
        Command::Budget(cmd) => {
            let BudgetCommand::Reset { nat, output } = cmd;
            let action = Action::BudgetReset { nat: nat.clone() };
            job::run(global, &action, false, output.format())
        }
        Command::Trigger(TriggerCommand::Suggest(args)) => trigger::run(global, args),
        Command::Reconcile(args) => job::run(
            global,
            &Action::Reconcile,
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
