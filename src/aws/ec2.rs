//! The `Ec2` port on `aws_sdk_ec2::Client`: which ENIs a NAT gateway has (DescribeNatGateways)
//! here, the flow-log calls in `flow_logs.rs`.

use std::collections::HashSet;
use std::net::IpAddr;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AvailabilityMode, NatGateway as SdkNatGateway};

use super::error::from_sdk;
use super::flow_logs;
use crate::ports::{AwsError, AwsErrorKind, Ec2, FlowLogRequest, NatGateway, TaggedFlowLog};

const OP_DESCRIBE_NAT_GATEWAYS: &str = "ec2:DescribeNatGateways";

/// NAT gateway ids per DescribeNatGateways call. EC2 documents no limit for `NatGatewayIds`; 200
/// is the value limit other EC2 Describe calls state, and far above any config's NAT count.
pub const MAX_NAT_GATEWAY_IDS_PER_DESCRIBE: usize = 200;

impl Ec2 for Client {
    async fn nat_gateways(&self, ids: &[String]) -> Result<Vec<NatGateway>, AwsError> {
        let wanted = dedup(ids);
        // An empty `NatGatewayIds` would describe every NAT of the account.
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<NatGateway> = Vec::new();
        for batch in wanted.chunks(MAX_NAT_GATEWAY_IDS_PER_DESCRIBE) {
            let mut pages = self
                .describe_nat_gateways()
                .set_nat_gateway_ids(Some(batch.to_vec()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| from_sdk(OP_DESCRIBE_NAT_GATEWAYS, e))?;
                for nat in page.nat_gateways() {
                    found.push(nat_gateway(nat)?);
                }
            }
        }
        // AWS answers an unknown id with NatGatewayNotFound; moto returns nothing for it.
        let mut ordered = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        for id in &wanted {
            match found.iter().position(|nat| &nat.id == id) {
                Some(i) => ordered.push(found.swap_remove(i)),
                None => missing.push(id.as_str()),
            }
        }
        if !missing.is_empty() {
            return Err(AwsError::new(
                OP_DESCRIBE_NAT_GATEWAYS,
                "NatGatewayNotFound",
                format!(
                    "NAT gateway {} does not exist in {} of this account; check \
                     `nat_gateway_ids` and the region (`region` or --region)",
                    missing.join(", "),
                    self.config()
                        .region()
                        .map_or("the configured region", |r| r.as_ref()),
                ),
                AwsErrorKind::NotFound,
            ));
        }
        Ok(ordered)
    }

    async fn create_flow_logs(&self, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
        flow_logs::create(self, req).await
    }

    async fn tagged_flow_logs(&self) -> Result<Vec<TaggedFlowLog>, AwsError> {
        flow_logs::tagged(self).await
    }

    async fn delete_flow_logs(&self, ids: &[String]) -> Result<(), AwsError> {
        flow_logs::delete(self, ids).await
    }
}

/// The ids in their first order, each once.
pub(crate) fn dedup(ids: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}

/// One NAT gateway as the port shows it: every address's ENI (a NAT with secondary addresses or
/// a regional NAT has several), each once, in AWS's order.
pub(crate) fn nat_gateway(nat: &SdkNatGateway) -> Result<NatGateway, AwsError> {
    let id = nat.nat_gateway_id().unwrap_or_default().to_owned();
    let mut enis: Vec<String> = Vec::new();
    let mut private_ips = Vec::new();
    let mut public_ips = Vec::new();
    for address in nat.nat_gateway_addresses() {
        if let Some(eni) = address.network_interface_id()
            && !enis.iter().any(|known| known == eni)
        {
            enis.push(eni.to_owned());
        }
        if let Some(ip) = address.private_ip() {
            push_unique(&mut private_ips, parse_ip(&id, "private", ip)?);
        }
        if let Some(ip) = address.public_ip() {
            push_unique(&mut public_ips, parse_ip(&id, "public", ip)?);
        }
    }
    Ok(NatGateway {
        state: nat
            .state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "unknown".to_owned()),
        vpc_id: nat.vpc_id().map(str::to_owned),
        subnet_id: nat.subnet_id().map(str::to_owned),
        enis,
        private_ips,
        public_ips,
        regional: nat.availability_mode() == Some(&AvailabilityMode::Regional),
        id,
    })
}

fn push_unique(ips: &mut Vec<IpAddr>, ip: IpAddr) {
    if !ips.contains(&ip) {
        ips.push(ip);
    }
}

fn parse_ip(nat_id: &str, which: &str, value: &str) -> Result<IpAddr, AwsError> {
    value.parse().map_err(|_| {
        AwsError::new(
            OP_DESCRIBE_NAT_GATEWAYS,
            "InvalidResponse",
            format!(
                "NAT gateway {nat_id} has {which} address `{value}`, which is not an IP address"
            ),
            AwsErrorKind::Service,
        )
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{NatGatewayAddress, NatGatewayState};

    use super::*;

    fn address(eni: &str, private: &str, public: Option<&str>) -> NatGatewayAddress {
        NatGatewayAddress::builder()
            .network_interface_id(eni)
            .private_ip(private)
            .set_public_ip(public.map(str::to_owned))
            .build()
    }

    #[test]
    fn every_eni_of_every_address_is_kept_once_in_order() {
        let nat = SdkNatGateway::builder()
            .nat_gateway_id("nat-0abc")
            .state(NatGatewayState::Available)
            .vpc_id("vpc-1")
            .subnet_id("subnet-1")
            .nat_gateway_addresses(address("eni-a", "10.0.0.220", Some("198.51.100.7")))
            // a secondary address on the same ENI: every address counts, not only the first
            .nat_gateway_addresses(address("eni-a", "10.0.0.221", Some("198.51.100.8")))
            .nat_gateway_addresses(address("eni-b", "10.0.16.9", None))
            .build();
        let mapped = nat_gateway(&nat).unwrap();
        assert_eq!(mapped.id, "nat-0abc");
        assert_eq!(mapped.state, "available");
        assert_eq!(mapped.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(mapped.enis, ["eni-a", "eni-b"]);
        let ips = |v: &[&str]| -> Vec<IpAddr> { v.iter().map(|s| s.parse().unwrap()).collect() };
        assert_eq!(
            mapped.private_ips,
            ips(&["10.0.0.220", "10.0.0.221", "10.0.16.9"])
        );
        assert_eq!(mapped.public_ips, ips(&["198.51.100.7", "198.51.100.8"]));
    }

    #[test]
    fn the_availability_mode_says_whether_a_nat_is_regional() {
        let zonal = SdkNatGateway::builder().nat_gateway_id("nat-z").build();
        assert!(!nat_gateway(&zonal).unwrap().regional);
        let regional = SdkNatGateway::builder()
            .nat_gateway_id("nat-r")
            .availability_mode(AvailabilityMode::Regional)
            .build();
        assert!(nat_gateway(&regional).unwrap().regional);
    }

    #[test]
    fn a_garbled_address_is_an_error_naming_the_nat_and_the_value() {
        let nat = SdkNatGateway::builder()
            .nat_gateway_id("nat-0abc")
            .nat_gateway_addresses(address("eni-a", "10.0.0.300", None))
            .build();
        let err = nat_gateway(&nat).unwrap_err();
        assert!(err.message.contains("nat-0abc"), "{err}");
        assert!(err.message.contains("10.0.0.300"), "{err}");
    }

    #[test]
    fn dedup_keeps_the_first_order() {
        let ids: Vec<String> = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        assert_eq!(dedup(&ids), ["b", "a", "c"]);
    }
}
