use super::*;
use crate::domain::ids::SysId;
use crate::domain::ticket::TaskType;
use chrono::{TimeZone, Utc};
use serde_json::json;

pub(crate) fn sample_record(pmc_request_id: &str) -> RequestRecord {
    let body = json!({
        "pmcRequestId": pmc_request_id, "requestType": "application",
        "user": {"name": "ACME\\jdoe"}, "computer": {"hostName": "LT-0042"},
        "application": {"name": "Wireshark", "path": "C:\\Tools\\Wireshark.exe"},
        "reason": {"choice": "Troubleshooting"}
    });
    RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        RequestId::random(),
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
    )
}

pub(crate) fn ticket() -> Ticket {
    Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse(&"a".repeat(32)).unwrap(),
        url: "https://acme.service-now.com/x".into(),
    }
}

#[test]
fn resource_has_exactly_the_contract_fields() {
    let record = sample_record("p-1");
    let resource = serde_json::to_value(record.resource()).unwrap();
    let mut keys: Vec<_> = resource.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdAt",
            "decision",
            "failure",
            "id",
            "pmCloudNotification",
            "pmcRequestId",
            "requestType",
            "status",
            "ticket",
            "updatedAt"
        ]
    );
    assert_eq!(resource["status"], "pending");
    assert_eq!(resource["ticket"], json!(null));
    assert_eq!(resource["pmCloudNotification"], json!(null));
    assert_eq!(resource["createdAt"], "2026-11-28T12:00:00Z");
}

fn denial(now: Timestamp) -> Decision {
    Decision {
        outcome: Outcome::Denied,
        duration: None,
        expires_at: None,
        decided_by: Some("alice".into()),
        decided_at: now,
        notes: None,
        decided_in: crate::domain::record::DecidedIn::ServiceNow,
    }
}

#[test]
fn a_decision_waits_for_pm_cloud_only_when_pm_cloud_is_configured() {
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 4, 5).unwrap();
    let pending = sample_record("p");
    let pushed = pending.decided(denial(now), ticket(), true, now).unwrap();
    assert_eq!(
        pushed.pm_cloud_notification,
        Some(PmCloudNotification {
            state: NotificationState::Pending,
            attempts: 0,
            at: now,
            detail: None
        })
    );
    assert!(pushed.push_pending());
    let resource = serde_json::to_value(pushed.resource()).unwrap();
    assert_eq!(
        resource["pmCloudNotification"],
        json!({"state": "pending", "attempts": 0, "at": "2026-11-28T12:04:05Z", "detail": null})
    );
    let kept = pending.cancelled(ticket(), false, now).unwrap();
    assert_eq!(
        kept.pm_cloud_notification.unwrap().state,
        NotificationState::NotConfigured
    );
}

#[test]
fn a_push_counts_its_calls_and_moves_at_only_with_the_state() {
    let decided_at = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    let later = decided_at + chrono::Duration::minutes(3);
    let decided = sample_record("p")
        .decided(denial(decided_at), ticket(), true, decided_at)
        .unwrap();
    let leased = decided.leased(later + chrono::Duration::seconds(60));
    assert!(leased.is_leased(later) && !leased.is_leased(later + chrono::Duration::seconds(60)));

    let retry = leased.push_ended(
        NotificationState::Pending,
        Some("503 from PM Cloud".into()),
        1,
        later,
    );
    let notification = retry.pm_cloud_notification.as_ref().unwrap();
    assert_eq!((notification.attempts, notification.at), (1, decided_at));
    assert_eq!(notification.detail.as_deref(), Some("503 from PM Cloud"));
    assert!(!retry.is_leased(later));

    let delivered = retry.push_ended(NotificationState::Delivered, None, 2, later);
    let notification = delivered.pm_cloud_notification.unwrap();
    assert_eq!(
        (
            notification.state,
            notification.attempts,
            notification.at,
            notification.detail
        ),
        (NotificationState::Delivered, 3, later, None)
    );
}

#[test]
fn a_new_request_is_pending_under_the_id_it_is_given() {
    let body = test_support::sample_body("p");
    let id = RequestId::random();
    let record = RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        id.clone(),
        Utc::now(),
    );
    assert_eq!(
        (record.id, record.status, record.revision),
        (id, Status::Pending, 0)
    );
}

#[test]
fn a_decision_keeps_the_recorded_ticket_and_records_a_missing_one() {
    let now = Utc::now();
    let decision = Decision {
        outcome: Outcome::Denied,
        duration: None,
        expires_at: None,
        decided_by: Some("alice".into()),
        decided_at: now,
        notes: None,
        decided_in: crate::domain::record::DecidedIn::ServiceNow,
    };
    let pending = sample_record("p");
    let denied = pending
        .decided(decision.clone(), ticket(), true, now)
        .unwrap();
    assert_eq!(
        (denied.status, denied.ticket.as_ref()),
        (Status::Denied, Some(&ticket()))
    );

    let mut other = ticket();
    other.number = "INC0099999".into();
    let ticketed = pending.ticketed(ticket(), now).unwrap();
    let denied = ticketed
        .decided(decision.clone(), other, true, now)
        .unwrap();
    assert_eq!(denied.ticket.as_ref().unwrap().number, "INC0010001");
    assert!(
        denied.decided(decision, ticket(), true, now).is_err(),
        "a decision is final"
    );
}

#[test]
fn failure_only_from_pending() {
    let failure = Failure {
        code: FailureCode::Rejected,
        detail: "y".into(),
    };
    let now = Utc::now();
    let failed = sample_record("p").failed(failure.clone(), now).unwrap();
    assert_eq!(failed.status, Status::Failed);
    let ticketed = sample_record("p").ticketed(ticket(), now).unwrap();
    assert_eq!(
        ticketed.failed(failure, now).unwrap_err(),
        InvalidTransition {
            from: Status::Ticketed,
            to: Status::Failed
        }
    );
}
