use super::*;
use crate::domain::backlog::Backlog;
use crate::domain::record::NotificationState;
use crate::domain::record::tests::{sample_record, ticket};
use chrono::{TimeZone, Utc};

fn at(minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, minute, 0).unwrap()
}

const GROUP: &str = "0a52d3dcd7011200f2d224837e6103f2";

fn approvals(group: bool) -> Approvals {
    let hours = |h: f64| Some(chrono::Duration::milliseconds((h * 3_600_000.0) as i64));
    Approvals {
        approver_group: group.then(|| SysId::parse(GROUP).unwrap()),
        remind_after: hours(0.1),
        escalate_after: hours(0.2),
        escalation_group: Some(SysId::parse(GROUP).unwrap()),
        expire_after: hours(0.5),
    }
}

#[test]
fn each_step_falls_due_at_its_time_and_once() {
    let mut plan = ApprovalState::plan(&approvals(true), at(0));
    assert_eq!(plan.remind_at, Some(at(6)));
    assert_eq!(plan.escalate_at, Some(at(12)));
    assert_eq!(plan.expire_at, Some(at(30)));
    assert_eq!(
        plan.next_due(false),
        Some(at(1)),
        "the approvers, a minute after the ticket"
    );
    assert_eq!(plan.due(false, at(0)), []);
    assert_eq!(plan.due(false, at(1)), [Due::AddApprovers]);
    plan.approvers_added = true;
    assert_eq!(plan.due(false, at(7)), [Due::Remind]);
    plan.reminded = true;
    assert_eq!(plan.next_due(false), Some(at(12)));
    assert_eq!(plan.due(false, at(31)), [Due::Escalate, Due::Expire]);
    plan.escalated = true;
    assert_eq!(plan.due(false, at(31)), [Due::Expire]);
}

#[test]
fn without_a_group_there_are_no_records_to_add_or_close() {
    let plan = ApprovalState::plan(&approvals(false), at(0));
    assert!(plan.approvers_added);
    assert_eq!(
        plan.next_due(false),
        Some(at(6)),
        "the reminder still comes"
    );
    assert_eq!(plan.next_due(true), None, "nothing to close");
}

#[test]
fn a_decided_request_only_closes_its_records() {
    let mut plan = ApprovalState::plan(&approvals(true), at(0));
    plan.records.push(ApprovalRecordRef {
        approver: SysId::parse(&"b".repeat(32)).unwrap(),
        sys_id: SysId::parse(&"c".repeat(32)).unwrap(),
    });
    assert_eq!(plan.due(true, at(59)), [Due::Close]);
    plan.closed = true;
    assert_eq!(plan.due(true, at(59)), []);
    assert_eq!(plan.next_due(true), None);
}

#[test]
fn an_expired_request_is_decided_by_the_connector_and_told_to_pm_cloud_as_a_denial() {
    let mut ticketed = sample_record("p-expire").ticketed(ticket(), at(0)).unwrap();
    ticketed.approvals = Some(ApprovalState::plan(&approvals(false), at(0)));
    assert_eq!(ticketed.backlog(), Some((Backlog::FollowUps, at(6))));
    let expired = ticketed.expired(true, at(30)).unwrap();
    assert_eq!(expired.status, Status::Expired);
    let decision = expired.decision.clone().unwrap();
    assert_eq!(decision.outcome, Outcome::Expired);
    assert_eq!(decision.decided_in, DecidedIn::Connector);
    assert_eq!(decision.decided_at, at(30));
    assert_eq!(
        decision.notes.as_deref(),
        Some("No decision in ServiceNow within 0.5 hours")
    );
    assert_eq!(
        expired.pm_cloud_notification.unwrap().state,
        NotificationState::Pending
    );
    let body =
        crate::pmcloud::NotificationBody::of(&ticketed.expired(true, at(30)).unwrap()).unwrap();
    let body = serde_json::to_value(body).unwrap();
    assert_eq!(
        (body["decision"].as_str(), body["status"].as_str()),
        (Some("Denied"), Some("2001"))
    );
    assert_eq!(
        body["message"],
        "No decision in ServiceNow within 0.5 hours"
    );
    assert!(
        ticketed
            .expired(true, at(30))
            .unwrap()
            .expired(true, at(31))
            .is_none(),
        "once"
    );
}

#[test]
fn the_decision_latency_counts_from_the_ticket() {
    let mut ticketed = sample_record("p-latency")
        .ticketed(ticket(), at(0))
        .unwrap();
    assert_eq!(ticketed.decision_latency(), None, "no decision yet");
    ticketed.approvals = Some(ApprovalState::plan(&approvals(false), at(2)));
    let expired = ticketed.expired(true, at(30)).unwrap();
    assert_eq!(expired.decision_latency(), Some(28.0 * 60.0));
}
