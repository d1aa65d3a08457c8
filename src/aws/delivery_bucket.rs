//! The `DeliveryBucket` port on `aws_sdk_s3::Client`: listing and reading the files flow logs
//! delivered to S3, and the bucket's region and policy for `doctor`. S3 reads have no
//! account-wide quota like CloudWatch Logs' (thousands of requests per second per prefix), so
//! the export's concurrency bound, not a pacer, limits them.

use aws_sdk_s3::Client;

use super::error::{from_sdk, from_sdk_typed};
use crate::ports::{AwsError, AwsErrorKind, DeliveryBucket, ObjectEntry};

const OP_LIST: &str = "s3:ListObjectsV2";
const OP_GET: &str = "s3:GetObject";
const OP_LOCATION: &str = "s3:GetBucketLocation";
const OP_POLICY: &str = "s3:GetBucketPolicy";

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
            let page = page.map_err(|e| {
                from_sdk_typed(OP_LIST, e, |e| {
                    e.is_no_such_bucket().then_some(AwsErrorKind::NotFound)
                })
            })?;
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
            let page = page.map_err(|e| {
                from_sdk_typed(OP_LIST, e, |e| {
                    e.is_no_such_bucket().then_some(AwsErrorKind::NotFound)
                })
            })?;
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

    async fn bucket_region(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        match self.get_bucket_location().bucket(bucket).send().await {
            // AWS answers an empty constraint for us-east-1.
            Ok(out) => Ok(Some(
                out.location_constraint()
                    .map(|c| c.as_str().to_owned())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            )),
            Err(e) => {
                let err = from_sdk(OP_LOCATION, e);
                if err.code == "NoSuchBucket" {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        match self.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => Ok(out.policy().map(str::to_owned)),
            Err(e) => {
                let err = from_sdk(OP_POLICY, e);
                if err.code == "NoSuchBucketPolicy" {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }
}
