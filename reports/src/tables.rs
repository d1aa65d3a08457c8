//! The report's tables, built as polars `DataFrame`s from the merged tallies: one row per
//! distinct key, sorted with the documented tie-breaks, cut to the top N, with each row's share
//! of all counted bytes. Polars is the table layer only; records never reach it.
//!
//! Tie-breaks compare addresses as text (so `10.0.1.10` sorts before `10.0.1.5`), as the CSV
//! contract says: a consumer can reproduce the order with a plain string sort.

use std::net::IpAddr;

use hashbrown::HashMap;
use polars::prelude::*;

use crate::error::ReportError;
use crate::model::{Destination, Minute, ServiceUse, Source, Talker};
use crate::prices::{EndpointKind, Prices, round_money};
use crate::tally::{Flows, InOut, Services};
use crate::time::iso_utc;

/// Shares are rounded to this many decimals.
const SHARE_DECIMALS: f64 = 100.0;

type TableResult<T> = Result<T, ReportError>;

fn err(table: &'static str) -> impl Fn(PolarsError) -> ReportError {
    move |source| ReportError::Table { table, source }
}

/// Sorts by `by` (descending where `descending` says; nulls last) and cuts to `top`. Every
/// table's sort columns include its whole key, so the order is total: hash-map iteration order
/// never shows in an output.
fn sort_top(
    df: DataFrame,
    by: &[&str],
    descending: &[bool],
    top: usize,
) -> PolarsResult<DataFrame> {
    let options = SortMultipleOptions::new()
        .with_order_descending_multi(descending.iter().copied())
        .with_nulls_last(true)
        .with_maintain_order(true)
        .with_multithreaded(false);
    let sorted = df.sort(by.iter().copied(), options)?;
    Ok(if top == 0 {
        sorted
    } else {
        sorted.head(Some(top))
    })
}

/// Adds `share_pct`: `bytes_total` as a percentage of `grand_total`.
fn add_share(df: &mut DataFrame, grand_total: u64) -> PolarsResult<()> {
    let factor = if grand_total == 0 {
        0.0
    } else {
        100.0 / grand_total as f64
    };
    let total = df
        .column("bytes_total")?
        .cast(&DataType::Float64)?
        .as_materialized_series()
        .clone();
    let mut share = &total * factor;
    share.rename("share_pct".into());
    df.with_column(share.into_column())?;
    Ok(())
}

fn round_share(x: Option<f64>) -> f64 {
    (x.unwrap_or(0.0) * SHARE_DECIMALS).round() / SHARE_DECIMALS
}

fn u64s<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = u64> + 'a> {
    Ok(df.column(name)?.u64()?.iter().map(|v| v.unwrap_or(0)))
}

fn f64s<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = Option<f64>> + 'a> {
    Ok(df.column(name)?.f64()?.iter())
}

fn strs<'a>(
    df: &'a DataFrame,
    name: &str,
) -> PolarsResult<impl Iterator<Item = Option<&'a str>> + 'a> {
    Ok(df.column(name)?.str()?.iter())
}

/// Byte columns shared by the tables.
struct ByteColumns {
    out: Vec<u64>,
    inn: Vec<u64>,
    total: Vec<u64>,
}

