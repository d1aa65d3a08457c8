//! Who the internal hosts are and where they sit, applied to a finished report: an `owner` and an
//! `az` on every talker and source, and the traffic that crossed an Availability Zone to reach its
//! NAT gateway (it pays cross-AZ data transfer on top of NAT processing).
//!
//! This crate never asks AWS: the binary looks the addresses up (DescribeNetworkInterfaces and
//! friends), caches what it learned beside the recording, and hands it over as an [`Attribution`],
//! plain data that serializes to and from JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::{AttributionSummary, CrossAz, CrossAzHost, NatSite, Report};
use crate::prices::round_money;
use crate::remediation;

/// What owns one internal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// What a person recognises: `i-0abc (web-1)`, `Lambda thumbnailer`, `ALB my-alb`, ...
    pub name: String,
    /// `instance`, `lambda`, `ecs-task`, `eks-pod`, `load-balancer`, `vpc-endpoint`,
    /// `nat-gateway`, `aws-managed` or `interface`.
    pub kind: String,
    pub interface_id: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub az: Option<String>,
}

/// Everything the binary learned about the report's hosts and NATs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The region the commands in the report name (`--region` of the AWS CLI).
    pub region: Option<String>,
    /// Every address that was looked up; an address without an entry in `owners` had no
    /// network interface (a terminated instance, another VPC, an on-premises host).
    pub looked_up: BTreeSet<IpAddr>,
    pub owners: BTreeMap<IpAddr, Owner>,
    pub nats: Vec<NatSite>,
}

impl Attribution {
    /// Adds what `other` knows; `other` wins where both name the same address or NAT.
    pub fn merge(&mut self, other: Attribution) {
        if other.region.is_some() {
            self.region = other.region;
        }
        self.looked_up.extend(other.looked_up);
        self.owners.extend(other.owners);
        for nat in other.nats {
            self.nats.retain(|n| n.nat_gateway_id != nat.nat_gateway_id);
            self.nats.push(nat);
        }
        self.nats
            .sort_by(|a, b| a.nat_gateway_id.cmp(&b.nat_gateway_id));
    }
}

impl Report {
    /// Names the talkers' and sources' internal hosts, flags the traffic that crossed an AZ to
    /// reach the NAT, and writes the endpoint commands for the VPC(s) found. Call it on a report
    /// built with `top = 0` and cut it afterwards ([`Report::cut_to_top`]): the cross-AZ total
    /// needs every host, not only the top ones.
    pub fn attribute(&mut self, attribution: &Attribution) {
        let owner_of = |addr: &str| -> Option<&Owner> {
            addr.parse::<IpAddr>()
                .ok()
                .and_then(|ip| attribution.owners.get(&ip))
        };
        for t in &mut self.talkers {
            if let Some(o) = owner_of(&t.internal_addr) {
                t.owner = Some(o.name.clone());
                t.az = o.az.clone();
            }
        }
        let mut looked_up = 0;
        let mut named = 0;
        for s in &mut self.sources {
            if let Ok(ip) = s.internal_addr.parse::<IpAddr>() {
                looked_up += u64::from(attribution.looked_up.contains(&ip));
            }
            if let Some(o) = owner_of(&s.internal_addr) {
                s.owner = Some(o.name.clone());
                s.az = o.az.clone();
                named += 1;
            }
        }
        self.attribution = Some(AttributionSummary {
            region: attribution.region.clone(),
            hosts_looked_up: looked_up,
            hosts_named: named,
            nats: attribution.nats.clone(),
        });
        self.cross_az = self.cross_az_traffic(attribution);
        self.remediation = remediation::plan(self);
    }

    /// Cuts talkers, sources and destinations to their first `top` rows (0 = all), as the
    /// report would have been built with `top`; totals and shares stay those of all rows.
    pub fn cut_to_top(&mut self, top: usize) {
        self.summary.top = top;
        if top > 0 {
            self.talkers.truncate(top);
            self.sources.truncate(top);
            self.destinations.truncate(top);
            if let Some(names) = &mut self.remote_names {
                names.domains.truncate(top);
            }
        }
    }

