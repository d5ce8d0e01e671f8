//! The whole loop through the dev stack, as PM Cloud, ServiceNow's approver and an attacker would drive it:
//! submit → ticket → decision in ServiceNow → signed webhook → decision read back.

use e2e::{Stack, TICKETING, signature_headers, stack_var, submission, ticket_sys_id as sys_id};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn a_request_is_ticketed_then_approved_for_4_hours() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("approve").await;
    let ticket = &request["ticket"];
    assert_eq!(ticket["table"], "incident");
    assert!(ticket["number"].as_str().unwrap().starts_with("INC"));
    let in_servicenow: Vec<Value> = stack
        .simulator_tickets()
        .await
        .into_iter()
        .filter(|t| t["correlation_id"] == request["id"])
        .collect();
    assert_eq!(in_servicenow.len(), 1, "exactly one ticket");
    assert_eq!(in_servicenow[0]["sys_id"], ticket["sysId"]);
    assert_eq!(in_servicenow[0]["approval"], "requested");

    let decision = json!({"approval": "approved", "duration": "4 hours", "notes": "OK for the capture", "by": "alice.approver"});
    let delivered = stack.decide("incident", &sys_id(&request), decision).await;
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    assert_eq!(
        delivered.body["webhook"]["status"], 200,
        "{}",
        delivered.body
    );

    let approved = stack.find(&pmc_request_id).await.body;
    assert_eq!(approved["status"], "approved");
    let decision = &approved["decision"];
    assert_eq!(decision["outcome"], "approved");
    assert_eq!(decision["duration"], json!({"type": "hours", "value": 4}));
    assert_eq!(decision["decidedBy"], "alice.approver");
    assert_eq!(decision["notes"], "OK for the capture");
    let decided_at =
        chrono::DateTime::parse_from_rfc3339(decision["decidedAt"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(decision["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at - decided_at, chrono::Duration::hours(4));
    let updated_on = stack
        .simulator_tickets()
        .await
        .into_iter()
        .find(|t| t["sys_id"] == request["ticket"]["sysId"])
        .unwrap()["sys_updated_on"]
        .as_str()
        .unwrap()
        .replace(' ', "T")
        + "Z";
    assert_eq!(
        decision["decidedAt"], updated_on,
        "decidedAt is the ticket's sys_updated_on"
    );
}

#[tokio::test]
async fn a_rejection_denies_the_request() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("deny").await;
    let delivered = stack
        .decide(
            "incident",
            &sys_id(&request),
            json!({"approval": "rejected", "notes": "Not for production"}),
        )
        .await;
    assert_eq!(
        delivered.body["webhook"]["status"], 200,
        "{}",
        delivered.body
    );
    let denied = stack.find(&pmc_request_id).await.body;
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["decision"]["outcome"], "denied");
    assert_eq!(denied["decision"]["expiresAt"], Value::Null);
    assert_eq!(denied["decision"]["notes"], "Not for production");
}

#[tokio::test]
async fn a_ticket_closed_without_a_decision_cancels_the_request() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("cancel").await;
    let delivered = stack
        .decide("incident", &sys_id(&request), json!({"active": false}))
        .await;
    assert_eq!(
        delivered.body["webhook"]["status"], 200,
        "{}",
        delivered.body
    );
    let cancelled = stack.find(&pmc_request_id).await.body;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["decision"], Value::Null);
}

#[tokio::test]
async fn forged_stale_and_unsigned_webhooks_are_refused_and_a_duplicate_changes_nothing() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("webhooks").await;
    let sys_id = sys_id(&request);
    // The approver decides without the webhook reaching us yet: only signed events may apply it.
    let body = json!({"table": "incident", "sys_id": sys_id}).to_string();
    let secret = stack_var("E2E_WEBHOOK_SECRET");
    let now = chrono::Utc::now().timestamp();

    let forged = stack
        .post_event(&body, &signature_headers("not-the-secret", now, &body))
        .await;
    let stale = stack
        .post_event(&body, &signature_headers(&secret, now - 400, &body))
        .await;
    let unsigned = stack.post_event(&body, &[]).await;
    for (name, answer) in [("forged", forged), ("stale", stale), ("unsigned", unsigned)] {
        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
        assert_eq!(answer.body["status"], 401, "{name}: a problem body");
    }
    assert_eq!(stack.find(&pmc_request_id).await.body["status"], "ticketed");

    let delivered = stack
        .decide(
            "incident",
            &sys_id,
            json!({"approval": "approved", "duration": "P2D"}),
        )
        .await;
    assert_eq!(
        delivered.body["webhook"]["status"], 200,
        "{}",
        delivered.body
    );
    // Once decision-notifier has pushed the decision, nothing else moves the request.
    let approved = stack
        .wait_for(&pmc_request_id, TICKETING, |r| {
            r["pmCloudNotification"]["state"] == "delivered"
        })
        .await;
    assert_eq!(approved["status"], "approved");

    let duplicate = stack
        .post_event(
            &body,
            &signature_headers(&secret, chrono::Utc::now().timestamp(), &body),
        )
        .await;
    assert_eq!(duplicate.status, 200, "{}", duplicate.body);
    assert_eq!(
        duplicate.body,
        json!({"requestId": request["id"], "status": "approved"})
    );
    assert_eq!(
        stack.find(&pmc_request_id).await.body,
        approved,
        "nothing changed, not even updatedAt"
    );
}

