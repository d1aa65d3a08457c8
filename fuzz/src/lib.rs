//! What the parser targets share: the log formats every line is tried in.

use std::sync::OnceLock;

use nat_flowrec_parsers::{Field, LogFormat};

/// nat-flowrec's default format, AWS's default v2 format and a format with every known field.
pub fn formats() -> &'static [LogFormat; 3] {
    static FORMATS: OnceLock<[LogFormat; 3]> = OnceLock::new();
    FORMATS.get_or_init(|| {
        let every: Vec<String> = nat_flowrec_parsers::KNOWN_FIELDS
            .iter()
            .map(|f: &Field| format!("${{{}}}", f.name()))
            .collect();
        [
            LogFormat::default(),
            LogFormat::aws_default_v2(),
            LogFormat::parse(&every.join(" ")).expect("every known field is a valid format"),
        ]
    })
}