    /// The cross-AZ section: only for one zonal NAT (with several NATs in different AZs the
    /// records do not say which NAT a host used; a regional NAT serves each AZ in that AZ).
    fn cross_az_traffic(&mut self, attribution: &Attribution) -> Option<CrossAz> {
        let nat = match attribution.nats.as_slice() {
            [] => return None,
            [nat] if nat.regional => {
                self.summary.notes.push(format!(
                    "{} is a regional NAT gateway: it serves each AZ from that AZ, so no traffic is flagged as cross-AZ",
                    nat.nat_gateway_id
                ));
                return None;
            }
            [nat] => nat,
            several => {
                let azs: BTreeSet<&str> = several
                    .iter()
                    .flat_map(|n| n.azs.iter().map(String::as_str))
                    .collect();
                if azs.len() > 1 {
                    self.summary.notes.push(format!(
                        "the report spans {} NAT gateways in different AZs; the records do not say which NAT each host used, so cross-AZ traffic is not computed (report one recording at a time)",
                        several.len()
                    ));
                    return None;
                }
                several.first()?
            }
        };
        let Some(nat_az) = nat.azs.first() else {
            self.summary.notes.push(format!(
                "the AZ of {} is unknown, so cross-AZ traffic is not computed",
                nat.nat_gateway_id
            ));
            return None;
        };
        let price = self.summary.prices.cross_az_per_gb;
        let mut hosts = Vec::new();
        let mut unknown = 0u64;
        for s in &self.sources {
            match &s.az {
                Some(az) if az != nat_az => hosts.push(CrossAzHost {
                    internal_addr: s.internal_addr.clone(),
                    owner: s.owner.clone(),
                    az: az.clone(),
                    bytes_out: s.bytes_out,
                    bytes_in: s.bytes_in,
                    bytes_total: s.bytes_total,
                    cost_usd: round_money(gb(s.bytes_total) * price),
                }),
                Some(_) => {}
                None => unknown = unknown.saturating_add(s.bytes_total),
            }
        }
        // The sources table is already sorted by bytes_total desc, then address as text.
        let sum =
            |f: fn(&CrossAzHost) -> u64| hosts.iter().fold(0u64, |a, h| a.saturating_add(f(h)));
        let (out, inn, total) = (
            sum(|h| h.bytes_out),
            sum(|h| h.bytes_in),
            sum(|h| h.bytes_total),
        );
        Some(CrossAz {
            nat_az: nat_az.clone(),
            nat_gateway_id: nat.nat_gateway_id.clone(),
            price_per_gb: price,
            bytes_out: out,
            bytes_in: inn,
            bytes_total: total,
            cost_usd: round_money(gb(total) * price),
            bytes_unknown_az: unknown,
            hosts,
        })
    }
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / crate::prices::BYTES_PER_GB
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::{ReportOptions, build_report};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn owner(name: &str, az: &str) -> Owner {
        Owner {
            name: name.into(),
            kind: "instance".into(),
            interface_id: Some("eni-1".into()),
            subnet_id: Some(format!("subnet-{az}")),
            vpc_id: Some("vpc-1".into()),
            az: Some(az.into()),
        }
    }

    fn nat(regional: bool, azs: &[&str]) -> NatSite {
        NatSite {
            nat_gateway_id: "nat-0abc".into(),
            vpc_id: Some("vpc-1".into()),
            regional,
            azs: azs.iter().map(|s| s.to_string()).collect(),
            route_table_ids: vec!["rtb-1".into()],
            endpoint_subnet_ids: vec!["subnet-a".into()],
        }
    }

    /// nat-cloudwatch.log: 10.0.1.5 (S3, 3.01 MB), 10.0.1.9 (AMAZON, 2.00 MB), 10.0.2.7, ...
    fn cloudwatch_report() -> Report {
        let path = PathBuf::from("../fixtures/reports/nat-cloudwatch.log");
        let opts = ReportOptions {
            top: 0,
            ..ReportOptions::default()
        };
        build_report(&[path], &opts).unwrap()
    }

    fn attribution(nats: Vec<NatSite>) -> Attribution {
        Attribution {
            region: Some("us-east-1".into()),
            looked_up: [ip("10.0.1.5"), ip("10.0.1.9"), ip("10.0.2.7")].into(),
            owners: BTreeMap::from([
                (ip("10.0.1.5"), owner("i-05 (web-1)", "us-east-1a")),
                (ip("10.0.2.7"), owner("Lambda sync", "us-east-1b")),
            ]),
            nats,
        }
    }

