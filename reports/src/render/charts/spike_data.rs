//! The spike chart's data, pure: one entry a minute over the chart's range with the NAT's
//! CloudWatch bytes (when the recording folder kept them), the bytes the flow logs captured,
//! and whether the minute breached the trigger's threshold; the recording's window and the
//! threshold to draw. A minute the metrics counted and the flow logs did not is a coverage gap.

use std::collections::BTreeMap;

use crate::model::Minute;
use crate::nat_metrics::NatMetrics;

pub(crate) const FROM_SOURCE: &str = "BytesInFromSource";
pub(crate) const FROM_DESTINATION: &str = "BytesInFromDestination";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpikeMinute {
    /// The minute's start, Unix seconds.
    pub unix: i64,
    pub from_source: Option<f64>,
    pub from_destination: Option<f64>,
    /// Flow-log bytes of records that started in this minute (both directions, each connection
    /// once).
    pub captured: u64,
    pub breaching: bool,
}

impl SpikeMinute {
    /// The larger metric: where a breaching minute is marked.
    pub(crate) fn peak(&self) -> f64 {
        self.from_source
            .unwrap_or(0.0)
            .max(self.from_destination.unwrap_or(0.0))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpikeData {
    pub minutes: Vec<SpikeMinute>,
    /// Whether the NAT's metrics are drawn (a report without `metrics.json` has captured bytes
    /// only).
    pub has_metrics: bool,
    pub threshold: Option<f64>,
    /// The recording's flow logs existed from the first to the second (Unix seconds).
    pub recording: Option<(i64, i64)>,
    pub breach: Option<i64>,
    /// The top of the y axis: the largest value drawn (threshold included), at least 1.
    pub y_max: f64,
}

impl SpikeData {
    /// The x range: the first minute's start to the last minute's end.
    pub(crate) fn x_range(&self) -> (i64, i64) {
        let first = self.minutes.first().map_or(0, |m| m.unix);
        let last = self.minutes.last().map_or(60, |m| m.unix + 60);
        (first, last)
    }
}

/// The chart's minutes: the metrics' range (widened to any captured minute outside it), or the
/// captured minutes' range without metrics; empty when there is neither.
pub(crate) fn spike_data(metrics: Option<&NatMetrics>, timeline: &[Minute]) -> SpikeData {
    let captured: BTreeMap<i64, u64> = timeline
        .iter()
        .map(|m| (m.minute_unix - m.minute_unix.rem_euclid(60), m.bytes_total))
        .fold(BTreeMap::new(), |mut acc, (t, b)| {
            *acc.entry(t).or_insert(0) += b;
            acc
        });
    let captured_range = captured
        .keys()
        .next()
        .zip(captured.keys().next_back())
        .map(|(first, last)| (*first, last + 60));
    let range = match (metrics, captured_range) {
        (Some(m), Some((first, last))) => Some((m.start_unix.min(first), m.end_unix.max(last))),
        (Some(m), None) => Some((m.start_unix, m.end_unix)),
        (None, range) => range,
    };
    let minutes: Vec<SpikeMinute> = range
        .map(|(start, end)| {
            let start = start - start.rem_euclid(60);
            (start..end)
                .step_by(60)
                .map(|unix| SpikeMinute {
                    unix,
                    from_source: metrics.and_then(|m| m.value(FROM_SOURCE, unix)),
                    from_destination: metrics.and_then(|m| m.value(FROM_DESTINATION, unix)),
                    captured: captured.get(&unix).copied().unwrap_or(0),
                    breaching: metrics.is_some_and(|m| m.breaching(unix)),
                })
                .collect()
        })
        .unwrap_or_default();
    let threshold = metrics
        .and_then(|m| m.threshold)
        .map(|t| t.bytes_per_minute);
    let y_max = minutes
        .iter()
        .flat_map(|m| [m.peak(), m.captured as f64])
        .chain(threshold)
        .fold(1.0_f64, f64::max);
    SpikeData {
        minutes,
        has_metrics: metrics.is_some(),
        threshold,
        recording: metrics.map(|m| (m.recording_start_unix, m.recording_stop_unix)),
        breach: metrics.and_then(|m| m.breach_unix),
        y_max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat_metrics::tests::sample;

    fn minute(unix: i64, bytes: u64) -> Minute {
        Minute {
            minute: String::new(),
            minute_unix: unix,
            bytes_out: bytes,
            bytes_in: 0,
            bytes_total: bytes,
        }
    }

    #[test]
    fn one_entry_a_minute_over_the_metrics_range_with_the_captured_bytes() {
        let m = sample();
        let t0 = m.start_unix;
        // Delivery started late: nothing captured in the recording's first minute.
        let timeline = [minute(t0 + 240, 140), minute(t0 + 300, 150)];
        let data = spike_data(Some(&m), &timeline);
        assert_eq!(data.minutes.len(), 10);
        assert_eq!(data.minutes[0].unix, t0);
        assert_eq!(data.x_range(), (t0, t0 + 600));
        assert_eq!(data.minutes[3].captured, 0);
        assert_eq!(data.minutes[3].from_source, Some(40.0));
        assert_eq!(data.minutes[4].captured, 140);
        assert_eq!(data.minutes[4].from_destination, Some(150.0));
        assert_eq!(data.minutes[0].from_destination, None);
        let breaching: Vec<i64> = data
            .minutes
            .iter()
            .filter(|m| m.breaching)
            .map(|m| (m.unix - t0) / 60)
            .collect();
        assert_eq!(breaching, [4, 5]);
    }

    #[test]
    fn the_threshold_window_and_breach_come_from_the_metrics() {
        let m = sample();
        let data = spike_data(Some(&m), &[]);
        assert!(data.has_metrics);
        assert_eq!(data.threshold, Some(100.0));
        assert_eq!(
            data.recording,
            Some((m.start_unix + 180, m.start_unix + 360))
        );
        assert_eq!(data.breach, Some(m.start_unix + 180));
        assert_eq!(data.y_max, 150.0);
    }

    #[test]
    fn captured_minutes_outside_the_metrics_widen_the_range() {
        let m = sample();
        let data = spike_data(Some(&m), &[minute(m.end_unix + 60, 5)]);
        assert_eq!(data.x_range(), (m.start_unix, m.end_unix + 120));
    }

    #[test]
    fn without_metrics_the_captured_minutes_alone() {
        let t0 = 1_768_471_200;
        let data = spike_data(None, &[minute(t0, 10), minute(t0 + 120, 30)]);
        assert!(!data.has_metrics);
        assert_eq!(data.minutes.len(), 3);
        assert_eq!(data.minutes[1].captured, 0);
        assert_eq!(data.threshold, None);
        assert_eq!(data.recording, None);
        assert!(data.minutes.iter().all(|m| !m.breaching));
        assert_eq!(data.y_max, 30.0);
        assert!(spike_data(None, &[]).minutes.is_empty());
    }
}
