//! `nat-flowrec iam-policy`: prints the least-privilege IAM policies for the configuration
//! (`crate::iam_policy` builds them offline), so a user grants the job exactly what it calls on
//! exactly their log group, topic, bucket and delivery role, and an AccessDenied message can
//! point here for the fix.

use std::process::ExitCode;

use crate::app::Settings;
use crate::cli::IamPolicyArgs;
use crate::iam_policy::{Part, Scope, all_policies, policy};

use super::out::outln;
use super::wiring;

pub fn run(global: &Settings, args: &IamPolicyArgs) -> anyhow::Result<ExitCode> {
    let cfg = wiring::config(global)?;
    // The SDK's own region variables, as a last resort: the policy needs no AWS call.
    let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let region = cfg.region.as_ref().map(ToString::to_string).or(env_region);
    let scope = Scope::new(&cfg, region.as_deref(), args.account_id.as_deref())?;
    if args.part == Some(Part::Bucket) && cfg.recording.s3_delivery().is_none() {
        anyhow::bail!(
            "`--part bucket` is the policy of the bucket recordings deliver to with \
             recording.destination = \"s3\"; this configuration delivers to CloudWatch Logs \
             (set recording.destination and recording.s3_destination first)"
        );
    }
    let document = match args.part {
        Some(part) => policy(part, &scope, &cfg),
        None => all_policies(&scope, &cfg),
    };
    if args.output.is_json() {
        outln!("{}", serde_json::to_string(&document)?)?;
    } else {
        outln!("{}", serde_json::to_string_pretty(&document)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
