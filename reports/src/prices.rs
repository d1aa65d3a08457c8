//! What NAT and VPC-endpoint traffic costs, per region: the one place prices live.
//!
//! GB means 10^9 bytes here, as on AWS bills. Prices are the public on-demand list prices (USD)
//! at the time of writing; they change, so every one of them can be overridden (`--region`,
//! `--nat-price-per-gb`, config).
//!
//! The per-recording saving of an interface endpoint counts only its per-GB charge: its hourly
//! charge (`interface_endpoint_per_az_hour`, per AZ the endpoint is placed in) is a standing cost
//! that does not depend on how much traffic a recording saw, so the outputs state it beside the
//! saving instead of folding a guessed AZ count and lifetime into it.

use serde::Serialize;

use crate::error::ReportError;

/// Bytes in one GB, as AWS bills it.
pub const BYTES_PER_GB: f64 = 1e9;

/// The prices a report uses, in USD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    pub region: String,
    /// NAT gateway data processing, per GB, charged in both directions.
    pub nat_per_gb: f64,
    /// Interface endpoint (PrivateLink) data processing, per GB.
    pub interface_endpoint_per_gb: f64,
    /// Interface endpoint, per AZ and hour (not included in savings, see the module docs).
    pub interface_endpoint_per_az_hour: f64,
    /// Gateway endpoints (S3, DynamoDB) are free.
    pub gateway_endpoint_per_gb: f64,
    /// Data transfer between AZs of a region, per GB in each direction: what a host pays on
    /// top of NAT processing when its NAT gateway sits in another AZ.
    pub cross_az_per_gb: f64,
}

/// region, NAT per GB, interface endpoint per GB, interface endpoint per AZ-hour.
const TABLE: &[(&str, f64, f64, f64)] = &[
    ("us-east-1", 0.045, 0.01, 0.01),
    ("us-east-2", 0.045, 0.01, 0.01),
    ("us-west-2", 0.045, 0.01, 0.01),
    ("eu-west-1", 0.048, 0.01, 0.011),
    ("eu-central-1", 0.052, 0.01, 0.012),
];

/// Cross-AZ data transfer, per GB in each direction; the same in every region of `TABLE`.
const CROSS_AZ_PER_GB: f64 = 0.01;

/// The region used when none is given.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Default for Prices {
    fn default() -> Self {
        Prices::from_row(TABLE[0])
    }
}

impl Prices {
    fn from_row((region, nat, ie_gb, ie_hour): (&str, f64, f64, f64)) -> Self {
        Prices {
            region: region.to_string(),
            nat_per_gb: nat,
            interface_endpoint_per_gb: ie_gb,
            interface_endpoint_per_az_hour: ie_hour,
            gateway_endpoint_per_gb: 0.0,
            cross_az_per_gb: CROSS_AZ_PER_GB,
        }
    }

    /// The built-in prices of `region`, if it is in the table.
    pub fn for_region(region: &str) -> Option<Prices> {
        TABLE
            .iter()
            .find(|row| row.0 == region)
            .map(|row| Prices::from_row(*row))
    }

    /// The regions with built-in prices.
    pub fn known_regions() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|row| row.0)
    }

    /// Prices for `region` with an optional NAT price override. A region without built-in
    /// prices is accepted only with the NAT price given (the endpoint prices then default to
    /// us-east-1's, which are the same in most regions).
    pub fn resolve(region: Option<&str>, nat_per_gb: Option<f64>) -> Result<Prices, ReportError> {
        let region = region.unwrap_or(DEFAULT_REGION);
        let mut prices = match (Prices::for_region(region), nat_per_gb) {
            (Some(p), _) => p,
            (None, Some(_)) => Prices {
                region: region.to_string(),
                ..Prices::default()
            },
            (None, None) => {
                return Err(ReportError::UnknownRegion {
                    region: region.to_string(),
                    known: Prices::known_regions().collect::<Vec<_>>().join(", "),
                });
            }
        };
        if let Some(nat) = nat_per_gb {
            if !nat.is_finite() || nat < 0.0 {
                return Err(ReportError::BadPrice {
                    name: "nat-price-per-gb",
                    value: nat,
                });
            }
            prices.nat_per_gb = nat;
        }
        Ok(prices)
    }

    /// NAT data-processing cost of `bytes`.
    pub fn nat_cost(&self, bytes: u64) -> f64 {
        gb(bytes) * self.nat_per_gb
    }

    /// Per-GB cost of `bytes` through an endpoint of `kind`; `None` when no endpoint applies.
    pub fn endpoint_cost(&self, kind: EndpointKind, bytes: u64) -> Option<f64> {
        match kind {
            EndpointKind::Gateway => Some(gb(bytes) * self.gateway_endpoint_per_gb),
            EndpointKind::Interface => Some(gb(bytes) * self.interface_endpoint_per_gb),
            EndpointKind::None => None,
        }
    }
}

