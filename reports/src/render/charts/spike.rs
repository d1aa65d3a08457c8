//! The spike chart: the NAT's CloudWatch `BytesInFromSource` and `BytesInFromDestination` per
//! minute, the trigger's threshold as a line, the breaching minutes marked, the recording's
//! window shaded, and what the flow logs captured per minute as a filled area over them, so a
//! minute the NAT counted and the flow logs missed shows as a gap under the lines.

use plotters::prelude::*;

use super::spike_data::{SpikeData, SpikeMinute};
use super::{
    CAPTURED, DESTINATION, SOURCE, THRESHOLD, TOTAL, WIDTH, WINDOW, chart_error, hh_mm,
    legend_and_close, line_swatch, swatch,
};
use crate::error::ReportError;
use crate::units::human_bytes;

const HEIGHT: u32 = 380;
const NAME: &str = "spike";

/// The chart as an SVG document; `None` when there is no minute to draw.
pub(crate) fn spike_svg(data: &SpikeData) -> Result<Option<String>, ReportError> {
    if data.minutes.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw(data, &mut svg).map_err(chart_error(NAME))?;
    Ok(Some(svg))
}

fn draw(data: &SpikeData, svg: &mut String) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (x0, x1) = data.x_range();
    let y_max = data.y_max * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, 0.0..y_max)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_labels(10)
        .x_label_formatter(&|x| hh_mm(*x))
        .y_labels(6)
        .y_label_formatter(&|y| human_bytes(y.max(0.0).round() as u64))
        .x_desc("minute (UTC)")
        .y_desc("bytes a minute")
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| err(&e))?;

    if let Some((start, stop)) = data.recording {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(start.max(x0), 0.0), (stop.min(x1).max(start), y_max)],
                WINDOW.mix(0.45).filled(),
            )))
            .map_err(|e| err(&e))?
            .label("recording window")
            .legend(swatch(WINDOW));
    }
    // Each minute's bytes drawn across the minute, so a gap of one minute is as wide as it is.
    let steps = |value: fn(&SpikeMinute) -> Option<f64>| {
        data.minutes
            .iter()
            .filter_map(move |m| value(m).map(|v| [(m.unix, v), (m.unix + 60, v)]))
            .flatten()
            .collect::<Vec<_>>()
    };
    let captured = steps(|m| Some(m.captured as f64));
    chart
        .draw_series(AreaSeries::new(captured, 0.0, CAPTURED.mix(0.35)).border_style(CAPTURED))
        .map_err(|e| err(&e))?
        .label("captured by the flow logs")
        .legend(swatch(CAPTURED.mix(0.5)));
    if data.has_metrics {
        // What the coverage compares the captured bytes with.
        let total = steps(|m| {
            (m.from_source.is_some() || m.from_destination.is_some())
                .then(|| m.from_source.unwrap_or(0.0) + m.from_destination.unwrap_or(0.0))
        });
        chart
            .draw_series(LineSeries::new(total, TOTAL.stroke_width(1)))
            .map_err(|e| err(&e))?
            .label("CloudWatch total (both metrics)")
            .legend(line_swatch(TOTAL.stroke_width(1)));
        for (name, color, value) in [
            (
                "CloudWatch BytesInFromSource",
                SOURCE,
                (|m: &SpikeMinute| m.from_source) as fn(&SpikeMinute) -> Option<f64>,
            ),
            (
                "CloudWatch BytesInFromDestination",
                DESTINATION,
                |m: &SpikeMinute| m.from_destination,
            ),
        ] {
            chart
                .draw_series(LineSeries::new(steps(value), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(line_swatch(color.stroke_width(2)));
        }
    }
    if let Some(threshold) = data.threshold {
        chart
            .draw_series(LineSeries::new(
                [(x0, threshold), (x1, threshold)],
                THRESHOLD.stroke_width(1),
            ))
            .map_err(|e| err(&e))?
            .label("trigger threshold")
            .legend(line_swatch(THRESHOLD.stroke_width(1)));
        chart
            .draw_series(
                data.minutes
                    .iter()
                    .filter(|m| m.breaching)
                    .map(|m| TriangleMarker::new((m.unix + 30, m.peak()), 6, THRESHOLD.filled())),
            )
            .map_err(|e| err(&e))?
            .label("breaching minute")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, THRESHOLD.filled()));
    }
    legend_and_close(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat_metrics::tests::sample;
    use crate::render::charts::spike_data::spike_data;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    /// The colours of the lines drawn, axes (black) left out.
    fn line_colours(svg: &str) -> std::collections::BTreeSet<&str> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline"))
            .filter_map(|l| l.split("stroke=\"").nth(1)?.split('"').next())
            .filter(|c| *c != "#000000")
            .collect()
    }

    #[test]
    fn the_chart_has_its_series_axes_and_legend() {
        let m = sample();
        let svg = spike_svg(&spike_data(Some(&m), &[])).unwrap().unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("viewBox=\"0 0 960 380\""));
        // Two metric lines, their total, the threshold, and the captured area's border.
        assert_eq!(
            line_colours(&svg).into_iter().collect::<Vec<_>>(),
            ["#1F77B4", "#2CA02C", "#3C3C3C", "#D62728", "#FF7F0E"],
            "{svg}"
        );
        // The captured area; the two breaching minutes and their legend's marker.
        assert_eq!(
            count(&svg, "<polygon opacity=\"0.35\" fill=\"#2CA02C\""),
            1,
            "{svg}"
        );
        assert_eq!(
            count(&svg, "<polygon opacity=\"1\" fill=\"#D62728\""),
            3,
            "{svg}"
        );
        for label in [
            "10:00",
            "10:05",
            "minute (UTC)",
            "bytes a minute",
            "CloudWatch BytesInFromSource",
            "CloudWatch BytesInFromDestination",
            "CloudWatch total (both metrics)",
            "captured by the flow logs",
            "trigger threshold",
            "breaching minute",
            "recording window",
        ] {
            assert!(svg.contains(label), "{label} missing:\n{svg}");
        }
    }

    #[test]
    fn the_same_data_draws_the_same_svg() {
        let m = sample();
        let data = spike_data(Some(&m), &[]);
        assert_eq!(spike_svg(&data).unwrap(), spike_svg(&data.clone()).unwrap());
    }

    #[test]
    fn without_metrics_only_the_captured_bytes_are_drawn() {
        let t0 = 1_768_471_200;
        let timeline = [crate::model::Minute {
            minute: String::new(),
            minute_unix: t0,
            bytes_out: 10,
            bytes_in: 0,
            bytes_total: 10,
        }];
        let svg = spike_svg(&spike_data(None, &timeline)).unwrap().unwrap();
        assert!(svg.contains("captured by the flow logs"));
        assert!(!svg.contains("CloudWatch"), "{svg}");
        assert!(!svg.contains("trigger threshold"));
        assert_eq!(spike_svg(&spike_data(None, &[])).unwrap(), None);
    }
}
