//! Flow-log records the tests put into moto's log groups.

/// The four records one conversation leaves on the NAT's ENI in one minute (docs/DESIGN.md, "The
/// leg rule"), in the default format: VPC side outbound and reply, internet side both ways.
pub fn four_legs(
    nat_ip: &str,
    host: &str,
    remote: &str,
    service: &str,
    out: u64,
    inn: u64,
) -> [String; 4] {
    [
        format!(
            "ACCEPT ingress - {host} 41000 {nat_ip} 443 6 {out} IPv4 {host} - {remote} {service}"
        ),
        format!(
            "ACCEPT egress 8 {nat_ip} 5000 {remote} 443 6 {out} IPv4 {nat_ip} - {remote} {service}"
        ),
        format!(
            "ACCEPT ingress - {remote} 443 {nat_ip} 5000 6 {inn} IPv4 {remote} {service} {nat_ip} -"
        ),
        format!(
            "ACCEPT egress 1 {nat_ip} 443 {host} 41000 6 {inn} IPv4 {remote} {service} {host} -"
        ),
    ]
}
