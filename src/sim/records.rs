//! Flow-log records as the NAT's ENI would log them: each conversation leaves four records per
//! aggregation interval (docs/DESIGN.md, "The leg rule"), two on the VPC side and two on the
//! internet side, with the `pkt-*` fields showing the translation. Rendered in any log format, so
//! the demo and tests can feed the real parser exactly what a recording would have captured.

use std::net::Ipv4Addr;

use nat_flowrec_parsers::LogFormat;

use super::traffic::{Conversation, SimNat};

/// The simulated account and region (in `account-id` / `region` fields).
pub const SIM_ACCOUNT_ID: &str = "123456789012";
pub const SIM_REGION: &str = "us-east-1";
const SIM_AZ_ID: &str = "use1-az1";

/// The four records of one conversation, in the order packets make them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    /// instance -> NAT (VPC side, outbound)
    HostToNat,
    /// NAT -> remote (internet side)
    NatToRemote,
    /// remote -> NAT (internet side)
    RemoteToNat,
    /// NAT -> instance (VPC side, reply)
    NatToHost,
}

const LEGS: [Leg; 4] = [
    Leg::HostToNat,
    Leg::NatToRemote,
    Leg::RemoteToNat,
    Leg::NatToHost,
];

/// The records `conv` leaves on its ENI in the minute starting at `minute` (unix seconds).
pub(crate) fn records(
    format: &LogFormat,
    nat: &SimNat,
    conv: &Conversation,
    minute: i64,
) -> [String; 4] {
    LEGS.map(|leg| {
        format
            .fields()
            .iter()
            .map(|field| value(field.name(), leg, nat, conv, minute))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn value(field: &str, leg: Leg, nat: &SimNat, conv: &Conversation, minute: i64) -> String {
    let nat_ip = nat
        .private_ips
        .get(conv.eni_index)
        .or(nat.private_ips.first())
        .copied()
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let (src, src_port, dst, dst_port) = match leg {
        Leg::HostToNat => (conv.internal, conv.internal_port, nat_ip, conv.remote_port),
        Leg::NatToRemote => (nat_ip, conv.nat_port, conv.remote, conv.remote_port),
        Leg::RemoteToNat => (conv.remote, conv.remote_port, nat_ip, conv.nat_port),
        Leg::NatToHost => (nat_ip, conv.remote_port, conv.internal, conv.internal_port),
    };
    let (pkt_src, pkt_dst) = match leg {
        Leg::HostToNat => (conv.internal, conv.remote),
        Leg::NatToRemote => (nat_ip, conv.remote),
        Leg::RemoteToNat => (conv.remote, nat_ip),
        Leg::NatToHost => (conv.remote, conv.internal),
    };
    let outbound = matches!(leg, Leg::HostToNat | Leg::NatToRemote);
    let service = conv.service.unwrap_or("-");
    let dash = || "-".to_owned();
    match field {
        "version" => "5".to_owned(),
        "account-id" => SIM_ACCOUNT_ID.to_owned(),
        "interface-id" => nat.enis.get(conv.eni_index).cloned().unwrap_or_else(dash),
        "srcaddr" => src.to_string(),
        "dstaddr" => dst.to_string(),
        "srcport" => src_port.to_string(),
        "dstport" => dst_port.to_string(),
        "protocol" => conv.protocol.to_string(),
        "packets" => if outbound {
            conv.packets_out
        } else {
            conv.packets_in
        }
        .to_string(),
        "bytes" => if outbound {
            conv.bytes_out
        } else {
            conv.bytes_in
        }
        .to_string(),
        "start" => minute.to_string(),
        "end" => (minute + 60).to_string(),
        "action" => "ACCEPT".to_owned(),
        "log-status" => "OK".to_owned(),
        "vpc-id" => nat.vpc_id.clone(),
        "subnet-id" => nat.subnet_id.clone(),
        // SYN, ACK and FIN were all seen in the interval
        "tcp-flags" => if conv.protocol == 6 { "19" } else { "0" }.to_owned(),
        "type" => "IPv4".to_owned(),
        "pkt-srcaddr" => pkt_src.to_string(),
        "pkt-dstaddr" => pkt_dst.to_string(),
        "pkt-src-aws-service" if pkt_src == conv.remote => service.to_owned(),
        "pkt-dst-aws-service" if pkt_dst == conv.remote => service.to_owned(),
        "region" => SIM_REGION.to_owned(),
        "az-id" => SIM_AZ_ID.to_owned(),
        "flow-direction" => match leg {
            Leg::HostToNat | Leg::RemoteToNat => "ingress",
            Leg::NatToRemote | Leg::NatToHost => "egress",
        }
        .to_owned(),
        // Only egress records have a path: 1 = within the VPC, 8 = through the internet gateway.
        "traffic-path" => match leg {
            Leg::NatToRemote => "8",
            Leg::NatToHost => "1",
            Leg::HostToNat | Leg::RemoteToNat => "-",
        }
        .to_owned(),
        // instance-id (a NAT ENI has none), sublocation-*, ecs-*, reject-reason, unknown names
        _ => dash(),
    }
}

#[cfg(test)]
mod tests {
    use nat_flowrec_parsers::DEFAULT_FORMAT;

    use super::*;

    fn conv() -> Conversation {
        Conversation {
            eni_index: 1,
            internal: Ipv4Addr::new(10, 0, 1, 5),
            internal_port: 41000,
            nat_port: 5000,
            remote: Ipv4Addr::new(203, 0, 113, 5),
            remote_port: 443,
            protocol: 6,
            service: Some("S3"),
            bytes_out: 100,
            bytes_in: 900,
            packets_out: 1,
            packets_in: 1,
        }
    }

    #[test]
    fn the_four_legs_match_awss_nat_example_in_the_default_format() {
        let nat = SimNat::new("nat-1", 0);
        let format = LogFormat::parse(DEFAULT_FORMAT).unwrap();
        let lines = records(&format, &nat, &conv(), 1_740_830_400);
        // AWS's example (docs/DESIGN.md, "The leg rule") on the NAT's second ENI, 10.0.0.221
        assert_eq!(
            lines,
            [
                "ACCEPT ingress - 10.0.1.5 41000 10.0.0.221 443 6 100 IPv4 10.0.1.5 - 203.0.113.5 S3",
                "ACCEPT egress 8 10.0.0.221 5000 203.0.113.5 443 6 100 IPv4 10.0.0.221 - 203.0.113.5 S3",
                "ACCEPT ingress - 203.0.113.5 443 10.0.0.221 5000 6 900 IPv4 203.0.113.5 S3 10.0.0.221 -",
                "ACCEPT egress 1 10.0.0.221 443 10.0.1.5 41000 6 900 IPv4 203.0.113.5 S3 10.0.1.5 -",
            ]
        );
    }

    #[test]
    fn other_formats_get_the_eni_window_and_dashes_for_unknown_fields() {
        let nat = SimNat::new("nat-1", 0);
        let format = LogFormat::parse(
            "${interface-id} ${start} ${end} ${packets} ${log-status} ${instance-id} ${x-new}",
        )
        .unwrap();
        let lines = records(&format, &nat, &conv(), 1_740_830_400);
        assert_eq!(
            lines[0],
            format!("{} 1740830400 1740830460 1 OK - -", nat.enis[1])
        );
    }
}
