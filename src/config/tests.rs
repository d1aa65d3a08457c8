//! The configuration's checks: every key, its default, its bounds and the messages a user reads.

use super::*;

const MINIMAL: &str = "nat_gateway_ids = [\"nat-0123456789abcdef0\"]\n";

fn with(extra: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(&format!("{MINIMAL}{extra}"), "test.toml")
}

fn invalid_key(result: Result<Config, ConfigError>) -> String {
    match result {
        Err(ConfigError::Invalid { key, .. }) => key,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn example_loads_and_equals_the_defaults() {
    let config = Config::from_toml_str(Config::example(), "<example>").unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn defaults_are_the_documented_values() {
    let c = Config::from_toml_str(MINIMAL, "t").unwrap();
    assert_eq!(c.region, None);
    assert_eq!(c.state, PathBuf::from("nat-flowrec-state/events.jsonl"));
    assert_eq!(c.trigger.mode, TriggerMode::Metrics);
    assert_eq!(
        c.trigger.metrics,
        vec![
            NatMetric::BytesInFromSource,
            NatMetric::BytesInFromDestination
        ]
    );
    assert_eq!(c.trigger.combine, Combine::Any);
    assert_eq!(c.trigger.threshold_bytes, 100_000_000);
    assert_eq!(
        (
            c.trigger.period_seconds,
            c.trigger.evaluation_periods,
            c.trigger.datapoints_to_alarm
        ),
        (60, 3, 1)
    );
    assert_eq!(c.trigger.treat_missing_data, TreatMissingData::Missing);
    assert_eq!(c.trigger.metrics_api, MetricsApi::Auto);
    assert_eq!(
        (c.trigger.baseline_factor, c.trigger.baseline_days),
        (3.0, 14)
    );
    assert_eq!(c.rule_for("nat-0123456789abcdef0").baseline, None);
    assert_eq!(c.trigger.free_tier_share, 0.5);
    assert_eq!(c.recording.log_group, "/nat-flowrec/flowlogs");
    assert_eq!(c.recording.log_group_class.as_str(), "INFREQUENT_ACCESS");
    assert_eq!(c.recording.retention_days, 7);
    assert_eq!(c.recording.log_format, DEFAULT_LOG_FORMAT);
    assert_eq!(c.recording.log_format.split(' ').count(), 14);
    assert_eq!(c.recording.max_aggregation_interval, 60);
    assert_eq!(c.recording.recording_seconds, 900);
    assert_eq!(c.recording.max_recording_seconds, 21_600);
    assert_eq!(c.recording.max_recordings, 0);
    assert_eq!(c.recording.max_recordings_window_seconds, 0);
    assert_eq!(c.recording.settle_seconds, 600);
    assert!(!c.recording.dns_query_logs);
    assert_eq!(c.recording.dns_log_group, "/nat-flowrec/dns-queries");
    assert_eq!(c.notify, NotifyConfig::default());
    assert_eq!(c.report.out_dir, PathBuf::from("nat-flowrec-reports"));
    assert_eq!(c.report.top, 20);
}

#[test]
fn demo_config_is_valid() {
    let c = Config::demo(Path::new("/tmp/demo"));
    c.validate().unwrap();
    assert_eq!(c.nat_gateway_ids, vec![DEMO_NAT_GATEWAY_ID]);
    assert_eq!(c.state, PathBuf::from("/tmp/demo/events.jsonl"));
}

#[test]
fn every_enum_spelling_is_accepted() {
    let c = with(
            "[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\"]\ncombine = \"sum\"\ntreat_missing_data = \"notBreaching\"\n\
             metrics = [\"BytesInFromSource\", \"BytesInFromDestination\", \"BytesOutToSource\", \"BytesOutToDestination\", \
             \"PacketsInFromSource\", \"PacketsInFromDestination\", \"PacketsOutToSource\", \"PacketsOutToDestination\"]\n\
             [recording]\nlog_group_class = \"STANDARD\"\n",
        )
        .unwrap();
    assert_eq!(c.trigger.mode, TriggerMode::Alarm);
    assert_eq!(c.trigger.combine, Combine::Sum);
    assert_eq!(c.trigger.metrics, NatMetric::ALL.to_vec());
    assert_eq!(c.recording.log_group_class, LogGroupClass::Standard);
    for (text, want) in [
        ("missing", TreatMissingData::Missing),
        ("notBreaching", TreatMissingData::NotBreaching),
        ("breaching", TreatMissingData::Breaching),
        ("ignore", TreatMissingData::Ignore),
    ] {
        let c = with(&format!("[trigger]\ntreat_missing_data = \"{text}\"\n")).unwrap();
        assert_eq!(c.trigger.treat_missing_data, want);
    }
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    for (text, bad) in [
        ("max_recording = 1\n", "max_recording"),
        ("[recording]\nmax_recording = 1\n", "max_recording"),
        ("[trigger]\nthreshold = 5\n", "threshold"),
        ("[notify]\nemail = \"x\"\n", "email"),
        ("[report]\nformat = \"csv\"\n", "format"),
        ("[reports]\ntop = 3\n", "reports"),
    ] {
        let err = with(text).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{message}");
        assert!(message.contains(bad), "{message}");
        assert!(message.contains("line"), "{message}");
        assert!(message.starts_with("test.toml: "), "{message}");
    }
}

#[test]
fn syntax_errors_keep_line_and_column() {
    let err = Config::from_toml_str(
        "nat_gateway_ids = [\"nat-0123456789abcdef0\"]\n[trigger]\nperiod_seconds = = 60\n",
        "cfg.toml",
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("column"), "{message}");
}

#[test]
fn wrong_enum_values_name_what_is_valid() {
    for (text, valid) in [
        ("[trigger]\nmode = \"alarms\"\n", "metrics"),
        ("[trigger]\ncombine = \"all\"\n", "any"),
        (
            "[trigger]\ntreat_missing_data = \"notbreaching\"\n",
            "notBreaching",
        ),
        ("[trigger]\nmetrics = [\"BytesIn\"]\n", "BytesInFromSource"),
        ("[recording]\nlog_group_class = \"standard\"\n", "STANDARD"),
    ] {
        let message = with(text).unwrap_err().to_string();
        assert!(message.contains(valid), "{text}: {message}");
    }
}

#[test]
fn nat_gateway_ids_are_required() {
    let err = Config::from_toml_str("[trigger]\n", "t.toml").unwrap_err();
    assert!(err.to_string().contains("nat_gateway_ids"), "{err}");
}

#[test]
fn invalid_values_name_key_value_and_what_is_valid() {
    struct Case {
        toml: &'static str,
        key: &'static str,
    }
    let cases = [
        Case {
            toml: "nat_gateway_ids = []\n",
            key: "nat_gateway_ids",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-123\"]\n",
            key: "nat_gateway_ids[0]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-0123456789ABCDEF0\"]\n",
            key: "nat_gateway_ids[0]",
        },
        Case {
            toml: "nat_gateway_ids = [\"igw-01234567\"]\n",
            key: "nat_gateway_ids[0]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\", \"nat-0123456789abcdef\"]\n",
            key: "nat_gateway_ids[1]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\", \"nat-01234567\"]\n",
            key: "nat_gateway_ids[1]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"useast1\"\n",
            key: "region",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\nstate = \"\"\n",
            key: "state",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmetrics = []\n",
            key: "trigger.metrics",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmetrics = [\"BytesOutToSource\", \"BytesOutToSource\"]\n",
            key: "trigger.metrics[1]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 30\n",
            key: "trigger.period_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 90\n",
            key: "trigger.period_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 0\n",
            key: "trigger.period_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nevaluation_periods = 0\ndatapoints_to_alarm = 0\n",
            key: "trigger.evaluation_periods",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nevaluation_periods = 1441\n",
            key: "trigger.evaluation_periods",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\ndatapoints_to_alarm = 0\n",
            key: "trigger.datapoints_to_alarm",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\ndatapoints_to_alarm = 4\n",
            key: "trigger.datapoints_to_alarm",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmode = \"alarm\"\n",
            key: "trigger.alarm_names",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
            key: "trigger.alarm_names",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nalarm_names = [\"\"]\n",
            key: "trigger.alarm_names[0]",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_group = \"\"\n",
            key: "recording.log_group",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_group = \"a b\"\n",
            key: "recording.log_group",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndns_log_group = \"arn:aws:logs:eu-west-1:123456789012:log-group:dns\"\n",
            key: "recording.dns_log_group",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndns_query_logs = true\ndns_log_group = \"/nat-flowrec/flowlogs\"\n",
            key: "recording.dns_log_group",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 10\n",
            key: "recording.retention_days",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 0\n",
            key: "recording.retention_days",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::12345:role/x\"\n",
            key: "recording.deliver_logs_role_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:user/x\"\n",
            key: "recording.deliver_logs_role_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/\"\n",
            key: "recording.deliver_logs_role_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:sts::123456789012:role/x\"\n",
            key: "recording.deliver_logs_role_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:AWS:iam::123456789012:role/x\"\n",
            key: "recording.deliver_logs_role_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"\"\n",
            key: "recording.log_format",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${srcaddr} dstaddr\"\n",
            key: "recording.log_format",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${srcaddr} ${srcaddr}\"\n",
            key: "recording.log_format",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${}\"\n",
            key: "recording.log_format",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_aggregation_interval = 300\n",
            key: "recording.max_aggregation_interval",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recording_seconds = 0\nrecording_seconds = 0\n",
            key: "recording.max_recording_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recording_seconds = 86401\n",
            key: "recording.max_recording_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nrecording_seconds = 900\nmax_recording_seconds = 600\n",
            key: "recording.recording_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recordings_window_seconds = 999999999999\n",
            key: "recording.max_recordings_window_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"my-topic\"\n",
            key: "notify.sns_topic_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012\"\n",
            key: "notify.sns_topic_arn",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nreport_s3_uri = \"bucket/prefix\"\n",
            key: "notify.report_s3_uri",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nreport_s3_uri = \"s3://\"\n",
            key: "notify.report_s3_uri",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\npresign_seconds = 604801\n",
            key: "notify.presign_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\npresign_seconds = 0\n",
            key: "notify.presign_seconds",
        },
        Case {
            toml: "nat_gateway_ids = [\"nat-01234567\"]\n[report]\nout_dir = \"\"\n",
            key: "report.out_dir",
        },
    ];
    for case in cases {
        let result = Config::from_toml_str(case.toml, "c.toml");
        let message = match &result {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{} was accepted", case.toml),
        };
        assert!(message.starts_with("c.toml: `"), "{message}");
        assert!(message.contains("is not valid: "), "{message}");
        assert_eq!(invalid_key(result), case.key, "{}", case.toml);
    }
}

#[test]
fn invalid_message_shows_the_value_and_the_valid_set() {
    let message = with("[recording]\nretention_days = 10\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "test.toml: `recording.retention_days` = 10 is not valid: one of CloudWatch Logs' retention periods: \
             1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"
    );
    let message = with("[notify]\nsns_topic_arn = \"my-topic\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "test.toml: `notify.sns_topic_arn` = \"my-topic\" is not valid: empty (no notification) \
             or an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<topic>"
    );
    let message = Config::from_toml_str("nat_gateway_ids = [\"nat-1\"]\n", "test.toml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "test.toml: `nat_gateway_ids[0]` = \"nat-1\" is not valid: a NAT gateway id: \"nat-\" and \
             8 or 17 lowercase hex digits, e.g. \"nat-0123456789abcdef0\""
    );
    let message = with("[trigger]\ndatapoints_to_alarm = 5\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`trigger.datapoints_to_alarm` = 5")
            && message.contains("from 1 to evaluation_periods (3)"),
        "{message}"
    );
}

#[test]
fn valid_edge_values_are_accepted() {
    for text in [
        "nat_gateway_ids = [\"nat-01234567\", \"nat-0123456789abcdef0\"]\n",
        "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"us-gov-west-1\"\n",
        "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"eu-central-2\"\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 300\nevaluation_periods = 288\ndatapoints_to_alarm = 288\n",
        "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 3653\nmax_aggregation_interval = 600\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nrecording_seconds = 0\nmax_recording_seconds = 86400\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws-us-gov:iam::123456789012:role/path/to/r\"\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws-cn:iam::123456789012:role/r\"\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${version} ${account-id} ${interface-id} ${some-future-field}\"\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recordings = 3\nmax_recordings_window_seconds = 86400\n",
        "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:nat-alerts.fifo\"\nreport_s3_uri = \"s3://bucket/reports/\"\n",
    ] {
        if let Err(e) = Config::from_toml_str(text, "ok.toml") {
            panic!("{text}: {e}");
        }
    }
}

const TWO_NATS: &str = "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n";

#[test]
fn a_nat_table_overrides_trigger_keys_for_that_nat_only() {
    let c = Config::from_toml_str(
        &format!(
            "{TWO_NATS}[trigger]\nthreshold_bytes = \"200MB\"\n\
                 [nats.\"nat-89abcdef\"]\nthreshold_bytes = \"2GB\"\nperiod_seconds = \"5m\"\n\
                 metrics = [\"BytesOutToDestination\"]\n"
        ),
        "t",
    )
    .unwrap();
    let busy = c.rule_for("nat-89abcdef");
    assert_eq!(busy.threshold_bytes, 2_000_000_000);
    assert_eq!(busy.period_seconds, 300);
    assert_eq!(busy.metrics, vec![NatMetric::BytesOutToDestination]);
    assert_eq!(busy.evaluation_periods, 3, "kept from [trigger]");
    let quiet = c.rule_for("nat-01234567");
    assert_eq!(quiet, c.trigger.rule());
    assert_eq!(quiet.threshold_bytes, 200_000_000);
}

#[test]
fn a_nat_table_for_an_unknown_nat_is_an_error() {
    let result = Config::from_toml_str(
        &format!("{TWO_NATS}[nats.\"nat-ffffffff\"]\nthreshold_bytes = 1\n"),
        "c.toml",
    );
    let message = result.as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("nat-01234567, nat-89abcdef"), "{message}");
    assert_eq!(invalid_key(result), "nats.\"nat-ffffffff\"");
}

#[test]
fn a_nat_tables_values_are_checked_under_its_own_key() {
    for (table, key) in [
        (
            "period_seconds = 90\n",
            "nats.\"nat-89abcdef\".period_seconds",
        ),
        (
            "threshold_bytes = 0\n",
            "nats.\"nat-89abcdef\".threshold_bytes",
        ),
        // [trigger]'s datapoints_to_alarm (1) is fine; this NAT's own is not.
        (
            "evaluation_periods = 2\ndatapoints_to_alarm = 3\n",
            "nats.\"nat-89abcdef\".datapoints_to_alarm",
        ),
    ] {
        let result = Config::from_toml_str(
            &format!("{TWO_NATS}[nats.\"nat-89abcdef\"]\n{table}"),
            "c.toml",
        );
        assert_eq!(invalid_key(result), key, "{table}");
    }
    let err = Config::from_toml_str(
        &format!("{TWO_NATS}[nats.\"nat-89abcdef\"]\nmode = \"alarm\"\n"),
        "c.toml",
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
}

#[test]
fn alarm_name_for_maps_one_for_all_or_one_per_nat() {
    let one = with("[trigger]\nmode = \"alarm\"\nalarm_names = [\"all\"]\n").unwrap();
    assert_eq!(one.alarm_name_for("nat-0123456789abcdef0"), Some("all"));
    let per = Config::from_toml_str(
            "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
            "t",
        )
        .unwrap();
    assert_eq!(per.alarm_name_for("nat-89abcdef"), Some("b"));
    assert_eq!(per.alarm_name_for("nat-01234567"), Some("a"));
    assert_eq!(per.alarm_name_for("nat-ffffffff"), None);
}

#[test]
fn load_reports_a_missing_file_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let err = Config::load(&path).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }));
    assert!(err.to_string().contains("absent.toml"), "{err}");
    std::fs::write(&path, Config::example()).unwrap();
    assert_eq!(Config::load(&path).unwrap(), Config::default());
}

