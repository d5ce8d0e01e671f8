//! Approvals where approvers are (CONTRACT §15), driven through ticket-creator, ticket-callback and the reconciler
//! against the in-memory store and the ServiceNow simulator's users, groups and approval records.

use crate::domain::record::{DecidedIn, NotificationState, Outcome, RequestRecord};
use crate::domain::request::Submission;
use crate::domain::status::Status;
use crate::rules::reconciler::tests::{World, client, current, pm_cloud_client, run, world_of};
use crate::rules::ticket_callback::{TicketCallback, TicketEvent};
use crate::rules::ticket_creator::TicketCreator;
use crate::secrets::{SettingsSource, StaticSettings};
use crate::store::RequestStore;
use pmcloud_sim::PmCloudSim;
use serde_json::{Value, json};
use servicenow_sim::{ApprovalDecision, NewUser, SimConfig, Simulator};
use std::sync::Arc;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

/// The simulator with a group of three active members and one inactive, and a second group of one (for the
/// escalation); the world's settings name them in `approvals` with `deadlines` added.
async fn approvals_world(deadlines: Value) -> (World, Vec<String>) {
    let sn = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let group = sn.create_group("PM Cloud approvers")["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let escalation = sn.create_group("IT managers")["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut members = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = sn.create_user(NewUser::named(name))["sys_id"]
            .as_str()
            .unwrap()
            .to_owned();
        sn.add_member(&group, &user).unwrap();
        members.push(user);
    }
    let away = NewUser {
        active: Some(false),
        ..NewUser::named("dave.away")
    };
    let away = sn.create_user(away)["sys_id"].as_str().unwrap().to_owned();
    sn.add_member(&group, &away).unwrap();
    let manager = sn.create_user(NewUser::named("erin.manager"))["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    sn.add_member(&escalation, &manager).unwrap();

    let mut approvals = json!({"approverGroup": group});
    if let (Some(approvals), Value::Object(deadlines)) = (approvals.as_object_mut(), deadlines) {
        approvals.extend(deadlines);
    }
    if approvals.get("escalateAfterHours").is_some() {
        approvals["escalationGroup"] = json!(escalation);
    }
    let mut secret: Value = serde_json::from_str(&with_pm_cloud(
        &simulator_secret(&sn.base_url()),
        &pmc.base_url(),
    ))
    .unwrap();
    secret["servicenow"]["approvals"] = approvals;
    (world_of(sn, pmc, secret.to_string()), members)
}

/// A request submitted and ticketed by ticket-creator (which adds the approval records right after the ticket).
async fn ticketed(w: &World, pmc: &str) -> RequestRecord {
    let body = sample_body(pmc);
    let record = RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        crate::domain::ids::RequestId::random(),
        crate::domain::time::now(),
    );
    w.store.create(&record).await.unwrap();
    let creator = TicketCreator::new(
        Arc::clone(&w.store),
        StaticSettings::new(w.secret.clone()),
        client(),
        pm_cloud_client(),
    );
    creator.process(&record.id).await.unwrap();
    current(&w.store, &record.id).await
}

fn sys_id(record: &RequestRecord) -> String {
    record.ticket.as_ref().unwrap().sys_id.to_string()
}

