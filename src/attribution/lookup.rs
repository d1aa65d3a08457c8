//! Asks the account who the report's hosts are and where its NAT gateways sit: the interfaces
//! holding the addresses (one batched DescribeNetworkInterfaces), the Name tags of their
//! instances, each NAT's availability mode and AZ, and the route tables that send 0.0.0.0/0 to it
//! (with one subnet per AZ among them, where an interface endpoint would go).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use nat_flowrec_reports::{Attribution, NatSite};

use super::owner::owner_of;
use crate::ports::{AwsError, Inventory, NetworkInterface};

/// What to look up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupRequest {
    /// Internal hosts of the report.
    pub addresses: Vec<IpAddr>,
    /// NAT gateways known by id (export files name theirs).
    pub nat_gateway_ids: Vec<String>,
    /// NAT private addresses (`--nat-ip`, export files): their interfaces name the NAT.
    pub nat_ips: Vec<IpAddr>,
    /// The region the report's commands name.
    pub region: Option<String>,
}

/// One lookup against the account; every address asked for is in `looked_up`, those with an
/// interface also in `owners`.
pub async fn lookup<I: Inventory>(inv: &I, req: &LookupRequest) -> Result<Attribution, AwsError> {
    let mut asked: Vec<IpAddr> = req.addresses.clone();
    asked.extend(req.nat_ips.iter().copied());
    asked.sort();
    asked.dedup();
    let interfaces = if asked.is_empty() {
        Vec::new()
    } else {
        inv.interfaces_by_address(&asked).await?
    };

    let instance_ids: Vec<String> = interfaces
        .iter()
        .filter_map(|e| e.instance_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: BTreeMap<String, Option<String>> = if instance_ids.is_empty() {
        BTreeMap::new()
    } else {
        inv.instance_names(&instance_ids)
            .await?
            .into_iter()
            .map(|i| (i.instance_id, i.name))
            .collect()
    };

    let mut owners = BTreeMap::new();
    for addr in &req.addresses {
        if let Some(eni) = interfaces.iter().find(|e| e.addresses.contains(addr)) {
            let name = eni
                .instance_id
                .as_ref()
                .and_then(|id| names.get(id))
                .and_then(|n| n.as_deref());
            owners.insert(*addr, owner_of(eni, name));
        }
    }

    let mut nat_ids: BTreeSet<String> = req.nat_gateway_ids.iter().cloned().collect();
    for eni in interfaces
        .iter()
        .filter(|e| e.addresses.iter().any(|a| req.nat_ips.contains(a)))
    {
        if let Some(id) = nat_id_of(eni) {
            nat_ids.insert(id);
        }
    }
    let nats = if nat_ids.is_empty() {
        Vec::new()
    } else {
        nat_sites(inv, &nat_ids.into_iter().collect::<Vec<_>>(), &interfaces).await?
    };

    Ok(Attribution {
        region: req.region.clone(),
        looked_up: req.addresses.iter().copied().collect(),
        owners,
        nats,
    })
}

/// The NAT gateway a NAT's own interface belongs to (`Interface for NAT Gateway nat-...`).
fn nat_id_of(eni: &NetworkInterface) -> Option<String> {
    eni.description
        .as_deref()?
        .strip_prefix("Interface for NAT Gateway ")
        .map(|id| id.trim().to_owned())
        .filter(|id| id.starts_with("nat-"))
}

async fn nat_sites<I: Inventory>(
    inv: &I,
    nat_ids: &[String],
    interfaces: &[NetworkInterface],
) -> Result<Vec<NatSite>, AwsError> {
    let placements = inv.nat_placements(nat_ids).await?;
    // The AZ of a zonal NAT: its addresses' AZ, else its subnet's, else its interface's.
    let zonal_subnets: Vec<String> = placements
        .iter()
        .filter(|p| !p.regional && p.address_azs.is_empty())
        .filter_map(|p| p.subnet_id.clone())
        .collect();
    let subnet_azs: BTreeMap<String, String> = if zonal_subnets.is_empty() {
        BTreeMap::new()
    } else {
        inv.subnets(&zonal_subnets)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.id, s.availability_zone?)))
            .collect()
    };

    let mut tables_by_vpc = BTreeMap::new();
    let mut sites = Vec::new();
    for p in placements {
        let mut azs = p.address_azs.clone();
        if azs.is_empty() && !p.regional {
            let from_subnet = p
                .subnet_id
                .as_ref()
                .and_then(|s| subnet_azs.get(s))
                .cloned();
            let from_eni = interfaces
                .iter()
                .find(|e| p.enis.contains(&e.id))
                .and_then(|e| e.availability_zone.clone());
            azs.extend(from_subnet.or(from_eni));
        }
        let mut site = NatSite {
            nat_gateway_id: p.id.clone(),
            vpc_id: p.vpc_id.clone(),
            regional: p.regional,
            azs,
            route_table_ids: Vec::new(),
            endpoint_subnet_ids: Vec::new(),
        };
        if let Some(vpc) = &p.vpc_id {
            if !tables_by_vpc.contains_key(vpc) {
                tables_by_vpc.insert(vpc.clone(), inv.route_tables(vpc).await?);
            }
            let tables = tables_by_vpc.get(vpc).map(Vec::as_slice).unwrap_or(&[]);
            let routed: Vec<_> = tables
                .iter()
                .filter(|t| t.sends_to_nat("0.0.0.0/0", &p.id))
                .collect();
            site.route_table_ids = routed.iter().map(|t| t.id.clone()).collect();
            site.route_table_ids.sort();
            let subnet_ids: Vec<String> = routed
                .iter()
                .flat_map(|t| t.subnet_ids.iter().cloned())
                .collect();
            site.endpoint_subnet_ids = one_subnet_per_az(inv, &subnet_ids).await?;
        }
        sites.push(site);
    }
    sites.sort_by(|a, b| a.nat_gateway_id.cmp(&b.nat_gateway_id));
    Ok(sites)
}

