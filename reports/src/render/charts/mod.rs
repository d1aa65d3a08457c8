//! The charts of `report.html`, drawn as SVG with plotters (its SVG backend only: no font or
//! image library; text is left to the browser's sans-serif). One chart a module, each with the
//! pure function that turns the report into the chart's data beside the drawing: `spike` (the
//! NAT's CloudWatch bytes per minute around the recording against what the flow logs captured),
//! `talkers` (who talked to what), `costs` (per AWS service, a month through the NAT against
//! through an endpoint).

pub(crate) mod costs;
pub(crate) mod spike;
pub(crate) mod spike_data;
pub(crate) mod talkers;

use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ReportError;

/// Every chart's width in SVG units; the page scales them to the screen.
pub(crate) const WIDTH: u32 = 960;

pub(crate) const SOURCE: RGBColor = RGBColor(31, 119, 180);
pub(crate) const DESTINATION: RGBColor = RGBColor(255, 127, 14);
pub(crate) const CAPTURED: RGBColor = RGBColor(44, 160, 44);
pub(crate) const TOTAL: RGBColor = RGBColor(60, 60, 60);
pub(crate) const THRESHOLD: RGBColor = RGBColor(214, 39, 40);
pub(crate) const WINDOW: RGBColor = RGBColor(200, 210, 230);
pub(crate) const INTERNET: RGBColor = RGBColor(127, 127, 127);
/// The AWS services' bars, in the order the services first appear.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// A drawing failure (plotters' errors carry no path: the chart's name says which).
pub(crate) fn chart_error(chart: &'static str) -> impl Fn(String) -> ReportError {
    move |message| ReportError::Chart { chart, message }
}

/// A legend's coloured square.
pub(crate) fn swatch<C: Color + Copy>(color: C) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.filled())
}

/// A legend's line, as its series is drawn.
pub(crate) fn line_swatch(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style)
}

/// Draws the legend at `position` and closes the document.
pub(crate) fn legend_and_close<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    root: &DrawingArea<DB, Shift>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// `HH:MM` of a Unix time (UTC): the spike chart's minutes.
pub(crate) fn hh_mm(unix: i64) -> String {
    let day = unix.rem_euclid(86_400);
    format!("{:02}:{:02}", day / 3600, (day % 3600) / 60)
}

/// At most `max` characters, with `…` where it was cut (long owner names on a bar's label).
pub(crate) fn short_label(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_read_as_utc_clock_times() {
        assert_eq!(hh_mm(1_768_471_200), "10:00");
        assert_eq!(hh_mm(1_768_471_200 + 59 * 60 + 59), "10:59");
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(short_label("i-0abc (web)", 20), "i-0abc (web)");
        assert_eq!(short_label("abcdefghij", 5), "abcd…");
    }
}
