//! The simulator's traffic model: what a NAT gateway carries in each minute, as conversations
//! (internal host <-> remote, with the AWS service of the remote where there is one). Baseline
//! traffic follows a fixed mix of talkers with a deterministic ±10% wobble per minute; a spike
//! adds one heavy talker (a host pulling from S3). NAT metrics and flow-log records are both
//! derived from these conversations, so a report of the records agrees with the metrics.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};

/// A NAT gateway of the simulated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNat {
    pub id: String,
    /// `available` unless a test sets otherwise.
    pub state: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// One per address; traffic is spread over them, so a recording must cover them all.
    pub enis: Vec<String>,
    /// The private address of each ENI, in `enis` order (the NAT side of every record).
    pub private_ips: Vec<Ipv4Addr>,
    pub public_ips: Vec<Ipv4Addr>,
    /// Traffic outside spikes, both directions together.
    pub baseline_bytes_per_minute: u64,
}

impl SimNat {
    /// A NAT in VPC `10.<n>.0.0/16` with two ENIs (a NAT with a secondary address), hosts in
    /// `10.<n>.1.0/24` and `10.<n>.2.0/24`, and 20 MB per minute of baseline traffic.
    pub fn new(id: &str, n: u8) -> SimNat {
        let tag = fnv(id.as_bytes()) & 0xffff_ffff;
        SimNat {
            id: id.to_owned(),
            state: "available".to_owned(),
            vpc_id: format!("vpc-{tag:08x}{n:02x}0000000"),
            subnet_id: format!("subnet-{tag:08x}{n:02x}0000000"),
            enis: vec![
                format!("eni-{tag:08x}{n:02x}000000a"),
                format!("eni-{tag:08x}{n:02x}000000b"),
            ],
            private_ips: vec![Ipv4Addr::new(10, n, 0, 220), Ipv4Addr::new(10, n, 0, 221)],
            public_ips: vec![
                Ipv4Addr::new(198, 51, 100, 10 + (n % 100) * 2),
                Ipv4Addr::new(198, 51, 100, 11 + (n % 100) * 2),
            ],
            baseline_bytes_per_minute: 20_000_000,
        }
    }

    fn vpc_host(&self, third: u8, fourth: u8) -> Ipv4Addr {
        let [a, b, _, _] = self
            .private_ips
            .first()
            .copied()
            .unwrap_or(Ipv4Addr::new(10, 0, 0, 0))
            .octets();
        Ipv4Addr::new(a, b, third, fourth)
    }
}

/// Extra traffic through one NAT between `start` and `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spike {
    pub nat_gateway_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Both directions together, on top of the baseline.
    pub bytes_per_minute: u64,
}

/// One internal host talking to one remote endpoint through the NAT during one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Which of the NAT's ENIs carries it.
    pub eni_index: usize,
    pub internal: Ipv4Addr,
    pub internal_port: u16,
    /// The source port the NAT translated `internal_port` to.
    pub nat_port: u16,
    pub remote: Ipv4Addr,
    pub remote_port: u16,
    pub protocol: u8,
    /// `pkt-*-aws-service` of the remote (`S3`, `DYNAMODB`, `AMAZON`, ...).
    pub service: Option<&'static str>,
    /// Internal host -> remote.
    pub bytes_out: u64,
    /// Remote -> internal host.
    pub bytes_in: u64,
    pub packets_out: u64,
    pub packets_in: u64,
}

struct Talker {
    host: (u8, u8),
    remote: [u8; 4],
    port: u16,
    protocol: u8,
    service: Option<&'static str>,
    /// Of the baseline bytes.
    share: f64,
    /// Of the conversation's bytes that flow remote -> host.
    download: f64,
}

