//! What NAT and VPC-endpoint traffic costs, per region: the one place prices live.
//!
//! GB means 10^9 bytes here, as on AWS bills. The built-in prices are the public on-demand list
//! prices in USD, as of 2025-06 (source: the AWS VPC pricing page, aws.amazon.com/vpc/pricing,
//! "NAT Gateway pricing"; the AWS PrivateLink pricing page, aws.amazon.com/privatelink/pricing,
//! for interface endpoints; the EC2 on-demand pricing page, "Data Transfer within the same AWS
//! Region", for cross-AZ traffic). They were not re-read online when this table was written, and
//! AWS changes them: every price can be overridden (`report.nat_price_per_gb` and the other
//! `report.*_price_*` keys, `--nat-price-per-gb`).
//!
//! A region is in the table only where all five of its prices were known with confidence;
//! the others (ap-east-1, ap-northeast-2, ap-northeast-3, ap-southeast-2..7, ap-south-2,
//! af-south-1, ca-west-1, eu-west-3, eu-north-1, eu-south-1, eu-south-2, eu-central-2,
//! il-central-1, me-south-1, me-central-1, mx-central-1, sa-east-1, ...) fall back to us-east-1's
//! prices with a warning in every report, so nobody reads a guess as a fact.
//!
//! The per-recording saving of an interface endpoint counts only its per-GB charge: its hourly
//! charge (`interface_endpoint_per_az_hour`, per AZ the endpoint is placed in) is a standing cost
//! that does not depend on how much traffic a recording saw, so the outputs state it beside the
//! saving (and net it out of the monthly figures when the AZs are known).

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
    /// NAT gateway, per hour it exists (per AZ for a regional NAT).
    pub nat_per_hour: f64,
    /// Interface endpoint (PrivateLink) data processing, per GB.
    pub interface_endpoint_per_gb: f64,
    /// Interface endpoint, per AZ and hour (netted out of monthly savings when the AZs are known).
    pub interface_endpoint_per_az_hour: f64,
    /// Gateway endpoints (S3, DynamoDB) are free.
    pub gateway_endpoint_per_gb: f64,
    /// Data transfer between AZs of a region, per GB in each direction: what a host pays on
    /// top of NAT processing when its NAT gateway sits in another AZ.
    pub cross_az_per_gb: f64,
    /// The prices (config key names) that `region` has no built-in value for and that no
    /// override gave: us-east-1's are used for them, and the report warns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<&'static str>,
}

/// Prices given by the user (config `report.*_price_*`, `--nat-price-per-gb`); each wins over
/// the table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PriceOverrides {
    pub nat_per_gb: Option<f64>,
    pub nat_per_hour: Option<f64>,
    pub interface_endpoint_per_gb: Option<f64>,
    pub interface_endpoint_per_az_hour: Option<f64>,
    pub cross_az_per_gb: Option<f64>,
}

/// One region's built-in prices.
struct Row {
    region: &'static str,
    nat_per_gb: f64,
    nat_per_hour: f64,
    interface_endpoint_per_gb: f64,
    interface_endpoint_per_az_hour: f64,
    cross_az_per_gb: f64,
}

const fn row(region: &'static str, nat: f64, ie_hour: f64) -> Row {
    // NAT processing and NAT hours cost the same per unit in every region of the table;
    // PrivateLink processing is $0.01/GB (first PB) and cross-AZ transfer $0.01/GB each way.
    Row {
        region,
        nat_per_gb: nat,
        nat_per_hour: nat,
        interface_endpoint_per_gb: 0.01,
        interface_endpoint_per_az_hour: ie_hour,
        cross_az_per_gb: 0.01,
    }
}

