//! The EC2 half of the `Inventory` port: who holds an address (DescribeNetworkInterfaces), the
//! `Name` of an instance (DescribeInstances), subnets, where a NAT gateway sits and in which
//! availability mode (DescribeNatGateways), how a VPC routes (DescribeRouteTables) and which
//! endpoints it has (DescribeVpcEndpoints). Every call filters rather than names ids, so an id
//! AWS no longer knows is absent from the answer instead of failing the whole batch; batches
//! and pages stay in here.

use std::collections::HashSet;
use std::net::IpAddr;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AvailabilityMode, Filter};

use super::ec2::dedup;
use super::error::from_sdk;
use crate::ports::{
    AwsError, InstanceName, NatPlacement, NetworkInterface, Route, RouteTable, Subnet, VpcEndpoint,
};

const OP_DESCRIBE_NETWORK_INTERFACES: &str = "ec2:DescribeNetworkInterfaces";
const OP_DESCRIBE_INSTANCES: &str = "ec2:DescribeInstances";
const OP_DESCRIBE_SUBNETS: &str = "ec2:DescribeSubnets";
const OP_DESCRIBE_NAT_GATEWAYS: &str = "ec2:DescribeNatGateways";
const OP_DESCRIBE_ROUTE_TABLES: &str = "ec2:DescribeRouteTables";
const OP_DESCRIBE_VPC_ENDPOINTS: &str = "ec2:DescribeVpcEndpoints";

/// Values per filter in one EC2 Describe call: EC2 accepts at most 200.
pub const MAX_FILTER_VALUES: usize = 200;

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

fn owned(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The interfaces that hold any of `addresses`: IPv4 by `addresses.private-ip-address` (every
/// private address of an interface, not only its primary), IPv6 by
/// `ipv6-addresses.ipv6-address`, each in batches of [`MAX_FILTER_VALUES`].
pub(crate) async fn interfaces_by_address(
    client: &Client,
    addresses: &[IpAddr],
) -> Result<Vec<NetworkInterface>, AwsError> {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let mut seen = HashSet::new();
    for ip in addresses {
        if seen.insert(*ip) {
            match ip {
                IpAddr::V4(_) => v4.push(ip.to_string()),
                IpAddr::V6(_) => v6.push(ip.to_string()),
            }
        }
    }
    let mut found: Vec<NetworkInterface> = Vec::new();
    for (filter_name, values) in [
        ("addresses.private-ip-address", v4),
        ("ipv6-addresses.ipv6-address", v6),
    ] {
        for batch in values.chunks(MAX_FILTER_VALUES) {
            let mut pages = client
                .describe_network_interfaces()
                .filters(filter(filter_name, batch))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| from_sdk(OP_DESCRIBE_NETWORK_INTERFACES, e))?;
                for eni in page.network_interfaces() {
                    let mapped = network_interface(eni);
                    // An interface holding a v4 and a v6 address of the batch comes back twice.
                    if !found.iter().any(|f| f.id == mapped.id) {
                        found.push(mapped);
                    }
                }
            }
        }
    }
    Ok(found)
}

fn network_interface(eni: &aws_sdk_ec2::types::NetworkInterface) -> NetworkInterface {
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut push = |text: Option<&str>| {
        if let Some(ip) = text.and_then(|t| t.parse::<IpAddr>().ok())
            && !addresses.contains(&ip)
        {
            addresses.push(ip);
        }
    };
    push(eni.private_ip_address());
    for a in eni.private_ip_addresses() {
        push(a.private_ip_address());
    }
    for a in eni.ipv6_addresses() {
        push(a.ipv6_address());
    }
    NetworkInterface {
        id: eni.network_interface_id().unwrap_or_default().to_owned(),
        interface_type: eni.interface_type().map(|t| t.as_str().to_owned()),
        description: owned(eni.description()),
        requester_id: owned(eni.requester_id()),
        requester_managed: eni.requester_managed().unwrap_or(false),
        instance_id: eni.attachment().and_then(|a| owned(a.instance_id())),
        subnet_id: owned(eni.subnet_id()),
        vpc_id: owned(eni.vpc_id()),
        availability_zone: owned(eni.availability_zone()),
        addresses,
        tags: eni
            .tag_set()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    }
}