/// The baseline mix: S3 and DynamoDB (gateway endpoints would carry them for free), other AWS
/// services, and plain internet traffic.
#[rustfmt::skip]
const BASELINE: &[Talker] = &[
    Talker { host: (1, 5), remote: [52, 216, 8, 12], port: 443, protocol: 6, service: Some("S3"), share: 0.30, download: 0.85 },
    Talker { host: (1, 6), remote: [3, 218, 182, 10], port: 443, protocol: 6, service: Some("DYNAMODB"), share: 0.15, download: 0.70 },
    Talker { host: (1, 7), remote: [203, 0, 113, 5], port: 443, protocol: 6, service: None, share: 0.20, download: 0.80 },
    Talker { host: (2, 9), remote: [54, 239, 28, 85], port: 443, protocol: 6, service: Some("AMAZON"), share: 0.10, download: 0.60 },
    Talker { host: (2, 10), remote: [3, 80, 0, 25], port: 443, protocol: 6, service: Some("EC2"), share: 0.10, download: 0.50 },
    Talker { host: (1, 5), remote: [192, 0, 2, 44], port: 80, protocol: 6, service: None, share: 0.10, download: 0.90 },
    Talker { host: (2, 11), remote: [203, 0, 113, 53], port: 53, protocol: 17, service: None, share: 0.05, download: 0.50 },
];

/// What a spike adds: one host pulling from S3 (a backup restore, a data job).
const SPIKE: Talker = Talker {
    host: (1, 42),
    remote: [52, 217, 100, 4],
    port: 443,
    protocol: 6,
    service: Some("S3"),
    share: 1.0,
    download: 0.95,
};

/// Bytes per packet the model assumes (a mix of full segments and ACKs).
const BYTES_PER_PACKET: u64 = 1_000;

/// The conversations of `nat` in the minute starting at `minute` (unix seconds, a multiple of
/// 60). Deterministic: the same inputs always give the same minute.
pub fn minute_traffic(nat: &SimNat, spikes: &[Spike], minute: i64) -> Vec<Conversation> {
    let wobble = 0.9 + 0.2 * unit(fnv_mix(nat.id.as_bytes(), minute as u64));
    let baseline = nat.baseline_bytes_per_minute as f64 * wobble;
    let mut out: Vec<Conversation> = BASELINE
        .iter()
        .enumerate()
        .map(|(i, t)| conversation(nat, t, i, baseline * t.share, minute))
        .collect();
    let spike_bytes: f64 = spikes
        .iter()
        .filter(|s| s.nat_gateway_id == nat.id)
        .map(|s| s.bytes_per_minute as f64 * overlap_fraction(s, minute))
        .sum();
    if spike_bytes >= 1.0 {
        out.push(conversation(
            nat,
            &SPIKE,
            BASELINE.len(),
            spike_bytes,
            minute,
        ));
    }
    out.retain(|c| c.bytes_in + c.bytes_out > 0);
    out
}

fn conversation(nat: &SimNat, t: &Talker, index: usize, bytes: f64, minute: i64) -> Conversation {
    let bytes = bytes.max(0.0).round() as u64;
    let bytes_in = (bytes as f64 * t.download).round() as u64;
    let bytes_out = bytes.saturating_sub(bytes_in);
    let seed = fnv_mix(nat.id.as_bytes(), (minute as u64) ^ ((index as u64) << 48));
    Conversation {
        eni_index: index % nat.enis.len().max(1),
        internal: nat.vpc_host(t.host.0, t.host.1),
        internal_port: 32_768 + (seed % 28_000) as u16,
        nat_port: 1_024 + ((seed >> 20) % 60_000) as u16,
        remote: Ipv4Addr::from(t.remote),
        remote_port: t.port,
        protocol: t.protocol,
        service: t.service,
        bytes_out,
        bytes_in,
        packets_out: bytes_out.div_ceil(BYTES_PER_PACKET),
        packets_in: bytes_in.div_ceil(BYTES_PER_PACKET),
    }
}

/// The part of the minute at `minute` that the spike covers, 0..=1.
fn overlap_fraction(spike: &Spike, minute: i64) -> f64 {
    let from = spike.start.timestamp().max(minute);
    let to = spike.end.timestamp().min(minute + 60);
    ((to - from).max(0) as f64) / 60.0
}

