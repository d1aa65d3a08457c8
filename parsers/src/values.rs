//! Typed values of the flow-log fields that are closed vocabularies (action, log status,
//! direction, IP type, traffic path, AWS service). Each knows its AWS text (`as_str`), so a record
//! renders back to the line it came from.

use std::fmt;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text AWS writes for this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value AWS's text denotes (exact, case-sensitive match).
            pub fn from_text(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Like `from_text`, for a text of `len` bytes packed into a word (see `packed`).
            #[inline]
            pub(crate) fn from_word(len: usize, word: u64) -> Option<$name> {
                $(
                    if len == $text.len() && word == const { packed($text) } {
                        return Some($name::$variant);
                    }
                )+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `text` (at most 8 bytes) as a little-endian word, byte `i` in bits `8*i..8*i+8`: the parser
/// compares a short value with a name in one instruction instead of a string comparison.
/// Longer texts give 0 and are never compared this way.
const fn packed(text: &str) -> u64 {
    if text.len() > 8 {
        return 0;
    }
    packed_from(text, 0)
}

/// Bytes `from..from + 8` of `text` (those it has) as a little-endian word.
const fn packed_from(text: &str, from: usize) -> u64 {
    let bytes = text.as_bytes();
    let mut word = 0u64;
    let mut i = 0;
    while i < 8 && from + i < bytes.len() {
        word |= (bytes[from + i] as u64) << (8 * i);
        i += 1;
    }
    word
}

text_enum!(
    /// `action`: whether the security group / network ACL let the traffic through.
    Action { Accept => "ACCEPT", Reject => "REJECT" }
);

text_enum!(
    /// `log-status`: `NODATA` = no traffic in the window, `SKIPDATA` = records were dropped
    /// (a report over such a window is a lower bound).
    LogStatus { Ok => "OK", NoData => "NODATA", SkipData => "SKIPDATA" }
);

text_enum!(
    /// `flow-direction`, relative to the interface.
    FlowDirection { Ingress => "ingress", Egress => "egress" }
);

text_enum!(
    /// `type`: the IP version of the traffic, or EFA (Elastic Fabric Adapter) traffic.
    IpType { V4 => "IPv4", V6 => "IPv6", Efa => "EFA" }
);

/// `traffic-path` (egress only): the way egress traffic leaves, 1 to 8 (1 another resource in the
/// VPC, 2 internet gateway or gateway endpoint, 3 virtual private gateway, 4 intra-region peering,
/// 5 inter-region peering, 6 local gateway, 7 gateway endpoint (Nitro), 8 internet gateway
/// (Nitro)). Any other number is rejected, so a corrupt value cannot pass silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrafficPath(u8);

impl TrafficPath {
    const TEXT: [&'static str; 8] = ["1", "2", "3", "4", "5", "6", "7", "8"];

    /// A traffic path, if `path` is in AWS's range 1..=8.
    pub fn new(path: u8) -> Option<TrafficPath> {
        (1..=8).contains(&path).then_some(TrafficPath(path))
    }

    /// The path number, 1..=8.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The text AWS writes for this path (`"1"` .. `"8"`).
    pub fn as_str(self) -> &'static str {
        Self::TEXT
            .get(usize::from(self.0).wrapping_sub(1))
            .copied()
            .unwrap_or("-")
    }
}

impl fmt::Display for TrafficPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `pkt-src-aws-service` / `pkt-dst-aws-service`: the AWS service whose published address range
/// holds the packet's address. Known names are a compact tag; a name AWS adds later is kept as
/// borrowed text in [`AwsService::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsService<'a> {
    Amazon,
    AmazonAppflow,
    AmazonConnect,
    ApiGateway,
    ChimeMeetings,
    ChimeVoiceconnector,
    Cloud9,
    Cloudfront,
    Codebuild,
    Dynamodb,
    Ebs,
    Ec2,
    Ec2InstanceConnect,
    Globalaccelerator,
    KinesisVideoStreams,
    Route53,
    Route53Healthchecks,
    Route53HealthchecksPublishing,
    Route53Resolver,
    S3,
    WorkspacesGateways,
    /// A service name not in the list above, exactly as written in the record.
    Other(&'a str),
}

impl<'a> AwsService<'a> {
    /// Every named service (not [`AwsService::Other`]).
    pub const KNOWN: &'static [AwsService<'static>] = &[
        AwsService::Amazon,
        AwsService::AmazonAppflow,
        AwsService::AmazonConnect,
        AwsService::ApiGateway,
        AwsService::ChimeMeetings,
        AwsService::ChimeVoiceconnector,
        AwsService::Cloud9,
        AwsService::Cloudfront,
        AwsService::Codebuild,
        AwsService::Dynamodb,
        AwsService::Ebs,
        AwsService::Ec2,
        AwsService::Ec2InstanceConnect,
        AwsService::Globalaccelerator,
        AwsService::KinesisVideoStreams,
        AwsService::Route53,
        AwsService::Route53Healthchecks,
        AwsService::Route53HealthchecksPublishing,
        AwsService::Route53Resolver,
        AwsService::S3,
        AwsService::WorkspacesGateways,
    ];

    /// The service AWS's text names; any other text becomes [`AwsService::Other`].
    pub fn from_text(text: &'a str) -> AwsService<'a> {
        match text {
            "AMAZON" => AwsService::Amazon,
            "AMAZON_APPFLOW" => AwsService::AmazonAppflow,
            "AMAZON_CONNECT" => AwsService::AmazonConnect,
            "API_GATEWAY" => AwsService::ApiGateway,
            "CHIME_MEETINGS" => AwsService::ChimeMeetings,
            "CHIME_VOICECONNECTOR" => AwsService::ChimeVoiceconnector,
            "CLOUD9" => AwsService::Cloud9,
            "CLOUDFRONT" => AwsService::Cloudfront,
            "CODEBUILD" => AwsService::Codebuild,
            "DYNAMODB" => AwsService::Dynamodb,
            "EBS" => AwsService::Ebs,
            "EC2" => AwsService::Ec2,
            "EC2_INSTANCE_CONNECT" => AwsService::Ec2InstanceConnect,
            "GLOBALACCELERATOR" => AwsService::Globalaccelerator,
            "KINESIS_VIDEO_STREAMS" => AwsService::KinesisVideoStreams,
            "ROUTE53" => AwsService::Route53,
            "ROUTE53_HEALTHCHECKS" => AwsService::Route53Healthchecks,
            "ROUTE53_HEALTHCHECKS_PUBLISHING" => AwsService::Route53HealthchecksPublishing,
            "ROUTE53_RESOLVER" => AwsService::Route53Resolver,
            "S3" => AwsService::S3,
            "WORKSPACES_GATEWAYS" => AwsService::WorkspacesGateways,
            other => AwsService::Other(other),
        }
    }

    /// The known service of a text of `len` (at most 16) bytes packed into two words (bytes
    /// 0-7 and 8-15, see `packed`); `None` means the text is no known name (every name of 16
    /// bytes or fewer is in the table below, the common ones first).
    #[inline]
    pub(crate) fn from_words(len: usize, first: u64, second: u64) -> Option<AwsService<'static>> {
        const fn entry(name: &str, service: AwsService<'static>) -> Entry {
            (
                name.len(),
                packed_from(name, 0),
                packed_from(name, 8),
                service,
            )
        }
        type Entry = (usize, u64, u64, AwsService<'static>);
        const NAMES: [Entry; 14] = [
            entry("S3", AwsService::S3),
            entry("DYNAMODB", AwsService::Dynamodb),
            entry("AMAZON", AwsService::Amazon),
            entry("EC2", AwsService::Ec2),
            entry("CLOUDFRONT", AwsService::Cloudfront),
            entry("API_GATEWAY", AwsService::ApiGateway),
            entry("CODEBUILD", AwsService::Codebuild),
            entry("ROUTE53", AwsService::Route53),
            entry("EBS", AwsService::Ebs),
            entry("CLOUD9", AwsService::Cloud9),
            entry("AMAZON_APPFLOW", AwsService::AmazonAppflow),
            entry("AMAZON_CONNECT", AwsService::AmazonConnect),
            entry("CHIME_MEETINGS", AwsService::ChimeMeetings),
            entry("ROUTE53_RESOLVER", AwsService::Route53Resolver),
        ];
        // By length first: one jump, then the one to three names of that length.
        let candidates: &[Entry] = match len {
            2 => &NAMES[0..1],
            8 => &NAMES[1..2],
            6 => &[NAMES[2], NAMES[9]],
            3 => &[NAMES[3], NAMES[8]],
            10 => &NAMES[4..5],
            11 => &NAMES[5..6],
            9 => &NAMES[6..7],
            7 => &NAMES[7..8],
            14 => &NAMES[10..13],
            16 => &NAMES[13..14],
            _ => &[],
        };
        candidates
            .iter()
            .find(|(n, a, b, _)| *n == len && *a == first && *b == second)
            .map(|(_, _, _, service)| *service)
    }

    /// The position of a named service in [`AwsService::KNOWN`]; `None` for
    /// [`AwsService::Other`]. Lets a counter keep a named service's totals in an array.
    pub fn known_index(&self) -> Option<usize> {
        Some(match self {
            AwsService::Amazon => 0,
            AwsService::AmazonAppflow => 1,
            AwsService::AmazonConnect => 2,
            AwsService::ApiGateway => 3,
            AwsService::ChimeMeetings => 4,
            AwsService::ChimeVoiceconnector => 5,
            AwsService::Cloud9 => 6,
            AwsService::Cloudfront => 7,
            AwsService::Codebuild => 8,
            AwsService::Dynamodb => 9,
            AwsService::Ebs => 10,
            AwsService::Ec2 => 11,
            AwsService::Ec2InstanceConnect => 12,
            AwsService::Globalaccelerator => 13,
            AwsService::KinesisVideoStreams => 14,
            AwsService::Route53 => 15,
            AwsService::Route53Healthchecks => 16,
            AwsService::Route53HealthchecksPublishing => 17,
            AwsService::Route53Resolver => 18,
            AwsService::S3 => 19,
            AwsService::WorkspacesGateways => 20,
            AwsService::Other(_) => return None,
        })
    }

    /// The text AWS writes for this service (`"S3"`, `"DYNAMODB"`, ...).
    pub fn as_str(&self) -> &'a str {
        match self {
            AwsService::Amazon => "AMAZON",
            AwsService::AmazonAppflow => "AMAZON_APPFLOW",
            AwsService::AmazonConnect => "AMAZON_CONNECT",
            AwsService::ApiGateway => "API_GATEWAY",
            AwsService::ChimeMeetings => "CHIME_MEETINGS",
            AwsService::ChimeVoiceconnector => "CHIME_VOICECONNECTOR",
            AwsService::Cloud9 => "CLOUD9",
            AwsService::Cloudfront => "CLOUDFRONT",
            AwsService::Codebuild => "CODEBUILD",
            AwsService::Dynamodb => "DYNAMODB",
            AwsService::Ebs => "EBS",
            AwsService::Ec2 => "EC2",
            AwsService::Ec2InstanceConnect => "EC2_INSTANCE_CONNECT",
            AwsService::Globalaccelerator => "GLOBALACCELERATOR",
            AwsService::KinesisVideoStreams => "KINESIS_VIDEO_STREAMS",
            AwsService::Route53 => "ROUTE53",
            AwsService::Route53Healthchecks => "ROUTE53_HEALTHCHECKS",
            AwsService::Route53HealthchecksPublishing => "ROUTE53_HEALTHCHECKS_PUBLISHING",
            AwsService::Route53Resolver => "ROUTE53_RESOLVER",
            AwsService::S3 => "S3",
            AwsService::WorkspacesGateways => "WORKSPACES_GATEWAYS",
            AwsService::Other(text) => text,
        }
    }
}

impl fmt::Display for AwsService<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_vocabularies_round_trip_through_their_aws_text() {
        for a in Action::ALL {
            assert_eq!(Action::from_text(a.as_str()), Some(*a));
        }
        for s in LogStatus::ALL {
            assert_eq!(LogStatus::from_text(s.as_str()), Some(*s));
        }
        for d in FlowDirection::ALL {
            assert_eq!(FlowDirection::from_text(d.as_str()), Some(*d));
        }
        for t in IpType::ALL {
            assert_eq!(IpType::from_text(t.as_str()), Some(*t));
        }
        assert_eq!(LogStatus::SkipData.as_str(), "SKIPDATA");
        assert_eq!(IpType::V6.to_string(), "IPv6");
        // AWS's text is case-sensitive; lower-case action is not a valid record.
        assert_eq!(Action::from_text("accept"), None);
        assert_eq!(FlowDirection::from_text("INGRESS"), None);
    }

    #[test]
    fn traffic_path_accepts_only_one_to_eight() {
        assert_eq!(TrafficPath::new(0), None);
        assert_eq!(TrafficPath::new(9), None);
        for n in 1..=8u8 {
            let path = TrafficPath::new(n);
            assert_eq!(path.map(TrafficPath::get), Some(n));
            assert_eq!(path.map(|p| p.to_string()), Some(n.to_string()));
        }
    }

    #[test]
    fn aws_services_keep_their_text() {
        assert_eq!(AwsService::S3.as_str(), "S3");
        assert_eq!(AwsService::Dynamodb.as_str(), "DYNAMODB");
        assert_eq!(AwsService::from_text("DYNAMODB"), AwsService::Dynamodb);
        for svc in AwsService::KNOWN {
            assert_eq!(AwsService::from_text(svc.as_str()), *svc);
        }
        for (i, svc) in AwsService::KNOWN.iter().enumerate() {
            assert_eq!(svc.known_index(), Some(i), "{svc}");
        }
        let other = AwsService::from_text("BEDROCK");
        assert_eq!(other.known_index(), None);
        assert_eq!(other, AwsService::Other("BEDROCK"));
        assert_eq!(other.to_string(), "BEDROCK");
    }

    #[test]
    fn packed_words_match_like_text() {
        // Every name of 16 bytes or fewer is in the packed table, with its own length.
        for svc in AwsService::KNOWN {
            let text = svc.as_str();
            let found =
                AwsService::from_words(text.len(), packed_from(text, 0), packed_from(text, 8));
            let want = (text.len() <= 16).then_some(*svc);
            assert_eq!(found, want, "{text}");
        }
        assert_eq!(AwsService::from_words(3, packed("S3"), 0), None);
        assert_eq!(AwsService::from_words(2, packed("S3"), 1), None);
        for a in Action::ALL {
            assert_eq!(
                Action::from_word(a.as_str().len(), packed(a.as_str())),
                Some(*a)
            );
        }
        for s in LogStatus::ALL {
            assert_eq!(
                LogStatus::from_word(s.as_str().len(), packed(s.as_str())),
                Some(*s)
            );
        }
        for d in FlowDirection::ALL {
            assert_eq!(
                FlowDirection::from_word(d.as_str().len(), packed(d.as_str())),
                Some(*d)
            );
        }
        for t in IpType::ALL {
            assert_eq!(
                IpType::from_word(t.as_str().len(), packed(t.as_str())),
                Some(*t)
            );
        }
        // The length is part of the word: "ACCEPT" followed by a NUL byte is no action.
        assert_eq!(Action::from_word(7, packed("ACCEPT")), None);
        assert_eq!(Action::from_word(6, packed("accept")), None);
    }
}
