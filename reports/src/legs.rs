//! Which leg of a NAT connection a record is, and so whether (and to whom) its bytes count.
//!
//! Every connection through a NAT gateway appears twice on the NAT's interface (docs/DESIGN.md,
//! "The leg rule"):
//! once on the VPC side (instance <-> NAT) and once on the internet side (NAT <-> remote).
//! Counting both doubles every byte and names the NAT instead of the instance, so only one leg
//! may count. The rule depends on what the input lets us see:
//!
//! * **pkt-fields** (the format has `pkt-srcaddr` and `pkt-dstaddr`): a record is VPC side when
//!   `srcaddr != pkt-srcaddr` (reply: NAT -> internal, remote = `pkt-srcaddr`, internal =
//!   `dstaddr`) or `dstaddr != pkt-dstaddr` (outbound: internal -> NAT, internal = `srcaddr`,
//!   remote = `pkt-dstaddr`). It needs no NAT address: whichever header field holds the NAT's
//!   own address, the translated field gives the real peer. A record with no translation
//!   visible is internet side when the interface is known to be a NAT (a translation was seen
//!   anywhere in the input, or a NAT IP is known); otherwise the input is not NAT traffic and
//!   such records are counted as **plain** conversations. A `pkt-*` value of `-` counts as
//!   equal to its header address. Both header addresses translated at once is not a NAT leg;
//!   such a record is left unattributed.
//! * **nat-ips** (no `pkt-*` fields, the NAT's private IPs known from `--nat-ip` or an export
//!   file): a record between a NAT IP and a private address is VPC side (the private address is
//!   the internal host); between a NAT IP and a public address it is internet side. The remote
//!   of a VPC-side record is not in the record, so conversations have an unknown remote and
//!   only the bytes per internal host are meaningful. Limitation: a private NAT talking to
//!   private remotes cannot be told apart from its VPC side this way.
//! * **plain** / **all-records** (no translation visible and no NAT IP; or no `pkt-*` fields and
//!   no NAT IP): every record counts once as seen, with the private address as the internal
//!   side. Under all-records this may count both legs of NAT connections; the report warns.
//!
//! "Private" means RFC 1918, the RFC 6598 shared range 100.64.0.0/10 (usable as a VPC CIDR) and
//! IPv6 unique-local fc00::/7. When both or neither side is private, `flow-direction` decides
//! (egress: `srcaddr` is internal); without it `srcaddr` is taken as internal.

use std::net::IpAddr;

use nat_flowrec_parsers::{Flow, FlowDirection};
// The tests build full records by hand; `classify` takes them as well as flows.
#[cfg(test)]
use nat_flowrec_parsers::Record;
use serde::Serialize;

/// The rule a report used to count each connection once (stated in every report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegRule {
    PktFields,
    NatIps,
    Plain,
    AllRecords,
    /// Files of the input needed different rules; the summary's warnings say which.
    Mixed,
}

impl LegRule {
    pub fn as_str(self) -> &'static str {
        match self {
            LegRule::PktFields => "pkt-fields",
            LegRule::NatIps => "nat-ips",
            LegRule::Plain => "plain",
            LegRule::AllRecords => "all-records",
            LegRule::Mixed => "mixed",
        }
    }

    /// One sentence a reader of the report understands.
    pub fn explanation(self) -> &'static str {
        match self {
            LegRule::PktFields => {
                "VPC-side records only (srcaddr/dstaddr differ from pkt-srcaddr/pkt-dstaddr); internet-side duplicates are counted in the summary, not in the tables"
            }
            LegRule::NatIps => {
                "the format has no pkt-* fields: records between a NAT IP and a private address are the VPC side; remote addresses are unknown"
            }
            LegRule::Plain => {
                "no address translation seen and no NAT IP known: each record counted once as a plain conversation, private address = internal side"
            }
            LegRule::AllRecords => {
                "no pkt-* fields and no NAT IP known: every record counted, so totals may count both legs of NAT connections"
            }
            LegRule::Mixed => "files needed different rules (see warnings)",
        }
    }
}

/// How the records of one file are classified, decided from its format and known NAT IPs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileRule {
    /// The format has both `pkt-srcaddr` and `pkt-dstaddr`.
    PktFields { nat_known: bool },
    /// No `pkt-*` fields; these are the NAT's private addresses.
    NatIps(Vec<IpAddr>),
    /// No `pkt-*` fields, no NAT IPs.
    AllRecords,
}

