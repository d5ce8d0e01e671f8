//! The PM Cloud sweep and PM Cloud's events (CONTRACT §13 v3), driven through the reconciler and the mirror
//! against the in-memory store and both simulators: a webhook PM Cloud lost, and a decision made in its portal.

use super::*;
use crate::domain::duration::Duration;
use crate::domain::record::{DecidedIn, Origin, Outcome};
use crate::domain::work_note::NoteState;
use crate::rules::reconciler::tests::{
    World, client, current, pm_cloud_client, run, ticketed, world,
};
use crate::rules::request_intake::Submitted;
use crate::rules::ticket_callback::TicketCallback;
use crate::rules::ticket_creator::TicketCreator;
use crate::secrets::{SettingsSource, StaticSettings};
use crate::store::MemoryStore;
use serde_json::{Map, json};
use std::sync::Arc;
use test_support::sample_body;

/// PM Cloud's record of a request `id`, created `hours_ago`, whose webhook nobody sends.
fn held_in_pm_cloud(w: &World, id: &str, hours_ago: i64) {
    let created = crate::domain::time::now() - chrono::Duration::hours(hours_ago);
    let info = json!({
        "user": "ACME\\jdoe", "hostName": "LT-0042", "productDescription": "Wireshark",
        "reason": "capture for INC0012345", "created": created.to_rfc3339(), "driveType": "Fixed"
    });
    let info: Map<String, Value> = info.as_object().unwrap().clone();
    w.pmc.add_authorization_request(Some(id.to_owned()), info);
}