#[test]
fn state_may_be_an_s3_object_named_in_full() {
    let cfg = with("state = \"s3://my-bucket/nat-flowrec/events.jsonl\"\n").unwrap();
    assert_eq!(
        cfg.state,
        PathBuf::from("s3://my-bucket/nat-flowrec/events.jsonl")
    );
    for bad in [
        "s3://my-bucket",
        "s3://My_Bucket/events.jsonl",
        "s3://my-bucket/dir/",
    ] {
        let result = with(&format!("state = \"{bad}\"\n"));
        let message = result
            .as_ref()
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert_eq!(invalid_key(result), "state", "{bad}");
        assert!(message.contains(bad), "{message}");
    }
}

#[test]
fn destination_s3_needs_a_bucket_and_builds_the_delivery() {
    let c = with("[recording]\ndestination = \"s3\"\ns3_destination = \"s3://flows/nat/\"\ns3_per_hour_partition = true\n").unwrap();
    let s3 = c.recording.s3_delivery().unwrap();
    assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("flows", "nat"));
    assert!(s3.per_hour_partition && !s3.hive_compatible_partitions);
    assert_eq!(c.recording.settings().s3, Some(s3));

    let default = with("").unwrap();
    assert_eq!(default.recording.destination, Destination::CloudwatchLogs);
    assert_eq!(default.recording.settings().s3, None);
    // A bucket named without destination = "s3" changes nothing.
    let unused = with("[recording]\ns3_destination = \"s3://flows\"\n").unwrap();
    assert_eq!(unused.recording.s3_delivery(), None);
}