impl FileRule {
    pub(crate) fn new(has_pkt_fields: bool, nat_ips: Vec<IpAddr>) -> FileRule {
        if has_pkt_fields {
            FileRule::PktFields {
                nat_known: !nat_ips.is_empty(),
            }
        } else if nat_ips.is_empty() {
            FileRule::AllRecords
        } else {
            FileRule::NatIps(nat_ips)
        }
    }
}

/// One record attributed to a conversation, seen from the internal host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Side {
    pub internal: IpAddr,
    /// `None` when the record does not show the remote (nat-ips rule).
    pub remote: Option<IpAddr>,
    /// Internal -> remote (bytes_out); otherwise remote -> internal (bytes_in).
    pub outbound: bool,
    /// The remote's port: `dstport` outbound, `srcport` in reply.
    pub remote_port: Option<u16>,
}

/// What a record is, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leg {
    /// VPC side of a NAT connection: counts.
    Vpc(Side),
    /// Internet side of a NAT connection: a duplicate of a VPC-side record, does not count.
    Internet,
    /// No translation visible and no NAT known yet: internet side if the input turns out to be
    /// NAT traffic, else a plain conversation. Decided once the whole input is read; its side
    /// ([`untranslated_side`]) is only worked out while that is open, as a NAT's file holds as
    /// many of these as VPC-side records.
    Untranslated,
    /// Counted as seen (all-records rule).
    Direct(Side),
    /// No addresses, or a shape no rule explains.
    Unattributed,
}

/// Classifies one traffic record (not NODATA/SKIPDATA) under its file's rule; `rec` is the
/// record's [`Flow`] (a full `Record` converts into one).
#[inline]
pub(crate) fn classify<'r>(rec: impl Into<Flow<'r>>, rule: &FileRule) -> Leg {
    let rec: Flow<'r> = rec.into();
    let (Some(src), Some(dst)) = (rec.srcaddr, rec.dstaddr) else {
        return Leg::Unattributed;
    };
    match rule {
        FileRule::PktFields { nat_known } => {
            let pkt_src = rec.pkt_srcaddr.unwrap_or(src);
            let pkt_dst = rec.pkt_dstaddr.unwrap_or(dst);
            match (src != pkt_src, dst != pkt_dst) {
                (false, true) => Leg::Vpc(Side {
                    internal: src,
                    remote: Some(pkt_dst),
                    outbound: true,
                    remote_port: rec.dstport,
                }),
                (true, false) => Leg::Vpc(Side {
                    internal: dst,
                    remote: Some(pkt_src),
                    outbound: false,
                    remote_port: rec.srcport,
                }),
                (true, true) => Leg::Unattributed,
                (false, false) if *nat_known => Leg::Internet,
                (false, false) => Leg::Untranslated,
            }
        }
        FileRule::NatIps(nat_ips) => {
            match (nat_ips.contains(&src), nat_ips.contains(&dst)) {
                // NAT -> internal host: the reply leg on the VPC side.
                (true, false) if is_private(dst) => Leg::Vpc(Side {
                    internal: dst,
                    remote: None,
                    outbound: false,
                    remote_port: None,
                }),
                // Internal host -> NAT: the outbound leg on the VPC side.
                (false, true) if is_private(src) => Leg::Vpc(Side {
                    internal: src,
                    remote: None,
                    outbound: true,
                    remote_port: None,
                }),
                (true, false) | (false, true) => Leg::Internet,
                _ => Leg::Unattributed,
            }
        }
        FileRule::AllRecords => Leg::Direct(plain_side(&rec, src, dst)),
    }
}

/// The side of a [`Leg::Untranslated`] record, counted as seen.
pub(crate) fn untranslated_side(rec: &Flow<'_>) -> Option<Side> {
    Some(plain_side(rec, rec.srcaddr?, rec.dstaddr?))
}

/// The side of a record counted as seen: the private address is the internal host.
fn plain_side(rec: &Flow<'_>, src: IpAddr, dst: IpAddr) -> Side {
    let outbound = match (is_private(src), is_private(dst)) {
        (true, false) => true,
        (false, true) => false,
        _ => rec.flow_direction != Some(FlowDirection::Ingress),
    };
    if outbound {
        Side {
            internal: src,
            remote: Some(dst),
            outbound,
            remote_port: rec.dstport,
        }
    } else {
        Side {
            internal: dst,
            remote: Some(src),
            outbound,
            remote_port: rec.srcport,
        }
    }
}

