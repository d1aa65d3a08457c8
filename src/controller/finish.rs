//! Finishing stopped recordings: after its decisions, `check` runs every step the log says is
//! due (export, then report, then notify, for each settled recording), appending each step's
//! event as soon as the step succeeded. A failed step is listed in the outcome and appends
//! nothing, so the next run retries it; the recording's later steps wait for it. `export` and
//! `notify` by hand run one step the same way.
//!
//! Except the SNS Publish: it cannot be repeated safely (SNS has no idempotency key, and a
//! duplicate e-mail is what users notice), so `NotifyAttempted` goes into the log before it, and
//! only an error SNS itself answered (`NotifyFailed`) makes the next run send again. A run killed
//! mid-publish, or one that lost the answer, leaves the notification unconfirmed for a human.

use std::path::{Path, PathBuf};

use super::{Job, JobError, Outcome};
use crate::core::finish::{self, PipelinePolicy, Step};
use crate::core::ingestion::{final_bytes, final_query};
use crate::core::{Event, Recording};
use crate::finish::dns_export::{self, DnsExportPlan};
use crate::finish::notify::{self, MessageContext};
use crate::finish::{ExportPlan, PipelineError, Progress, export, month, report, upload};
use crate::ports::Cloud;
use crate::store::StoreError;

/// A step's result: its line for the outcome, or why it failed (the run goes on); a failed
/// append is `Err` of the outer result and stops the run.
type StepResult = Result<Result<String, PipelineError>, StoreError>;

