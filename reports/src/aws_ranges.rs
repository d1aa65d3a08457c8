//! AWS's published address ranges (`ip-ranges.json`), to label a remote address with the AWS
//! service and region it belongs to when no DNS answer names it and the flow records do not say
//! (a format without `pkt-dst-aws-service`): `52.216.8.1` -> `S3 us-east-1`. No lookup leaves
//! the machine: a dated copy is bundled (`data/aws-ip-ranges.txt.gz`), and `nat-flowrec
//! update-ip-ranges FILE` stores a newer one.
//!
//! The stored form is AWS's file trimmed to what the label needs, one line per prefix and
//! region: `<prefix> <region> <SERVICE,SERVICE...>` after a `# createDate <date> syncToken <n>`
//! line, gzip-compressed (a sixth of the original's 2.6 MB).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::IpAddr;

use hashbrown::HashMap;
use ipnet::IpNet;
use serde::Deserialize;

/// The copy built into the program.
const BUNDLED: &[u8] = include_bytes!("../data/aws-ip-ranges.txt.gz");

/// Services AWS lists for most of its space: a prefix that also names another service is that
/// service's (`S3` over `EC2` over `AMAZON`).
const GENERAL: [&str; 2] = ["AMAZON", "EC2"];

/// Why a ranges file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RangesError {
    #[error("not AWS's ip-ranges.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a stored ip-ranges copy: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: `{text}` is not `<prefix> <region> <SERVICES>`")]
    Line { line: usize, text: String },
    #[error("`{text}` is not an address prefix (`52.216.0.0/15`, `2600:1f18::/33`)")]
    Prefix { text: String },
    #[error("no createDate: a ranges file without its date cannot say how old its labels are")]
    NoDate,
}

/// What one prefix is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    region: String,
    /// AWS's service tokens, sorted.
    services: Vec<String>,
}

impl Entry {
    /// The service to show: the first specific one, else `EC2`, else `AMAZON`.
    fn service(&self) -> &str {
        let specific = self
            .services
            .iter()
            .find(|s| !GENERAL.contains(&s.as_str()));
        let general = GENERAL
            .iter()
            .rev()
            .find(|g| self.services.iter().any(|s| s == *g))
            .copied();
        specific.map(String::as_str).or(general).unwrap_or("AMAZON")
    }

    fn is_specific(&self) -> bool {
        self.service() != "AMAZON"
    }
}

/// An address's AWS service and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsLabel<'a> {
    /// AWS's token (`S3`, `DYNAMODB`, `EC2`, `AMAZON`).
    pub service: &'a str,
    pub region: &'a str,
}

impl AwsLabel<'_> {
    /// `S3 eu-west-1`.
    pub fn text(&self) -> String {
        format!(
            "{} {}",
            crate::units::service_name(self.service),
            self.region
        )
    }
}

/// AWS's ranges, indexed for longest-prefix matching.
#[derive(Debug, Clone, Default)]
pub struct AwsRanges {
    /// `createDate` of AWS's file (`2026-08-22-21-17-05`).
    pub create_date: String,
    pub sync_token: String,
    /// Prefix length -> network (masked) -> entry; lengths longest first.
    by_length: Vec<(u8, bool, HashMap<IpAddr, Entry>)>,
    prefixes: usize,
}

#[derive(Deserialize)]
struct AwsFile {
    #[serde(rename = "createDate")]
    create_date: String,
    #[serde(rename = "syncToken", default)]
    sync_token: String,
    #[serde(default)]
    prefixes: Vec<AwsPrefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<AwsPrefix>,
}

#[derive(Deserialize)]
struct AwsPrefix {
    #[serde(alias = "ipv6_prefix")]
    ip_prefix: String,
    region: String,
    service: String,
}

impl AwsRanges {
    /// The copy built into the program.
    pub fn bundled() -> AwsRanges {
        // Checked by a test: the bundled copy always reads.
        AwsRanges::from_stored(BUNDLED).unwrap_or_default()
    }

