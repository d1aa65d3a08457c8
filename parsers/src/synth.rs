//! A seeded generator of realistic flow-log lines in the default 14-field format, for the parse
//! benchmark and `nat-flowrec generate`: anyone can recreate the same input from the seed. No
//! `rand` dependency: a splitmix64 PRNG is enough for test data and keeps the output identical
//! across platforms and versions.
//!
//! The mix: NAT connections written as AWS writes them on a NAT gateway's interface (four lines,
//! both legs: docs/DESIGN.md, "The leg rule") between a few hundred internal hosts and a few
//! thousand remotes with a heavy-headed (few big talkers) popularity; remotes in AWS service ranges
//! named in `pkt-*-aws-service` (S3, DYNAMODB, AMAZON, EC2, CLOUDFRONT, ...) or `-`; rejected
//! inbound probes; a share of IPv6 conversations (no translation visible); and NODATA lines (all
//! `-`).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The NAT gateway's private address (its interface's address in the records).
    pub nat_ip: Ipv4Addr,
    /// Internal hosts sending through the NAT.
    pub internal_hosts: usize,
    /// Distinct remote addresses.
    pub remote_hosts: usize,
    /// Share of lines that are IPv6 conversations (0.0..=1.0).
    pub ipv6_share: f64,
    /// Share of lines that are NODATA (all `-`).
    pub nodata_share: f64,
    /// Share of lines that are rejected inbound probes.
    pub reject_share: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nat_ip: Ipv4Addr::new(10, 0, 0, 220),
            internal_hosts: 250,
            remote_hosts: 5000,
            ipv6_share: 0.03,
            nodata_share: 0.001,
            reject_share: 0.01,
        }
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for synthetic data.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index in `0..n` where low indexes are far more likely (a few heavy talkers).
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * u) * n as f64) as usize
    }
}

/// AWS service ranges the generator draws remotes from (first two octets, service name, weight).
const SERVICE_RANGES: &[([u8; 2], &str, u64)] = &[
    ([52, 216], "S3", 22),
    ([3, 5], "S3", 8),
    ([3, 218], "DYNAMODB", 12),
    ([54, 239], "AMAZON", 8),
    ([3, 80], "EC2", 6),
    ([13, 224], "CLOUDFRONT", 5),
    ([18, 204], "API_GATEWAY", 3),
    ([15, 197], "GLOBALACCELERATOR", 2),
    ([54, 231], "CODEBUILD", 1),
];
/// Weight of remotes outside AWS's published ranges (`-`).
const NON_AWS_WEIGHT: u64 = 33;

#[derive(Debug, Clone)]
struct Remote {
    addr: Ipv4Addr,
    service: Option<&'static str>,
    port: u16,
    protocol: u8,
}

/// Writes flow-log lines; the same seed and options always give the same lines.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: SplitMix64,
    opts: Options,
    hosts: Vec<Ipv4Addr>,
    v6_hosts: Vec<Ipv6Addr>,
    remotes: Vec<Remote>,
    /// Lines of the current connection not yet written (a connection is four lines).
    pending: Vec<Vec<u8>>,
}

