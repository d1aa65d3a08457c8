//! `nat-flowrec export --recording ID [--out DIR]`: what `check` does by itself once a recording
//! settled, by hand (again, or into another folder). Appends `Exported`; the next `check`
//! reports it if it was not reported yet.

use std::process::ExitCode;

use crate::app::Settings;
use crate::cli::ExportArgs;

use super::wiring;

pub fn run(global: &Settings, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    wiring::recording_step(
        global,
        (&args.recording, "export"),
        args.output.format(),
        async |job| job.export(&args.recording, args.out.as_deref()).await,
    )
}