    /// AWS's `ip-ranges.json` as published.
    pub fn from_aws_json(text: &str) -> Result<AwsRanges, RangesError> {
        let file: AwsFile = serde_json::from_str(text)?;
        if file.create_date.is_empty() {
            return Err(RangesError::NoDate);
        }
        let mut grouped: BTreeMap<(IpNet, String), BTreeSet<String>> = BTreeMap::new();
        for p in file.prefixes.into_iter().chain(file.ipv6_prefixes) {
            let net: IpNet = p.ip_prefix.parse().map_err(|_| RangesError::Prefix {
                text: p.ip_prefix.clone(),
            })?;
            grouped
                .entry((net.trunc(), p.region))
                .or_default()
                .insert(p.service);
        }
        let mut ranges = AwsRanges {
            create_date: file.create_date,
            sync_token: file.sync_token,
            ..AwsRanges::default()
        };
        for ((net, region), services) in grouped {
            ranges.insert(net, region, services.into_iter().collect());
        }
        Ok(ranges)
    }

    /// The stored form (see the module docs), gzip or plain.
    pub fn from_stored(bytes: &[u8]) -> Result<AwsRanges, RangesError> {
        let mut text = String::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(bytes).read_to_string(&mut text)?;
        } else {
            text = String::from_utf8_lossy(bytes).into_owned();
        }
        let mut ranges = AwsRanges::default();
        for (i, line) in text.lines().enumerate() {
            if let Some(header) = line.strip_prefix('#') {
                let words: Vec<&str> = header.split_whitespace().collect();
                for pair in words.windows(2) {
                    match pair[0] {
                        "createDate" => ranges.create_date = pair[1].to_string(),
                        "syncToken" => ranges.sync_token = pair[1].to_string(),
                        _ => {}
                    }
                }
                continue;
            }
            let bad = || RangesError::Line {
                line: i + 1,
                text: line.chars().take(80).collect(),
            };
            let mut words = line.split_whitespace();
            let (Some(net), Some(region), Some(services), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(bad());
            };
            let net: IpNet = net.parse().map_err(|_| bad())?;
            let services = services.split(',').map(str::to_string).collect();
            ranges.insert(net.trunc(), region.to_string(), services);
        }
        if ranges.create_date.is_empty() {
            return Err(RangesError::NoDate);
        }
        Ok(ranges)
    }

    /// The stored form, gzip-compressed.
    pub fn to_stored(&self) -> Result<Vec<u8>, RangesError> {
        let mut lines = vec![(
            String::new(),
            format!(
                "# createDate {} syncToken {}",
                self.create_date, self.sync_token
            ),
        )];
        for (length, _, nets) in &self.by_length {
            for (addr, entry) in nets {
                let net = IpNet::new(*addr, *length).map_err(|e| {
                    RangesError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                })?;
                lines.push((
                    format!("{net}"),
                    format!("{net} {} {}", entry.region, entry.services.join(",")),
                ));
            }
        }
        // The header first, then by prefix text: the same ranges store the same bytes.
        lines.sort();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for (_, line) in &lines {
            gz.write_all(line.as_bytes())?;
            gz.write_all(b"\n")?;
        }
        Ok(gz.finish()?)
    }

    fn insert(&mut self, net: IpNet, region: String, services: Vec<String>) {
        let length = net.prefix_len();
        let v4 = matches!(net, IpNet::V4(_));
        let at = match self
            .by_length
            .iter()
            .position(|(l, is_v4, _)| *l == length && *is_v4 == v4)
        {
            Some(at) => at,
            None => {
                self.by_length.push((length, v4, HashMap::new()));
                self.by_length
                    .sort_by_key(|(l, _, _)| std::cmp::Reverse(*l));
                self.by_length
                    .iter()
                    .position(|(l, is_v4, _)| *l == length && *is_v4 == v4)
                    .unwrap_or_default()
            }
        };
        if let Some((_, _, nets)) = self.by_length.get_mut(at) {
            nets.insert(net.network(), Entry { region, services });
            self.prefixes += 1;
        }
    }

    /// How many prefixes (per region) are known.
    pub fn len(&self) -> usize {
        self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes == 0
    }

    /// The service and region of `addr`: the longest prefix that names a service, else the
    /// longest prefix at all (`AMAZON`); `None` outside AWS's ranges.
    pub fn label(&self, addr: IpAddr) -> Option<AwsLabel<'_>> {
        let mut general = None;
        for (length, v4, nets) in &self.by_length {
            if *v4 != addr.is_ipv4() {
                continue;
            }
            let Ok(net) = IpNet::new(addr, *length) else {
                continue;
            };
            if let Some(entry) = nets.get(&net.network()) {
                if entry.is_specific() {
                    return Some(AwsLabel {
                        service: entry.service(),
                        region: &entry.region,
                    });
                }
                general = general.or(Some(entry));
            }
        }
        general.map(|entry| AwsLabel {
            service: entry.service(),
            region: &entry.region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "syncToken": "1787433425",
      "createDate": "2026-08-22-21-17-05",
      "prefixes": [
        {"ip_prefix": "52.216.0.0/15", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
        {"ip_prefix": "52.216.0.0/15", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1"},
        {"ip_prefix": "3.5.0.0/19", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
        {"ip_prefix": "3.5.0.0/19", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1"},
        {"ip_prefix": "3.208.0.0/12", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
        {"ip_prefix": "3.216.0.0/16", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
        {"ip_prefix": "54.239.0.0/16", "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"},
        {"ip_prefix": "54.239.1.0/28", "region": "ca-central-1", "service": "AMAZON", "network_border_group": "ca-central-1"}
      ],
      "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"}
      ]
    }"#;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn label(ranges: &AwsRanges, addr: &str) -> Option<String> {
        ranges.label(ip(addr)).map(|l| l.text())
    }

    #[test]
    fn the_longest_prefix_naming_a_service_labels_an_address() {
        let r = AwsRanges::from_aws_json(SAMPLE).unwrap();
        assert_eq!(label(&r, "52.216.8.1").as_deref(), Some("S3 us-east-1"));
        // S3 space also listed as EC2: S3 is what it is.
        assert_eq!(label(&r, "3.5.0.10").as_deref(), Some("S3 us-east-1"));
        // A longer AMAZON-only prefix does not hide the service of a shorter one.
        assert_eq!(label(&r, "3.216.34.172").as_deref(), Some("EC2 us-east-1"));
        // Only AMAZON: the longest prefix decides the region.
        assert_eq!(
            label(&r, "54.239.1.1").as_deref(),
            Some("Amazon ca-central-1")
        );
        assert_eq!(label(&r, "54.239.9.9").as_deref(), Some("Amazon GLOBAL"));
        assert_eq!(
            label(&r, "2600:1f18:1234:2::5").as_deref(),
            Some("EC2 us-east-1")
        );
        assert_eq!(label(&r, "203.0.113.5"), None);
        assert_eq!(label(&r, "2001:db8::1"), None);
    }

    #[test]
    fn the_stored_form_round_trips_and_keeps_the_date() {
        let r = AwsRanges::from_aws_json(SAMPLE).unwrap();
        let stored = r.to_stored().unwrap();
        let back = AwsRanges::from_stored(&stored).unwrap();
        assert_eq!(back.create_date, "2026-08-22-21-17-05");
        assert_eq!(back.sync_token, "1787433425");
        assert_eq!(back.len(), r.len());
        for addr in ["52.216.8.1", "3.216.34.172", "54.239.1.1", "2600:1f18::1"] {
            assert_eq!(label(&back, addr), label(&r, addr), "{addr}");
        }
        assert_eq!(back.to_stored().unwrap(), stored);
    }

    #[test]
    fn the_bundled_copy_reads_and_is_dated() {
        let r = AwsRanges::from_stored(BUNDLED).unwrap();
        assert_eq!(r.create_date, "2026-08-22-21-17-05");
        assert!(r.len() > 10_000, "{}", r.len());
        assert_eq!(label(&r, "52.216.8.1").as_deref(), Some("S3 us-east-1"));
        assert_eq!(
            label(&r, "52.94.24.10").as_deref(),
            Some("DynamoDB eu-west-1")
        );
    }

    #[test]
    fn files_that_are_not_ranges_are_refused_with_the_reason() {
        let not_json = AwsRanges::from_aws_json("{").unwrap_err();
        assert!(not_json.to_string().starts_with("not AWS's ip-ranges.json"));
        let no_date = AwsRanges::from_aws_json(r#"{"createDate": "", "prefixes": []}"#);
        assert!(matches!(no_date, Err(RangesError::NoDate)));
        let bad = AwsRanges::from_stored(b"# createDate x\n1.2.3.0/24 us-east-1\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "line 2: `1.2.3.0/24 us-east-1` is not `<prefix> <region> <SERVICES>`"
        );
    }
}