/// The value a NAT metric has for one minute of conversations; `None` for a metric name the
/// AWS/NATGateway namespace does not have.
pub fn metric_value(conversations: &[Conversation], metric: &str) -> Option<f64> {
    let sum = |f: fn(&Conversation) -> u64| conversations.iter().map(f).sum::<u64>() as f64;
    let count = conversations.len() as f64;
    Some(match metric {
        "BytesInFromSource" | "BytesOutToDestination" => sum(|c| c.bytes_out),
        "BytesInFromDestination" | "BytesOutToSource" => sum(|c| c.bytes_in),
        "PacketsInFromSource" | "PacketsOutToDestination" => sum(|c| c.packets_out),
        "PacketsInFromDestination" | "PacketsOutToSource" => sum(|c| c.packets_in),
        "ActiveConnectionCount" | "ConnectionAttemptCount" | "ConnectionEstablishedCount" => count,
        "ErrorPortAllocation" | "IdleTimeoutCount" | "PacketsDropCount" => 0.0,
        _ => return None,
    })
}

/// FNV-1a: a stable hash (std's hasher may change between Rust versions; the demo must not).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn fnv_mix(bytes: &[u8], salt: u64) -> u64 {
    // splitmix64 finaliser over the two, so neighbouring minutes differ a lot
    let mut z = fnv(bytes) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const MINUTE: i64 = 1_740_830_400; // 2025-03-01T12:00:00Z

    fn spike(from_minute: i64, to_minute: i64) -> Spike {
        Spike {
            nat_gateway_id: "nat-1".into(),
            start: Utc.timestamp_opt(MINUTE + from_minute * 60, 0).unwrap(),
            end: Utc.timestamp_opt(MINUTE + to_minute * 60, 0).unwrap(),
            bytes_per_minute: 600_000_000,
        }
    }

    fn total(c: &[Conversation]) -> u64 {
        c.iter().map(|c| c.bytes_in + c.bytes_out).sum()
    }

    #[test]
    fn baseline_stays_within_its_wobble_and_is_deterministic() {
        let nat = SimNat::new("nat-1", 0);
        for m in 0..30 {
            let convs = minute_traffic(&nat, &[], MINUTE + m * 60);
            let t = total(&convs) as f64;
            assert!((18.0e6..=22.0e6).contains(&t), "minute {m}: {t}");
            assert_eq!(convs, minute_traffic(&nat, &[], MINUTE + m * 60));
        }
    }

    #[test]
    fn a_spike_adds_its_bytes_only_inside_its_window_and_only_to_its_nat() {
        let nat = SimNat::new("nat-1", 0);
        let other = SimNat::new("nat-2", 1);
        let spikes = [spike(2, 4)];
        let before = total(&minute_traffic(&nat, &spikes, MINUTE + 60));
        let during = total(&minute_traffic(&nat, &spikes, MINUTE + 2 * 60));
        let after = total(&minute_traffic(&nat, &spikes, MINUTE + 4 * 60));
        assert!(before < 25_000_000 && after < 25_000_000);
        assert!(during > 600_000_000, "{during}");
        let other_during = total(&minute_traffic(&other, &spikes, MINUTE + 2 * 60));
        assert!(other_during < 25_000_000);
        // the spike talker is a host pulling from S3
        let convs = minute_traffic(&nat, &spikes, MINUTE + 3 * 60);
        let heavy = convs.iter().max_by_key(|c| c.bytes_in).unwrap();
        assert_eq!(heavy.service, Some("S3"));
        assert_eq!(heavy.internal, Ipv4Addr::new(10, 0, 1, 42));
    }

    #[test]
    fn metrics_are_sums_of_the_conversations_by_direction() {
        let nat = SimNat::new("nat-1", 0);
        let convs = minute_traffic(&nat, &[spike(0, 1)], MINUTE);
        let out: u64 = convs.iter().map(|c| c.bytes_out).sum();
        let inb: u64 = convs.iter().map(|c| c.bytes_in).sum();
        assert_eq!(metric_value(&convs, "BytesInFromSource"), Some(out as f64));
        assert_eq!(metric_value(&convs, "BytesOutToSource"), Some(inb as f64));
        assert_eq!(
            metric_value(&convs, "ActiveConnectionCount"),
            Some(convs.len() as f64)
        );
        assert_eq!(metric_value(&convs, "NoSuchMetric"), None);
        // traffic uses both ENIs
        assert!(convs.iter().any(|c| c.eni_index == 0));
        assert!(convs.iter().any(|c| c.eni_index == 1));
    }
}