impl<C: Cloud> Job<'_, C> {
    fn pipeline_policy(&self) -> PipelinePolicy {
        PipelinePolicy {
            settle_seconds: self.cfg.recording.settle_seconds,
            notify: self.cfg.notify.sns_topic_arn.is_some(),
        }
    }

    fn recording(&self, recording_id: &str) -> Result<Recording, PipelineError> {
        self.state()
            .recording(recording_id)
            .cloned()
            .ok_or_else(|| PipelineError::UnknownRecording(recording_id.to_owned()))
    }

    /// Runs every due step of every settled recording, in order, recording by recording.
    pub(super) async fn finish_due(&mut self, outcome: &mut Outcome) -> Result<(), JobError> {
        let policy = self.pipeline_policy();
        for (recording_id, first) in finish::due(&self.state(), &policy, self.now) {
            let nat = self
                .recording(&recording_id)
                .map(|r| r.nat_gateway_id)
                .unwrap_or_default();
            if self.dry_run {
                outcome.act(
                    Some(&nat),
                    format!("would {first} recording {recording_id}"),
                );
                continue;
            }
            let mut step = Some(first);
            while let Some(current) = step {
                match self.run_step(&recording_id, current, None).await? {
                    Ok(line) => outcome.act(Some(&nat), line),
                    Err(err) => {
                        outcome
                            .failures
                            .push(format!("recording {recording_id}: {current} failed: {err}"));
                        break;
                    }
                }
                let state = self.state();
                step = state
                    .recording(&recording_id)
                    .and_then(|r| finish::due_step(&state, r, &policy, self.now));
            }
        }
        Ok(())
    }

    /// `export --recording ID [--out DIR]`: exports a stopped recording again (or for the first
    /// time) and appends `Exported`, then rebuilds its report from the new files (`Reported`);
    /// returns what was done and, for a recording already notified, how to send it again.
    pub async fn export(
        &mut self,
        recording_id: &str,
        out_dir: Option<&Path>,
    ) -> Result<String, JobError> {
        let before = self.recording(recording_id)?;
        let mut lines = vec![self.run_step(recording_id, Step::Export, out_dir).await??];
        lines.push(self.run_step(recording_id, Step::Report, None).await??);
        if before.notified.is_some() || before.reported.is_some() {
            lines.push(format!(
                "the notification was not sent again: `nat-flowrec notify --recording {recording_id}` sends this report"
            ));
        }
        Ok(lines.join("\n"))
    }

    /// `notify --recording ID`: publishes the recording's notification (again) and appends
    /// `Notified`.
    pub async fn notify(&mut self, recording_id: &str) -> Result<String, JobError> {
        self.recording(recording_id)?;
        Ok(self.run_step(recording_id, Step::Notify, None).await??)
    }

    async fn run_step(
        &mut self,
        recording_id: &str,
        step: Step,
        out_dir: Option<&Path>,
    ) -> StepResult {
        let rec = match self.recording(recording_id) {
            Ok(rec) => rec,
            Err(e) => return Ok(Err(e)),
        };
        let done = match step {
            Step::Export => self.export_step(&rec, out_dir).await,
            Step::Report => self.report_step(&rec).await,
            Step::Notify => self.notify_step(&rec).await?,
        };
        match done {
            Ok((event, mut line)) => {
                let mut events = vec![event];
                if step == Step::Export {
                    match self.measure_final_cost(&rec).await {
                        Ok(Some(measured)) => {
                            line.push_str(&format!("; {}", measured.sentence()));
                            events.push(measured);
                        }
                        Ok(None) => {}
                        Err(err) => line.push_str(&format!(
                            "; its log ingestion could not be read, so its cost stays as last measured: {err}"
                        )),
                    }
                }
                self.log.append(events, self.now).await?;
                Ok(Ok(line))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    /// A settled recording's whole flow-log ingestion, what was delivered after its stop
    /// included, as the `IngestionMeasured` its report and message quote.
    async fn measure_final_cost(
        &self,
        rec: &Recording,
    ) -> Result<Option<Event>, crate::ports::AwsError> {
        let Some(query) = final_query(rec, &self.cfg.recording.log_group, self.now) else {
            return Ok(None);
        };
        let series = self.cloud.metric_data(&query).await?;
        Ok(
            final_bytes(&series, &query).map(|bytes| Event::IngestionMeasured {
                recording_id: rec.recording_id.clone(),
                nat_gateway_id: rec.nat_gateway_id.clone(),
                bytes,
                cost_usd: self.policy().ingestion_cost_usd(bytes),
            }),
        )
    }

    async fn export_step(
        &self,
        rec: &Recording,
        out_dir: Option<&Path>,
    ) -> Result<(Event, String), PipelineError> {
        let mut plan = ExportPlan::for_recording(rec, &self.cfg.recording, &self.cfg.export)?;
        plan.region = Some(self.region());
        let out_dir = out_dir.unwrap_or(&self.cfg.report.out_dir);
        // The DNS queries first: one small file read again whole if the run ends before the
        // flow logs are done, whose export resumes by ENI.
        let dns = match DnsExportPlan::for_recording(
            rec,
            plan.start,
            plan.end,
            self.cfg.report.dns_max_age_seconds,
            &self.cfg.export,
        ) {
            Some(dns_plan) => {
                let folder = plan.folder(out_dir);
                std::fs::create_dir_all(&folder).map_err(|source| PipelineError::Io {
                    path: folder.clone(),
                    source,
                })?;
                Some(dns_export::export_dns(self.cloud, &dns_plan, &folder).await?)
            }
            None => None,
        };
        let progress = Progress::auto(&format!("exporting {}", rec.recording_id));
        let result = export::export(self.cloud, &plan, out_dir, &progress).await;
        progress.finish();
        let exported = result?;
        let source = match &plan.s3 {
            None => "log stream(s)".to_owned(),
            Some(s3) => format!("file(s) in {}", s3.uri()),
        };
        let mut line = format!(
            "exported recording {}: {} records from {} {source} into {} file(s) in {}",
            rec.recording_id,
            exported.records,
            exported.streams.len(),
            exported.files.len(),
            plan.folder(out_dir).display()
        );
        if let (Some(dns), Some(q)) = (&dns, &rec.query_logging) {
            line.push_str(&format!(
                ", and {} DNS queries of {} from {}",
                dns.queries, q.vpc_id, q.log_group
            ));
        }
        if !exported.enis_without_stream.is_empty() {
            line.push_str(&format!(
                " (no {} for {})",
                if plan.s3.is_some() {
                    "file"
                } else {
                    "log stream"
                },
                exported.enis_without_stream.join(", ")
            ));
        }
        let event = Event::Exported {
            recording_id: rec.recording_id.clone(),
            files: exported
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
            records: exported.records,
            bytes: exported.bytes,
        };
        Ok((event, line))
    }

    /// The recording's report (with coverage) from its export files.
    async fn recording_report(
        &self,
        rec: &Recording,
    ) -> Result<nat_flowrec_reports::Report, PipelineError> {
        let measured = report::measure(self.cloud, rec, self.cfg).await?;
        let region = self.region();
        let mut built = report::build(rec, self.cfg, &region, &measured)?;
        match month::for_recording(self.cloud, rec, &self.recording_folder(rec)).await {
            Ok(Some(m)) => built.set_month(m),
            Ok(None) => {}
            Err(warning) => built.summary.warnings.push(warning),
        }
        report::attribute(
            self.cloud,
            &region,
            rec,
            &self.recording_folder(rec),
            &mut built,
            self.cfg.report.top,
            self.now,
        )
        .await;
        Ok(built)
    }

    /// The folder of an exported recording's files.
    fn recording_folder(&self, rec: &Recording) -> PathBuf {
        rec.exported
            .as_ref()
            .and_then(|e| e.files.first())
            .and_then(|f| Path::new(f).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| self.cfg.report.out_dir.join(&rec.recording_id))
    }

    /// Where the report of an exported recording goes: beside its export files.
    fn report_dir(&self, rec: &Recording) -> PathBuf {
        report::report_dir(&self.recording_folder(rec))
    }

    /// The report files into `dir`, and the metrics its chart was drawn from beside the
    /// recording's files.
    fn write_report(
        &self,
        rec: &Recording,
        built: &nat_flowrec_reports::Report,
        dir: &Path,
    ) -> Result<(), PipelineError> {
        if let Some(metrics) = &built.nat_metrics {
            report::store_metrics(&self.recording_folder(rec), metrics)?;
        }
        report::write(built, dir)
    }

    async fn report_step(&self, rec: &Recording) -> Result<(Event, String), PipelineError> {
        let built = self.recording_report(rec).await?;
        let dir = self.report_dir(rec);
        self.write_report(rec, &built, &dir)?;
        let coverage = built
            .coverage
            .as_ref()
            .map(|c| c.statement.clone())
            .unwrap_or_default();
        let line = format!(
            "reported recording {} in {}: {coverage}",
            rec.recording_id,
            dir.display()
        );
        let event = Event::Reported {
            recording_id: rec.recording_id.clone(),
            dir: dir.display().to_string(),
        };
        Ok((event, line))
    }

    /// The notification, built in full before anything is logged; then `NotifyAttempted`, the
    /// Publish, and `NotifyFailed` if SNS answered with an error.
    async fn notify_step(
        &mut self,
        rec: &Recording,
    ) -> Result<Result<(Event, String), PipelineError>, StoreError> {
        let message = match self.notification(rec).await {
            Ok(message) => message,
            Err(e) => return Ok(Err(e)),
        };
        let recording_id = rec.recording_id.clone();
        let attempted = Event::NotifyAttempted {
            recording_id: recording_id.clone(),
        };
        self.log.append(vec![attempted], self.now).await?;
        match self.cloud.publish(&message).await {
            Ok(message_id) => {
                let line = format!(
                    "notified recording {recording_id} (SNS message {message_id}): {}",
                    message.subject
                );
                let event = Event::Notified {
                    recording_id,
                    message_id,
                };
                Ok(Ok((event, line)))
            }
            Err(mut err) if may_have_been_sent(&err) => {
                err.message = format!(
                    "{}; SNS may have sent it all the same, so it is not sent again automatically (that would be a duplicate): if no subscriber got it, run `nat-flowrec notify --recording {recording_id}`",
                    err.message
                );
                Ok(Err(err.into()))
            }
            Err(err) => {
                let refused = Event::NotifyFailed {
                    recording_id,
                    error: err.to_string(),
                };
                self.log.append(vec![refused], self.now).await?;
                Ok(Err(err.into()))
            }
        }
    }

    /// The recording's SNS message, with the report uploaded first when a bucket is configured.
    async fn notification(
        &self,
        rec: &Recording,
    ) -> Result<crate::ports::Notification, PipelineError> {
        let topic = self
            .cfg
            .notify
            .sns_topic_arn
            .as_ref()
            .ok_or(PipelineError::NoTopic)?;
        let built = self.recording_report(rec).await?;
        let report_dir = self.report_dir(rec);
        let link = match &self.cfg.notify.report_s3_uri {
            None => None,
            Some(uri) => {
                // The files as this notification describes them (a re-send after a new export
                // uploads the new ones).
                self.write_report(rec, &built, &report_dir)?;
                Some(
                    upload::upload(
                        self.cloud,
                        uri,
                        &rec.recording_id,
                        &report_dir,
                        self.cfg.notify.presign_seconds,
                    )
                    .await?,
                )
            }
        };
        let dir = report_dir.display().to_string();
        let region = self.region();
        let log_group = rec
            .log_group
            .clone()
            .unwrap_or_else(|| self.cfg.recording.log_group.clone());
        let ctx = MessageContext {
            recording: rec,
            region: &region,
            log_group: &log_group,
            report_dir: Some(&dir),
            report_link: link.as_ref(),
            chat: self.cfg.notify.chat,
        };
        notify::notification(topic.as_str(), &ctx, &built)
    }
}

/// The Publish failed without an answer from SNS (no answer in time, the connection dropped, an
/// unreadable answer): SNS may have accepted it. An error SNS answered means nothing was sent.
fn may_have_been_sent(err: &crate::ports::AwsError) -> bool {
    err.kind == crate::ports::AwsErrorKind::Timeout
        || matches!(err.code.as_str(), "DispatchFailure" | "InvalidResponse")
}

#[cfg(test)]
#[path = "finish_tests.rs"]
mod tests;