/// The VPC endpoint that could carry a service's traffic instead of the NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// Free; S3 and DynamoDB.
    Gateway,
    /// PrivateLink, per GB plus per AZ-hour.
    Interface,
    /// No VPC endpoint can carry it: `AMAZON` is every AWS range at once (too broad to name an
    /// endpoint), and edge or media services (CloudFront, Route 53, Global Accelerator, Chime,
    /// Connect, WorkSpaces gateways, ...) are reached over the internet by design.
    None,
}

impl EndpointKind {
    /// The endpoint for a `pkt-*-aws-service` value, as AWS writes it.
    pub fn for_service(service: &str) -> EndpointKind {
        match service {
            "S3" | "DYNAMODB" => EndpointKind::Gateway,
            // Services of the AWS ip-ranges list that PrivateLink does not serve: recommending an
            // endpoint for them would send the user after something that does not exist.
            "AMAZON"
            | "AMAZON_CONNECT"
            | "CHIME_MEETINGS"
            | "CHIME_VOICECONNECTOR"
            | "CLOUD9"
            | "CLOUDFRONT"
            | "EC2_INSTANCE_CONNECT"
            | "GLOBALACCELERATOR"
            | "ROUTE53"
            | "ROUTE53_HEALTHCHECKS"
            | "ROUTE53_HEALTHCHECKS_PUBLISHING"
            | "ROUTE53_RESOLVER"
            | "WORKSPACES_GATEWAYS" => EndpointKind::None,
            // EC2, API_GATEWAY (execute-api), CODEBUILD, EBS, KINESIS_VIDEO_STREAMS,
            // AMAZON_APPFLOW and names AWS adds later: an interface endpoint.
            _ => EndpointKind::Interface,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Gateway => "gateway",
            EndpointKind::Interface => "interface",
            EndpointKind::None => "none",
        }
    }
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / BYTES_PER_GB
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_recommended_only_where_a_vpc_endpoint_exists() {
        for (service, kind) in [
            ("S3", EndpointKind::Gateway),
            ("DYNAMODB", EndpointKind::Gateway),
            ("EC2", EndpointKind::Interface),
            ("CODEBUILD", EndpointKind::Interface),
            ("API_GATEWAY", EndpointKind::Interface),
            ("AMAZON", EndpointKind::None),
            ("CLOUDFRONT", EndpointKind::None),
            ("ROUTE53", EndpointKind::None),
            ("GLOBALACCELERATOR", EndpointKind::None),
        ] {
            assert_eq!(EndpointKind::for_service(service), kind, "{service}");
        }
    }

    #[test]
    fn us_east_1_is_the_default_and_charges_nat_both_ways_at_0_045() {
        let p = Prices::resolve(None, None).unwrap();
        assert_eq!(p.region, "us-east-1");
        // 2 GB (10^9 bytes each) through the NAT.
        assert!((p.nat_cost(2_000_000_000) - 0.09).abs() < 1e-12);
    }

    #[test]
    fn gateway_endpoints_are_free_and_interface_endpoints_charge_per_gb() {
        let p = Prices::default();
        assert_eq!(
            p.endpoint_cost(EndpointKind::Gateway, 5_000_000_000),
            Some(0.0)
        );
        let ie = p
            .endpoint_cost(EndpointKind::Interface, 5_000_000_000)
            .unwrap();
        assert!((ie - 0.05).abs() < 1e-12);
        assert_eq!(p.endpoint_cost(EndpointKind::None, 1), None);
    }

    #[test]
    fn endpoint_kind_follows_the_service_name() {
        assert_eq!(EndpointKind::for_service("S3"), EndpointKind::Gateway);
        assert_eq!(EndpointKind::for_service("DYNAMODB"), EndpointKind::Gateway);
        assert_eq!(EndpointKind::for_service("AMAZON"), EndpointKind::None);
        assert_eq!(EndpointKind::for_service("EC2"), EndpointKind::Interface);
    }

    #[test]
    fn unknown_region_needs_a_nat_price_and_says_which_regions_are_known() {
        let err = Prices::resolve(Some("xx-nowhere-1"), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("xx-nowhere-1") && msg.contains("us-east-1"),
            "{msg}"
        );
        let p = Prices::resolve(Some("xx-nowhere-1"), Some(0.07)).unwrap();
        assert_eq!(p.region, "xx-nowhere-1");
        assert_eq!(p.nat_per_gb, 0.07);
    }

    #[test]
    fn override_wins_over_the_table_and_rejects_negative_prices() {
        let p = Prices::resolve(Some("eu-west-1"), Some(0.05)).unwrap();
        assert_eq!(p.nat_per_gb, 0.05);
        assert_eq!(p.interface_endpoint_per_az_hour, 0.011);
        assert!(Prices::resolve(None, Some(-1.0)).is_err());
        assert!(Prices::resolve(None, Some(f64::NAN)).is_err());
    }
}
