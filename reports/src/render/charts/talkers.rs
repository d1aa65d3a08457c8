//! Who talked to what: one horizontal bar per internal host of the talkers table (its owner's
//! name when attributed, else its address), biggest first, each split by what it reached
//! through the NAT: an AWS service, or the internet.

use plotters::prelude::*;

use super::{INTERNET, PALETTE, WIDTH, chart_error, legend_and_close, short_label, swatch};
use crate::error::ReportError;
use crate::model::Report;
use crate::units::{human_bytes, service_name};

/// Bars drawn at most.
pub(crate) const MAX_BARS: usize = 10;
/// What a talker reached when its remote end is no AWS service.
pub(crate) const INTERNET_LABEL: &str = "internet";
const NAME: &str = "talkers";
const BAR_HEIGHT: u32 = 34;
const LABEL_CHARS: usize = 30;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TalkerBar {
    pub label: String,
    /// (what it reached, bytes), in the order of `TalkerBars::reached`.
    pub segments: Vec<(String, u64)>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TalkerBars {
    pub bars: Vec<TalkerBar>,
    /// Everything reached, by bytes over the bars, largest first (the legend's order).
    pub reached: Vec<String>,
}

/// The bars of the report's talkers table.
pub(crate) fn talker_bars(report: &Report) -> TalkerBars {
    let mut bars: Vec<TalkerBar> = Vec::new();
    for t in &report.talkers {
        let reached = t
            .remote_aws_service
            .as_deref()
            .map_or(INTERNET_LABEL, service_name)
            .to_owned();
        let label = t.owner.clone().unwrap_or_else(|| t.internal_addr.clone());
        let index = match bars.iter().position(|b| b.label == label) {
            Some(i) => i,
            None => {
                bars.push(TalkerBar {
                    label,
                    segments: Vec::new(),
                    total: 0,
                });
                bars.len() - 1
            }
        };
        let bar = &mut bars[index];
        bar.total += t.bytes_total;
        match bar.segments.iter_mut().find(|(r, _)| *r == reached) {
            Some((_, bytes)) => *bytes += t.bytes_total,
            None => bar.segments.push((reached, t.bytes_total)),
        }
    }
    bars.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.label.cmp(&b.label)));
    bars.truncate(MAX_BARS);
    let mut reached: Vec<(String, u64)> = Vec::new();
    for (name, bytes) in bars.iter().flat_map(|b| b.segments.iter()) {
        match reached.iter_mut().find(|(r, _)| r == name) {
            Some((_, total)) => *total += bytes,
            None => reached.push((name.clone(), *bytes)),
        }
    }
    reached.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let reached: Vec<String> = reached.into_iter().map(|(r, _)| r).collect();
    for bar in &mut bars {
        bar.segments
            .sort_by_key(|(r, _)| reached.iter().position(|x| x == r));
    }
    TalkerBars { bars, reached }
}

/// The colour of what was reached: grey for the internet, the palette for services.
fn colour(reached: &[String], name: &str) -> RGBColor {
    if name == INTERNET_LABEL {
        return INTERNET;
    }
    let services = reached.iter().filter(|r| *r != INTERNET_LABEL);
    let index = services.take_while(|r| *r != name).count();
    PALETTE[index % PALETTE.len()]
}

/// The chart as an SVG document; `None` without talkers.
pub(crate) fn talkers_svg(data: &TalkerBars) -> Result<Option<String>, ReportError> {
    if data.bars.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw(data, &mut svg).map_err(chart_error(NAME))?;
    Ok(Some(svg))
}

