//! The checks of a NAT gateway's VPC, pure over what the `Inventory` port returned: is the NAT
//! usable and routed to (0.0.0.0/0, and ::/0 for NAT64), do S3 and DynamoDB gateway endpoints
//! exist and sit on every route table that sends traffic to the NAT, and do interface endpoints
//! exist for the services past reports saw going through it.

use std::collections::BTreeSet;

use nat_flowrec_reports::endpoint_service_suffix;

use super::finding::{Finding, Severity};
use crate::ports::{NatPlacement, RouteTable, VpcEndpoint};

/// The NAT itself and the routes to it.
pub fn nat_findings(nat: &NatPlacement, tables: &[RouteTable], region: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if nat.state != "available" {
        out.push(
            Finding::new(
                Severity::Error,
                "nat-gateway",
                &nat.id,
                format!(
                    "the NAT gateway is `{}`, not `available`: nothing goes through it and nat-flowrec does not record it",
                    nat.state
                ),
            )
            .with_fix(format!(
                "aws ec2 describe-nat-gateways --region {region} --nat-gateway-ids {} --query 'NatGateways[].[State,FailureCode,FailureMessage]'",
                nat.id
            )),
        );
        return out;
    }
    if nat.regional {
        out.push(Finding::new(
            Severity::Info,
            "nat-gateway",
            &nat.id,
            "a regional NAT gateway (availability mode `regional`): it spans the VPC's AZs, so no traffic to it is cross-AZ; AWS records it with the flow-log resource type `RegionalNatGateway`",
        ));
    } else {
        out.push(Finding::ok("nat-gateway", &nat.id, "available (zonal)"));
    }

    let v4: Vec<&str> = routed(tables, "0.0.0.0/0", &nat.id);
    if v4.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "nat-route",
                &nat.id,
                "no route table sends 0.0.0.0/0 to this NAT gateway: private subnets do not use it (a recording would capture nothing)",
            )
            .with_fix(format!(
                "aws ec2 create-route --region {region} --route-table-id <private-route-table-id> --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {}",
                nat.id
            )),
        );
    } else {
        out.push(Finding::ok(
            "nat-route",
            &nat.id,
            format!("0.0.0.0/0 is routed to it by {}", v4.join(", ")),
        ));
    }
    let v6 = routed(tables, "::/0", &nat.id);
    if !v6.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            "nat-route",
            &nat.id,
            format!(
                "::/0 is routed to it by {} (IPv6 through a NAT gateway is NAT64: only for IPv6-only hosts reaching IPv4 destinations)",
                v6.join(", ")
            ),
        ));
    }
    out
}

/// Route tables that send `destination` to the NAT, by id.
pub fn routed<'a>(tables: &'a [RouteTable], destination: &str, nat_id: &str) -> Vec<&'a str> {
    let mut ids: Vec<&str> = tables
        .iter()
        .filter(|t| t.sends_to_nat(destination, nat_id))
        .map(|t| t.id.as_str())
        .collect();
    ids.sort();
    ids
}

/// What a VPC's endpoints are checked against.
pub struct VpcContext<'a> {
    pub vpc_id: &'a str,
    pub region: &'a str,
    /// Route tables that send 0.0.0.0/0 to one of the configured NATs.
    pub nat_route_tables: &'a [String],
    /// One subnet per AZ among those routed to the NATs (where interface endpoints go).
    pub endpoint_subnets: &'a [String],
    pub endpoints: &'a [VpcEndpoint],
    /// `pkt-*-aws-service` names with an interface endpoint, seen in past reports.
    pub services_seen: &'a BTreeSet<String>,
}

fn usable(e: &VpcEndpoint) -> bool {
    !matches!(
        e.state.as_deref(),
        Some("deleted" | "deleting" | "failed" | "rejected" | "expired")
    )
}

