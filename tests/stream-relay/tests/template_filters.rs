//! The event source mappings' filters in `template.yaml` select only changes that mean new work (CONTRACT §13
//! "Bounded work"): the stream functions' own bookkeeping (a lease, its release, an attempt counted) never starts
//! another attempt. Each filter is read from the template as it ships and run over the stream images the store
//! writes for requests in each state.

use serde_json::{Value, json};
use shared::domain::duration::Duration;
use shared::domain::ids::{RequestId, SysId};
use shared::domain::record::{DecidedIn, Decision, NotificationState, Outcome, RequestRecord};
use shared::domain::request::Submission;
use shared::domain::ticket::{TaskType, Ticket};
use shared::domain::time::now;
use shared::domain::work_note::Fact;
use shared::store::stream_image_of;
use stream_relay::filter::{Pattern, passes};

/// The filter patterns of the template's event `event` (for example `NewRequests`), in order.
fn patterns_of(event: &str) -> Vec<Pattern> {
    let template = include_str!("../../../template.yaml");
    let start = template
        .find(&format!("\n        {event}:\n"))
        .unwrap_or_else(|| panic!("template.yaml has no event {event}"));
    let rest = &template[start..];
    let end = rest.find("DestinationConfig:").expect("the event's end");
    rest[..end]
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- Pattern: '"))
        .map(|pattern| {
            Pattern::parse(pattern.trim_end_matches('\'')).expect("a pattern the relay reads")
        })
        .collect()
}

/// The stream record of `record` written by `event_name`, as Lambda filters it.
fn stream_record(event_name: &str, record: &RequestRecord) -> Value {
    let image = serde_json::to_value(stream_image_of(record).unwrap()).unwrap();
    json!({"eventName": event_name, "dynamodb": {"NewImage": image}})
}

fn pending() -> RequestRecord {
    let body = test_support::sample_body("filter-1");
    RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        RequestId::random(),
        now(),
    )
}

fn ticket() -> Ticket {
    Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse(&"a".repeat(32)).unwrap(),
        url: "https://acme.service-now.com/x".into(),
    }
}

fn decision(decided_in: DecidedIn) -> Decision {
    Decision {
        outcome: Outcome::Approved,
        duration: Some(Duration::Hours(4)),
        expires_at: None,
        decided_by: Some("alice".into()),
        decided_at: now(),
        notes: None,
        decided_in,
    }
}

#[test]
fn the_ticket_creator_takes_only_new_requests() {
    let filters = patterns_of("NewRequests");
    assert!(!filters.is_empty());
    let new = pending();
    assert!(
        passes(&filters, &stream_record("INSERT", &new)),
        "a new request is work"
    );
    let leased = new.leased(now() + chrono::Duration::seconds(60));
    assert!(
        !passes(&filters, &stream_record("MODIFY", &leased)),
        "its lease is bookkeeping"
    );
    assert!(
        !passes(&filters, &stream_record("MODIFY", &leased.unleased())),
        "its release too"
    );
    let ticketed = new.ticketed(ticket(), now()).unwrap();
    assert!(!passes(&filters, &stream_record("MODIFY", &ticketed)));
}

#[test]
fn the_decision_notifier_takes_only_decisions_waiting_for_their_first_push() {
    let filters = patterns_of("Decisions");
    assert!(!filters.is_empty());
    let ticketed = pending().ticketed(ticket(), now()).unwrap();
    let decided = ticketed
        .decided(decision(DecidedIn::ServiceNow), ticket(), true, now())
        .unwrap();
    assert!(
        passes(&filters, &stream_record("MODIFY", &decided)),
        "a new decision is work"
    );
    let cancelled = ticketed.cancelled(ticket(), true, now()).unwrap();
    assert!(passes(&filters, &stream_record("MODIFY", &cancelled)));
    let mut with_expiry = ticketed.clone();
    with_expiry.approvals = Some(shared::domain::approval::ApprovalState::plan(
        &shared::domain::settings::Approvals {
            approver_group: None,
            remind_after: None,
            escalate_after: None,
            escalation_group: None,
            expire_after: Some(chrono::Duration::hours(1)),
        },
        now(),
    ));
    let expired = with_expiry.expired(true, now()).unwrap();
    assert!(
        passes(&filters, &stream_record("MODIFY", &expired)),
        "an expiry is told to PM Cloud"
    );

    let leased = decided.leased(now() + chrono::Duration::seconds(60));
    assert!(
        !passes(&filters, &stream_record("MODIFY", &leased)),
        "the push's lease"
    );
    let failed_grant = decided.push_ended(
        NotificationState::Pending,
        Some("grant failed".into()),
        1,
        now(),
    );
    assert!(
        !passes(&filters, &stream_record("MODIFY", &failed_grant)),
        "an attempt that failed"
    );
    let delivered = decided.push_ended(NotificationState::Delivered, None, 1, now());
    assert!(!passes(&filters, &stream_record("MODIFY", &delivered)));
    let noted = delivered
        .with_note(&Fact::Delivered { at: now() }, now())
        .unwrap();
    assert!(
        !passes(&filters, &stream_record("MODIFY", &noted)),
        "a work note"
    );
    let in_pm_cloud = ticketed
        .decided(decision(DecidedIn::PmCloud), ticket(), true, now())
        .unwrap();
    assert!(
        !passes(&filters, &stream_record("MODIFY", &in_pm_cloud)),
        "never pushed back"
    );
    let not_configured = ticketed
        .decided(decision(DecidedIn::ServiceNow), ticket(), false, now())
        .unwrap();
    assert!(!passes(&filters, &stream_record("MODIFY", &not_configured)));
}
