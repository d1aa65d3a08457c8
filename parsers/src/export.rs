//! nat-flowrec's export files: what the export step writes for a stopped recording and what the
//! readers read back. A gzip text file: `#` header lines describing the recording (format, NAT,
//! interface, NAT IPs, time window), then one line per CloudWatch event `<epoch-millis> <message>`.
//! Keeping the format and the NAT's IPs beside the records is what lets a report read the legs
//! right without asking AWS again.
//!
//! The writer never leaves a half-written file under the final name: it writes the hidden
//! `.<name>.tmp` beside it (which a folder's report skips, even when a killed export leaves it
//! behind), fsyncs it, and renames it into place in `finish`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::format::LogFormat;

/// First line of every export file; the version is bumped when the layout changes.
pub(crate) const MAGIC: &str = "#nat-flowrec-export";
pub(crate) const VERSION: &str = "v1";

/// What an export file says about its recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportMeta {
    /// The format of every message in the file.
    pub format: LogFormat,
    pub recording_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    /// The AWS region of the NAT gateway: its prices and endpoint names are the region's.
    pub region: Option<String>,
    /// The ENI whose flow log the events came from.
    pub interface_id: Option<String>,
    /// The NAT gateway's private addresses (they decide the leg when the format has no `pkt-*`).
    pub nat_ips: Vec<IpAddr>,
    /// Unix seconds.
    pub window_start: Option<i64>,
    /// Unix seconds.
    pub window_end: Option<i64>,
}

/// First line of a recording's DNS query export (`DnsExportMeta`).
pub(crate) const DNS_MAGIC: &str = "#nat-flowrec-dns-export";

/// The file a recording's DNS queries are exported to, beside its flow-log files. Its events are
/// Route 53 Resolver query-log objects (read by `query_log`), not flow logs: a folder's flow-log
/// report passes it by.
pub const DNS_EXPORT_FILE: &str = "dns-queries.log.gz";

/// What a DNS query export says about its queries: whose, from which group, over which window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsExportMeta {
    pub recording_id: String,
    pub vpc_id: String,
    /// The CloudWatch Logs group the queries were read from.
    pub log_group: String,
    /// The VPC's own query logging (not created for the recording) was read.
    pub reused: bool,
    /// Unix seconds.
    pub window_start: i64,
    pub window_end: i64,
}

impl DnsExportMeta {
    /// The header lines (without newlines) the file starts with; the query reader skips them.
    pub fn header_lines(&self) -> Vec<String> {
        vec![
            format!("{DNS_MAGIC} {VERSION}"),
            format!("#recording {}", self.recording_id),
            format!("#vpc {}", self.vpc_id),
            format!("#log-group {}", self.log_group),
            format!(
                "#source {}",
                if self.reused {
                    "vpc-query-logging"
                } else {
                    "recording"
                }
            ),
            format!("#window {} {}", self.window_start, self.window_end),
        ]
    }
}

