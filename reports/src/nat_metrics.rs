//! The NAT's own CloudWatch bytes per minute around a recording, as the job read them: from some
//! time before the trigger's breach to a while after the stop, with the trigger's threshold and
//! the recording's window. Kept beside the recording's files (`metrics.json`) so a report made
//! offline from the folder draws the same spike chart as the job's; a report of plain flow-log
//! files has none.

use serde::{Deserialize, Serialize};

/// The file in a recording folder.
pub const METRICS_FILE: &str = "metrics.json";

/// What `metrics.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatMetrics {
    pub nat_gateway_id: String,
    /// The first minute read and the minute after the last (Unix seconds, whole minutes).
    pub start_unix: i64,
    pub end_unix: i64,
    /// The recording's flow logs existed from `recording_start_unix` to `recording_stop_unix`.
    pub recording_start_unix: i64,
    pub recording_stop_unix: i64,
    /// When the trigger breached; `None` for a recording started by hand or adopted.
    pub breach_unix: Option<i64>,
    /// The trigger's threshold as bytes a minute; `None` when the trigger follows an alarm or
    /// counts packets (no byte threshold to draw).
    pub threshold: Option<Threshold>,
    /// One series per metric (`BytesInFromSource`, `BytesInFromDestination`), minutes without
    /// a datapoint left out.
    pub series: Vec<MetricPoints>,
}

/// The trigger's threshold, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub bytes_per_minute: f64,
    /// How a minute is compared with it.
    pub applies_to: ThresholdOf,
}

/// Which value of a minute the trigger compares with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdOf {
    /// Each metric on its own (the trigger's `combine = "any"`).
    EachMetric,
    /// The metrics added together (`combine = "sum"`).
    SumOfMetrics,
}

/// The Sum per minute of one metric: `(minute as Unix seconds, bytes)`, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoints {
    pub metric: String,
    pub points: Vec<(i64, f64)>,
}

impl NatMetrics {
    /// The bytes of `metric` at `minute`, if CloudWatch had a datapoint.
    pub fn value(&self, metric: &str, minute: i64) -> Option<f64> {
        self.series
            .iter()
            .filter(|s| s.metric == metric)
            .flat_map(|s| s.points.iter())
            .find(|(t, _)| *t == minute)
            .map(|(_, v)| *v)
    }

    /// Per minute, oldest first, the value the trigger compares with its threshold (the larger
    /// metric, or their sum; the sum without a threshold): what a sparkline shows. `None` for a
    /// minute without any datapoint.
    pub fn compared(&self) -> Vec<Option<f64>> {
        (self.start_unix..self.end_unix)
            .step_by(60)
            .map(|minute| self.compared_at(minute))
            .collect()
    }

    fn compared_at(&self, minute: i64) -> Option<f64> {
        let mut values = self
            .series
            .iter()
            .filter_map(|s| self.value(&s.metric, minute))
            .peekable();
        values.peek()?;
        Some(match self.threshold.map(|t| t.applies_to) {
            Some(ThresholdOf::EachMetric) => values.fold(f64::MIN, f64::max),
            Some(ThresholdOf::SumOfMetrics) | None => values.sum(),
        })
    }

    /// Whether `minute` breached the threshold as the trigger compares: either metric above it,
    /// or their sum. `false` without a threshold.
    pub fn breaching(&self, minute: i64) -> bool {
        match (self.threshold, self.compared_at(minute)) {
            (Some(t), Some(v)) => v > t.bytes_per_minute,
            _ => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 10:00 to 10:10 UTC on 2026-01-15, recording 10:03 to 10:06, threshold 100 a minute on
    /// each metric; source 10, 20, ..., destination 150 in 10:04 and 10:05 only.
    pub(crate) fn sample() -> NatMetrics {
        let t0 = 1_768_471_200;
        NatMetrics {
            nat_gateway_id: "nat-0abc".into(),
            start_unix: t0,
            end_unix: t0 + 600,
            recording_start_unix: t0 + 180,
            recording_stop_unix: t0 + 360,
            breach_unix: Some(t0 + 180),
            threshold: Some(Threshold {
                bytes_per_minute: 100.0,
                applies_to: ThresholdOf::EachMetric,
            }),
            series: vec![
                MetricPoints {
                    metric: "BytesInFromSource".into(),
                    points: (0..10)
                        .map(|i| (t0 + i * 60, (i as f64 + 1.0) * 10.0))
                        .collect(),
                },
                MetricPoints {
                    metric: "BytesInFromDestination".into(),
                    points: vec![(t0 + 240, 150.0), (t0 + 300, 150.0)],
                },
            ],
        }
    }

    #[test]
    fn a_minute_breaches_as_the_trigger_compares() {
        let mut m = sample();
        let t0 = m.start_unix;
        let breaching: Vec<bool> = (0..10).map(|i| m.breaching(t0 + i * 60)).collect();
        assert_eq!(
            breaching,
            [
                false, false, false, false, true, true, false, false, false, false
            ]
        );
        // Summed, 10:03 (40 + nothing) stays below and 10:09 (100) is not above.
        m.threshold = Some(Threshold {
            bytes_per_minute: 45.0,
            applies_to: ThresholdOf::SumOfMetrics,
        });
        assert!(!m.breaching(t0 + 180));
        assert!(m.breaching(t0 + 240));
        assert!(m.breaching(t0 + 540));
        m.threshold = None;
        assert!(!m.breaching(t0 + 240));
    }

    #[test]
    fn each_minute_is_compared_as_the_trigger_compares() {
        let mut m = sample();
        let compared = m.compared();
        assert_eq!(compared.len(), 10);
        assert_eq!(compared[0], Some(10.0));
        assert_eq!(compared[4], Some(150.0));
        m.threshold = None;
        assert_eq!(m.compared()[4], Some(200.0));
        m.series.clear();
        assert_eq!(m.compared()[4], None);
    }

    #[test]
    fn the_file_reads_back_as_written() {
        let m = sample();
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"applies_to\":\"each_metric\""), "{text}");
        let back: NatMetrics = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
    }
}
