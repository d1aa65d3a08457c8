//! Any text as the address fields of a default-format line, read by the record parser and by
//! the report's fast parser (one parser for all inputs, as a reader uses it): each reads an
//! address exactly as `std`'s `IpAddr::from_str` does (both have their own IPv4 and IPv6
//! readers for speed), and refuses the line exactly when `std` refuses the text.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use nat_flowrec_parsers::LogFormat;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let format = LogFormat::default();
    let parser = format.flow_parser();
    // Several addresses per input, so the parser's cache of recent addresses sees repeats.
    for token in text.split(['\n', ' ']).filter(|t| !t.is_empty() && *t != "-") {
        let want = token.parse::<IpAddr>().ok();
        let line = format!("ACCEPT ingress - {token} 41000 10.0.0.220 443 6 5000 IPv4 {token} - 203.0.113.5 -");
        let record = format.parse_record(&line, 1);
        assert_eq!(record.as_ref().ok().and_then(|r| r.srcaddr), want, "{token:?}");
        assert_eq!(record.is_ok(), want.is_some(), "{token:?}");
        let flow = parser.parse(&line, 1);
        assert_eq!(flow.as_ref().ok().and_then(|f| f.srcaddr), want, "{token:?}");
        assert_eq!(flow.as_ref().ok().and_then(|f| f.pkt_srcaddr), want, "{token:?}");
    }
});