#[test]
fn a_start_to_s3_is_estimated_at_s3s_delivery_price_and_measured_at_the_groups() {
    let to_s3 = with(
        "[recording]\ndestination = \"s3\"\ns3_destination = \"s3://flows\"\nlog_group_class = \"STANDARD\"\n",
    )
    .unwrap()
    .recording
    .policy(Some("us-east-1"));
    assert_eq!(to_s3.delivery_price_per_gb, 0.25);
    // A DNS group's IncomingBytes is still CloudWatch Logs ingestion.
    assert_eq!(to_s3.ingestion_price_per_gb, 0.50);
    let to_group = with("[recording]\nlog_group_class = \"STANDARD\"\n")
        .unwrap()
        .recording
        .policy(Some("us-east-1"));
    assert_eq!(to_group.delivery_price_per_gb, 0.50);
    assert_eq!(to_group.ingestion_price_per_gb, 0.50);
}

#[test]
fn destination_s3_errors_name_the_key_and_a_valid_example() {
    let message = |extra: &str| with(extra).unwrap_err().to_string();
    let missing = message("[recording]\ndestination = \"s3\"\n");
    assert!(
        missing.contains("`recording.s3_destination` = \"\""),
        "{missing}"
    );
    assert!(
        missing.contains("s3://my-flow-logs/nat-flowrec"),
        "{missing}"
    );

    let not_uri = message("[recording]\ndestination = \"s3\"\ns3_destination = \"flows/nat\"\n");
    assert!(not_uri.contains("`recording.s3_destination`"), "{not_uri}");
    assert!(
        not_uri.contains("s3://my-flow-logs/nat-flowrec"),
        "{not_uri}"
    );

    let root =
        message("[recording]\ndestination = \"s3\"\ns3_destination = \"s3://flows/AWSLogs\"\n");
    assert!(root.contains("does not start with `AWSLogs`"), "{root}");

    let parquet = with(
        "[recording]\ndestination = \"s3\"\ns3_destination = \"s3://flows\"\ns3_file_format = \"parquet\"\n",
    );
    assert!(parquet.is_ok(), "Parquet delivery is read: {parquet:?}");

    let capped = with(
        "[recording]\ndestination = \"s3\"\ns3_destination = \"s3://flows\"\nmax_cost_usd = 5.0\n",
    );
    assert_eq!(invalid_key(capped), "recording.max_cost_usd");

    let typo = message("[recording]\ndestination = \"S3 bucket\"\n");
    assert!(
        typo.contains("cloudwatch-logs") && typo.contains("s3"),
        "{typo}"
    );
}