/// The simulator's approval records on `record`'s ticket: `(approver sys_id, state)`.
fn records_of(w: &World, record: &RequestRecord) -> Vec<(String, String)> {
    w.sn.approvals(Some(&sys_id(record)))
        .iter()
        .map(|r| {
            (
                r["approver"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn event(w: &World, approval_sys_id: &str) -> crate::rules::ticket_callback::Recorded {
    let callback = TicketCallback::new(Arc::clone(&w.store), client());
    let settings = StaticSettings::new(w.secret.clone())
        .settings()
        .await
        .unwrap();
    let sys_id = crate::domain::ids::SysId::parse(approval_sys_id).unwrap();
    callback
        .apply_event(TicketEvent::Approval { sys_id }, &settings)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_active_member_gets_one_record_whatever_is_retried() {
    let (w, members) = approvals_world(json!({})).await;
    let record = ticketed(&w, "appr-three").await;
    let mut records = records_of(&w, &record);
    records.sort();
    let mut expected: Vec<(String, String)> = members
        .iter()
        .map(|m| (m.clone(), "requested".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(
        records, expected,
        "three active members, three records; the inactive one none"
    );
    assert_eq!(
        record.approvals.as_ref().unwrap().records.len(),
        3,
        "kept on the request"
    );

    // A retry of the step (as after a crash between the creates and the write) asks nobody twice.
    let settings = StaticSettings::new(w.secret.clone())
        .settings()
        .await
        .unwrap();
    let rules = crate::rules::approvals::ApprovalRules::new(Arc::clone(&w.store), client());
    let group = settings
        .servicenow
        .approvals
        .as_ref()
        .unwrap()
        .approver_group
        .clone();
    rules
        .add_approvers(record.clone(), &settings.servicenow, group.as_ref(), false)
        .await
        .unwrap();
    assert_eq!(records_of(&w, &record).len(), 3, "never six");
    run(&w).await;
    assert_eq!(records_of(&w, &record).len(), 3);
    assert_eq!(w.sn.stats().approval_records_created, 3);
}

#[tokio::test]
async fn the_first_answer_decides_and_the_other_records_are_not_required() {
    let (w, members) = approvals_world(json!({})).await;
    let record = ticketed(&w, "appr-first").await;
    let bobs =
        w.sn.approvals(Some(&sys_id(&record)))
            .into_iter()
            .find(|r| r["approver"] == members[1].as_str())
            .unwrap();
    let bobs = bobs["sys_id"].as_str().unwrap().to_owned();
    let quiet = ApprovalDecision {
        send_webhook: Some(false),
        ..ApprovalDecision::new("approved")
    };
    w.sn.decide_approval(&bobs, quiet).await.ok();
    let recorded = event(&w, &bobs).await;
    assert!(recorded.changed);
    let decided = current(&w.store, &record.id).await;
    assert_eq!(decided.status, Status::Approved);
    let decision = decided.decision.clone().unwrap();
    assert_eq!(decision.decided_by.as_deref(), Some("bob"));
    assert_eq!(decision.decided_in, DecidedIn::ServiceNow);
    assert_eq!(
        decision.duration,
        Some(crate::domain::duration::Duration::Hours(4)),
        "the ticket's pre-filled duration"
    );
    let states: Vec<String> = records_of(&w, &record)
        .into_iter()
        .map(|(_, state)| state)
        .collect();
    assert_eq!(states.iter().filter(|s| *s == "approved").count(), 1);
    assert_eq!(
        states.iter().filter(|s| *s == "not_required").count(),
        2,
        "{states:?}"
    );

    // A later answer changes nothing.
    let carols =
        w.sn.approvals(Some(&sys_id(&record)))
            .into_iter()
            .find(|r| r["approver"] == members[2].as_str())
            .unwrap();
    let carols = carols["sys_id"].as_str().unwrap().to_owned();
    let late = ApprovalDecision {
        send_webhook: Some(false),
        ..ApprovalDecision::new("rejected")
    };
    w.sn.decide_approval(&carols, late).await.ok();
    assert!(!event(&w, &carols).await.changed);
    assert_eq!(current(&w.store, &record.id).await.status, Status::Approved);
}

#[tokio::test]
async fn a_rejection_found_by_the_sweep_denies() {
    let (w, _) = approvals_world(json!({})).await;
    let record = ticketed(&w, "appr-lost").await;
    let first = w.sn.approvals(Some(&sys_id(&record)))[0]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let quiet = ApprovalDecision {
        send_webhook: Some(false),
        ..ApprovalDecision::new("rejected")
    };
    w.sn.decide_approval(&first, quiet).await.ok();
    assert_eq!(
        current(&w.store, &record.id).await.status,
        Status::Ticketed,
        "its event was lost"
    );
    let swept = run(&w).await;
    assert!(swept.approval_records_read >= 1, "{swept:?}");
    let denied = current(&w.store, &record.id).await;
    assert_eq!(denied.status, Status::Denied);
    assert_eq!(denied.decision.unwrap().outcome, Outcome::Denied);
}

#[tokio::test]
async fn reminder_escalation_and_expiry_happen_once_each() {
    // 0.0001 hours is 0.36 s: every deadline has passed two seconds after the ticket.
    let deadlines = json!({"remindAfterHours": 0.0001, "escalateAfterHours": 0.0002, "expireAfterHours": 0.0003});
    let (w, _) = approvals_world(deadlines).await;
    let record = ticketed(&w, "appr-deadlines").await;
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let swept = run(&w).await;
    let expired = current(&w.store, &record.id).await;
    assert_eq!(swept.follow_ups, 1, "{swept:?} {expired:?}");
    assert_eq!(expired.status, Status::Expired, "{:?}", expired.approvals);
    let decision = expired.decision.clone().unwrap();
    assert_eq!(
        (decision.outcome, decision.decided_in),
        (Outcome::Expired, DecidedIn::Connector)
    );
    assert_eq!(
        decision.notes.as_deref(),
        Some("No decision in ServiceNow within 0.0003 hours")
    );
    assert_eq!(
        expired.pm_cloud_notification.as_ref().unwrap().state,
        NotificationState::Pending
    );
    let approvals = expired.approvals.as_ref().unwrap();
    assert!(approvals.reminded && approvals.escalated && approvals.closed);
    let states: Vec<String> = records_of(&w, &record)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        states.len(),
        4,
        "three members, then the escalation's one: {states:?}"
    );
    assert!(states.iter().all(|s| s == "cancelled"), "{states:?}");
    let notes: Vec<String> =
        w.sn.work_notes("incident", &sys_id(&record))
            .unwrap()
            .into_iter()
            .map(|n| n.value)
            .collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].contains("reminder") && notes[0].contains("alice, bob, carol"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains(
            "escalated to the group IT managers; 1 more approver(s) were asked: erin.manager."
        ),
        "{notes:?}"
    );
    assert!(notes[2].contains("expired"), "{notes:?}");

    run(&w).await;
    assert_eq!(
        w.sn.work_notes("incident", &sys_id(&record)).unwrap().len(),
        3,
        "each once"
    );
    assert_eq!(records_of(&w, &record).len(), 4);
}