impl ExportMeta {
    /// The header lines (without newlines) a file with this meta starts with.
    pub fn header_lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("{MAGIC} {VERSION}"),
            format!("#format {}", self.format),
        ];
        if let Some(id) = &self.recording_id {
            lines.push(format!("#recording {id}"));
        }
        if let Some(id) = &self.nat_gateway_id {
            lines.push(format!("#nat-gateway {id}"));
        }
        if let Some(region) = &self.region {
            lines.push(format!("#region {region}"));
        }
        if let Some(id) = &self.interface_id {
            lines.push(format!("#interface {id}"));
        }
        for ip in &self.nat_ips {
            lines.push(format!("#nat-ip {ip}"));
        }
        if self.window_start.is_some() || self.window_end.is_some() {
            let show = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            lines.push(format!(
                "#window {} {}",
                show(self.window_start),
                show(self.window_end)
            ));
        }
        lines
    }

    /// Applies one header line (`#key value...`) to the meta. Unknown keys are ignored, so an
    /// older reader still reads a newer file that only adds keys. `Err` says what is wrong.
    pub(crate) fn apply_header_line(&mut self, line: &str) -> Result<(), String> {
        let body = line.strip_prefix('#').unwrap_or(line).trim_end();
        let (key, value) = body.split_once(' ').unwrap_or((body, ""));
        let value = value.trim();
        let one_word = |what: &str| -> Result<Option<String>, String> {
            if value.is_empty() || value.contains(char::is_whitespace) {
                Err(format!("`#{key}` expects one {what}, found `{value}`"))
            } else {
                Ok(Some(value.to_owned()))
            }
        };
        match key {
            "format" => {
                self.format = LogFormat::parse(value).map_err(|e| format!("`#format`: {e}"))?;
            }
            "recording" => self.recording_id = one_word("recording id")?,
            "nat-gateway" => self.nat_gateway_id = one_word("NAT gateway id (nat-...)")?,
            "region" => self.region = one_word("AWS region (e.g. eu-west-1)")?,
            "interface" => self.interface_id = one_word("network interface id (eni-...)")?,
            "nat-ip" => {
                let ip = value.parse::<IpAddr>().map_err(|_| {
                    format!("`#nat-ip` expects an IPv4 or IPv6 address, found `{value}`")
                })?;
                self.nat_ips.push(ip);
            }
            "window" => {
                let bad = || {
                    format!(
                        "`#window` expects START END in Unix seconds (`-` when unknown), found `{value}`"
                    )
                };
                let mut parts = value.split_whitespace();
                let mut next = || -> Result<Option<i64>, String> {
                    match parts.next() {
                        Some("-") => Ok(None),
                        Some(v) => v.parse::<i64>().map(Some).map_err(|_| bad()),
                        None => Err(bad()),
                    }
                };
                let (start, end) = (next()?, next()?);
                if parts.next().is_some() {
                    return Err(bad());
                }
                self.window_start = start;
                self.window_end = end;
            }
            _ => {}
        }
        Ok(())
    }
}

/// `.<name>.tmp` in `path`'s folder: hidden, so readers of the folder pass it by.
pub fn hidden_tmp(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes one export file; see the module docs for the layout.
pub struct ExportWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<GzEncoder<BufWriter<File>>>,
    events: u64,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Header values are single words: a space or newline would change the file's meaning.
fn check_word(what: &str, value: &Option<String>) -> io::Result<()> {
    match value {
        Some(v) if v.is_empty() || v.contains(char::is_whitespace) => Err(invalid(format!(
            "export: {what} `{v}` must be one word without spaces"
        ))),
        _ => Ok(()),
    }
}

impl ExportWriter {
    /// Starts `path` (written as the hidden `.<name>.tmp` beside it until
    /// [`ExportWriter::finish`]) with `meta`'s header.
    pub fn create(path: impl AsRef<Path>, meta: &ExportMeta) -> io::Result<ExportWriter> {
        check_word("recording id", &meta.recording_id)?;
        check_word("NAT gateway id", &meta.nat_gateway_id)?;
        check_word("region", &meta.region)?;
        check_word("interface id", &meta.interface_id)?;
        ExportWriter::with_header(path, &meta.header_lines())
    }

    /// Starts a DNS query export ([`DNS_EXPORT_FILE`]) with `meta`'s header.
    pub fn create_dns(path: impl AsRef<Path>, meta: &DnsExportMeta) -> io::Result<ExportWriter> {
        for (what, value) in [
            ("recording id", &meta.recording_id),
            ("VPC id", &meta.vpc_id),
            ("log group", &meta.log_group),
        ] {
            check_word(what, &Some(value.clone()))?;
        }
        ExportWriter::with_header(path, &meta.header_lines())
    }

    fn with_header(path: impl AsRef<Path>, header: &[String]) -> io::Result<ExportWriter> {
        let path = path.as_ref().to_path_buf();
        let tmp = hidden_tmp(&path);
        let file = File::create(&tmp)?;
        let mut writer = ExportWriter {
            path,
            tmp,
            out: Some(GzEncoder::new(
                BufWriter::with_capacity(256 * 1024, file),
                Compression::default(),
            )),
            events: 0,
        };
        for line in header {
            writer.write_line(line.as_bytes())?;
        }
        Ok(writer)
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| io::Error::other("export writer already finished"))?;
        out.write_all(line)?;
        out.write_all(b"\n")
    }

    /// Appends one event: its CloudWatch timestamp (Unix milliseconds) and the flow-log message.
    pub fn write_event(&mut self, ts_ms: i64, message: &str) -> io::Result<()> {
        if message.contains(['\n', '\r']) {
            return Err(invalid(format!(
                "export: event at {ts_ms} ms has a line break in its message; a flow-log message is one line"
            )));
        }
        let mut line = Vec::with_capacity(message.len() + 16);
        line.extend_from_slice(ts_ms.to_string().as_bytes());
        line.push(b' ');
        line.extend_from_slice(message.as_bytes());
        self.write_line(&line)?;
        self.events += 1;
        Ok(())
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Completes the gzip stream, fsyncs, and renames the file into place; returns the final path.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("export writer already finished"))?;
        let buffered = out.finish()?;
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.path)?;
        // Make the rename itself durable where the platform allows opening a directory.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(self.path.clone())
    }
}

