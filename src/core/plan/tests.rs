//! The plans a decision becomes: the AWS request they make, the events they complete with, and how
//! they print.

use super::*;
use crate::core::testkit::at;
use crate::ports::AwsErrorKind;

fn nat() -> NatGateway {
    NatGateway {
        id: "nat-01234567".into(),
        state: "available".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some("subnet-1".into()),
        enis: vec!["eni-a".into(), "eni-b".into()],
        private_ips: vec!["10.0.0.220".parse().unwrap()],
        public_ips: vec!["203.0.113.9".parse().unwrap()],
        regional: false,
    }
}

fn plan() -> StartPlan {
    StartPlan {
        nat_gateway_id: "nat-01234567".into(),
        recording_id: "rec-01234567-20250101T104100Z".into(),
        deadline: at("2025-01-01T10:56:00Z"),
        cause: StartCause::Trigger {
            evidence: "1 of 3".into(),
        },
        estimate: None,
    }
}

#[test]
fn a_regional_nat_is_recorded_as_itself_with_its_resource_type() {
    let cfg = RecordingSettings::default();
    let zonal = plan().flow_log_request(&nat(), &cfg);
    assert_eq!(zonal.resource, FlowLogResource::NetworkInterfaces);
    let regional = NatGateway {
        regional: true,
        ..nat()
    };
    let req = plan().flow_log_request(&regional, &cfg);
    assert_eq!(req.resource, FlowLogResource::RegionalNatGateway);
    assert_eq!(req.enis, vec!["nat-01234567"]);
}

#[test]
fn start_plan_builds_the_request_and_the_events() {
    let cfg = RecordingSettings::default();
    let req = plan().flow_log_request(&nat(), &cfg);
    assert_eq!(req.recording_id, "rec-01234567-20250101T104100Z");
    assert_eq!(req.enis, vec!["eni-a", "eni-b"]);
    assert_eq!(req.log_group, cfg.log_group);
    assert_eq!(req.log_format, cfg.log_format);
    assert_eq!(req.deliver_logs_role_arn, cfg.deliver_logs_role_arn);
    assert_eq!(req.max_aggregation_interval, 60);
    assert_eq!(req.deadline, at("2025-01-01T10:56:00Z"));

    match plan().started_event(&nat(), vec!["fl-1".into(), "fl-2".into()], &cfg) {
        Event::RecordingStarted {
            enis,
            flow_log_ids,
            nat_ips,
            deadline,
            cause,
            ..
        } => {
            assert_eq!(enis, vec!["eni-a", "eni-b"]);
            assert_eq!(flow_log_ids, vec!["fl-1", "fl-2"]);
            assert_eq!(nat_ips, nat().private_ips);
            assert_eq!(deadline, at("2025-01-01T10:56:00Z"));
            assert_eq!(cause, plan().cause);
        }
        other => panic!("{other:?}"),
    }

    let error = AwsError {
        operation: "ec2:CreateFlowLogs",
        code: "Unsuccessful".into(),
        message: "eni-b: access denied".into(),
        kind: AwsErrorKind::PartialFailure,
        created_ids: vec!["fl-1".into()],
    };
    assert_eq!(
        plan().failed_event(&error),
        Event::RecordingFailed {
            recording_id: "rec-01234567-20250101T104100Z".into(),
            nat_gateway_id: "nat-01234567".into(),
            error: "ec2:CreateFlowLogs: Unsuccessful: eni-b: access denied".into(),
            created_flow_log_ids: vec!["fl-1".into()],
        }
    );
}

#[test]
fn completed_events_match_their_decisions() {
    let stop = StopPlan {
        recording_id: "r".into(),
        nat_gateway_id: "nat-01234567".into(),
        reason: StopReason::Deadline,
        flow_log_ids: vec!["fl-1".into()],
    };
    assert_eq!(
        Decision::Stop(stop.clone()).completed_event(),
        Some(Event::RecordingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            reason: StopReason::Deadline,
            deleted_flow_log_ids: vec!["fl-1".into()],
        })
    );
    let stray = StrayPlan {
        recording_id: "r".into(),
        flow_log_ids: vec!["fl-9".into()],
        why: "w".into(),
    };
    assert_eq!(
        Decision::DeleteStray(stray).completed_event(),
        Some(Event::StrayFlowLogsDeleted {
            recording_id: "r".into(),
            flow_log_ids: vec!["fl-9".into()],
        })
    );
    let reset = Event::BudgetReset {
        nat_gateway_id: "nat-01234567".into(),
    };
    assert_eq!(
        Decision::Record(reset.clone()).completed_event(),
        Some(reset)
    );
    assert_eq!(Decision::Start(plan()).completed_event(), None);
}

#[test]
fn plans_print_as_one_line_and_serialize_with_their_action() {
    let start = Decision::Start(plan());
    assert_eq!(
        start.to_string(),
        "nat-01234567: start recording rec-01234567-20250101T104100Z until 2025-01-01T10:56:00Z (trigger: 1 of 3)"
    );
    let json = serde_json::to_value(&start).unwrap();
    assert_eq!(json["action"], "Start");
    assert_eq!(json["recording_id"], "rec-01234567-20250101T104100Z");
    let record = Decision::Record(Event::BudgetReset {
        nat_gateway_id: "nat-01234567".into(),
    });
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["action"], "Record");
    assert_eq!(json["type"], "BudgetReset");
    assert_eq!(record.to_string(), "nat-01234567: budget reset");
    let stop = Decision::Stop(StopPlan {
        recording_id: "r".into(),
        nat_gateway_id: "nat-01234567".into(),
        reason: StopReason::TriggerOk,
        flow_log_ids: vec![],
    });
    assert_eq!(
        stop.to_string(),
        "nat-01234567: stop recording r: the trigger is OK again (delete no flow logs)"
    );
}