#[test]
fn metrics_api_takes_its_three_values_and_the_share_is_a_fraction() {
    for (text, want) in [
        ("auto", MetricsApi::Auto),
        ("get_metric_data", MetricsApi::GetMetricData),
        ("get_metric_statistics", MetricsApi::GetMetricStatistics),
    ] {
        let c = with(&format!("[trigger]\nmetrics_api = \"{text}\"\n")).unwrap();
        assert_eq!(c.trigger.metrics_api, want);
    }
    assert!(matches!(
        with("[trigger]\nmetrics_api = \"GetMetricData\"\n"),
        Err(ConfigError::Syntax { .. })
    ));
    assert_eq!(
        with("[trigger]\nfree_tier_share = 1.0\n")
            .unwrap()
            .trigger
            .free_tier_share,
        1.0
    );
    for bad in ["0.0", "-0.5", "1.5", "nan"] {
        let err = with(&format!("[trigger]\nfree_tier_share = {bad}\n"));
        assert_eq!(invalid_key(err), "trigger.free_tier_share", "{bad}");
    }
    // A NAT gateway's table does not choose the API: one tick reads them all.
    assert!(matches!(
        with("[nats.\"nat-0123456789abcdef0\"]\nmetrics_api = \"auto\"\n"),
        Err(ConfigError::Syntax { .. })
    ));
}

