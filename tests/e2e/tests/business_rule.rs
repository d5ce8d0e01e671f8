//! The business rule as it ships (`servicenow/business-rule.js`, run under Node by `servicenow-rules`) against the
//! dev stack: an approver approves on the ServiceNow simulator, which stays quiet (`sendWebhook: false`), and the
//! rule's own signed request makes the connector record the decision. If the script's signature, headers or body
//! stopped matching what the connector verifies (CONTRACT §3, §10), the connector would answer 401 or 400 here.

use e2e::{Stack, route, stack_var, ticket_sys_id};
use serde_json::{Value, json};
use servicenow_rules::node::{Record, Report, Run};
use servicenow_rules::update_set::TICKET_RULE;

/// The shipped rule, as the update set installs it and the README has it configured, for the ticket of `request`
/// after `changed` changed.
async fn rule_for(request: &Value, changed: (&str, &str), secret: &str) -> Report {
    let ticket = Record::pm_cloud_ticket(
        request["ticket"]["table"].as_str().unwrap(),
        &ticket_sys_id(request),
        request["ticket"]["number"].as_str().unwrap(),
    )
    .changed(changed.0, changed.1);
    let run = Run::new(&TICKET_RULE, ticket).connected(&route("/v1/servicenow/events"), secret);
    tokio::task::spawn_blocking(move || run.run())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_shipped_rule_delivers_an_approval_that_the_connector_records() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("shipped-rule").await;
    let decision = json!({"approval": "approved", "duration": "2 days", "notes": "Fine", "by": "bob.approver", "sendWebhook": false});
    let decided = stack
        .decide("incident", &ticket_sys_id(&request), decision)
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(
        decided.body["sent"], false,
        "the simulator sent nothing itself"
    );

    let report = rule_for(
        &request,
        ("approval", "approved"),
        &stack_var("E2E_WEBHOOK_SECRET"),
    )
    .await;
    assert!(report.condition_met);
    assert_eq!(report.requests.len(), 1, "{:?}", report.logs);
    let sent = &report.requests[0];
    assert_eq!(sent.status, Some(200), "{:?}", sent);
    let answer: Value = serde_json::from_str(sent.response_body.as_deref().unwrap()).unwrap();
    assert_eq!(answer["requestId"], request["id"]);
    assert_eq!(answer["status"], "approved");
    assert!(report.logs.is_empty(), "{:?}", report.logs);

    let approved = stack.find(&pmc_request_id).await.body;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decision"]["decidedBy"], "bob.approver");
    assert_eq!(
        approved["decision"]["duration"],
        json!({"type": "days", "value": 2})
    );
    assert_eq!(approved["decision"]["notes"], "Fine");
}

#[tokio::test]
async fn the_shipped_rule_with_another_secret_is_refused_once_and_changes_nothing() {
    let stack = Stack::new();
    let (pmc_request_id, request) = stack.ticketed("shipped-rule-forged").await;
    let decision = json!({"approval": "approved", "duration": "4 hours", "sendWebhook": false});
    let decided = stack
        .decide("incident", &ticket_sys_id(&request), decision)
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);

    let report = rule_for(
        &request,
        ("approval", "approved"),
        "not the configured secret",
    )
    .await;
    assert_eq!(report.requests.len(), 1, "a 401 is not retried");
    assert_eq!(report.requests[0].status, Some(401));
    assert_eq!(report.logged("warn").len(), 1);
    assert_eq!(stack.find(&pmc_request_id).await.body["status"], "ticketed");
}
