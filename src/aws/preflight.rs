//! What is checked before the first AWS call of a run, so a set-up mistake reads as one line a
//! person can act on instead of a failed call deep inside a tick: the profile asked for exists
//! (the SDK would silently take environment credentials over a misspelt `--profile`, and act in
//! another account), and some credentials can be found at all.

use std::borrow::Cow;

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::AwsSettings;
use super::error::NO_CREDENTIALS;

/// Why AWS cannot be called as asked.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "the AWS profile `{profile}` ({from}) is in neither {config} nor {credentials}; `aws configure list-profiles` lists the profiles there, `aws configure --profile {profile}` creates it"
    )]
    UnknownProfile {
        profile: String,
        /// `--profile` or `AWS_PROFILE`.
        from: &'static str,
        config: String,
        credentials: String,
    },
    #[error("cannot read the AWS config files: {0}")]
    ProfileFiles(String),
    #[error("{NO_CREDENTIALS}")]
    NoCredentials,
    #[error(
        "no AWS credentials found for the profile `{0}`: run `aws configure --profile {0}` (or `aws sso login --profile {0}`)"
    )]
    NoCredentialsForProfile(String),
    #[error("cannot load AWS credentials{for_profile}: {cause}")]
    Credentials { for_profile: String, cause: String },
}

/// The profile the user asked for, and where they asked: `--profile`, else `AWS_PROFILE`.
fn requested_profile(settings: &AwsSettings) -> Option<(String, &'static str)> {
    if let Some(profile) = &settings.profile {
        return Some((profile.clone(), "--profile"));
    }
    std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .map(|p| (p, "AWS_PROFILE"))
}

/// The profile asked for is in the shared config or credentials file.
pub async fn check_profile(settings: &AwsSettings) -> Result<(), PreflightError> {
    let Some((profile, from)) = requested_profile(settings) else {
        return Ok(());
    };
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        Some(Cow::Owned(profile.clone())),
    )
    .await
    .map_err(|e| PreflightError::ProfileFiles(e.to_string()))?;
    if profiles.get_profile(&profile).is_some() {
        return Ok(());
    }
    Err(PreflightError::UnknownProfile {
        profile,
        from,
        config: shared_file("AWS_CONFIG_FILE", "config"),
        credentials: shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    })
}

/// Where the SDK looks for a shared file: the variable's value, else `~/.aws/NAME`.
fn shared_file(variable: &str, name: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("~/.aws/{name}"))
}

/// Some credentials can be found (environment, profile, SSO, container or instance role).
pub async fn check_credentials(
    settings: &AwsSettings,
    config: &SdkConfig,
) -> Result<(), PreflightError> {
    let Some(provider) = config.credentials_provider() else {
        return Err(PreflightError::NoCredentials);
    };
    let profile = requested_profile(settings).map(|(p, _)| p);
    let none_found = match &profile {
        Some(profile) => PreflightError::NoCredentialsForProfile(profile.clone()),
        None => PreflightError::NoCredentials,
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(CredentialsError::CredentialsNotLoaded(_)) => Err(none_found),
        // The last source of the default chain is the instance metadata service; off an EC2
        // instance (or with it disabled) its refusal only means that nothing had credentials.
        Err(err) if profile.is_none() && crate::error_chain::describe(&err).contains("IMDS") => {
            Err(none_found)
        }
        Err(err) => Err(PreflightError::Credentials {
            for_profile: profile
                .map(|p| format!(" for the profile `{p}`"))
                .unwrap_or_default(),
            cause: crate::error_chain::describe(&err),
        }),
    }
}