#[tokio::test]
async fn a_retried_submission_gets_the_same_request_and_one_ticket() {
    let stack = Stack::new();
    let (pmc_request_id, body) = submission("retry");
    assert_eq!(stack.submit(&body).await.status, 202);
    let retry = stack.submit(&body).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    let request = stack
        .wait_for(&pmc_request_id, TICKETING, |r| r["status"] == "ticketed")
        .await;
    let tickets = stack.simulator_tickets().await;
    assert_eq!(
        tickets
            .iter()
            .filter(|t| t["correlation_id"] == request["id"])
            .count(),
        1
    );
}

#[tokio::test]
async fn an_approval_reaches_pm_cloud_once_with_every_field() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("push").await;
    let decision = json!({"approval": "approved", "duration": "4 hours", "notes": "OK for the capture", "by": "alice.approver"});
    stack.decide("incident", &sys_id(&request), decision).await;
    let delivered = stack
        .wait_for(&pmc_request_id, TICKETING, |r| {
            r["pmCloudNotification"]["state"] == "delivered"
        })
        .await;
    assert_eq!(delivered["pmCloudNotification"]["attempts"], 1);

    let received: Vec<Value> = stack
        .pm_cloud_notifications()
        .await
        .into_iter()
        .filter(|n| n["body"]["itsmRequestId"] == pmc_request_id.as_str())
        .collect();
    assert_eq!(received.len(), 1, "PM Cloud received the decision once");
    let body = &received[0]["body"];
    assert_eq!(received[0]["correlationId"], delivered["id"]);
    assert_eq!(body["decision"], "Approved");
    assert_eq!(body["status"], "2000");
    assert_eq!(body["duration"], "14400");
    assert_eq!(body["ticketId"], request["ticket"]["number"]);
    assert_eq!(body["systemId"], request["ticket"]["sysId"]);
    assert_eq!(body["ticketUrl"], request["ticket"]["url"]);
    assert_eq!(body["decisionPerformedByUser"], "alice.approver");
    assert_eq!(body["message"], "OK for the capture");
    let decided_at = delivered["decision"]["decidedAt"]
        .as_str()
        .unwrap()
        .replace('T', " ")
        .replace('Z', "");
    assert_eq!(body["decisionTime"], decided_at.as_str());
}

#[tokio::test]
async fn a_decision_whose_webhook_never_arrived_is_recorded_by_the_reconciler() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("missed-webhook").await;
    let quiet = json!({"approval": "rejected", "notes": "No", "sendWebhook": false});
    let answer = stack.decide("incident", &sys_id(&request), quiet).await;
    assert_eq!(answer.body["webhook"], Value::Null, "{}", answer.body);
    let denied = stack
        .wait_for(&pmc_request_id, Duration::from_secs(90), |r| {
            r["status"] == "denied"
        })
        .await;
    assert_eq!(denied["decision"]["notes"], "No");
}

/// An admin session, as PM Cloud's webhook announces it with values it did not escape and PM Cloud itself holds
/// it: the ticket is pre-filled with the 90 minutes asked for, the approver leaves them, and PM Cloud receives the
/// decision at the admin decision path (the dev settings' `adminDecisionPath`) as 5400 seconds.
#[tokio::test]
async fn an_admin_session_approved_for_90_minutes_reaches_pm_cloud_as_5400_seconds() {
    let stack = Stack::new();
    let pmc_request_id = format!("e2e-admin-{}", uuid::Uuid::new_v4().simple());
    // Created 25 hours ago, so that the PM Cloud sweep (every 5 s here, and reading only the last 24 hours) cannot
    // take it in before the webhook below arrives: a lost webhook is `pmcloud.rs`'s subject, not this test's.
    let created = (chrono::Utc::now() - chrono::Duration::hours(25)).to_rfc3339();
    let held = stack
        .post_pm_cloud(
            "/sim/authorization-requests",
            &json!({"id": pmc_request_id, "requestInfo": {"user": "ACME\\bob", "hostName": "WS-0117", "created": created}}),
        )
        .await;
    assert_eq!(held, 201);
    let raw = format!(
        r#"{{"pmcRequestId": "{pmc_request_id}", "requestType": "admin", "user": {{"name": "ACME\bob"}},
            "computer": {{"hostName": "WS-0117"}}, "reason": {{"text": "Installing the "MFP" driver"}},
            "requestedDuration": {{"type": "minutes", "value": 90}}}}"#
    );
    let created = stack.submit_raw(&raw).await;
    assert_eq!(created.status, 202, "{}", created.body);
    let request = stack
        .wait_for(&pmc_request_id, TICKETING, |r| r["status"] != "pending")
        .await;
    assert_eq!(request["status"], "ticketed", "{request}");
    let ticket = stack
        .simulator_tickets()
        .await
        .into_iter()
        .find(|t| t["correlation_id"] == request["id"])
        .unwrap();
    assert_eq!(ticket["u_pm_duration"], "90 minutes", "pre-filled");
    let description = ticket["description"].as_str().unwrap();
    assert!(description.contains("User: ACME\\bob"), "{description}");
    assert!(
        description.contains("Confirmed by PM Cloud's Management API: user, computer;"),
        "{description}"
    );

    let decision = json!({"approval": "approved", "by": "alice.approver"});
    stack.decide("incident", &sys_id(&request), decision).await;
    let delivered = stack
        .wait_for(&pmc_request_id, TICKETING, |r| {
            r["pmCloudNotification"]["state"] == "delivered"
        })
        .await;
    assert_eq!(
        delivered["decision"]["duration"],
        json!({"type": "minutes", "value": 90})
    );
    let received: Vec<Value> = stack
        .pm_cloud_notifications()
        .await
        .into_iter()
        .filter(|n| n["body"]["itsmRequestId"] == pmc_request_id.as_str())
        .collect();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]["path"],
        "/management-api/v2/AdminAccessRequest/decision"
    );
    assert_eq!(received[0]["body"]["duration"], "5400");
}