#[test]
fn baseline_mode_gives_each_nat_its_factor_and_days() {
    let c = with(
        "[trigger]\nmode = \"baseline\"\nthreshold_bytes = \"10MB\"\n\
         [nats.\"nat-0123456789abcdef0\"]\nbaseline_factor = 5\nbaseline_days = 28\n",
    )
    .unwrap();
    assert_eq!(c.trigger.mode, TriggerMode::Baseline);
    assert!(c.trigger.mode.reads_metrics());
    let rule = c.rule_for("nat-0123456789abcdef0");
    assert_eq!(
        rule.baseline,
        Some(BaselineRule {
            factor: 5.0,
            days: 28
        })
    );
    assert_eq!(rule.threshold_bytes, 10_000_000, "the floor");
    for (bad, key) in [
        (
            "[trigger]\nbaseline_factor = 0.5\n",
            "trigger.baseline_factor",
        ),
        ("[trigger]\nbaseline_days = 6\n", "trigger.baseline_days"),
        ("[trigger]\nbaseline_days = 456\n", "trigger.baseline_days"),
        (
            "[nats.\"nat-0123456789abcdef0\"]\nbaseline_days = 3\n",
            "nats.\"nat-0123456789abcdef0\".baseline_days",
        ),
    ] {
        assert_eq!(invalid_key(with(bad)), key, "{bad}");
    }
}