async fn by_pmc_id(store: &Arc<MemoryStore>, id: &str) -> Option<RequestRecord> {
    store
        .find_by_pmc_request_id(&PmcRequestId::parse(id).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_webhook_pm_cloud_lost_is_taken_in_once_and_ticketed_once() {
    let w = world().await;
    held_in_pm_cloud(&w, "lost-webhook-1", 1);
    held_in_pm_cloud(&w, "too-old-to-sweep", 25);

    let swept = run(&w).await;
    assert_eq!(swept.problems, Vec::<String>::new());
    assert_eq!(
        (swept.requests_recovered, swept.pm_cloud_requests_read),
        (1, 1),
        "{swept:?}"
    );
    assert_eq!(swept.pm_cloud_pages, 1);
    let recovered = by_pmc_id(&w.store, "lost-webhook-1")
        .await
        .expect("taken in");
    assert_eq!(recovered.status, Status::Pending);
    assert_eq!(recovered.origin, Origin::PmCloudSweep);
    let user = recovered.details.user.as_ref().unwrap();
    assert_eq!(
        user.name.as_deref(),
        Some("ACME\\jdoe"),
        "built from PM Cloud's record"
    );
    assert_eq!(
        recovered.details.details,
        [("driveType".to_owned(), "Fixed".to_owned())]
    );
    assert!(
        by_pmc_id(&w.store, "too-old-to-sweep").await.is_none(),
        "older than 24 hours"
    );

    // The stream takes it to ticket-creator, exactly as a webhook's request.
    let creator = TicketCreator::new(
        Arc::clone(&w.store),
        StaticSettings::new(w.secret.clone()),
        client(),
        pm_cloud_client(),
    );
    creator.process(&recovered.id).await.unwrap();
    let again = run(&w).await;
    assert_eq!(again.requests_recovered, 0, "known now");
    assert_eq!(
        current(&w.store, &recovered.id).await.status,
        Status::Ticketed
    );
    let tickets = w.sn.tickets();
    assert_eq!(
        tickets
            .iter()
            .filter(|t| t["correlation_id"] == recovered.id.as_str())
            .count(),
        1,
        "exactly one ticket"
    );

    // The webhook arrives after all, with other content: the stored request, not a conflict.
    let intake = RequestIntake::new(Arc::clone(&w.store));
    let late = sample_body("lost-webhook-1");
    let submission = Submission::parse(late.as_object().unwrap(), false).unwrap();
    match intake.submit(submission).await.unwrap() {
        Submitted::Retried(stored) => assert_eq!(stored.id, recovered.id),
        other => panic!("expected the stored request, got {other:?}"),
    }
}

#[tokio::test]
async fn a_webhooks_request_whose_content_differs_is_still_a_conflict() {
    let store = Arc::new(MemoryStore::new());
    let intake = RequestIntake::new(Arc::clone(&store));
    let first = sample_body("webhook-first");
    intake
        .submit(Submission::parse(first.as_object().unwrap(), false).unwrap())
        .await
        .unwrap();
    let mut other = first.clone();
    other["reason"]["text"] = json!("something else");
    let result = intake
        .submit(Submission::parse(other.as_object().unwrap(), false).unwrap())
        .await;
    assert!(matches!(
        result,
        Err(crate::rules::request_intake::IntakeError::Conflict { .. })
    ));
}

/// A ticketed request whose PM Cloud record an administrator decides in PM Cloud's portal.
async fn decided_in_portal(
    w: &World,
    id: &str,
    approved: bool,
    duration: &str,
) -> (RequestRecord, String) {
    held_in_pm_cloud(w, id, 0);
    let (record, sys_id) = ticketed(w, id).await;
    w.pmc
        .decide_in_portal(id, approved, "carol.admin", duration)
        .unwrap();
    (record, sys_id)
}

#[tokio::test]
async fn a_decision_made_in_pm_cloud_is_recorded_not_pushed_and_told_to_the_ticket() {
    let w = world().await;
    let (record, sys_id) = decided_in_portal(&w, "portal-approved", true, "14400").await;
    let revision = current(&w.store, &record.id).await.revision;

    let swept = run(&w).await;
    assert_eq!(swept.problems, Vec::<String>::new());
    assert_eq!(swept.decisions_mirrored, 1);
    let stored = current(&w.store, &record.id).await;
    assert_eq!(stored.status, Status::Approved);
    let decision = stored.decision.clone().unwrap();
    assert_eq!(decision.decided_in, DecidedIn::PmCloud);
    assert_eq!(decision.decided_by.as_deref(), Some("carol.admin"));
    assert_eq!(decision.duration, Some(Duration::Hours(4)));
    assert_eq!(
        decision.expires_at,
        Some(decision.decided_at + chrono::Duration::hours(4))
    );
    assert_eq!(stored.pm_cloud_notification, None, "never pushed back");
    assert_eq!(w.pmc.notifications().len(), 0);
    assert_eq!(stored.work_notes.len(), 1);
    assert_eq!(stored.work_notes[0].state, NoteState::Written);
    assert_eq!(
        stored.revision,
        revision + 1,
        "one write: the decision with its note; the note's call records nothing more"
    );
    let ticket = w.sn.ticket("incident", &sys_id).unwrap();
    assert_eq!(
        ticket["approval"], "approved",
        "the ticket's approval matches"
    );
    let notes = w.sn.work_notes("incident", &sys_id).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .value
            .contains("approved (4 hours) in PM Cloud by carol.admin"),
        "{}",
        notes[0].value
    );

    // The event the approval change fires changes nothing; nor does another sweep.
    let callback = TicketCallback::new(Arc::clone(&w.store), client());
    let settings = StaticSettings::new(w.secret.clone())
        .settings()
        .await
        .unwrap();
    let event = crate::rules::ticket_callback::TicketEvent::Ticket {
        task_type: crate::domain::ticket::TaskType::Incident,
        sys_id: crate::domain::ids::SysId::parse(&sys_id).unwrap(),
    };
    let recorded = callback.apply_event(event, &settings).await.unwrap();
    assert!(!recorded.changed);
    let again = run(&w).await;
    assert_eq!(again.decisions_mirrored, 0);
    assert_eq!(
        current(&w.store, &record.id).await,
        stored,
        "nothing changed"
    );
    assert_eq!(
        w.sn.work_notes("incident", &sys_id).unwrap().len(),
        1,
        "one note per fact"
    );
}

#[tokio::test]
async fn a_denial_in_pm_cloud_rejects_the_ticket() {
    let w = world().await;
    let (record, sys_id) = decided_in_portal(&w, "portal-denied", false, "Once").await;
    run(&w).await;
    let stored = current(&w.store, &record.id).await;
    assert_eq!(stored.status, Status::Denied);
    assert_eq!(stored.decision.unwrap().outcome, Outcome::Denied);
    assert_eq!(
        w.sn.ticket("incident", &sys_id).unwrap()["approval"],
        "rejected"
    );
}

#[tokio::test]
async fn a_work_note_servicenow_refuses_changes_nothing_else_and_waits() {
    let w = world().await;
    let (record, sys_id) = decided_in_portal(&w, "portal-no-right", true, "Once").await;
    w.sn.inject(servicenow_sim::Fault::Status {
        target: servicenow_sim::FaultTarget::WorkNotes,
        status: 403,
        retry_after_secs: None,
        times: 100,
    });
    let swept = run(&w).await;
    assert_eq!(swept.decisions_mirrored, 1);
    let stored = current(&w.store, &record.id).await;
    assert_eq!(stored.status, Status::Approved, "the decision stands");
    assert_eq!(
        stored.decision.as_ref().unwrap().duration,
        Some(Duration::Once)
    );
    assert_eq!(stored.work_notes[0].state, NoteState::Pending);
    assert_eq!(stored.work_notes[0].attempts, 1);
    assert_eq!(
        stored.backlog().map(|(backlog, _)| backlog),
        Some(crate::domain::backlog::Backlog::FollowUps)
    );
    assert!(w.sn.work_notes("incident", &sys_id).unwrap().is_empty());
}

#[tokio::test]
async fn pm_clouds_event_applies_its_decision_within_the_call() {
    let w = world().await;
    let (record, _) = decided_in_portal(&w, "portal-event", true, "Once").await;
    let mirror = PmCloudMirror::new(Arc::clone(&w.store), client(), pm_cloud_client());
    let settings = StaticSettings::new(w.secret.clone())
        .settings()
        .await
        .unwrap();
    let pm_cloud = settings.pm_cloud.clone().unwrap();
    let id = PmcRequestId::parse("portal-event").unwrap();
    let stored = mirror
        .event(&id, &settings, &pm_cloud)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.id.clone(), stored.status),
        (record.id, Status::Approved)
    );
    let unknown = PmcRequestId::parse("never-seen").unwrap();
    assert_eq!(
        mirror.event(&unknown, &settings, &pm_cloud).await.unwrap(),
        None
    );
    let reads = w.pmc.stats().authorization_request_read_calls;
    assert_eq!(
        reads, 2,
        "the ticket's read-back and the event's; none for an unknown request"
    );
}
