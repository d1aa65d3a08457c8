//! The domain a name belongs to, for the "Top remote names" table: the registrable domain of the
//! Public Suffix List (`registry-1.docker.io` -> `docker.io`), except under `amazonaws.com`, where
//! the name says which service and region it reaches (`bucket.s3.eu-west-1.amazonaws.com` ->
//! `amazonaws.com`, S3, eu-west-1) and that is what a reader needs to pick an endpoint.

use serde::Serialize;

const AMAZONAWS: &str = "amazonaws.com";

/// A domain, with the AWS service and region an `amazonaws.com` name names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Domain {
    pub domain: String,
    /// The service as AWS's ip-ranges and flow logs name it (`S3`, `DYNAMODB`, `ECR`).
    pub service: Option<String>,
    pub region: Option<String>,
}

impl Domain {
    /// An AWS service's address range (`S3` in `eu-west-1`), known without a name.
    pub fn aws(service: &str, region: &str) -> Domain {
        Domain {
            domain: AMAZONAWS.to_string(),
            service: Some(service.to_string()),
            region: (!region.is_empty() && region != "GLOBAL").then(|| region.to_string()),
        }
    }

    /// `docker.io`, or `amazonaws.com (S3, eu-west-1)`.
    pub fn label(&self) -> String {
        let details: Vec<&str> = [self.service.as_deref(), self.region.as_deref()]
            .into_iter()
            .flatten()
            .map(crate::units::service_name)
            .collect();
        if details.is_empty() {
            self.domain.clone()
        } else {
            format!("{} ({})", self.domain, details.join(", "))
        }
    }
}

/// The domain of `name` (lower case, no final dot).
pub fn domain_of(name: &str) -> Domain {
    let name = name.trim_end_matches('.');
    if let Some(rest) = name
        .strip_suffix(AMAZONAWS)
        .filter(|r| r.is_empty() || r.ends_with('.'))
    {
        let (service, region) = aws_service_region(rest.trim_end_matches('.'));
        return Domain {
            domain: AMAZONAWS.to_string(),
            service,
            region,
        };
    }
    let domain = psl::domain_str(name).unwrap_or(name);
    Domain {
        domain: domain.to_string(),
        service: None,
        region: None,
    }
}

/// Service and region from the labels before `amazonaws.com`: the label before the region
/// (`dkr.ecr.eu-west-1`, `bucket.s3.eu-west-1`), or the one after it for names that put the
/// service last (`ec2-54-1-2-3.eu-west-1.compute`, `my-lb.eu-west-1.elb`); without a region,
/// the last label (`sts`, `s3`), or the legacy `s3-eu-west-1`.
fn aws_service_region(labels: &str) -> (Option<String>, Option<String>) {
    let labels: Vec<&str> = labels.split('.').filter(|l| !l.is_empty()).collect();
    let token = |label: &str| match label {
        "compute" => "EC2".to_string(),
        "dkr" => "ECR".to_string(),
        other => other.to_ascii_uppercase().replace('-', "_"),
    };
    match labels.iter().rposition(|l| is_region(l)) {
        Some(at) => {
            let region = Some(labels[at].to_string());
            let service = labels
                .get(at + 1)
                .or_else(|| {
                    labels[..at]
                        .iter()
                        .rev()
                        .find(|l| !matches!(**l, "dualstack" | "fips"))
                })
                .map(|l| token(l));
            (service, region)
        }
        None => {
            let Some(last) = labels.last() else {
                return (None, None);
            };
            match last.split_once('-') {
                Some((service, region)) if is_region(region) => {
                    (Some(token(service)), Some(region.to_string()))
                }
                _ => (Some(token(last)), None),
            }
        }
    }
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`: two letters, words, a number.
fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle
            .iter()
            .all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(name: &str) -> (Option<String>, Option<String>) {
        let d = domain_of(name);
        assert_eq!(d.domain, "amazonaws.com", "{name}");
        (d.service, d.region)
    }

    fn some(service: &str, region: Option<&str>) -> (Option<String>, Option<String>) {
        (Some(service.to_string()), region.map(str::to_string))
    }

    #[test]
    fn names_group_by_their_registrable_domain() {
        assert_eq!(domain_of("registry-1.docker.io").domain, "docker.io");
        assert_eq!(
            domain_of("production.cloudflare.docker.com.").domain,
            "docker.com"
        );
        assert_eq!(domain_of("www.example.co.uk").domain, "example.co.uk");
        assert_eq!(domain_of("example.com").label(), "example.com");
    }

    #[test]
    fn amazonaws_names_say_their_service_and_region() {
        assert_eq!(
            aws("my-bucket.s3.eu-west-1.amazonaws.com"),
            some("S3", Some("eu-west-1"))
        );
        assert_eq!(
            aws("s3.dualstack.us-east-2.amazonaws.com"),
            some("S3", Some("us-east-2"))
        );
        assert_eq!(
            aws("s3-eu-west-1.amazonaws.com"),
            some("S3", Some("eu-west-1"))
        );
        assert_eq!(aws("s3.amazonaws.com"), some("S3", None));
        assert_eq!(aws("sts.amazonaws.com"), some("STS", None));
        assert_eq!(
            aws("123456789012.dkr.ecr.eu-central-1.amazonaws.com"),
            some("ECR", Some("eu-central-1"))
        );
        assert_eq!(
            aws("dynamodb.us-gov-west-1.amazonaws.com"),
            some("DYNAMODB", Some("us-gov-west-1"))
        );
        assert_eq!(
            aws("ec2-54-1-2-3.eu-west-1.compute.amazonaws.com"),
            some("EC2", Some("eu-west-1"))
        );
        assert_eq!(
            domain_of("my-bucket.s3.eu-west-1.amazonaws.com").label(),
            "amazonaws.com (S3, eu-west-1)"
        );
        assert_eq!(
            domain_of("dynamodb.eu-west-1.amazonaws.com").label(),
            "amazonaws.com (DynamoDB, eu-west-1)"
        );
        // Not under amazonaws.com, whatever it ends with.
        assert_eq!(domain_of("notamazonaws.com").domain, "notamazonaws.com");
    }
}