pub fn endpoint_findings(ctx: &VpcContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (label, suffix, check) in [
        ("S3", "s3", "s3-gateway-endpoint"),
        ("DynamoDB", "dynamodb", "dynamodb-gateway-endpoint"),
    ] {
        out.extend(gateway_findings(ctx, label, suffix, check));
    }
    for service in ctx.services_seen {
        let Some(suffix) = endpoint_service_suffix(service) else {
            continue;
        };
        if matches!(suffix, "s3" | "dynamodb") {
            continue;
        }
        let name = format!("com.amazonaws.{}.{suffix}", ctx.region);
        let found = ctx.endpoints.iter().find(|e| {
            e.service_name == name && e.endpoint_type.eq_ignore_ascii_case("Interface") && usable(e)
        });
        match found {
            Some(e) => out.push(Finding::ok(
                "interface-endpoint",
                ctx.vpc_id,
                format!("{service}: interface endpoint {}", e.id),
            )),
            None => {
                let subnets = if ctx.endpoint_subnets.is_empty() {
                    "<subnet-id-per-az> ...".to_owned()
                } else {
                    ctx.endpoint_subnets.join(" ")
                };
                out.push(
                    Finding::new(
                        Severity::Warning,
                        "interface-endpoint",
                        ctx.vpc_id,
                        format!(
                            "past reports saw {service} traffic through the NAT and the VPC has no {name} interface endpoint (it costs $0.01/GB plus about $7.30 per AZ a month instead of NAT processing; see the report's saving)"
                        ),
                    )
                    .with_fix(format!(
                        "aws ec2 create-vpc-endpoint --region {} --vpc-id {} --vpc-endpoint-type Interface --service-name {name} --subnet-ids {subnets} --private-dns-enabled",
                        ctx.region, ctx.vpc_id
                    )),
                );
            }
        }
    }
    out
}

