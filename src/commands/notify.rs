//! `nat-flowrec notify --recording ID`: publishes an exported recording's summary to
//! `notify.sns_topic_arn` (again: a lost e-mail, a new subscriber) and appends `Notified`.

use std::process::ExitCode;

use crate::app::Settings;
use crate::cli::NotifyArgs;

use super::wiring;

pub fn run(global: &Settings, args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    wiring::recording_step(
        global,
        (&args.recording, "notify"),
        args.output.format(),
        async |job| job.notify(&args.recording).await,
    )
}