/// The `Name` tag of each instance, by `instance-id` filter in batches.
pub(crate) async fn instance_names(
    client: &Client,
    instance_ids: &[String],
) -> Result<Vec<InstanceName>, AwsError> {
    let mut out = Vec::new();
    for batch in dedup(instance_ids).chunks(MAX_FILTER_VALUES) {
        let mut pages = client
            .describe_instances()
            .filters(filter("instance-id", batch))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk(OP_DESCRIBE_INSTANCES, e))?;
            for instance in page.reservations().iter().flat_map(|r| r.instances()) {
                let Some(id) = instance.instance_id() else {
                    continue;
                };
                out.push(InstanceName {
                    instance_id: id.to_owned(),
                    name: instance
                        .tags()
                        .iter()
                        .find(|t| t.key() == Some("Name"))
                        .and_then(|t| owned(t.value())),
                });
            }
        }
    }
    Ok(out)
}

pub(crate) async fn subnets(
    client: &Client,
    subnet_ids: &[String],
) -> Result<Vec<Subnet>, AwsError> {
    let mut out = Vec::new();
    for batch in dedup(subnet_ids).chunks(MAX_FILTER_VALUES) {
        let mut pages = client
            .describe_subnets()
            .filters(filter("subnet-id", batch))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk(OP_DESCRIBE_SUBNETS, e))?;
            for s in page.subnets() {
                out.push(Subnet {
                    id: s.subnet_id().unwrap_or_default().to_owned(),
                    vpc_id: owned(s.vpc_id()),
                    availability_zone: owned(s.availability_zone()),
                });
            }
        }
    }
    Ok(out)
}

/// Where each NAT sits and whether it is regional (aws-sdk-ec2 1.274's
/// `NatGateway::availability_mode`, `regional | zonal`; absent on NATs described before the
/// field existed, which are zonal).
pub(crate) async fn nat_placements(
    client: &Client,
    nat_gateway_ids: &[String],
) -> Result<Vec<NatPlacement>, AwsError> {
    let mut out = Vec::new();
    for batch in dedup(nat_gateway_ids).chunks(MAX_FILTER_VALUES) {
        let mut pages = client
            .describe_nat_gateways()
            .filter(filter("nat-gateway-id", batch))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk(OP_DESCRIBE_NAT_GATEWAYS, e))?;
            for nat in page.nat_gateways() {
                let mut address_azs: Vec<String> = Vec::new();
                let mut enis: Vec<String> = Vec::new();
                for a in nat.nat_gateway_addresses() {
                    if let Some(az) = owned(a.availability_zone())
                        && !address_azs.contains(&az)
                    {
                        address_azs.push(az);
                    }
                    if let Some(eni) = owned(a.network_interface_id())
                        && !enis.contains(&eni)
                    {
                        enis.push(eni);
                    }
                }
                out.push(NatPlacement {
                    id: nat.nat_gateway_id().unwrap_or_default().to_owned(),
                    state: nat
                        .state()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "unknown".to_owned()),
                    vpc_id: owned(nat.vpc_id()),
                    subnet_id: owned(nat.subnet_id()),
                    regional: nat.availability_mode() == Some(&AvailabilityMode::Regional),
                    address_azs,
                    enis,
                });
            }
        }
    }
    Ok(out)
}

pub(crate) async fn route_tables(
    client: &Client,
    vpc_id: &str,
) -> Result<Vec<RouteTable>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_route_tables()
        .filters(filter("vpc-id", &[vpc_id.to_owned()]))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_DESCRIBE_ROUTE_TABLES, e))?;
        for rt in page.route_tables() {
            out.push(route_table(rt));
        }
    }
    Ok(out)
}

fn route_table(rt: &aws_sdk_ec2::types::RouteTable) -> RouteTable {
    let associations = rt.associations();
    RouteTable {
        id: rt.route_table_id().unwrap_or_default().to_owned(),
        vpc_id: owned(rt.vpc_id()),
        main: associations.iter().any(|a| a.main() == Some(true)),
        subnet_ids: associations
            .iter()
            .filter_map(|a| owned(a.subnet_id()))
            .collect(),
        routes: rt
            .routes()
            .iter()
            .map(|r| Route {
                destination: owned(r.destination_cidr_block())
                    .or_else(|| owned(r.destination_ipv6_cidr_block()))
                    .or_else(|| owned(r.destination_prefix_list_id()))
                    .unwrap_or_default(),
                nat_gateway_id: owned(r.nat_gateway_id()),
                gateway_id: owned(r.gateway_id()),
                other_target: owned(r.egress_only_internet_gateway_id())
                    .or_else(|| owned(r.transit_gateway_id()))
                    .or_else(|| owned(r.vpc_peering_connection_id()))
                    .or_else(|| owned(r.network_interface_id()))
                    .or_else(|| owned(r.instance_id())),
            })
            .collect(),
    }
}