fn gateway_findings(
    ctx: &VpcContext<'_>,
    label: &str,
    suffix: &str,
    check: &'static str,
) -> Vec<Finding> {
    let name = format!("com.amazonaws.{}.{suffix}", ctx.region);
    let endpoints: Vec<&VpcEndpoint> = ctx
        .endpoints
        .iter()
        .filter(|e| {
            e.service_name == name && e.endpoint_type.eq_ignore_ascii_case("Gateway") && usable(e)
        })
        .collect();
    let tables = if ctx.nat_route_tables.is_empty() {
        "<route-table-id> ...".to_owned()
    } else {
        ctx.nat_route_tables.join(" ")
    };
    let Some(first) = endpoints.first() else {
        return vec![
            Finding::new(
                Severity::Warning,
                check,
                ctx.vpc_id,
                format!(
                    "no {label} gateway endpoint: {label} traffic from the private subnets goes through the NAT and pays NAT processing; a gateway endpoint is free"
                ),
            )
            .with_fix(format!(
                "aws ec2 create-vpc-endpoint --region {} --vpc-id {} --vpc-endpoint-type Gateway --service-name {name} --route-table-ids {tables}",
                ctx.region, ctx.vpc_id
            )),
        ];
    };
    let associated: BTreeSet<&str> = endpoints
        .iter()
        .flat_map(|e| e.route_table_ids.iter().map(String::as_str))
        .collect();
    let missing: Vec<&str> = ctx
        .nat_route_tables
        .iter()
        .map(String::as_str)
        .filter(|t| !associated.contains(t))
        .collect();
    if missing.is_empty() {
        vec![Finding::ok(
            check,
            ctx.vpc_id,
            format!(
                "{label} gateway endpoint {} is on every route table routed to the NAT",
                first.id
            ),
        )]
    } else {
        vec![
            Finding::new(
                Severity::Warning,
                check,
                ctx.vpc_id,
                format!(
                    "{label} gateway endpoint {} is not associated with {}, which route(s) 0.0.0.0/0 to the NAT: {label} traffic from those subnets still pays NAT processing",
                    first.id,
                    missing.join(", ")
                ),
            )
            .with_fix(format!(
                "aws ec2 modify-vpc-endpoint --region {} --vpc-endpoint-id {} --add-route-table-ids {}",
                ctx.region,
                first.id,
                missing.join(" ")
            )),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Route;

    fn table(id: &str, dest: &str, nat: &str) -> RouteTable {
        RouteTable {
            id: id.into(),
            vpc_id: Some("vpc-1".into()),
            routes: vec![Route {
                destination: dest.into(),
                nat_gateway_id: Some(nat.into()),
                ..Route::default()
            }],
            ..RouteTable::default()
        }
    }

    fn nat(state: &str, regional: bool) -> NatPlacement {
        NatPlacement {
            id: "nat-1".into(),
            state: state.into(),
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-pub".into()),
            regional,
            address_azs: vec![],
            enis: vec![],
        }
    }

    fn gateway(id: &str, service: &str, tables: &[&str]) -> VpcEndpoint {
        VpcEndpoint {
            id: id.into(),
            vpc_id: Some("vpc-1".into()),
            service_name: format!("com.amazonaws.us-east-1.{service}"),
            endpoint_type: "Gateway".into(),
            state: Some("available".into()),
            route_table_ids: tables.iter().map(|t| t.to_string()).collect(),
            subnet_ids: vec![],
        }
    }

    fn ctx<'a>(
        tables: &'a [String],
        endpoints: &'a [VpcEndpoint],
        seen: &'a BTreeSet<String>,
    ) -> VpcContext<'a> {
        VpcContext {
            vpc_id: "vpc-1",
            region: "us-east-1",
            nat_route_tables: tables,
            endpoint_subnets: &[],
            endpoints,
            services_seen: seen,
        }
    }

    fn severities(findings: &[Finding], check: &str) -> Vec<Severity> {
        findings
            .iter()
            .filter(|f| f.check == check)
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn an_unrouted_nat_is_a_warning_with_the_route_command() {
        let f = nat_findings(
            &nat("available", false),
            &[table("rtb-x", "0.0.0.0/0", "nat-other")],
            "us-east-1",
        );
        let route = f.iter().find(|f| f.check == "nat-route").unwrap();
        assert_eq!(route.severity, Severity::Warning);
        assert!(route.fix.as_deref().unwrap().contains("create-route --region us-east-1 --route-table-id <private-route-table-id> --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-1"));
        let f = nat_findings(
            &nat("available", false),
            &[
                table("rtb-b", "0.0.0.0/0", "nat-1"),
                table("rtb-a", "0.0.0.0/0", "nat-1"),
                table("rtb-6", "::/0", "nat-1"),
            ],
            "us-east-1",
        );
        assert!(
            f.iter()
                .any(|x| x.severity == Severity::Ok && x.message.contains("rtb-a, rtb-b"))
        );
        assert!(
            f.iter()
                .any(|x| x.severity == Severity::Info && x.message.contains("NAT64"))
        );
        let failed = nat_findings(&nat("failed", false), &[], "us-east-1");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].severity, Severity::Error);
        let regional = nat_findings(
            &nat("available", true),
            &[table("rtb-a", "0.0.0.0/0", "nat-1")],
            "us-east-1",
        );
        assert!(regional[0].message.contains("RegionalNatGateway"));
    }

    #[test]
    fn missing_gateway_endpoints_then_a_partial_association_then_quiet() {
        let tables = vec!["rtb-a".to_owned(), "rtb-b".to_owned()];
        let seen = BTreeSet::new();
        let none = endpoint_findings(&ctx(&tables, &[], &seen));
        let s3 = none
            .iter()
            .find(|f| f.check == "s3-gateway-endpoint")
            .unwrap();
        assert_eq!(s3.severity, Severity::Warning);
        assert_eq!(
            s3.fix.as_deref(),
            Some(
                "aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id vpc-1 --vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-a rtb-b"
            )
        );
        assert_eq!(
            severities(&none, "dynamodb-gateway-endpoint"),
            [Severity::Warning]
        );

        let partial = [gateway("vpce-s3", "s3", &["rtb-a"])];
        let f = endpoint_findings(&ctx(&tables, &partial, &seen));
        let s3 = f.iter().find(|f| f.check == "s3-gateway-endpoint").unwrap();
        assert_eq!(s3.severity, Severity::Warning);
        assert_eq!(
            s3.fix.as_deref(),
            Some(
                "aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-b"
            )
        );

        let full = [
            gateway("vpce-s3", "s3", &["rtb-a", "rtb-b"]),
            gateway("vpce-ddb", "dynamodb", &["rtb-b", "rtb-a"]),
        ];
        let f = endpoint_findings(&ctx(&tables, &full, &seen));
        assert!(f.iter().all(|f| f.severity == Severity::Ok), "{f:?}");
        // A deleted endpoint does not count.
        let mut deleted = full.clone();
        deleted[0].state = Some("deleted".into());
        assert_eq!(
            severities(
                &endpoint_findings(&ctx(&tables, &deleted, &seen)),
                "s3-gateway-endpoint"
            ),
            [Severity::Warning]
        );
    }

    #[test]
    fn services_seen_in_reports_need_their_interface_endpoint() {
        let tables = vec!["rtb-a".to_owned()];
        let seen: BTreeSet<String> = ["EC2", "AMAZON", "S3"].map(String::from).into();
        let f = endpoint_findings(&ctx(&tables, &[], &seen));
        let iface: Vec<&Finding> = f
            .iter()
            .filter(|f| f.check == "interface-endpoint")
            .collect();
        assert_eq!(
            iface.len(),
            1,
            "AMAZON has no endpoint, S3 is checked as a gateway: {iface:?}"
        );
        assert!(iface[0].fix.as_deref().unwrap().contains(
            "--service-name com.amazonaws.us-east-1.ec2 --subnet-ids <subnet-id-per-az> ..."
        ));
        let ec2 = VpcEndpoint {
            endpoint_type: "Interface".into(),
            ..gateway("vpce-ec2", "ec2", &[])
        };
        let f = endpoint_findings(&ctx(&tables, &[ec2], &seen));
        assert_eq!(severities(&f, "interface-endpoint"), [Severity::Ok]);
    }
}
