//! Both ways, both sides (CONTRACT §13 v3, §14), through the dev stack: a webhook PM Cloud lost is found by the
//! PM Cloud sweep (every 5 s under `make test`); a decision made in PM Cloud's portal is mirrored to the request and
//! the ticket, by PM Cloud's *Decision Updated* webhook or by the sweep, and never pushed back; and the ticket is
//! told what happened, once per fact.

use e2e::{Stack, submission, ticket_sys_id as sys_id};
use serde_json::{Value, json};
use std::time::Duration;

/// Long enough for a few reconciler runs (every 5 s) and the stream after them.
const SWEEPS: Duration = Duration::from_secs(90);

/// PM Cloud holds a pending request `id` (created now); nobody sends its webhook.
async fn held_in_pm_cloud(stack: &Stack, id: &str) {
    let info = json!({"user": "ACME\\carol", "hostName": "LT-0099", "productDescription": "Process Monitor"});
    let held = stack
        .post_pm_cloud(
            "/sim/authorization-requests",
            &json!({"id": id, "requestInfo": info}),
        )
        .await;
    assert_eq!(held, 201);
}

/// The simulator's tickets whose `correlation_id` is the request `id`.
async fn tickets_of(stack: &Stack, id: &Value) -> usize {
    let tickets = stack.simulator_tickets().await;
    tickets
        .iter()
        .filter(|t| &t["correlation_id"] == id)
        .count()
}

#[tokio::test]
async fn a_webhook_pm_cloud_lost_is_ticketed_once_by_the_sweep() {
    let stack = Stack::new();
    let id = format!("e2e-lost-{}", uuid::Uuid::new_v4().simple());
    held_in_pm_cloud(&stack, &id).await;
    let request = stack
        .wait_for(&id, SWEEPS, |r| r["status"] == "ticketed")
        .await;
    assert_eq!(tickets_of(&stack, &request["id"]).await, 1);
    let ticket = stack
        .simulator_tickets()
        .await
        .into_iter()
        .find(|t| t["correlation_id"] == request["id"])
        .unwrap();
    assert!(
        ticket["short_description"]
            .as_str()
            .unwrap()
            .contains("Process Monitor"),
        "built from PM Cloud's record: {ticket}"
    );

    // More sweeps take nothing in twice.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        tickets_of(&stack, &request["id"]).await,
        1,
        "still exactly one ticket"
    );

    // The webhook arrives after all, with content of its own: the request the sweep took in, with 200.
    let (_, mut late) = submission("late");
    late["pmcRequestId"] = json!(id);
    let answer = stack.submit(&late).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["id"], request["id"]);
}

/// A request submitted by its webhook, held by PM Cloud, and ticketed. PM Cloud learns of it only after the webhook,
/// so that the sweep never takes it in first.
async fn ticketed_and_held(stack: &Stack, label: &str) -> (String, Value) {
    let (id, request) = stack.ticketed(label).await;
    held_in_pm_cloud(stack, &id).await;
    (id, request)
}

async fn decide_in_portal(stack: &Stack, id: &str, approved: bool, duration: &str) {
    let decision = json!({"approved": approved, "by": "carol.admin", "duration": duration});
    let path = format!("/sim/authorization-requests/{id}/decision");
    assert_eq!(stack.post_pm_cloud(&path, &decision).await, 200);
}

async fn pushes_for(stack: &Stack, id: &str) -> usize {
    let received = stack.pm_cloud_notifications().await;
    received
        .iter()
        .filter(|n| n["body"]["itsmRequestId"] == id)
        .count()
}