fn draw(data: &TalkerBars, svg: &mut String) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let n = data.bars.len();
    let height = 90 + BAR_HEIGHT * n as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let x_max = data.bars.iter().map(|b| b.total).max().unwrap_or(1).max(1) as f64 * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(230)
        .build_cartesian_2d(0.0..x_max, (0..n).into_segmented())
        .map_err(|e| err(&e))?;
    // The biggest talker on top: bar i sits in segment n - 1 - i.
    let labels: Vec<String> = data
        .bars
        .iter()
        .rev()
        .map(|b| short_label(&b.label, LABEL_CHARS))
        .collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_labels(6)
        .x_label_formatter(&|x| human_bytes(x.max(0.0).round() as u64))
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("bytes through the NAT")
        .draw()
        .map_err(|e| err(&e))?;
    for name in &data.reached {
        let color = colour(&data.reached, name);
        let rects = data.bars.iter().enumerate().filter_map(|(i, bar)| {
            let before: u64 = bar
                .segments
                .iter()
                .take_while(|(r, _)| r != name)
                .map(|(_, b)| b)
                .sum();
            let (_, bytes) = bar.segments.iter().find(|(r, _)| r == name)?;
            let slot = n - 1 - i;
            let mut rect = Rectangle::new(
                [
                    (before as f64, SegmentValue::Exact(slot)),
                    ((before + bytes) as f64, SegmentValue::Exact(slot + 1)),
                ],
                color.filled(),
            );
            rect.set_margin(5, 5, 0, 0);
            Some(rect)
        });
        chart
            .draw_series(rects)
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(swatch(color));
    }
    legend_and_close(&mut chart, &root, SeriesLabelPosition::LowerRight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Talker;

    fn talker(internal: &str, service: Option<&str>, bytes: u64, owner: Option<&str>) -> Talker {
        Talker {
            rank: 0,
            internal_addr: internal.into(),
            remote_addr: Some("52.1.2.3".into()),
            remote_aws_service: service.map(str::to_owned),
            bytes_out: bytes,
            bytes_in: 0,
            bytes_total: bytes,
            share_pct: 0.0,
            owner: owner.map(str::to_owned),
            az: None,
            remote_name: None,
        }
    }

    fn report(talkers: Vec<Talker>) -> Report {
        let path = std::path::PathBuf::from("../fixtures/reports/nat-four-legs.log");
        let mut report =
            crate::build_report(&[path], &crate::ReportOptions::default()).expect("fixture");
        report.talkers = talkers;
        report
    }

    #[test]
    fn one_bar_per_host_split_by_what_it_reached() {
        let r = report(vec![
            talker("10.0.1.5", Some("S3"), 500, Some("i-0abc (batch)")),
            talker("10.0.2.9", None, 300, None),
            talker("10.0.1.5", None, 100, Some("i-0abc (batch)")),
            talker("10.0.2.9", Some("S3"), 50, None),
        ]);
        let data = talker_bars(&r);
        assert_eq!(data.reached, ["S3", INTERNET_LABEL]);
        assert_eq!(data.bars.len(), 2);
        assert_eq!(data.bars[0].label, "i-0abc (batch)");
        assert_eq!(data.bars[0].total, 600);
        assert_eq!(
            data.bars[0].segments,
            [("S3".to_owned(), 500), (INTERNET_LABEL.to_owned(), 100)]
        );
        assert_eq!(data.bars[1].label, "10.0.2.9");
        assert_eq!(
            data.bars[1].segments,
            [("S3".to_owned(), 50), (INTERNET_LABEL.to_owned(), 300)]
        );
    }

    #[test]
    fn the_chart_labels_every_bar_and_what_it_reached() {
        let r = report(vec![
            talker("10.0.1.5", Some("S3"), 500, Some("i-0abc (batch)")),
            talker("10.0.2.9", None, 300, None),
        ]);
        let svg = talkers_svg(&talker_bars(&r)).unwrap().unwrap();
        for label in [
            "i-0abc (batch)",
            "10.0.2.9",
            "S3",
            INTERNET_LABEL,
            "bytes through the NAT",
        ] {
            assert!(svg.contains(label), "{label} missing:\n{svg}");
        }
        // Two bars and two legend swatches, besides the background and the plot's frame.
        let rects = svg.matches("<rect").count();
        assert_eq!(
            rects,
            talkers_svg(&talker_bars(&r))
                .unwrap()
                .unwrap()
                .matches("<rect")
                .count()
        );
        assert!(rects >= 4, "{svg}");
        assert_eq!(talkers_svg(&talker_bars(&report(vec![]))).unwrap(), None);
    }
}
