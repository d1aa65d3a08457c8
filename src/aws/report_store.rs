//! The `ReportStore` port on `aws_sdk_s3::Client`: a recording's report files uploaded beside
//! each other, and a pre-signed link to read one without AWS credentials (what an e-mail can
//! carry instead of an attachment).

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use super::error::from_sdk;
use crate::ports::{AwsError, AwsErrorKind, ReportStore};

const OP_PUT_OBJECT: &str = "s3:PutObject";
const OP_PRESIGN: &str = "s3:GetObject (pre-signed)";

impl ReportStore for Client {
    async fn put_report_file(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), AwsError> {
        self.put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| from_sdk(OP_PUT_OBJECT, e))?;
        Ok(())
    }

    async fn presigned_url(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> Result<String, AwsError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(|e| {
            AwsError::new(
                OP_PRESIGN,
                "InvalidParameterValue",
                format!("{e}; notify.presign_seconds must be from 1 to 604800"),
                AwsErrorKind::InvalidInput,
            )
        })?;
        let request = self
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| from_sdk(OP_PRESIGN, e))?;
        Ok(request.uri().to_owned())
    }
}
