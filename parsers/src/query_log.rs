//! Route 53 Resolver query logs: one JSON object per DNS query a VPC's resolver answered, as
//! Resolver writes them to CloudWatch Logs, to S3 (gzip, one object a line) and as AWS's
//! documentation prints them (one object over several lines). The report joins their answers to
//! flow records to name remote addresses; this module only reads them.
//!
//! A reader takes JSON Lines, concatenated or pretty-printed objects, and CloudWatch Logs export
//! lines (`<event timestamp> <object>`, as nat-flowrec's own export writes them after its `#`
//! header), gzip or plain (by magic bytes). A line that is not a
//! query-log object is counted, not fatal: a file of someone else's logs still names what it can.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use crate::read::timestamp::parse_rfc3339_ms;

/// An object spread over more lines than this is not waited for: the lines are malformed.
const MAX_LINES_PER_OBJECT: usize = 200;

/// One query and its answers, with the fields AWS documents (`version` 1.x).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QueryLogRecord {
    pub version: String,
    pub account_id: String,
    pub region: String,
    pub vpc_id: String,
    /// ISO 8601, UTC (`2021-02-04T17:51:55Z`).
    pub query_timestamp: String,
    /// The name the client asked for, as sent (a final dot, any case).
    pub query_name: String,
    pub query_type: String,
    pub query_class: String,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, ...
    pub rcode: String,
    /// Every record of the answer, CNAMEs of the chain included, in order.
    pub answers: Vec<Answer>,
    /// The address that asked.
    pub srcaddr: String,
    #[serde(deserialize_with = "text_or_number")]
    pub srcport: String,
    pub transport: String,
    pub srcids: SourceIds,
}

/// One resource record of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Answer {
    #[serde(rename = "Rdata")]
    pub rdata: String,
    #[serde(rename = "Type")]
    pub rtype: String,
    #[serde(rename = "Class")]
    pub class: String,
}

/// What sent the query: an instance, or a Resolver inbound endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SourceIds {
    pub instance: Option<String>,
    pub resolver_endpoint: Option<String>,
}

/// AWS writes `srcport` as text; a number is accepted too.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Text(String),
        Number(u64),
    }
    Ok(match Option::<Port>::deserialize(d)? {
        Some(Port::Text(t)) => t,
        Some(Port::Number(n)) => n.to_string(),
        None => String::new(),
    })
}

impl QueryLogRecord {
    /// When the query was asked, in Unix seconds; `None` when the timestamp is not ISO 8601.
    pub fn time_unix(&self) -> Option<i64> {
        parse_rfc3339_ms(self.query_timestamp.as_bytes()).map(|ms| ms.div_euclid(1000))
    }

    /// Whether the resolver answered (`NOERROR`); other codes carry no usable address.
    pub fn answered(&self) -> bool {
        self.rcode.eq_ignore_ascii_case("NOERROR")
    }

    /// The asked name in lower case, without the final dot. A CNAME chain in the answers leads
    /// back to this name: it is the one the client used, whatever the chain's last target.
    pub fn name(&self) -> String {
        self.query_name.trim_end_matches('.').to_ascii_lowercase()
    }

    /// The asking address, when it is one.
    pub fn client(&self) -> Option<IpAddr> {
        self.srcaddr.trim().parse().ok()
    }

    /// The addresses of the answer's `A` and `AAAA` records.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.answers
            .iter()
            .filter(|a| a.rtype == "A" || a.rtype == "AAAA")
            .filter_map(|a| a.rdata.trim().parse().ok())
    }
}

/// A query-log file that could not be read (its malformed lines are counted, not errors).
#[derive(Debug, thiserror::Error)]
#[error("{file}: {source}")]
pub struct QueryLogError {
    pub file: String,
    #[source]
    pub source: io::Error,
}

/// What reading one or more query-log files found besides the records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryLogStats {
    pub records: u64,
    /// Lines (or groups of lines) that hold no query-log object.
    pub malformed: u64,
}

/// Reads every query-log record of the file at `path` (gzip or plain) into `each`.
pub fn read_query_log_file(
    path: &Path,
    each: impl FnMut(QueryLogRecord),
) -> Result<QueryLogStats, QueryLogError> {
    let name = path.display().to_string();
    let error = |source| QueryLogError {
        file: name.clone(),
        source,
    };
    let file = File::open(path).map_err(error)?;
    read_query_logs(file, each).map_err(error)
}

/// Reads every query-log record of `input` (gzip or plain, by its first bytes) into `each`.
pub fn read_query_logs(
    input: impl Read,
    mut each: impl FnMut(QueryLogRecord),
) -> io::Result<QueryLogStats> {
    let mut buffered = BufReader::new(input);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let lines: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    };
    let mut stats = QueryLogStats::default();
    let mut pending = String::new();
    let mut pending_lines = 0usize;
    for line in lines.split(b'\n') {
        // A line that is not UTF-8 holds no record; the file's other lines still count.
        let Ok(line) = String::from_utf8(line?) else {
            stats.malformed += 1;
            continue;
        };
        let text = if pending.is_empty() {
            object_start(&line)
        } else {
            line.as_str()
        };
        // Blank lines, and the `#` header of nat-flowrec's own export of a recording's queries.
        if pending.is_empty() && (text.trim().is_empty() || text.starts_with('#')) {
            continue;
        }
        pending.push_str(text);
        pending.push('\n');
        pending_lines += 1;
        match serde_json::from_str::<QueryLogRecord>(&pending) {
            Ok(record) => {
                stats.records += 1;
                each(record);
            }
            // An object printed over several lines: wait for its end.
            Err(e) if e.is_eof() && pending_lines < MAX_LINES_PER_OBJECT => continue,
            Err(_) => stats.malformed += 1,
        }
        pending.clear();
        pending_lines = 0;
    }
    if !pending.trim().is_empty() {
        stats.malformed += 1;
    }
    Ok(stats)
}