impl Drop for ExportWriter {
    /// An unfinished export leaves nothing behind: the temporary file is removed.
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ExportMeta {
        ExportMeta {
            format: LogFormat::default(),
            recording_id: Some("rec-20240501T100000Z-nat-0a1b".into()),
            nat_gateway_id: Some("nat-0a1b2c3d4e5f67890".into()),
            region: Some("eu-west-1".into()),
            interface_id: Some("eni-0123456789abcdef0".into()),
            nat_ips: vec![
                "10.0.0.220".parse().expect("ip"),
                "2001:db8::220".parse().expect("ip"),
            ],
            window_start: Some(1714557600),
            window_end: Some(1714561200),
        }
    }

    #[test]
    fn header_lines_parse_back_to_the_same_meta() {
        let original = meta();
        let lines = original.header_lines();
        assert_eq!(
            lines.first().map(String::as_str),
            Some("#nat-flowrec-export v1")
        );
        let mut read = ExportMeta::default();
        for line in lines.iter().skip(1) {
            read.apply_header_line(line).expect("valid header");
        }
        assert_eq!(read, original);
    }

    #[test]
    fn window_may_be_half_known() {
        let mut m = ExportMeta::default();
        m.apply_header_line("#window 1714557600 -").expect("valid");
        assert_eq!((m.window_start, m.window_end), (Some(1714557600), None));
        let lines = m.header_lines();
        assert!(
            lines.contains(&"#window 1714557600 -".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn bad_header_values_say_what_is_valid() {
        let mut m = ExportMeta::default();
        let err = m.apply_header_line("#nat-ip 10.0.0.300").unwrap_err();
        assert!(err.contains("IPv4 or IPv6 address"), "{err}");
        let err = m.apply_header_line("#window soon later").unwrap_err();
        assert!(err.contains("Unix seconds"), "{err}");
        let err = m.apply_header_line("#window 1 2 3").unwrap_err();
        assert!(err.contains("START END"), "{err}");
        let err = m.apply_header_line("#format ${srcaddr").unwrap_err();
        assert!(err.contains("#format"), "{err}");
        let err = m.apply_header_line("#recording two words").unwrap_err();
        assert!(err.contains("one recording id"), "{err}");
        // Keys a later version adds are ignored, not errors.
        assert_eq!(m.apply_header_line("#compression zstd"), Ok(()));
    }

    #[test]
    fn writer_refuses_values_that_would_break_the_layout() {
        let dir = std::env::temp_dir().join(format!("nfr-export-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let mut bad = meta();
        bad.recording_id = Some("two words".into());
        assert!(ExportWriter::create(dir.join("a.log.gz"), &bad).is_err());

        let path = dir.join("b.log.gz");
        let mut w = ExportWriter::create(&path, &meta()).expect("create");
        assert!(w.write_event(1, "line\nbreak").is_err());
        w.write_event(
            1714557600000,
            "ACCEPT ingress - 10.0.1.5 1 10.0.0.220 2 6 3 IPv4 10.0.1.5 - 203.0.113.5 -",
        )
        .expect("event");
        assert_eq!(w.events(), 1);
        // Until finish, only the temporary file exists.
        assert!(!path.exists());
        assert!(dir.join(".b.log.gz.tmp").exists());
        let done = w.finish().expect("finish");
        assert_eq!(done, path);
        assert!(path.exists());
        assert!(!dir.join(".b.log.gz.tmp").exists());

        // Dropped without finish: nothing is left behind.
        let path = dir.join("c.log.gz");
        let w = ExportWriter::create(&path, &meta()).expect("create");
        drop(w);
        assert!(!path.exists());
        assert!(!dir.join(".c.log.gz.tmp").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