    #[test]
    fn owners_and_azs_land_on_talkers_and_sources() {
        let mut r = cloudwatch_report();
        r.attribute(&attribution(vec![nat(false, &["us-east-1a"])]));
        let t = r
            .talkers
            .iter()
            .find(|t| t.internal_addr == "10.0.1.5")
            .unwrap();
        assert_eq!(t.owner.as_deref(), Some("i-05 (web-1)"));
        assert_eq!(t.az.as_deref(), Some("us-east-1a"));
        let unknown = r
            .sources
            .iter()
            .find(|s| s.internal_addr == "10.0.1.9")
            .unwrap();
        assert_eq!(
            (unknown.owner.as_deref(), unknown.az.as_deref()),
            (None, None)
        );
        let summary = r.attribution.as_ref().unwrap();
        assert_eq!((summary.hosts_looked_up, summary.hosts_named), (3, 2));
    }

    #[test]
    fn hosts_in_another_az_than_a_zonal_nat_pay_cross_az_on_both_directions() {
        let mut r = cloudwatch_report();
        r.attribute(&attribution(vec![nat(false, &["us-east-1a"])]));
        let x = r.cross_az.as_ref().expect("cross-AZ section");
        assert_eq!(x.nat_az, "us-east-1a");
        assert_eq!(x.hosts.len(), 1);
        let h = &x.hosts[0];
        assert_eq!(
            (h.internal_addr.as_str(), h.az.as_str()),
            ("10.0.2.7", "us-east-1b")
        );
        let source = r
            .sources
            .iter()
            .find(|s| s.internal_addr == "10.0.2.7")
            .unwrap();
        assert_eq!(h.bytes_total, source.bytes_out + source.bytes_in);
        assert_eq!(x.bytes_total, h.bytes_total);
        // $0.01 per GB on every byte of either direction.
        assert!((x.cost_usd - h.bytes_total as f64 / 1e9 * 0.01).abs() < 1e-9);
        let unknown = r
            .sources
            .iter()
            .find(|s| s.internal_addr == "10.0.1.9")
            .unwrap();
        assert!(x.bytes_unknown_az >= unknown.bytes_total);
    }

    #[test]
    fn a_regional_nat_or_nats_in_several_azs_flag_nothing_and_say_why() {
        let mut r = cloudwatch_report();
        r.attribute(&attribution(vec![nat(true, &["us-east-1a", "us-east-1b"])]));
        assert!(r.cross_az.is_none());
        assert!(r.summary.notes.iter().any(|n| n.contains("regional NAT")));

        let mut r = cloudwatch_report();
        let mut other = nat(false, &["us-east-1b"]);
        other.nat_gateway_id = "nat-0def".into();
        r.attribute(&attribution(vec![nat(false, &["us-east-1a"]), other]));
        assert!(r.cross_az.is_none());
        assert!(r.summary.notes.iter().any(|n| n.contains("different AZs")));
    }

    #[test]
    fn cut_to_top_keeps_the_totals_and_the_first_rows() {
        let mut r = cloudwatch_report();
        let total = r.summary.bytes_total;
        let first = r.talkers[0].clone();
        r.attribute(&attribution(vec![nat(false, &["us-east-1a"])]));
        r.cut_to_top(2);
        assert_eq!(r.talkers.len(), 2);
        assert_eq!(r.sources.len(), 2);
        assert_eq!(r.summary.top, 2);
        assert_eq!(r.summary.bytes_total, total);
        assert_eq!(r.talkers[0].internal_addr, first.internal_addr);
    }

    #[test]
    fn attribution_round_trips_through_json_and_merges() {
        let a = attribution(vec![nat(false, &["us-east-1a"])]);
        let text = serde_json::to_string(&a).unwrap();
        let back: Attribution = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a);
        let mut merged = Attribution::default();
        merged.merge(back);
        let mut newer = Attribution::default();
        newer
            .owners
            .insert(ip("10.0.1.9"), owner("i-09", "us-east-1a"));
        newer.looked_up.insert(ip("10.0.1.9"));
        merged.merge(newer);
        assert_eq!(merged.owners.len(), 3);
        assert_eq!(merged.region.as_deref(), Some("us-east-1"));
        assert_eq!(merged.nats.len(), 1);
    }
}