/// The first subnet (by id) of each AZ among `subnet_ids`, in AZ order: an interface endpoint
/// takes at most one subnet per AZ.
pub(crate) async fn one_subnet_per_az<I: Inventory>(
    inv: &I,
    subnet_ids: &[String],
) -> Result<Vec<String>, AwsError> {
    if subnet_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_az: BTreeMap<String, String> = BTreeMap::new();
    let mut subnets = inv.subnets(subnet_ids).await?;
    subnets.sort_by(|a, b| a.id.cmp(&b.id));
    for s in subnets {
        if let Some(az) = s.availability_zone {
            by_az.entry(az).or_insert(s.id);
        }
    }
    Ok(by_az.into_values().collect())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ports::{AwsErrorKind, Route, RouteTable, Subnet};
    use crate::sim::{SimCloud, SimNat};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn eni(id: &str, addr: &str, az: &str, subnet: &str) -> NetworkInterface {
        NetworkInterface {
            id: id.into(),
            interface_type: Some("interface".into()),
            subnet_id: Some(subnet.into()),
            vpc_id: Some("vpc-sim".into()),
            availability_zone: Some(az.into()),
            addresses: vec![ip(addr)],
            ..NetworkInterface::default()
        }
    }

    /// A NAT in subnet-pub (us-east-1a) routed from two private subnets in two AZs, one
    /// instance with a Name tag, one Lambda.
    fn account() -> (SimCloud, SimNat) {
        let mut nat = SimNat::new("nat-0sim", 0);
        nat.vpc_id = "vpc-sim".into();
        nat.subnet_id = "subnet-pub".into();
        let sim =
            SimCloud::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()).with_nat(nat.clone());
        let mut web = eni("eni-web", "10.0.1.5", "us-east-1a", "subnet-a");
        web.instance_id = Some("i-0web".into());
        sim.add_interface(web);
        sim.add_instance("i-0web", Some("web-1"));
        let mut lambda = eni("eni-fn", "10.0.2.7", "us-east-1b", "subnet-b");
        lambda.description = Some("AWS Lambda VPC ENI-sync-orders".into());
        sim.add_interface(lambda);
        for (id, az) in [
            ("subnet-pub", "us-east-1a"),
            ("subnet-a", "us-east-1a"),
            ("subnet-b", "us-east-1b"),
            ("subnet-a2", "us-east-1a"),
        ] {
            sim.add_subnet(Subnet {
                id: id.into(),
                vpc_id: Some("vpc-sim".into()),
                availability_zone: Some(az.into()),
            });
        }
        let to_nat = |id: &str, subnets: &[&str]| RouteTable {
            id: id.into(),
            vpc_id: Some("vpc-sim".into()),
            main: false,
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            routes: vec![Route {
                destination: "0.0.0.0/0".into(),
                nat_gateway_id: Some("nat-0sim".into()),
                ..Route::default()
            }],
        };
        sim.add_route_table(to_nat("rtb-b", &["subnet-b"]));
        sim.add_route_table(to_nat("rtb-a", &["subnet-a2", "subnet-a"]));
        sim.add_route_table(RouteTable {
            id: "rtb-pub".into(),
            vpc_id: Some("vpc-sim".into()),
            subnet_ids: vec!["subnet-pub".into()],
            routes: vec![Route {
                destination: "0.0.0.0/0".into(),
                gateway_id: Some("igw-1".into()),
                ..Route::default()
            }],
            ..RouteTable::default()
        });
        (sim, nat)
    }

    fn request() -> LookupRequest {
        LookupRequest {
            addresses: vec![ip("10.0.1.5"), ip("10.0.2.7"), ip("10.0.9.9")],
            nat_gateway_ids: vec!["nat-0sim".into()],
            nat_ips: vec![],
            region: Some("us-east-1".into()),
        }
    }

    #[tokio::test]
    async fn hosts_get_owners_and_the_nat_its_az_route_tables_and_subnets() {
        let (sim, _) = account();
        let a = lookup(&sim, &request()).await.unwrap();
        assert_eq!(a.owners[&ip("10.0.1.5")].name, "i-0web (web-1)");
        assert_eq!(a.owners[&ip("10.0.2.7")].name, "Lambda sync-orders");
        assert_eq!(a.owners[&ip("10.0.2.7")].az.as_deref(), Some("us-east-1b"));
        // Looked up, but no interface holds it.
        assert!(a.looked_up.contains(&ip("10.0.9.9")));
        assert!(!a.owners.contains_key(&ip("10.0.9.9")));
        let nat = &a.nats[0];
        assert_eq!(nat.azs, ["us-east-1a"]);
        assert_eq!(nat.route_table_ids, ["rtb-a", "rtb-b"]);
        // One subnet per AZ, the first by id.
        assert_eq!(nat.endpoint_subnet_ids, ["subnet-a", "subnet-b"]);
    }

    #[tokio::test]
    async fn a_nat_ip_names_its_nat_and_a_regional_nat_has_no_single_az() {
        let (sim, nat) = account();
        sim.add_interface(NetworkInterface {
            id: nat.enis[0].clone(),
            interface_type: Some("nat_gateway".into()),
            description: Some("Interface for NAT Gateway nat-0sim".into()),
            availability_zone: Some("us-east-1a".into()),
            addresses: vec![ip("10.0.0.220")],
            ..NetworkInterface::default()
        });
        sim.set_nat_regional("nat-0sim");
        let req = LookupRequest {
            nat_gateway_ids: vec![],
            nat_ips: vec![ip("10.0.0.220")],
            ..request()
        };
        let a = lookup(&sim, &req).await.unwrap();
        assert_eq!(a.nats.len(), 1);
        assert!(a.nats[0].regional);
        assert!(a.nats[0].azs.is_empty());
        // The NAT's own address is not a host of the report.
        assert!(!a.looked_up.contains(&ip("10.0.0.220")));
    }

    #[tokio::test]
    async fn a_failed_call_is_the_lookup_error() {
        let (sim, _) = account();
        sim.fail_next_inventory(AwsErrorKind::AccessDenied);
        let err = lookup(&sim, &request()).await.unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::AccessDenied);
        assert_eq!(err.operation, "ec2:DescribeNetworkInterfaces");
    }
}