/// Built-in prices (see the module docs for the date and the source).
const TABLE: &[Row] = &[
    row("us-east-1", 0.045, 0.01),
    row("us-east-2", 0.045, 0.01),
    row("us-west-1", 0.048, 0.011),
    row("us-west-2", 0.045, 0.01),
    row("ca-central-1", 0.05, 0.011),
    row("eu-west-1", 0.048, 0.011),
    row("eu-west-2", 0.05, 0.011),
    row("eu-central-1", 0.052, 0.012),
    row("ap-northeast-1", 0.062, 0.014),
    row("ap-southeast-1", 0.059, 0.013),
    row("ap-south-1", 0.056, 0.011),
];

/// The region used when none is given, and whose prices stand in for a region's unknown ones.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The config key of each price, as warnings name them.
const NAT_PER_GB_KEY: &str = "report.nat_price_per_gb";
const NAT_PER_HOUR_KEY: &str = "report.nat_price_per_hour";
const IE_PER_GB_KEY: &str = "report.interface_endpoint_price_per_gb";
const IE_PER_AZ_HOUR_KEY: &str = "report.interface_endpoint_price_per_az_hour";
const CROSS_AZ_KEY: &str = "report.cross_az_price_per_gb";

impl Default for Prices {
    fn default() -> Self {
        Prices::from_row(&TABLE[0])
    }
}

impl Prices {
    fn from_row(row: &Row) -> Self {
        Prices {
            region: row.region.to_string(),
            nat_per_gb: row.nat_per_gb,
            nat_per_hour: row.nat_per_hour,
            interface_endpoint_per_gb: row.interface_endpoint_per_gb,
            interface_endpoint_per_az_hour: row.interface_endpoint_per_az_hour,
            gateway_endpoint_per_gb: 0.0,
            cross_az_per_gb: row.cross_az_per_gb,
            fallback: Vec::new(),
        }
    }

    /// The built-in prices of `region`, if it is in the table.
    pub fn for_region(region: &str) -> Option<Prices> {
        TABLE
            .iter()
            .find(|row| row.region == region)
            .map(Prices::from_row)
    }