/// The object on a line, past a CloudWatch Logs export's event timestamp when there is one.
fn object_start(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        return trimmed;
    }
    match trimmed.split_once(' ') {
        Some((_, rest)) if rest.trim_start().starts_with('{') => rest.trim_start(),
        _ => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example (Route 53 Developer Guide, "Resolver query log example").
    const AWS_EXAMPLE: &str = r#"
      {
        "srcaddr": "4.5.64.102",
        "vpc_id": "vpc-7example",
        "answers": [
            {
                "Rdata": "203.0.113.9",
                "Type": "PTR",
                "Class": "IN"
            }
        ],
        "firewall_rule_group_id": "rslvr-frg-01234567890abcdef",
        "firewall_rule_action": "BLOCK",
        "query_name": "15.3.4.32.in-addr.arpa.",
        "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef",
        "query_class": "IN",
        "srcids": {
            "instance": "i-0d15cd0d3example"
        },
        "rcode": "NOERROR",
        "query_type": "PTR",
        "transport": "UDP",
        "version": "1.100000",
        "account_id": "111122223333",
        "srcport": "56067",
        "query_timestamp": "2021-02-04T17:51:55Z",
        "region": "us-east-1"
    }
"#;

    fn read(text: &[u8]) -> (Vec<QueryLogRecord>, QueryLogStats) {
        let mut records = Vec::new();
        let stats = read_query_logs(text, |r| records.push(r)).unwrap();
        (records, stats)
    }

    #[test]
    fn the_documented_example_reads_over_its_many_lines() {
        let (records, stats) = read(AWS_EXAMPLE.as_bytes());
        assert_eq!(
            stats,
            QueryLogStats {
                records: 1,
                malformed: 0
            }
        );
        let r = &records[0];
        assert_eq!(r.srcaddr, "4.5.64.102");
        assert_eq!(r.srcport, "56067");
        assert_eq!(r.srcids.instance.as_deref(), Some("i-0d15cd0d3example"));
        assert_eq!(r.time_unix(), Some(1_612_461_115));
        assert_eq!(r.name(), "15.3.4.32.in-addr.arpa");
        assert!(r.answered());
        // A PTR answer holds no address to join on.
        assert_eq!(r.addresses().count(), 0);
    }

    #[test]
    fn json_lines_export_lines_and_gzip_read_alike() {
        let line = r#"{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"registry-1.docker.io.","query_type":"A","rcode":"NOERROR","answers":[{"Rdata":"registry.lb.docker.io.","Type":"CNAME","Class":"IN"},{"Rdata":"3.216.34.172","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.5","srcport":53001}"#;
        let text = format!("{line}\n2021-02-04T17:51:56.000Z {line}\nnot json\n\n{line}\n");
        let (records, stats) = read(text.as_bytes());
        assert_eq!(
            stats,
            QueryLogStats {
                records: 3,
                malformed: 1
            }
        );
        assert_eq!(records[1].srcport, "53001");
        let addrs: Vec<IpAddr> = records[0].addresses().collect();
        assert_eq!(addrs, ["3.216.34.172".parse::<IpAddr>().unwrap()]);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let (from_gzip, gz_stats) = read(&gz.finish().unwrap());
        assert_eq!((from_gzip, gz_stats), (records, stats));
    }

    #[test]
    fn a_line_that_is_not_utf8_is_counted_and_the_rest_read() {
        let mut text = b"\xff\xfe not text\n".to_vec();
        text.extend_from_slice(br#"{"query_name": "a.example.", "rcode": "NOERROR"}"#);
        let (records, stats) = read(&text);
        assert_eq!(
            stats,
            QueryLogStats {
                records: 1,
                malformed: 1
            }
        );
        assert_eq!(records[0].name(), "a.example");
    }

    #[test]
    fn an_unterminated_object_is_one_malformed_entry() {
        let (records, stats) = read(b"{\"query_name\": \"a.example.\",\n");
        assert!(records.is_empty());
        assert_eq!(stats.malformed, 1);
    }

    #[test]
    fn nat_flowrecs_own_dns_export_reads_back_without_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::DNS_EXPORT_FILE);
        let meta = crate::DnsExportMeta {
            recording_id: "rec-1".into(),
            vpc_id: "vpc-1".into(),
            log_group: "/nat-flowrec/dns-queries".into(),
            reused: false,
            window_start: 1_714_557_600,
            window_end: 1_714_558_200,
        };
        let mut writer = crate::ExportWriter::create_dns(&path, &meta).unwrap();
        for name in ["a.example.", "b.example."] {
            let record =
                format!(r#"{{"vpc_id": "vpc-1", "query_name": "{name}", "rcode": "NOERROR"}}"#);
            writer.write_event(1_714_557_660_000, &record).unwrap();
        }
        writer.finish().unwrap();
        let mut names = Vec::new();
        let stats = read_query_log_file(&path, |r| names.push(r.name())).unwrap();
        assert_eq!(
            stats,
            QueryLogStats {
                records: 2,
                malformed: 0
            }
        );
        assert_eq!(names, ["a.example", "b.example"]);
    }
}
