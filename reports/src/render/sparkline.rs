//! A one-line glance at a NAT's bytes per minute for text (`status`, `check`, the e-mail):
//! `▁▁▂▇█▅▁ (threshold ▄)`. The bars share one scale with the threshold, so a bar above the
//! threshold's block is a minute above it.

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A minute without a datapoint.
const MISSING: char = ' ';
/// Longer series are drawn a bar per few minutes (their largest value), to fit a line.
pub(crate) const MAX_BARS: usize = 60;

/// The bars of `values` (oldest first; `None` is a minute without data), scaled from 0 to the
/// larger of their peak and `threshold`, followed by the threshold's block when there is one.
/// Empty when there is no value at all. More than `MAX_BARS` values are drawn a bar per few.
pub fn sparkline(values: &[Option<f64>], threshold: Option<f64>) -> String {
    let per_bar = values.len().div_ceil(MAX_BARS).max(1);
    let values: Vec<Option<f64>> = values
        .chunks(per_bar)
        .map(|c| c.iter().flatten().copied().reduce(f64::max))
        .collect();
    let finite = |v: &f64| v.is_finite() && *v >= 0.0;
    if !values.iter().flatten().any(finite) {
        return String::new();
    }
    let top = values
        .iter()
        .flatten()
        .copied()
        .chain(threshold)
        .filter(finite)
        .fold(0.0_f64, f64::max);
    let block = |v: f64| {
        if top <= 0.0 {
            return BLOCKS[0];
        }
        let level = (v / top * (BLOCKS.len() - 1) as f64).round() as usize;
        BLOCKS[level.min(BLOCKS.len() - 1)]
    };
    let mut line: String = values
        .iter()
        .map(|v| match v {
            Some(v) if finite(v) => block(*v),
            _ => MISSING,
        })
        .collect();
    if let Some(t) = threshold.filter(finite) {
        line.push_str(&format!(" (threshold {})", block(t)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_peak_and_missing_minutes_are_blank() {
        let values = [Some(0.0), Some(30.0), None, Some(70.0)];
        assert_eq!(sparkline(&values, None), "▁▄ █");
    }

    #[test]
    fn the_threshold_shares_the_scale() {
        let values = [Some(10.0), Some(20.0), Some(600.0), Some(550.0), Some(20.0)];
        assert_eq!(sparkline(&values, Some(100.0)), "▁▁█▇▁ (threshold ▂)");
        // Below the threshold everywhere: the threshold is the top of the scale.
        assert_eq!(
            sparkline(&[Some(10.0), Some(50.0)], Some(100.0)),
            "▂▅ (threshold █)"
        );
    }

    #[test]
    fn a_long_series_is_drawn_a_bar_per_few_minutes_with_their_peak() {
        let mut values = vec![Some(1.0); 120];
        values[61] = Some(8.0);
        values[62] = None;
        let line = sparkline(&values, None);
        assert_eq!(line.chars().count(), MAX_BARS);
        assert_eq!(line.chars().nth(30), Some('█'));
        assert_eq!(line.chars().filter(|c| *c == '█').count(), 1);
    }

    #[test]
    fn nothing_to_draw_is_empty() {
        assert_eq!(sparkline(&[], Some(100.0)), "");
        assert_eq!(sparkline(&[None, None], Some(100.0)), "");
        assert_eq!(sparkline(&[Some(0.0)], None), "▁");
    }
}
