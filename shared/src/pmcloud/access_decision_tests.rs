use super::*;
use chrono::TimeZone;
use serde_json::json;

fn utc(h: u32, m: u32, s: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 7, h, m, s).unwrap()
}

#[test]
fn a_pending_item_gives_its_id_and_creation_time() {
    for (status, created) in [
        (json!(1000), "2026-12-07T12:04:05Z"),
        (json!("1000"), "2026-12-07 12:04:05"),
        (json!("Pending"), "2026-12-07T12:04:05"),
        (json!("pending"), "2026-12-07T13:04:05+01:00"),
    ] {
        let item = AuthorizationRequest::of(&json!({
            "id": "3c5e2a8e-0d2b-4f7e", "requestInfo": {"created": created, "user": "ACME\\jdoe"},
            "accessDecision": {"status": status}
        }));
        assert_eq!(
            item.id.as_ref().map(|id| id.as_str()),
            Some("3c5e2a8e-0d2b-4f7e")
        );
        assert_eq!(item.created, Some(utc(12, 4, 5)), "{created}");
        assert_eq!(item.state, AccessState::Pending);
    }
}

#[test]
fn a_decision_reads_who_when_and_how_long() {
    let item = AuthorizationRequest::of(&json!({
        "id": "r-1", "accessDecision": {"Status": 2000, "decisionPerformedByUser": "carol.admin",
            "decisionTime": "2026-12-07 12:00:00", "duration": "14400"}
    }));
    let AccessState::Decided(decided) = item.state else {
        panic!("decided")
    };
    let decision = decided.decision(RequestType::Application, utc(13, 0, 0));
    assert_eq!(decision.outcome, Outcome::Approved);
    assert_eq!(decision.decided_by.as_deref(), Some("carol.admin"));
    assert_eq!(decision.decided_at, utc(12, 0, 0));
    assert_eq!(decision.duration, Some(Duration::Hours(4)));
    assert_eq!(decision.expires_at, Some(utc(16, 0, 0)));
    assert_eq!(decision.decided_in, DecidedIn::PmCloud);
}

#[test]
fn seconds_that_fit_no_form_keep_the_exact_expiry() {
    let decided = PmCloudDecision {
        outcome: Outcome::Approved,
        by: None,
        at: Some(utc(12, 0, 0)),
        granted: Some(Granted::Seconds(5400)),
    };
    let application = decided.decision(RequestType::Application, utc(13, 0, 0));
    assert_eq!(application.duration, Some(Duration::Days(1)));
    assert_eq!(application.expires_at, Some(utc(13, 30, 0)));
    let admin = decided.decision(RequestType::Admin, utc(13, 0, 0));
    assert_eq!(admin.duration, Some(Duration::Minutes(90)));
}

#[test]
fn once_denials_and_missing_values() {
    let once = AuthorizationRequest::of(
        &json!({"id": "r", "accessDecision": {"status": "Approved", "duration": "Once"}}),
    );
    let AccessState::Decided(once) = once.state else {
        panic!()
    };
    let found = utc(13, 0, 0);
    let decision = once.decision(RequestType::Application, found);
    assert_eq!(
        (decision.duration, decision.expires_at),
        (Some(Duration::Once), None)
    );
    assert_eq!(
        decision.decided_at, found,
        "no decisionTime: when the connector found it"
    );
    let denied = AuthorizationRequest::of(
        &json!({"id": "r", "accessDecision": {"status": 2001, "duration": "3600"}}),
    );
    let AccessState::Decided(denied) = denied.state else {
        panic!()
    };
    assert_eq!(
        denied.decision(RequestType::Application, found).duration,
        None
    );
    let unreadable = AuthorizationRequest::of(
        &json!({"id": "r", "accessDecision": {"status": 2000, "duration": "soon"}}),
    );
    let AccessState::Decided(unreadable) = unreadable.state else {
        panic!()
    };
    assert_eq!(
        unreadable
            .decision(RequestType::Application, found)
            .duration,
        Some(Duration::Once)
    );
    for odd in [
        json!({}),
        json!({"id": "bad id!"}),
        json!({"accessDecision": {"status": 3000}}),
        json!([1]),
    ] {
        let item = AuthorizationRequest::of(&odd);
        assert_eq!(item.state, AccessState::Unknown, "{odd}");
        assert_eq!(item.id, None);
    }
}