/// RFC 1918, RFC 6598 (100.64.0.0/10) and IPv6 unique-local (fc00::/7) addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A record with the four address fields of AWS's NAT example (docs/DESIGN.md, "The leg rule").
    fn rec(src: &str, dst: &str, psrc: &str, pdst: &str) -> Record<'static> {
        Record {
            srcaddr: Some(ip(src)),
            dstaddr: Some(ip(dst)),
            pkt_srcaddr: Some(ip(psrc)),
            pkt_dstaddr: Some(ip(pdst)),
            srcport: Some(40000),
            dstport: Some(443),
            ..Record::default()
        }
    }

    const PKT: FileRule = FileRule::PktFields { nat_known: false };

    #[test]
    fn aws_nat_example_outbound_vpc_leg_is_instance_to_remote() {
        let leg = classify(
            &rec("10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5"),
            &PKT,
        );
        assert_eq!(
            leg,
            Leg::Vpc(Side {
                internal: ip("10.0.1.5"),
                remote: Some(ip("203.0.113.5")),
                outbound: true,
                remote_port: Some(443),
            })
        );
    }

    #[test]
    fn aws_nat_example_reply_vpc_leg_is_remote_to_instance() {
        let leg = classify(
            &rec("10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
            &PKT,
        );
        assert_eq!(
            leg,
            Leg::Vpc(Side {
                internal: ip("10.0.1.5"),
                remote: Some(ip("203.0.113.5")),
                outbound: false,
                remote_port: Some(40000),
            })
        );
    }

    #[test]
    fn aws_nat_example_internet_legs_are_not_vpc_side() {
        for r in [
            rec("10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5"),
            rec("203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220"),
        ] {
            assert!(matches!(classify(&r, &PKT), Leg::Untranslated));
            assert_eq!(
                classify(&r, &FileRule::PktFields { nat_known: true }),
                Leg::Internet
            );
        }
    }

    #[test]
    fn ipv6_translation_is_recognised_like_ipv4() {
        let r = rec("fd00::5", "fd00::220", "fd00::5", "2001:db8::1");
        let Leg::Vpc(side) = classify(&r, &PKT) else {
            panic!("not VPC side")
        };
        assert_eq!(side.internal, ip("fd00::5"));
        assert_eq!(side.remote, Some(ip("2001:db8::1")));
    }

    #[test]
    fn missing_pkt_values_count_as_untranslated() {
        let mut r = rec("10.0.1.5", "203.0.113.5", "10.0.1.5", "203.0.113.5");
        r.pkt_srcaddr = None;
        r.pkt_dstaddr = None;
        assert!(matches!(classify(&r, &PKT), Leg::Untranslated));
    }

    #[test]
    fn nat_ips_rule_finds_the_vpc_side_without_pkt_fields() {
        let rule = FileRule::new(false, vec![ip("10.0.0.220")]);
        let mut r = rec("10.0.1.5", "10.0.0.220", "10.0.1.5", "10.0.0.220");
        r.pkt_srcaddr = None;
        r.pkt_dstaddr = None;
        assert_eq!(
            classify(&r, &rule),
            Leg::Vpc(Side {
                internal: ip("10.0.1.5"),
                remote: None,
                outbound: true,
                remote_port: None
            })
        );
        let reply = Record {
            srcaddr: Some(ip("10.0.0.220")),
            dstaddr: Some(ip("10.0.1.5")),
            ..Record::default()
        };
        assert!(matches!(
            classify(&reply, &rule),
            Leg::Vpc(Side {
                outbound: false,
                ..
            })
        ));
        let internet = Record {
            srcaddr: Some(ip("203.0.113.5")),
            dstaddr: Some(ip("10.0.0.220")),
            ..Record::default()
        };
        assert_eq!(classify(&internet, &rule), Leg::Internet);
    }

    #[test]
    fn all_records_rule_takes_the_private_address_as_internal() {
        let r = Record {
            srcaddr: Some(ip("198.51.100.7")),
            dstaddr: Some(ip("172.31.5.9")),
            srcport: Some(443),
            ..Record::default()
        };
        assert_eq!(
            classify(&r, &FileRule::AllRecords),
            Leg::Direct(Side {
                internal: ip("172.31.5.9"),
                remote: Some(ip("198.51.100.7")),
                outbound: false,
                remote_port: Some(443)
            })
        );
    }

    #[test]
    fn records_without_addresses_are_unattributed() {
        assert_eq!(classify(&Record::default(), &PKT), Leg::Unattributed);
    }

    #[test]
    fn private_ranges() {
        for p in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd12::1",
            "fc00::1",
        ] {
            assert!(is_private(ip(p)), "{p}");
        }
        for p in [
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2001:db8::1",
            "fe80::1",
        ] {
            assert!(!is_private(ip(p)), "{p}");
        }
    }
}