    /// The regions with built-in prices.
    pub fn known_regions() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|row| row.region)
    }

    /// Prices for `region` (us-east-1 when `None`) with the user's overrides. A region without
    /// built-in prices takes us-east-1's for every price not overridden, and lists them in
    /// `fallback` (see [`Prices::warning`]). Only a negative or non-finite override is an error.
    pub fn resolve(
        region: Option<&str>,
        overrides: &PriceOverrides,
    ) -> Result<Prices, ReportError> {
        let region = region.unwrap_or(DEFAULT_REGION);
        let (mut prices, known) = match Prices::for_region(region) {
            Some(p) => (p, true),
            None => (
                Prices {
                    region: region.to_string(),
                    ..Prices::default()
                },
                false,
            ),
        };
        let slots: [(&'static str, Option<f64>, &mut f64); 5] = [
            (NAT_PER_GB_KEY, overrides.nat_per_gb, &mut prices.nat_per_gb),
            (
                NAT_PER_HOUR_KEY,
                overrides.nat_per_hour,
                &mut prices.nat_per_hour,
            ),
            (
                IE_PER_GB_KEY,
                overrides.interface_endpoint_per_gb,
                &mut prices.interface_endpoint_per_gb,
            ),
            (
                IE_PER_AZ_HOUR_KEY,
                overrides.interface_endpoint_per_az_hour,
                &mut prices.interface_endpoint_per_az_hour,
            ),
            (
                CROSS_AZ_KEY,
                overrides.cross_az_per_gb,
                &mut prices.cross_az_per_gb,
            ),
        ];
        let mut fallback = Vec::new();
        for (key, given, slot) in slots {
            match given {
                Some(value) if !value.is_finite() || value < 0.0 => {
                    return Err(ReportError::BadPrice { name: key, value });
                }
                Some(value) => *slot = value,
                None if !known => fallback.push(key),
                None => {}
            }
        }
        prices.fallback = fallback;
        Ok(prices)
    }

    /// What the report must say when some prices are us-east-1's stand-ins; `None` when every
    /// price is the region's own or the user's.
    pub fn warning(&self) -> Option<String> {
        let first = *self.fallback.first()?;
        Some(if first == NAT_PER_GB_KEY {
            let others = match &self.fallback[1..] {
                [] => String::new(),
                rest => format!(" (and {})", rest.join(", ")),
            };
            format!(
                "prices for {} unknown: using us-east-1's; set {NAT_PER_GB_KEY}{others} to the region's prices from aws.amazon.com/vpc/pricing",
                self.region
            )
        } else {
            format!(
                "some prices for {} unknown: using us-east-1's for {}; set them to the region's prices from aws.amazon.com/vpc/pricing",
                self.region,
                self.fallback.join(", ")
            )
        })
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

/// What CloudWatch Logs charges for vended logs (VPC Flow Logs, Route 53 Resolver query logs),
/// per GB, first volume tier: ingested into a log group, by log group class, or delivered to S3
/// (the first 10 TB a month; the optional conversion to Apache Parquet is charged on top). The
/// public list prices in USD as of 2025-06 (the CloudWatch pricing page,
/// aws.amazon.com/cloudwatch/pricing, Logs, "Vended Logs": "Delivery to CloudWatch Logs",
/// "Delivery to S3" and its "Apache Parquet format conversion"), not re-read online when this
/// table was written. Only regions whose prices matched us-east-1's with confidence are listed;
/// the others use us-east-1's and `fallback` says so.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogIngestionPrices {
    pub region: String,
    pub standard_per_gb: f64,
    pub infrequent_access_per_gb: f64,
    /// Delivered to S3 instead of a log group (plain text).
    pub s3_per_gb: f64,
    /// Added to `s3_per_gb` for files delivered as Parquet.
    pub s3_parquet_conversion_per_gb: f64,
    /// `region` is not in the table: these are us-east-1's prices.
    pub fallback: bool,
}

/// One region's vended-log prices, per GB.
struct VendedRow {
    region: &'static str,
    standard: f64,
    infrequent_access: f64,
    s3: f64,
    s3_parquet_conversion: f64,
}

const fn vended(region: &'static str) -> VendedRow {
    // The same in every region of the table.
    VendedRow {
        region,
        standard: 0.50,
        infrequent_access: 0.25,
        s3: 0.25,
        s3_parquet_conversion: 0.035,
    }
}

/// Regions with built-in vended-log prices.
const LOG_INGESTION_TABLE: &[VendedRow] = &[
    vended("us-east-1"),
    vended("us-east-2"),
    vended("us-west-2"),
];

impl LogIngestionPrices {
    /// The prices of `region` (us-east-1 when `None`), or us-east-1's with `fallback` set.
    pub fn for_region(region: Option<&str>) -> LogIngestionPrices {
        let region = region.unwrap_or(DEFAULT_REGION);
        let known = LOG_INGESTION_TABLE.iter().find(|row| row.region == region);
        let row = known.unwrap_or(&LOG_INGESTION_TABLE[0]);
        LogIngestionPrices {
            region: region.to_string(),
            standard_per_gb: row.standard,
            infrequent_access_per_gb: row.infrequent_access,
            s3_per_gb: row.s3,
            s3_parquet_conversion_per_gb: row.s3_parquet_conversion,
            fallback: known.is_none(),
        }
    }

    /// Delivering to S3, per GB: plain text, or with the Parquet conversion.
    pub fn s3_delivery_per_gb(&self, parquet: bool) -> f64 {
        if parquet {
            self.s3_per_gb + self.s3_parquet_conversion_per_gb
        } else {
            self.s3_per_gb
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

/// Hours in the month the extrapolation uses (AWS's pricing pages use 730).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Money is rounded to nano-dollars: exact for any plausible bill (below $9M, f64 keeps it),
/// and free of float noise such as 0.00013554000000000001 in outputs.
const MONEY_DECIMALS: f64 = 1e9;

pub(crate) fn round_money(x: f64) -> f64 {
    (x * MONEY_DECIMALS).round() / MONEY_DECIMALS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ingestion_prices_halve_for_infrequent_access_and_fall_back_to_us_east_1() {
        let p = LogIngestionPrices::for_region(Some("us-east-2"));
        assert_eq!(
            (p.standard_per_gb, p.infrequent_access_per_gb),
            (0.50, 0.25)
        );
        assert!(!p.fallback);
        let far = LogIngestionPrices::for_region(Some("ap-southeast-4"));
        assert!(far.fallback);
        assert_eq!(far.region, "ap-southeast-4");
        assert_eq!(far.standard_per_gb, 0.50);
        assert!(!LogIngestionPrices::for_region(None).fallback);
    }

    #[test]
    fn delivery_to_s3_costs_half_of_standard_ingestion_and_parquet_adds_its_conversion() {
        let p = LogIngestionPrices::for_region(Some("us-east-1"));
        assert_eq!(p.s3_delivery_per_gb(false), 0.25);
        assert!((p.s3_delivery_per_gb(true) - 0.285).abs() < 1e-12);
        assert!(p.s3_delivery_per_gb(false) < p.standard_per_gb);
        let far = LogIngestionPrices::for_region(Some("ap-southeast-4"));
        assert!(far.fallback);
        assert_eq!(far.s3_delivery_per_gb(false), 0.25);
    }

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
        let p = Prices::resolve(None, &PriceOverrides::default()).unwrap();
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
    fn an_unknown_region_uses_us_east_1s_prices_and_says_so() {
        let p = Prices::resolve(Some("xx-nowhere-1"), &PriceOverrides::default()).unwrap();
        assert_eq!(p.region, "xx-nowhere-1");
        assert_eq!(p.nat_per_gb, 0.045);
        let warning = p.warning().unwrap();
        assert!(
            warning.starts_with(
                "prices for xx-nowhere-1 unknown: using us-east-1's; set report.nat_price_per_gb"
            ),
            "{warning}"
        );
        let given = PriceOverrides {
            nat_per_gb: Some(0.07),
            ..PriceOverrides::default()
        };
        let p = Prices::resolve(Some("xx-nowhere-1"), &given).unwrap();
        assert_eq!(p.nat_per_gb, 0.07);
        let warning = p.warning().unwrap();
        assert!(
            warning.contains("using us-east-1's for report.nat_price_per_hour"),
            "{warning}"
        );
        assert_eq!(
            Prices::resolve(Some("eu-west-1"), &PriceOverrides::default())
                .unwrap()
                .warning(),
            None
        );
    }

    #[test]
    fn every_region_of_the_table_has_all_its_prices() {
        for region in Prices::known_regions() {
            let p = Prices::for_region(region).unwrap();
            for price in [
                p.nat_per_gb,
                p.nat_per_hour,
                p.interface_endpoint_per_gb,
                p.interface_endpoint_per_az_hour,
                p.cross_az_per_gb,
            ] {
                assert!(price > 0.0 && price < 1.0, "{region}: {price}");
            }
        }
        assert_eq!(Prices::for_region("eu-west-1").unwrap().nat_per_gb, 0.048);
    }

    #[test]
    fn overrides_win_over_the_table_and_reject_negative_prices() {
        let given = PriceOverrides {
            nat_per_gb: Some(0.05),
            cross_az_per_gb: Some(0.02),
            ..PriceOverrides::default()
        };
        let p = Prices::resolve(Some("eu-west-1"), &given).unwrap();
        assert_eq!(p.nat_per_gb, 0.05);
        assert_eq!(p.cross_az_per_gb, 0.02);
        assert_eq!(p.interface_endpoint_per_az_hour, 0.011);
        let bad = |v| PriceOverrides {
            interface_endpoint_per_gb: Some(v),
            ..PriceOverrides::default()
        };
        let err = Prices::resolve(None, &bad(-1.0)).unwrap_err().to_string();
        assert!(
            err.contains("report.interface_endpoint_price_per_gb"),
            "{err}"
        );
        assert!(Prices::resolve(None, &bad(f64::NAN)).is_err());
    }
}
