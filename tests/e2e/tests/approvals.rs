//! Approvals where approvers are (CONTRACT §15), through a dev stack whose settings configure them:
//! `tests/e2e/approvals-settings.json` (the approver group and escalation group of `dev/servicenow-directory.json`;
//! deadlines of 7.2, 14.4 and 21.6 seconds). `make test` starts that second stack after the first one's tests and
//! runs these with `--ignored`: against a stack without approvals they fail, saying so.

use e2e::{Stack, pm_cloud, simulator, stack_var, ticket_sys_id};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The active members of "PM Cloud approvers" in `dev/servicenow-directory.json` (dave.away is not active).
const MEMBERS: [&str; 3] = [
    "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b001",
    "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b002",
    "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b003",
];
/// The member of "IT managers", the escalation group.
const MANAGER: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b005";

fn require_approvals() {
    let settings = std::fs::read_to_string(stack_var("E2E_SETTINGS_FILE")).unwrap();
    assert!(
        settings.contains("\"approvals\""),
        "these tests need a stack with approvals: make test starts one with tests/e2e/approvals-settings.json"
    );
}

/// The simulator's approval records on the ticket `sys_id`.
async fn records(stack: &Stack, sys_id: &str) -> Vec<Value> {
    match stack
        .get_json(&simulator(&format!("/sim/approvals?document_id={sys_id}")))
        .await
    {
        Value::Array(records) => records,
        other => panic!("no approval records: {other}"),
    }
}

/// The approval records on the ticket `sys_id` once there are `count` of them (ticket-creator adds them right after
/// recording the ticket, so they may trail the `ticketed` status by a moment); what there is after 15 s otherwise.
async fn asked(stack: &Stack, sys_id: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = records(stack, sys_id).await;
        if found.len() >= count || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An approver answers on approval record `record` (`sendWebhook: false`: its business rule does not fire).
async fn decide(record: &str, state: &str, send_webhook: bool) -> Value {
    let path = format!("/sim/approvals/{record}/decide");
    let body = json!({"state": state, "sendWebhook": send_webhook});
    let response = reqwest::Client::new()
        .post(simulator(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

fn record_of<'r>(records: &'r [Value], approver: &str) -> &'r Value {
    records
        .iter()
        .find(|r| r["approver"] == approver)
        .unwrap_or_else(|| panic!("no record for {approver}"))
}

#[tokio::test]
#[ignore = "needs the approvals stack: make test runs it with --ignored"]
async fn each_active_member_is_asked_once_and_the_first_answer_decides() {
    require_approvals();
    let stack = Stack::new();
    let (id, request) = stack.ticketed("appr-first").await;
    let sys_id = ticket_sys_id(&request);
    let asked = asked(&stack, &sys_id, 3).await;
    let mut approvers: Vec<&str> = asked
        .iter()
        .map(|r| r["approver"].as_str().unwrap())
        .collect();
    approvers.sort();
    assert_eq!(approvers, MEMBERS, "three active members, three records");

    let bobs = record_of(&asked, MEMBERS[1])["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = decide(&bobs, "approved", true).await;
    assert_eq!(answer["webhook"]["status"], 200, "{answer}");
    let decided = stack.find(&id).await.body;
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decision"]["decidedBy"], "bob.approver");
    assert_eq!(
        decided["decision"]["duration"],
        json!({"type": "hours", "value": 4})
    );
    let states: Vec<Value> = records(&stack, &sys_id)
        .await
        .iter()
        .map(|r| r["state"].clone())
        .collect();
    assert_eq!(
        states.iter().filter(|s| *s == "not_required").count(),
        2,
        "{states:?}"
    );
    // Redelivered events and the sweeps after them ask nobody twice, and change nothing.
    decide(&bobs, "approved", true).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(records(&stack, &sys_id).await.len(), 3, "never six");
    assert_eq!(stack.find(&id).await.body["status"], "approved");
}

#[tokio::test]
#[ignore = "needs the approvals stack: make test runs it with --ignored"]
async fn a_rejection_whose_event_was_lost_is_found_by_the_sweep() {
    require_approvals();
    let stack = Stack::new();
    let (id, request) = stack.ticketed("appr-lost").await;
    let asked = asked(&stack, &ticket_sys_id(&request), 3).await;
    let carols = record_of(&asked, MEMBERS[2])["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    decide(&carols, "rejected", false).await;
    let denied = stack
        .wait_for(&id, Duration::from_secs(30), |r| r["status"] == "denied")
        .await;
    assert_eq!(denied["decision"]["decidedBy"], "carol.approver");
}

#[tokio::test]
#[ignore = "needs the approvals stack: make test runs it with --ignored"]
async fn nobody_answers_reminder_escalation_and_expiry_come_once_each() {
    require_approvals();
    let stack = Stack::new();
    let started = Instant::now();
    let (id, request) = stack.ticketed("appr-expiry").await;
    let sys_id = ticket_sys_id(&request);
    let expired = stack
        .wait_for(&id, Duration::from_secs(60), |r| r["status"] == "expired")
        .await;
    println!(
        "expired {:.0} s after the submission",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(expired["decision"]["outcome"], "expired");
    assert_eq!(expired["decision"]["decidedIn"], "connector");
    // The expiry is recorded first; its run then cancels the open records, one call each.
    let closing = Instant::now() + Duration::from_secs(15);
    let asked = loop {
        let asked = records(&stack, &sys_id).await;
        if asked.iter().all(|r| r["state"] == "cancelled") || Instant::now() > closing {
            break asked;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        asked.len(),
        4,
        "three members, then the escalation's manager"
    );
    record_of(&asked, MANAGER);
    assert!(asked.iter().all(|r| r["state"] == "cancelled"), "{asked:?}");

    // PM Cloud hears a denial with the expiry's message.
    let deadline = Instant::now() + Duration::from_secs(30);
    let told = loop {
        let received = stack.get_json(&pm_cloud("/sim/notifications")).await;
        let ours: Vec<Value> = received
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["body"]["itsmRequestId"] == id.as_str())
            .cloned()
            .collect();
        if !ours.is_empty() || Instant::now() > deadline {
            break ours;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["body"]["decision"], "Denied");
    assert_eq!(
        told[0]["body"]["message"],
        "No decision in ServiceNow within 0.006 hours"
    );

    tokio::time::sleep(Duration::from_secs(5)).await;
    let notes: Vec<String> = stack
        .work_notes("incident", &sys_id)
        .await
        .iter()
        .map(|n| n["value"].as_str().unwrap().to_owned())
        .collect();
    let count = |needle: &str| notes.iter().filter(|n| n.contains(needle)).count();
    assert_eq!(count("reminder"), 1, "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("alice.approver, bob.approver, carol.approver")),
        "{notes:?}"
    );
    assert_eq!(count("escalated"), 1, "{notes:?}");
    assert_eq!(
        count("escalated to the group IT managers; 1 more approver(s) were asked: erin.manager."),
        1,
        "the note names the group and whom it asked: {notes:?}"
    );
    assert_eq!(count("expired"), 1, "{notes:?}");
}