impl Generator {
    pub fn new(seed: u64, opts: Options) -> Generator {
        let mut rng = SplitMix64(seed);
        let hosts = (0..opts.internal_hosts.max(1))
            .map(|i| Ipv4Addr::new(10, 0, 1 + (i / 250) as u8 % 250, 1 + (i % 250) as u8))
            .collect();
        let v6_hosts = (0..opts.internal_hosts.clamp(1, 64))
            .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0x1234, 0xa100, 0, 0, 0, i as u16 + 1))
            .collect();
        let total_weight = SERVICE_RANGES.iter().map(|r| r.2).sum::<u64>() + NON_AWS_WEIGHT;
        let remotes = (0..opts.remote_hosts.max(1))
            .map(|_| {
                let mut pick = rng.below(total_weight);
                let mut range = None;
                for (prefix, name, weight) in SERVICE_RANGES {
                    if pick < *weight {
                        range = Some((*prefix, *name));
                        break;
                    }
                    pick -= weight;
                }
                let (prefix, service) = match range {
                    Some((prefix, name)) => (prefix, Some(name)),
                    // Documentation and other public-looking ranges for the rest of the internet.
                    None => {
                        let choices = [[198, 51], [203, 0], [151, 101], [140, 82], [104, 16]];
                        (choices[rng.below(choices.len() as u64) as usize], None)
                    }
                };
                let addr = Ipv4Addr::new(
                    prefix[0],
                    prefix[1],
                    rng.below(256) as u8,
                    1 + rng.below(254) as u8,
                );
                let (port, protocol) = match rng.below(20) {
                    0 => (53, 17),
                    1 => (123, 17),
                    2 => (80, 6),
                    3 => (0, 1),
                    _ => (443, 6),
                };
                Remote {
                    addr,
                    service,
                    port,
                    protocol,
                }
            })
            .collect();
        Generator {
            rng,
            opts,
            hosts,
            v6_hosts,
            remotes,
            pending: Vec::new(),
        }
    }

    /// Writes `n` lines (each ending in `\n`) to `w`.
    pub fn write_lines(&mut self, w: &mut impl Write, n: usize) -> io::Result<()> {
        let mut buf = Vec::with_capacity(64 * 1024);
        for _ in 0..n {
            if self.pending.is_empty() {
                self.next_event();
                self.pending.reverse();
            }
            if let Some(line) = self.pending.pop() {
                buf.extend_from_slice(&line);
            }
            if buf.len() >= 60 * 1024 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)
    }

    /// Queues the lines of one event: a NAT connection, a probe, an IPv6 flow or a NODATA line.
    fn next_event(&mut self) {
        let u = self.rng.unit();
        let o = &self.opts;
        if u < o.nodata_share {
            self.pending.push(b"- - - - - - - - - - - - - -\n".to_vec());
        } else if u < o.nodata_share + o.reject_share {
            self.probe();
        } else if u < o.nodata_share + o.reject_share + o.ipv6_share * 2.0 {
            // Two lines per IPv6 flow, hence twice the share in events.
            self.ipv6_flow();
        } else {
            self.nat_connection();
        }
    }

    fn nat_connection(&mut self) {
        let host = IpAddr::V4(self.hosts[self.rng.skewed(self.hosts.len())]);
        let remote = self.remotes[self.rng.skewed(self.remotes.len())].clone();
        let nat = IpAddr::V4(self.opts.nat_ip);
        let raddr = IpAddr::V4(remote.addr);
        let (sport, dport) = if remote.protocol == 1 {
            (0, 0)
        } else {
            (32768 + self.rng.below(28000) as u16, remote.port)
        };
        let request = 200 + self.rng.below(4000);
        // Replies: mostly small, sometimes downloads of megabytes to gigabytes.
        let reply = match self.rng.below(100) {
            0..=59 => 500 + self.rng.below(20_000),
            60..=94 => 50_000 + self.rng.below(5_000_000),
            _ => 10_000_000 + self.rng.below(2_000_000_000),
        };
        let svc = remote.service;
        let p = remote.protocol;
        let v4 = "IPv4";
        // VPC side, outbound: instance -> NAT, translation visible in pkt-dstaddr.
        self.line(
            "ACCEPT", "ingress", None, host, sport, nat, dport, p, request, v4, host, None, raddr,
            svc,
        );
        // Internet side, outbound: NAT -> remote.
        self.line(
            "ACCEPT",
            "egress",
            Some(8),
            nat,
            sport,
            raddr,
            dport,
            p,
            request,
            v4,
            nat,
            None,
            raddr,
            svc,
        );
        // Internet side, reply: remote -> NAT.
        self.line(
            "ACCEPT", "ingress", None, raddr, dport, nat, sport, p, reply, v4, raddr, svc, nat,
            None,
        );
        // VPC side, reply: NAT -> instance, the remote visible in pkt-srcaddr.
        self.line(
            "ACCEPT",
            "egress",
            Some(1),
            nat,
            dport,
            host,
            sport,
            p,
            reply,
            v4,
            raddr,
            svc,
            host,
            None,
        );
    }

    fn probe(&mut self) {
        let nat = IpAddr::V4(self.opts.nat_ip);
        let from = IpAddr::V4(Ipv4Addr::new(
            45 + self.rng.below(150) as u8,
            self.rng.below(256) as u8,
            self.rng.below(256) as u8,
            1 + self.rng.below(254) as u8,
        ));
        let ports = [22, 23, 3389, 445, 8080, 5900];
        let dport = ports[self.rng.below(ports.len() as u64) as usize];
        let sport = 1024 + self.rng.below(60000) as u16;
        let bytes = 40 + self.rng.below(80);
        self.line(
            "REJECT", "ingress", None, from, sport, nat, dport, 6, bytes, "IPv4", from, None, nat,
            None,
        );
    }

    fn ipv6_flow(&mut self) {
        let host = IpAddr::V6(self.v6_hosts[self.rng.skewed(self.v6_hosts.len())]);
        let (remote, svc) = if self.rng.below(3) == 0 {
            (
                Ipv6Addr::new(
                    0x2600,
                    0x1f18,
                    0x4a3,
                    0x6900,
                    0,
                    0,
                    0,
                    1 + self.rng.below(200) as u16,
                ),
                Some("S3"),
            )
        } else {
            (
                Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0xffff,
                    self.rng.below(65536) as u16,
                    0,
                    0,
                    0,
                    1 + self.rng.below(500) as u16,
                ),
                None,
            )
        };
        let remote = IpAddr::V6(remote);
        let sport = 32768 + self.rng.below(28000) as u16;
        let out = 100 + self.rng.below(3000);
        let back = 500 + self.rng.below(3_000_000);
        self.line(
            "ACCEPT",
            "egress",
            Some(2),
            host,
            sport,
            remote,
            443,
            6,
            out,
            "IPv6",
            host,
            None,
            remote,
            svc,
        );
        self.line(
            "ACCEPT", "ingress", None, remote, 443, host, sport, 6, back, "IPv6", remote, svc,
            host, None,
        );
    }

    /// Queues one line in the default format.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        action: &str,
        direction: &str,
        path: Option<u8>,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        protocol: u8,
        bytes: u64,
        ip_type: &str,
        pkt_src: IpAddr,
        pkt_src_service: Option<&str>,
        pkt_dst: IpAddr,
        pkt_dst_service: Option<&str>,
    ) {
        let mut line = Vec::with_capacity(128);
        let path = path.map_or_else(|| "-".to_owned(), |p| p.to_string());
        // Writing into a Vec cannot fail.
        let _ = writeln!(
            line,
            "{action} {direction} {path} {src} {sport} {dst} {dport} {protocol} {bytes} {ip_type} {pkt_src} {} {pkt_dst} {}",
            pkt_src_service.unwrap_or("-"),
            pkt_dst_service.unwrap_or("-"),
        );
        self.pending.push(line);
    }
}

