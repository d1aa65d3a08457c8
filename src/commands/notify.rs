//! `nat-flowrec notify --recording ID`: publishes an exported recording's summary to
//! `notify.sns_topic_arn` (again: a lost e-mail, a new subscriber) and appends `Notified`.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, NotifyArgs};
use crate::controller::Job;

use super::setup;

pub fn run(global: &GlobalArgs, args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    let now = setup::clock(global)?;
    let rt = setup::runtime()?;
    rt.block_on(async {
        let cfg = setup::config(global)?;
        let Some(mut log) = setup::locked_log(global, &cfg).await? else {
            return Ok(super::exit::locked());
        };
        let cloud = setup::cloud(global, &cfg).await;
        let mut job = Job {
            cloud: &cloud,
            cfg: &cfg,
            log: &mut log,
            now,
            dry_run: false,
        };
        let line = job.notify(&args.recording).await;
        // The S3 lease is given back whatever happened (a file lock goes with the handle).
        setup::release(log).await;
        println!("{}", line?);
        Ok(ExitCode::SUCCESS)
    })
}
