//! The `DeliveryBucket` port on `aws_sdk_s3::Client`: listing and reading the files flow logs
//! delivered to S3 (the bucket's region and policy, for `doctor`, are in `inventory.rs`). S3 reads have no
//! account-wide quota like CloudWatch Logs' (thousands of requests per second per prefix), so
//! the export's concurrency bound, not a pacer, limits them.

use aws_sdk_s3::Client;

use super::error::from_sdk_typed;
use crate::ports::{AwsError, AwsErrorKind, DeliveryBucket, ObjectEntry};

/// ListObjectsV2, named by the IAM action it needs.
const OP_LIST: &str = "s3:ListBucket (ListObjectsV2)";
const OP_GET: &str = "s3:GetObject";

type ListError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
    aws_sdk_s3::config::http::HttpResponse,
>;

/// A missing bucket is `NotFound`, so the export can name the configuration key.
fn list_failed(e: ListError) -> AwsError {
    from_sdk_typed(OP_LIST, e, |e| {
        e.is_no_such_bucket().then_some(AwsErrorKind::NotFound)
    })
}

impl DeliveryBucket for Client {
    async fn folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(list_failed)?;
            out.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
        }
        Ok(out)
    }

    async fn objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectEntry>, AwsError> {
        let mut pages = self
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(list_failed)?;
            out.extend(page.contents().iter().filter_map(|o| {
                Some(ObjectEntry {
                    key: o.key()?.to_owned(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                })
            }));
        }
        Ok(out)
    }

    async fn object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        let out = self
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                from_sdk_typed(OP_GET, e, |e| {
                    e.is_no_such_key().then_some(AwsErrorKind::NotFound)
                })
            })?;
        let body = out.body.collect().await.map_err(|e| {
            AwsError::new(
                OP_GET,
                "BodyNotRead",
                format!("s3://{bucket}/{key} could not be read to the end ({e}); export again"),
                AwsErrorKind::Timeout,
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }
}
