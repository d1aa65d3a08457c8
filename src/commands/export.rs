//! `nat-flowrec export --recording ID [--out DIR]`: what `check` does by itself once a recording
//! settled, by hand (again, or into another folder). Appends `Exported`; the next `check`
//! reports it if it was not reported yet.

use std::process::ExitCode;

use crate::cli::{ExportArgs, GlobalArgs};
use crate::controller::Job;

use super::setup;

pub fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<ExitCode> {
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
        let line = job.export(&args.recording, args.out.as_deref()).await;
        // The S3 lease is given back whatever happened (a file lock goes with the handle).
        setup::release(log).await;
        println!("{}", line?);
        Ok(ExitCode::SUCCESS)
    })
}
