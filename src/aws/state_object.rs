//! The S3 event log's port (`store::ObjectStore`) on `aws_sdk_s3::Client`: GetObject with its
//! ETag and metadata, PutObject conditional on `If-Match` / `If-None-Match: *`, where 412
//! (and 409, S3's answer to two conditional writes in flight at once) is "someone wrote first",
//! not an error. Also the client itself: path-style addressing when an endpoint URL is set
//! (moto and other emulators serve buckets under the path, not as host names).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;

use super::error::{from_sdk, from_sdk_typed};
use super::{AwsSettings, load_sdk_config};
use crate::ports::{AwsError, AwsErrorKind};
use crate::store::s3::{ObjectStore, Precondition, StoredObject, Written};

pub const OP_GET_OBJECT: &str = "s3:GetObject";
pub const OP_PUT_OBJECT: &str = "s3:PutObject";
/// What the event log object is served as.
const CONTENT_TYPE: &str = "application/x-ndjson";

/// An S3 client from an SDK config; `path_style` for emulators.
pub fn s3_client_from(config: &SdkConfig, path_style: bool) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style);
    for interceptor in super::interceptors() {
        builder.push_interceptor(interceptor);
    }
    Client::from_conf(builder.build())
}

/// The S3 client the CLI and the Lambda use: our retry and timeout policy, path-style
/// addressing when `--endpoint-url` is set.
pub async fn s3_client(settings: &AwsSettings) -> Client {
    s3_client_from(
        &load_sdk_config(settings).await,
        settings.endpoint_url.is_some(),
    )
}

/// `s3_client` once the profile and the credentials were checked (`preflight`).
pub async fn s3_client_checked(settings: &AwsSettings) -> Result<Client, super::PreflightError> {
    Ok(s3_client_from(
        &super::checked_sdk_config(settings).await?,
        settings.endpoint_url.is_some(),
    ))
}

impl ObjectStore for Client {
    async fn read_object(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, AwsError> {
        let out = match self.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(err) => {
                return Err(from_sdk_typed(OP_GET_OBJECT, err, |e| {
                    e.is_invalid_object_state()
                        .then_some(AwsErrorKind::InvalidInput)
                }));
            }
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let metadata: BTreeMap<String, String> = out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let body = out.body.collect().await.map_err(|e| {
            AwsError::new(
                OP_GET_OBJECT,
                "BodyNotRead",
                format!(
                    "the object's body could not be read to the end ({e}); the next run tries again"
                ),
                AwsErrorKind::Timeout,
            )
        })?;
        Ok(Some(StoredObject {
            body: body.into_bytes().to_vec(),
            etag,
            metadata,
        }))
    }

    async fn write_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: BTreeMap<String, String>,
        precondition: Precondition,
    ) -> Result<Written, AwsError> {
        let request = self
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(CONTENT_TYPE)
            .set_metadata(Some(metadata.into_iter().collect()))
            .body(ByteStream::from(body));
        let request = match precondition {
            Precondition::Absent => request.if_none_match("*"),
            Precondition::Matches(etag) => request.if_match(etag),
        };
        match request.send().await {
            Ok(out) => Ok(Written::Done {
                etag: out.e_tag().unwrap_or_default().to_string(),
            }),
            Err(SdkError::ServiceError(service))
                if matches!(service.raw().status().as_u16(), 409 | 412) =>
            {
                Ok(Written::Conflict)
            }
            Err(err) => Err(from_sdk(OP_PUT_OBJECT, err)),
        }
    }
}
