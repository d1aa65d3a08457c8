//! AWS names as types: NAT gateway ids, regions, account ids, IAM role and SNS topic ARNs, and
//! S3 URIs (a bucket and prefix) and objects (a bucket and key).
//!
//! Each name is checked once, where it enters the program (the configuration, the command line,
//! the Lambda's environment), and the rest of the program reads its parts instead of splitting
//! the text again. A [`NameError`] says what would be valid; the configuration adds the key.
//! Every type keeps the text as written (its `Display` and serde form), so a configuration
//! written back reads the same.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The scheme of every S3 URI.
pub const S3_SCHEME: &str = "s3://";

/// A name that is not valid; `expected` says what would be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}{NOT_VALID}{expected}")]
pub struct NameError {
    pub value: String,
    pub expected: String,
}

/// Between the value and the valid set in a [`NameError`]'s message.
const NOT_VALID: &str = "` is not valid: ";

impl NameError {
    /// The error back from its message, as serde carries it out of a `Deserialize` impl, so the
    /// configuration can add the key; `None` for any other message.
    pub fn from_message(message: &str) -> Option<NameError> {
        let (value, expected) = message.strip_prefix('`')?.rsplit_once(NOT_VALID)?;
        Some(NameError::new(value, expected))
    }

    fn new(value: &str, expected: impl Into<String>) -> NameError {
        NameError {
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

/// The text-backed parts every name shares: `Display`, `as_str`, comparisons with text, and a
/// serde form that is the text (parsed on the way in).
macro_rules! text_name {
    ($name:ident) => {
        impl $name {
            /// The name as written.
            pub fn as_str(&self) -> &str {
                &self.text
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.text
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.text == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.text == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.text == other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.text
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.text
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.text
            }
        }

        impl From<&$name> for String {
            fn from(name: &$name) -> String {
                name.text.clone()
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(text: String) -> Result<$name, NameError> {
                text.parse()
            }
        }

        impl TryFrom<&str> for $name {
            type Error = NameError;
            fn try_from(text: &str) -> Result<$name, NameError> {
                text.parse()
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.text)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// The error's message is a [`NameError`]'s (see [`NameError::from_message`]).
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom::<NameError>)
            }
        }
    };
}

/// Names that are their text and nothing more (no parts to read): the type, what a valid one
/// looks like, and the check.
macro_rules! plain_name {
    ($(#[$doc:meta])* $name:ident, $expected:expr, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            text: String,
        }
        text_name!($name);

        impl $name {
            pub const EXPECTED: &str = $expected;
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<$name, NameError> {
                let valid: fn(&str) -> bool = $valid;
                if valid(s) {
                    Ok($name { text: s.to_owned() })
                } else {
                    Err(NameError::new(s, $name::EXPECTED))
                }
            }
        }

        impl $name {
            /// A name fixed in the source (the example configuration, the demo), not parsed;
            /// the tests parse each one.
            pub(crate) fn fixed(text: &str) -> $name {
                $name {
                    text: text.to_owned(),
                }
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.text
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.text
            }
        }
    };
}

plain_name!(
    /// `nat-` and 8 or 17 lowercase hex digits.
    NatGatewayId,
    "a NAT gateway id: \"nat-\" and 8 or 17 lowercase hex digits, e.g. \"nat-0123456789abcdef0\"",
    |s| {
        s.strip_prefix("nat-").is_some_and(|hex| {
            matches!(hex.len(), 8 | 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    }
);

plain_name!(
    /// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`.
    Region,
    "an AWS region such as \"us-east-1\"",
    |s| {
        let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
        let parts: Vec<&str> = s.split('-').collect();
        match parts.as_slice() {
            [first, middle @ .., last] if !middle.is_empty() => {
                first.len() == 2
                    && lower(first)
                    && middle.iter().all(|p| lower(p))
                    && !last.is_empty()
                    && last.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }
);

plain_name!(
    /// The 12 digits of an AWS account.
    AccountId,
    "a 12-digit AWS account id",
    |s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
);

/// The six fields of any ARN, `arn:<partition>:<service>:<region>:<account>:<resource>`,
/// borrowed from its text; the partition is `aws` or `aws-<lowercase>` (`aws-cn`,
/// `aws-us-gov`). The resource keeps its own colons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// `None` when `text` does not have an ARN's six fields.
    pub fn split(text: &'a str) -> Option<ArnParts<'a>> {
        let mut fields = text.splitn(6, ':');
        if fields.next()? != "arn" {
            return None;
        }
        let partition = fields.next()?;
        let suffix = partition.strip_prefix("aws")?;
        if !suffix.bytes().all(|b| b == b'-' || b.is_ascii_lowercase()) {
            return None;
        }
        Some(ArnParts {
            partition,
            service: fields.next()?,
            region: fields.next()?,
            account: fields.next()?,
            resource: fields.next()?,
        })
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    text: String,
    partition: String,
    account: AccountId,
    name: String,
}
text_name!(RoleArn);

impl RoleArn {
    pub const EXPECTED: &str = "an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>";

    /// A role fixed in the source (the example configuration), not parsed; the tests parse it.
    pub(crate) fn fixed(partition: &str, account: &str, name: &str) -> RoleArn {
        RoleArn {
            text: format!("arn:{partition}:iam::{account}:role/{name}"),
            partition: partition.to_owned(),
            account: AccountId::fixed(account),
            name: name.to_owned(),
        }
    }

    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The role's name, without its path (what IAM's role APIs take).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for RoleArn {
    type Err = NameError;
    fn from_str(s: &str) -> Result<RoleArn, NameError> {
        let invalid = || NameError::new(s, RoleArn::EXPECTED);
        let arn = ArnParts::split(s).ok_or_else(invalid)?;
        let path = arn.resource.strip_prefix("role/").ok_or_else(invalid)?;
        let name = path.rsplit('/').next().unwrap_or(path);
        if arn.service != "iam" || !arn.region.is_empty() || name.is_empty() {
            return Err(invalid());
        }
        Ok(RoleArn {
            text: s.to_owned(),
            partition: arn.partition.to_owned(),
            account: arn.account.parse().map_err(|_| invalid())?,
            name: name.to_owned(),
        })
    }
}

/// `arn:<partition>:sns:<region>:<12 digits>:<topic>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicArn {
    text: String,
    region: Region,
    account: AccountId,
    name: String,
}
text_name!(TopicArn);

impl TopicArn {
    pub const EXPECTED: &str = "an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<topic>";

    /// A topic fixed in the source (the demo's), not parsed; the tests parse it.
    pub(crate) fn fixed(region: &str, account: &str, name: &str) -> TopicArn {
        TopicArn {
            text: format!("arn:aws:sns:{region}:{account}:{name}"),
            region: Region::fixed(region),
            account: AccountId::fixed(account),
            name: name.to_owned(),
        }
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The topic's name (what CreateTopic takes).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for TopicArn {
    type Err = NameError;
    fn from_str(s: &str) -> Result<TopicArn, NameError> {
        let invalid = || NameError::new(s, TopicArn::EXPECTED);
        let arn = ArnParts::split(s).ok_or_else(invalid)?;
        let name = arn.resource;
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if arn.service != "sns" || !name_ok {
            return Err(invalid());
        }
        Ok(TopicArn {
            text: s.to_owned(),
            region: arn.region.parse().map_err(|_| invalid())?,
            account: arn.account.parse().map_err(|_| invalid())?,
            name: name.to_owned(),
        })
    }
}

/// `s3://<bucket>/<prefix>`: a folder of objects (the prefix may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Uri {
    text: String,
    bucket: String,
    prefix: String,
}
text_name!(S3Uri);

impl S3Uri {
    pub const EXPECTED: &str = "s3://<bucket>/<prefix>";

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Without leading or trailing slashes; empty for the whole bucket.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

impl FromStr for S3Uri {
    type Err = NameError;
    fn from_str(s: &str) -> Result<S3Uri, NameError> {
        let rest = s
            .strip_prefix(S3_SCHEME)
            .ok_or_else(|| NameError::new(s, S3Uri::EXPECTED))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(NameError::new(s, S3Uri::EXPECTED));
        }
        Ok(S3Uri {
            text: s.to_owned(),
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

/// `s3://<bucket>/<key>`: one object, such as the event log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Object {
    text: String,
    bucket: String,
    key: String,
}
text_name!(S3Object);

impl S3Object {
    pub fn new(bucket: &str, key: &str) -> S3Object {
        S3Object {
            text: format!("{S3_SCHEME}{bucket}/{key}"),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// `None` when `text` is no `s3://` URI at all (a local path, say); else the object or what
    /// is wrong with the URI.
    pub fn in_text(text: &str) -> Option<Result<S3Object, NameError>> {
        text.starts_with(S3_SCHEME).then(|| text.parse())
    }
}

impl FromStr for S3Object {
    type Err = NameError;
    fn from_str(s: &str) -> Result<S3Object, NameError> {
        let rest = s
            .strip_prefix(S3_SCHEME)
            .ok_or_else(|| NameError::new(s, "an s3://bucket/key URI"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !bucket_ok {
            return Err(NameError::new(
                s,
                format!(
                    "`{bucket}` is not an S3 bucket name (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit)"
                ),
            ));
        }
        if key.is_empty() || key.ends_with('/') || key.len() > 1024 {
            return Err(NameError::new(
                s,
                "an object key after the bucket, e.g. s3://my-bucket/nat-flowrec/events.jsonl",
            ));
        }
        Ok(S3Object::new(bucket, key))
    }
}

#[cfg(test)]
mod tests;