impl ByteColumns {
    fn with_capacity(n: usize) -> Self {
        ByteColumns {
            out: Vec::with_capacity(n),
            inn: Vec::with_capacity(n),
            total: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, b: InOut) {
        self.out.push(b.out);
        self.inn.push(b.inn);
        self.total.push(b.total());
    }

    fn into_columns(self) -> [Column; 3] {
        [
            Column::new("bytes_out".into(), self.out),
            Column::new("bytes_in".into(), self.inn),
            Column::new("bytes_total".into(), self.total),
        ]
    }
}

/// The smallest `bytes_total` a row needs to be among the `top` largest (0 = every row): the
/// `top`-th largest total. Rows at exactly that total are all kept, so the tie-break by address
/// still sees every candidate and the table is the one a full sort would give.
fn top_floor(totals: impl Iterator<Item = u64>, top: usize) -> u64 {
    if top == 0 {
        return 0;
    }
    let mut totals: Vec<u64> = totals.collect();
    if totals.len() <= top {
        return 0;
    }
    let (_, floor, _) = totals.select_nth_unstable_by(top - 1, |a, b| b.cmp(a));
    *floor
}

/// Talkers: internal <-> remote, by bytes_total desc, then internal_addr, remote_addr (text).
pub(crate) fn talkers(
    flows: &Flows,
    services: &Services,
    top: usize,
    grand_total: u64,
) -> TableResult<Vec<Talker>> {
    build_talkers(flows, services, top, grand_total).map_err(err("talkers"))
}

fn build_talkers(
    flows: &Flows,
    services: &Services,
    top: usize,
    grand_total: u64,
) -> PolarsResult<Vec<Talker>> {
    // Only conversations that can make the top need a row: hundreds of thousands of address
    // strings would cost more than the whole read.
    let floor = top_floor(flows.each_conversation().map(|(_, c)| c.bytes.total()), top);
    let kept = || {
        flows
            .each_conversation()
            .filter(move |(_, conv)| conv.bytes.total() >= floor)
    };
    let n = kept().count();
    let mut internal = Vec::with_capacity(n);
    let mut remote: Vec<Option<String>> = Vec::with_capacity(n);
    let mut service: Vec<Option<String>> = Vec::with_capacity(n);
    let mut bytes = ByteColumns::with_capacity(n);
    for ((int, rem), conv) in kept() {
        internal.push(int.to_string());
        remote.push(rem.map(|r| r.to_string()));
        service.push(
            conv.service
                .and_then(|id| services.name(id))
                .map(str::to_string),
        );
        bytes.push(conv.bytes);
    }
    let [out, inn, total] = bytes.into_columns();
    let df = DataFrame::new_infer_height(vec![
        Column::new("internal_addr".into(), internal),
        Column::new("remote_addr".into(), remote),
        Column::new("remote_aws_service".into(), service),
        out,
        inn,
        total,
    ])?;
    let mut df = sort_top(
        df,
        &["bytes_total", "internal_addr", "remote_addr"],
        &[true, false, false],
        top,
    )?;
    add_share(&mut df, grand_total)?;
    let rows = strs(&df, "internal_addr")?
        .zip(strs(&df, "remote_addr")?)
        .zip(strs(&df, "remote_aws_service")?)
        .zip(u64s(&df, "bytes_out")?)
        .zip(u64s(&df, "bytes_in")?)
        .zip(u64s(&df, "bytes_total")?)
        .zip(f64s(&df, "share_pct")?)
        .enumerate()
        .map(
            |(i, ((((((int, rem), svc), out), inn), total), share))| Talker {
                rank: i as u64 + 1,
                internal_addr: int.unwrap_or_default().to_string(),
                remote_addr: rem.map(str::to_string),
                remote_aws_service: svc.map(str::to_string),
                bytes_out: out,
                bytes_in: inn,
                bytes_total: total,
                share_pct: round_share(share),
                owner: None,
                az: None,
                remote_name: None,
            },
        )
        .collect();
    Ok(rows)
}

/// Sources: internal hosts, by bytes_total desc, then internal_addr (text).
pub(crate) fn sources(flows: &Flows, top: usize, grand_total: u64) -> TableResult<Vec<Source>> {
    build_sources(flows, top, grand_total).map_err(err("sources"))
}

fn build_sources(flows: &Flows, top: usize, grand_total: u64) -> PolarsResult<Vec<Source>> {
    let mut hosts: HashMap<IpAddr, (InOut, u64)> = HashMap::new();
    for ((internal, _), conv) in flows.each_conversation() {
        let (bytes, convs) = hosts.entry(internal).or_default();
        bytes.out = bytes.out.saturating_add(conv.bytes.out);
        bytes.inn = bytes.inn.saturating_add(conv.bytes.inn);
        *convs += 1;
    }
    let mut internal = Vec::with_capacity(hosts.len());
    let mut convs = Vec::with_capacity(hosts.len());
    let mut bytes = ByteColumns::with_capacity(hosts.len());
    for (host, (b, c)) in hosts.iter() {
        internal.push(host.to_string());
        convs.push(*c);
        bytes.push(*b);
    }
    let [out, inn, total] = bytes.into_columns();
    let df = DataFrame::new_infer_height(vec![
        Column::new("internal_addr".into(), internal),
        out,
        inn,
        total,
        Column::new("conversations".into(), convs),
    ])?;
    let mut df = sort_top(df, &["bytes_total", "internal_addr"], &[true, false], top)?;
    add_share(&mut df, grand_total)?;
    let rows = strs(&df, "internal_addr")?
        .zip(u64s(&df, "bytes_out")?)
        .zip(u64s(&df, "bytes_in")?)
        .zip(u64s(&df, "bytes_total")?)
        .zip(u64s(&df, "conversations")?)
        .zip(f64s(&df, "share_pct")?)
        .enumerate()
        .map(|(i, (((((int, out), inn), total), convs), share))| Source {
            rank: i as u64 + 1,
            internal_addr: int.unwrap_or_default().to_string(),
            bytes_out: out,
            bytes_in: inn,
            bytes_total: total,
            conversations: convs,
            share_pct: round_share(share),
            owner: None,
            az: None,
        })
        .collect();
    Ok(rows)
}

/// Destinations: remote address + port + protocol, by bytes_total desc, then address (text),
/// port, protocol.
pub(crate) fn destinations(
    flows: &Flows,
    top: usize,
    grand_total: u64,
) -> TableResult<Vec<Destination>> {
    build_destinations(flows, top, grand_total).map_err(err("destinations"))
}

fn build_destinations(
    flows: &Flows,
    top: usize,
    grand_total: u64,
) -> PolarsResult<Vec<Destination>> {
    // As for talkers: only the destinations that can make the top.
    let floor = top_floor(flows.each_destination().map(|(_, b)| b.total()), top);
    let kept = || {
        flows
            .each_destination()
            .filter(move |(_, b)| b.total() >= floor)
    };
    let n = kept().count();
    let mut addr = Vec::with_capacity(n);
    let mut port: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut proto: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut bytes = ByteColumns::with_capacity(n);
    for ((a, p, pr), b) in kept() {
        addr.push(a.to_string());
        port.push(p.map(u32::from));
        proto.push(pr.map(u32::from));
        bytes.push(*b);
    }
    let [out, inn, total] = bytes.into_columns();
    let df = DataFrame::new_infer_height(vec![
        Column::new("remote_addr".into(), addr),
        Column::new("port".into(), port),
        Column::new("protocol".into(), proto),
        out,
        inn,
        total,
    ])?;
    let mut df = sort_top(
        df,
        &["bytes_total", "remote_addr", "port", "protocol"],
        &[true, false, false, false],
        top,
    )?;
    add_share(&mut df, grand_total)?;
    let ports = df.column("port")?.u32()?.iter();
    let protos = df.column("protocol")?.u32()?.iter();
    let rows = strs(&df, "remote_addr")?
        .zip(ports)
        .zip(protos)
        .zip(u64s(&df, "bytes_out")?)
        .zip(u64s(&df, "bytes_in")?)
        .zip(u64s(&df, "bytes_total")?)
        .zip(f64s(&df, "share_pct")?)
        .enumerate()
        .map(
            |(i, ((((((a, p), pr), out), inn), total), share))| Destination {
                rank: i as u64 + 1,
                remote_addr: a.unwrap_or_default().to_string(),
                port: p.and_then(|p| u16::try_from(p).ok()),
                protocol: pr.and_then(|p| u8::try_from(p).ok()).map(protocol_name),
                bytes_out: out,
                bytes_in: inn,
                bytes_total: total,
                share_pct: round_share(share),
                remote_name: None,
            },
        )
        .collect();
    Ok(rows)
}

/// IANA protocol name for the common ones, else the number.
pub fn protocol_name(proto: u8) -> String {
    match proto {
        1 => "ICMP".to_string(),
        6 => "TCP".to_string(),
        17 => "UDP".to_string(),
        58 => "ICMPv6".to_string(),
        n => n.to_string(),
    }
}

/// Services reached through the NAT, by bytes_total desc, then name; every service is listed.
pub(crate) fn services(
    flows: &Flows,
    services: &Services,
    prices: &Prices,
) -> TableResult<Vec<ServiceUse>> {
    build_services(flows, services, prices).map_err(err("services"))
}

fn build_services(
    flows: &Flows,
    names: &Services,
    prices: &Prices,
) -> PolarsResult<Vec<ServiceUse>> {
    let mut by_name: HashMap<&str, InOut> = HashMap::new();
    for (_, conv) in flows.each_conversation() {
        if let Some(name) = conv.service.and_then(|id| names.name(id)) {
            let b = by_name.entry(name).or_default();
            b.out = b.out.saturating_add(conv.bytes.out);
            b.inn = b.inn.saturating_add(conv.bytes.inn);
        }
    }
    let mut service = Vec::with_capacity(by_name.len());
    let mut bytes = ByteColumns::with_capacity(by_name.len());
    for (name, b) in by_name.iter() {
        service.push(name.to_string());
        bytes.push(*b);
    }
    let [out, inn, total] = bytes.into_columns();
    let df = DataFrame::new_infer_height(vec![
        Column::new("service".into(), service),
        out,
        inn,
        total,
    ])?;
    let df = sort_top(df, &["bytes_total", "service"], &[true, false], 0)?;
    let rows = strs(&df, "service")?
        .zip(u64s(&df, "bytes_out")?)
        .zip(u64s(&df, "bytes_in")?)
        .zip(u64s(&df, "bytes_total")?)
        .map(|(((name, out), inn), total)| {
            let name = name.unwrap_or_default();
            let endpoint = EndpointKind::for_service(name);
            let nat_cost = prices.nat_cost(total);
            let endpoint_cost = prices.endpoint_cost(endpoint, total);
            let saving = endpoint_cost.map_or(0.0, |e| nat_cost - e);
            ServiceUse {
                service: name.to_string(),
                bytes_out: out,
                bytes_in: inn,
                bytes_total: total,
                endpoint,
                nat_cost_usd: round_money(nat_cost),
                endpoint_cost_usd: endpoint_cost.map(round_money),
                saving_usd: round_money(saving),
            }
        })
        .collect();
    Ok(rows)
}

/// Bytes per minute, in time order; every minute that had counted traffic.
pub(crate) fn timeline(flows: &Flows) -> TableResult<Vec<Minute>> {
    build_timeline(flows).map_err(err("timeline"))
}

fn build_timeline(flows: &Flows) -> PolarsResult<Vec<Minute>> {
    let mut minute = Vec::with_capacity(flows.timeline.len());
    let mut bytes = ByteColumns::with_capacity(flows.timeline.len());
    for (m, b) in &flows.timeline {
        minute.push(*m);
        bytes.push(*b);
    }
    let [out, inn, total] = bytes.into_columns();
    let df = DataFrame::new_infer_height(vec![
        Column::new("minute_unix".into(), minute),
        out,
        inn,
        total,
    ])?;
    let df = sort_top(df, &["minute_unix"], &[false], 0)?;
    let minutes = df.column("minute_unix")?.i64()?.iter();
    let rows = minutes
        .zip(u64s(&df, "bytes_out")?)
        .zip(u64s(&df, "bytes_in")?)
        .zip(u64s(&df, "bytes_total")?)
        .map(|(((m, out), inn), total)| {
            let m = m.unwrap_or(0);
            Minute {
                minute: iso_utc(m),
                minute_unix: m,
                bytes_out: out,
                bytes_in: inn,
                bytes_total: total,
            }
        })
        .collect();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::Conversation;

    #[test]
    fn the_top_floor_is_the_nth_largest_total() {
        assert_eq!(top_floor([5, 1, 9, 5, 5, 2].into_iter(), 2), 5);
        assert_eq!(top_floor([5, 1, 9].into_iter(), 1), 9);
        assert_eq!(top_floor([5, 1].into_iter(), 2), 0);
        assert_eq!(top_floor([5, 1, 9].into_iter(), 0), 0);
    }

    #[test]
    fn cutting_to_the_top_keeps_the_full_sorts_order_and_ties() {
        let mut flows = Flows::default();
        for (host, total) in [(1, 300), (5, 100), (3, 100), (4, 100), (2, 50), (6, 300)] {
            let internal: IpAddr = format!("10.0.0.{host}").parse().unwrap();
            let remote: IpAddr = "203.0.113.1".parse().unwrap();
            let conv = Conversation {
                bytes: InOut { out: total, inn: 0 },
                service: None,
            };
            flows.conversations.insert((internal, Some(remote)), conv);
        }
        let names = |top| {
            talkers(&flows, &Services::default(), top, 950)
                .unwrap()
                .into_iter()
                .map(|t| (t.internal_addr, t.bytes_total))
                .collect::<Vec<_>>()
        };
        let all = names(0);
        assert_eq!(all.len(), 6);
        for top in 1..=6 {
            assert_eq!(names(top), all[..top], "top {top}");
        }
        // Ties at the edge are broken by address text, as in the full table.
        assert_eq!(names(3)[2], ("10.0.0.3".to_string(), 100));
    }
}