/// The four records one conversation leaves on a NAT gateway's ENI in one minute, in the shape
/// of AWS's NAT example (docs/DESIGN.md, "The leg rule") and the default format: the VPC side
/// outbound (`host` to the NAT) and its reply, and the internet side both ways (the NAT to
/// `remote`). `service` is the remote's `pkt-*-aws-service` (`-` for none); `bytes_out` and
/// `bytes_in` are each direction's bytes, counted once on each side.
pub fn four_legs(
    nat_ip: &str,
    host: &str,
    remote: &str,
    service: &str,
    bytes_out: u64,
    bytes_in: u64,
) -> [String; 4] {
    let (out, inn) = (bytes_out, bytes_in);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LogFormat, LogStatus};

    fn generate(seed: u64, n: usize) -> String {
        let mut out = Vec::new();
        Generator::new(seed, Options::default())
            .write_lines(&mut out, n)
            .expect("write to memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn same_seed_same_lines_other_seed_other_lines() {
        assert_eq!(generate(7, 2000), generate(7, 2000));
        assert_ne!(generate(7, 2000), generate(8, 2000));
        assert_eq!(generate(7, 2000).lines().count(), 2000);
    }

    #[test]
    fn every_line_parses_and_the_mix_is_realistic() {
        let text = generate(42, 50_000);
        let format = LogFormat::default();
        let (mut vpc_side, mut internet_side, mut nodata, mut v6, mut rejects) = (0, 0, 0, 0, 0);
        let mut services = std::collections::BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let rec = format
                .parse_record(line, i as u64 + 1)
                .expect("generated line parses");
            assert_eq!(rec.render(&format), line);
            assert_ne!(rec.log_status, Some(LogStatus::SkipData));
            if rec.srcaddr.is_none() {
                nodata += 1;
                continue;
            }
            if rec.srcaddr.is_some_and(|a| a.is_ipv6()) {
                v6 += 1;
            }
            if rec.action == Some(crate::Action::Reject) {
                rejects += 1;
            }
            if rec.srcaddr != rec.pkt_srcaddr || rec.dstaddr != rec.pkt_dstaddr {
                vpc_side += 1;
            } else {
                internet_side += 1;
            }
            for s in [rec.pkt_src_aws_service, rec.pkt_dst_aws_service]
                .into_iter()
                .flatten()
            {
                services.insert(s.to_string());
            }
        }
        assert!(nodata > 0, "NODATA lines present");
        assert!((500..3000).contains(&v6), "IPv6 share ~3%: {v6}");
        assert!(rejects > 100, "{rejects} rejects");
        assert!(
            vpc_side > 20_000 && internet_side > 20_000,
            "{vpc_side} / {internet_side}"
        );
        for expected in ["S3", "DYNAMODB", "AMAZON", "EC2", "CLOUDFRONT"] {
            assert!(services.contains(expected), "{expected} in {services:?}");
        }
    }
}