pub(crate) async fn vpc_endpoints(
    client: &Client,
    vpc_id: &str,
) -> Result<Vec<VpcEndpoint>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_vpc_endpoints()
        .filters(filter("vpc-id", &[vpc_id.to_owned()]))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_DESCRIBE_VPC_ENDPOINTS, e))?;
        for e in page.vpc_endpoints() {
            out.push(VpcEndpoint {
                id: e.vpc_endpoint_id().unwrap_or_default().to_owned(),
                vpc_id: owned(e.vpc_id()),
                service_name: e.service_name().unwrap_or_default().to_owned(),
                endpoint_type: e
                    .vpc_endpoint_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                state: e.state().map(|s| s.as_str().to_lowercase()),
                route_table_ids: e.route_table_ids().to_vec(),
                subnet_ids: e.subnet_ids().to_vec(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{
        NetworkInterfaceAttachment, NetworkInterfaceIpv6Address, NetworkInterfacePrivateIpAddress,
        NetworkInterfaceType, RouteTableAssociation, Tag,
    };

    use super::*;

    #[test]
    fn an_interface_keeps_every_address_its_owner_and_where_it_sits() {
        let eni = aws_sdk_ec2::types::NetworkInterface::builder()
            .network_interface_id("eni-1")
            .interface_type(NetworkInterfaceType::Interface)
            .description("")
            .attachment(
                NetworkInterfaceAttachment::builder()
                    .instance_id("i-1")
                    .build(),
            )
            .subnet_id("subnet-a")
            .vpc_id("vpc-1")
            .availability_zone("us-east-1a")
            .private_ip_address("10.0.1.5")
            .private_ip_addresses(
                NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.1.5")
                    .build(),
            )
            .private_ip_addresses(
                NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.1.6")
                    .build(),
            )
            .ipv6_addresses(
                NetworkInterfaceIpv6Address::builder()
                    .ipv6_address("2600:1f18::5")
                    .build(),
            )
            .tag_set(
                Tag::builder()
                    .key("aws:ecs:serviceName")
                    .value("api")
                    .build(),
            )
            .build();
        let mapped = network_interface(&eni);
        assert_eq!(mapped.instance_id.as_deref(), Some("i-1"));
        // An empty description is no description.
        assert_eq!(mapped.description, None);
        let ips: Vec<String> = mapped.addresses.iter().map(|a| a.to_string()).collect();
        assert_eq!(ips, ["10.0.1.5", "10.0.1.6", "2600:1f18::5"]);
        assert_eq!(mapped.interface_type.as_deref(), Some("interface"));
        assert_eq!(
            mapped.tags,
            [("aws:ecs:serviceName".to_owned(), "api".to_owned())]
        );
    }

    #[test]
    fn a_route_table_shows_its_nat_routes_main_flag_and_subnets() {
        let rt = aws_sdk_ec2::types::RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .associations(
                RouteTableAssociation::builder()
                    .subnet_id("subnet-a")
                    .build(),
            )
            .associations(RouteTableAssociation::builder().main(true).build())
            .routes(
                aws_sdk_ec2::types::Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id("nat-1")
                    .build(),
            )
            .routes(
                aws_sdk_ec2::types::Route::builder()
                    .destination_prefix_list_id("pl-63a5400a")
                    .gateway_id("vpce-1")
                    .build(),
            )
            .build();
        let mapped = route_table(&rt);
        assert!(mapped.main);
        assert_eq!(mapped.subnet_ids, ["subnet-a"]);
        assert!(mapped.sends_to_nat("0.0.0.0/0", "nat-1"));
        assert!(!mapped.sends_to_nat("::/0", "nat-1"));
        assert_eq!(mapped.routes[1].destination, "pl-63a5400a");
        assert_eq!(mapped.routes[1].gateway_id.as_deref(), Some("vpce-1"));
    }
}
