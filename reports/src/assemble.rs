//! Turns the merged tally of a whole input into a `Report`: decides the leg rule the input
//! allowed, builds the tables, prices the services, and writes down what the reader must know
//! (notes) and what makes the numbers incomplete (warnings).

use crate::error::ReportError;
use crate::legs::LegRule;
use crate::model::{
    FileFailure, LogStatusCounts, RecordsByLeg, Report, SCHEMA_VERSION, Summary, Window,
};
use crate::options::ReportOptions;
use crate::prices::round_money;
use crate::tables;
use crate::tally::{Example, Tally};
use crate::time::iso_utc;
use crate::units::grouped;

/// Builds the report from everything read. `failures` are the files that could not be read,
/// in input order; `default_has_pkt` says whether the default format has pkt-* fields (it
/// decides the rule when nothing could be read).
pub(crate) fn assemble(
    mut tally: Tally,
    failures: Vec<FileFailure>,
    opts: &ReportOptions,
    default_has_pkt: bool,
) -> Result<Report, ReportError> {
    let plain = tally.resolve_untranslated();
    let s = &tally.stats;
    let (leg_rule, rules) = leg_rule(&tally, plain, opts, default_has_pkt);
    let flows = &tally.counted;
    let totals = flows.totals();
    let grand_total = totals.total();

    // The tables read the same maps and nothing else: built side by side, as this runs after
    // all reading, on one core unless split.
    let services_seen = &tally.services;
    let ((talkers, sources), (destinations, (services, timeline))) = rayon::join(
        || {
            rayon::join(
                || tables::talkers(flows, services_seen, opts.top, grand_total),
                || tables::sources(flows, opts.top, grand_total),
            )
        },
        || {
            rayon::join(
                || tables::destinations(flows, opts.top, grand_total),
                || {
                    rayon::join(
                        || tables::services(flows, services_seen, &opts.prices),
                        || tables::timeline(flows),
                    )
                },
            )
        },
    );
    let (talkers, sources, destinations) = (talkers?, sources?, destinations?);
    let (services, timeline) = (services?, timeline?);

    let mut warnings = Vec::new();
    if !failures.is_empty() {
        warnings.push(format!(
            "{} file(s) could not be read (see files_failed); the report covers the others",
            failures.len()
        ));
    }
    if s.status_skipdata > 0 {
        warnings.push(format!(
            "{} SKIPDATA record(s): AWS skipped flow-log records during capture, so this report is a lower bound",
            grouped(s.status_skipdata)
        ));
    }
    if s.malformed > 0 {
        warnings.push(format!(
            "{} malformed line(s) skipped; the first {} are listed under malformed_examples",
            grouped(s.malformed),
            s.examples.len()
        ));
    }
    for rule in &rules {
        match rule {
            LegRule::AllRecords => warnings.push(
                "the log format has no pkt-srcaddr/pkt-dstaddr fields and no NAT IP is known (--nat-ip): every record was counted, so totals may count both legs of each NAT connection".to_string(),
            ),
            LegRule::NatIps => warnings.push(
                "the log format has no pkt-* fields: the VPC side was found by the NAT IP(s), and remote addresses are unknown (talkers show internal hosts only; no destinations)".to_string(),
            ),
            LegRule::Plain => warnings.push(
                "no address translation in any record and no NAT IP known: records were counted as plain conversations; if these are a NAT gateway's records, pass --nat-ip".to_string(),
            ),
            LegRule::PktFields | LegRule::Mixed => {}
        }
    }
    if rules.len() > 1 {
        warnings.push(format!(
            "files needed different leg rules: {} with pkt-* fields, {} by NAT IP, {} counting all records",
            s.files_pkt, s.files_nat_ips, s.files_all_records
        ));
    }
    if s.legs.unattributed > 0 {
        warnings.push(format!(
            "{} record(s) could not be attributed to a conversation (no addresses, both addresses translated, or no NAT IP among them)",
            grouped(s.legs.unattributed)
        ));
    }
    if s.records == 0 && s.malformed == 0 && failures.is_empty() {
        warnings.push("no flow-log records in the input".to_string());
    }
    if let Some(prices) = opts.prices.warning() {
        warnings.push(prices);
    }

    let p = &opts.prices;
    let notes = vec![
        "1 GB = 10^9 bytes (as AWS bills)".to_string(),
        format!(
            "NAT data processing: ${}/GB in {}, charged on bytes in both directions",
            p.nat_per_gb, p.region
        ),
        format!(
            "interface-endpoint savings count its ${}/GB only; its hourly charge (${} per AZ-hour, about ${:.2} per AZ per month) is not included",
            p.interface_endpoint_per_gb,
            p.interface_endpoint_per_az_hour,
            p.interface_endpoint_per_az_hour * 730.0
        ),
        "REJECT records are not in the tables: the NAT never processed their bytes".to_string(),
    ];

    let window = match (s.first_time, s.last_time) {
        (Some(start), Some(end)) => Some(Window {
            start: iso_utc(start),
            end: iso_utc(end),
            start_unix: start,
            end_unix: end,
        }),
        _ => None,
    };
    let endpoint_saving: f64 = services.iter().map(|svc| svc.saving_usd).sum();
    let summary = Summary {
        files_read: s.files_read,
        files_failed: failures,
        records_read: s.records,
        log_status: LogStatusCounts {
            ok: s.status_ok,
            nodata: s.status_nodata,
            skipdata: s.status_skipdata,
            not_in_format: s.status_absent,
        },
        malformed_lines: s.malformed,
        malformed_examples: s.examples.iter().map(Example::listed).collect(),
        reject_records: s.reject_records,
        reject_bytes: s.reject_bytes,
        records_by_leg: RecordsByLeg {
            vpc_outbound: s.legs.vpc_outbound,
            vpc_reply: s.legs.vpc_reply,
            internet: s.legs.internet,
            direct: s.legs.direct,
            unattributed: s.legs.unattributed,
        },
        window,
        bytes_out: totals.out,
        bytes_in: totals.inn,
        bytes_total: grand_total,
        bytes_all_records: s.bytes_all_records,
        conversations: flows.conversation_count() as u64,
        nat_cost_usd: round_money(p.nat_cost(grand_total)),
        endpoint_saving_usd: round_money(endpoint_saving),
        leg_rule,
        leg_rule_explanation: leg_rule.explanation().to_string(),
        gb: "10^9 bytes".to_string(),
        prices: p.clone(),
        top: opts.top,
        notes,
        warnings,
    };
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        summary,
        talkers,
        sources,
        destinations,
        services,
        timeline,
        coverage: None,
        attribution: None,
        cross_az: None,
        month: None,
        remote_names: None,
        remediation: Default::default(),
        recording_cost: None,
        nat_metrics: None,
    })
}

/// The report's leg rule and every rule some file needed.
fn leg_rule(
    tally: &Tally,
    plain: bool,
    opts: &ReportOptions,
    default_has_pkt: bool,
) -> (LegRule, Vec<LegRule>) {
    let s = &tally.stats;
    let mut rules = Vec::new();
    if s.files_pkt > 0 {
        rules.push(if plain {
            LegRule::Plain
        } else {
            LegRule::PktFields
        });
    }
    if s.files_nat_ips > 0 {
        rules.push(LegRule::NatIps);
    }
    if s.files_all_records > 0 {
        rules.push(LegRule::AllRecords);
    }
    let rule = match rules.as_slice() {
        [] => match (default_has_pkt, opts.nat_ips.is_empty()) {
            (true, true) => LegRule::Plain,
            (true, false) => LegRule::PktFields,
            (false, false) => LegRule::NatIps,
            (false, true) => LegRule::AllRecords,
        },
        [one] => *one,
        _ => LegRule::Mixed,
    };
    (rule, rules)
}