#[tokio::test]
async fn pm_clouds_decision_updated_webhook_mirrors_a_portal_decision_within_the_call() {
    let stack = Stack::new();
    let (id, request) = ticketed_and_held(&stack, "portal-event").await;
    decide_in_portal(&stack, &id, true, "7200").await;

    let answer = stack.pm_cloud_event(&id).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"pmcRequestId": id, "status": "approved"})
    );
    let stored = stack.find(&id).await.body;
    assert_eq!(stored["decision"]["decidedIn"], "pmcloud");
    assert_eq!(stored["decision"]["decidedBy"], "carol.admin");
    assert_eq!(
        stored["decision"]["duration"],
        json!({"type": "hours", "value": 2})
    );
    assert_eq!(stored["pmCloudNotification"], Value::Null);

    let sys_id = sys_id(&request);
    let ticket = stack
        .simulator_tickets()
        .await
        .into_iter()
        .find(|t| t["sys_id"] == sys_id.as_str())
        .unwrap();
    assert_eq!(
        ticket["approval"], "approved",
        "the ticket's approval matches"
    );
    // The approval change fires the business rule; its event, and the sweeps after, change nothing.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(stack.find(&id).await.body, stored);
    assert_eq!(pushes_for(&stack, &id).await, 0, "never pushed back");
    let notes = stack.work_notes("incident", &sys_id).await;
    assert_eq!(notes.len(), 1, "one note per fact: {notes:?}");
    assert!(
        notes[0]["value"]
            .as_str()
            .unwrap()
            .contains("in PM Cloud by carol.admin"),
        "{notes:?}"
    );

    let unknown = stack.pm_cloud_event("e2e-never-submitted").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

#[tokio::test]
async fn the_sweep_mirrors_a_portal_denial_without_any_event() {
    let stack = Stack::new();
    let (id, request) = ticketed_and_held(&stack, "portal-sweep").await;
    decide_in_portal(&stack, &id, false, "Once").await;
    let denied = stack
        .wait_for(&id, SWEEPS, |r| r["status"] == "denied")
        .await;
    assert_eq!(denied["decision"]["decidedIn"], "pmcloud");
    assert_eq!(pushes_for(&stack, &id).await, 0);
    let sys_id = sys_id(&request);
    let ticket = stack
        .simulator_tickets()
        .await
        .into_iter()
        .find(|t| t["sys_id"] == sys_id.as_str())
        .unwrap();
    assert_eq!(ticket["approval"], "rejected");
}

#[tokio::test]
async fn a_delivered_decision_is_told_to_the_ticket_once() {
    let stack = Stack::new();
    let (id, request) = stack.ticketed("told").await;
    let sys_id = sys_id(&request);
    stack
        .decide(
            "incident",
            &sys_id,
            json!({"approval": "approved", "duration": "4 hours"}),
        )
        .await;
    stack
        .wait_for(&id, SWEEPS, |r| {
            r["pmCloudNotification"]["state"] == "delivered"
        })
        .await;
    let told = |notes: &[Value]| {
        notes
            .iter()
            .filter(|n| {
                n["value"]
                    .as_str()
                    .unwrap_or("")
                    .contains("PM Cloud accepted the decision")
            })
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while told(&stack.work_notes("incident", &sys_id).await) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no work note said the decision was delivered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        told(&stack.work_notes("incident", &sys_id).await),
        1,
        "written once"
    );
}

#[tokio::test]
async fn an_approval_that_cannot_be_applied_is_explained_on_the_ticket_once() {
    let stack = Stack::new();
    let (id, request) = stack.ticketed("explained").await;
    let sys_id = sys_id(&request);
    for _ in 0..2 {
        let answer = stack
            .decide(
                "incident",
                &sys_id,
                json!({"approval": "approved", "duration": "45 minutes"}),
            )
            .await;
        assert_eq!(answer.body["webhook"]["status"], 422, "{}", answer.body);
    }
    let notes = stack.work_notes("incident", &sys_id).await;
    assert_eq!(
        notes.len(),
        1,
        "the same problem twice is one note: {notes:?}"
    );
    let text = notes[0]["value"].as_str().unwrap();
    assert!(
        text.contains("not applied") && text.contains("not for applications"),
        "{text}"
    );
    assert_eq!(stack.find(&id).await.body["status"], "ticketed");
}
