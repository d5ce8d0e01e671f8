//! The shipped business rule under Node, sending to a local receiver: what it signs and sends is what the
//! connector verifies (CONTRACT §3, §10, §15), when it sends nothing (and says why), and how it retries.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::SecretString;
use servicenow_rules::node::{Record, Report, Run};
use servicenow_rules::update_set::{APPROVAL_RULE, TICKET_RULE};
use shared::http::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuthError, verify_webhook};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const SECRET: &str = "a long random HMAC key shared with ServiceNow";
const TICKET: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const APPROVAL: &str = "f9e8d7c6b5a4938271605f4e3d2c1b0a";

/// What the receiver got: each request's headers and raw body.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A local HTTP receiver that answers each POST with the next of `statuses` (then 200), and records it.
struct Receiver {
    url: String,
    received: Received,
}

impl Receiver {
    async fn start(statuses: &[u16]) -> Self {
        let received = Received::default();
        let answers = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let app = Router::new()
            .route(
                "/v1/servicenow/events",
                post(
                    |State((received, answers)): State<(Received, Arc<Mutex<VecDeque<u16>>>)>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        received.lock().unwrap().push((headers, body));
                        let status = answers.lock().unwrap().pop_front().unwrap_or(200);
                        (StatusCode::from_u16(status).unwrap(), "{}")
                    },
                ),
            )
            .with_state((received.clone(), answers));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v1/servicenow/events",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        self.received.lock().unwrap().clone()
    }
}

/// Runs `run` on a blocking thread, so that the receiver keeps answering while the script waits for it.
async fn run(run: Run) -> Report {
    tokio::task::spawn_blocking(move || run.run())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn approved_ticket() -> Record {
    Record::pm_cloud_ticket("incident", TICKET, "INC0010001").changed("approval", "approved")
}

/// The connector's own check of a received event (shared::http::auth), with `secret` configured.
fn connector_verifies(
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), WebhookAuthError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    verify_webhook(
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        body,
        &[SecretString::from(secret)],
        now,
    )
}

#[tokio::test]
async fn the_ticket_rule_sends_the_event_the_connector_verifies() {
    let receiver = Receiver::start(&[]).await;
    let report =
        run(Run::new(&TICKET_RULE, approved_ticket()).connected(&receiver.url, SECRET)).await;
    assert!(report.condition_met);
    assert_eq!(report.logs.len(), 0, "{:?}", report.logs);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    assert_eq!(
        std::str::from_utf8(body).unwrap(),
        format!(r#"{{"table":"incident","sys_id":"{TICKET}"}}"#)
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(connector_verifies(headers, body, SECRET), Ok(()));
    assert_eq!(
        connector_verifies(headers, body, "another secret"),
        Err(WebhookAuthError::Mismatch)
    );
    let sent = &report.requests[0];
    assert_eq!(sent.method, "post");
    assert_eq!(sent.status, Some(200));
    assert_eq!(sent.timeout_ms, 15_000);
}

#[tokio::test]
async fn the_approval_rule_sends_the_approval_record() {
    let receiver = Receiver::start(&[]).await;
    let approval = Record::new("sysapproval_approver", APPROVAL)
        .changed("state", "approved")
        .referencing(
            "sysapproval",
            Record::pm_cloud_ticket("incident", TICKET, "INC0010001"),
        );
    let report = run(Run::new(&APPROVAL_RULE, approval).connected(&receiver.url, SECRET)).await;
    assert!(report.condition_met);
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{:?}", report.logs);
    let (headers, body) = &received[0];
    assert_eq!(
        std::str::from_utf8(body).unwrap(),
        format!(r#"{{"table":"sysapproval_approver","sys_id":"{APPROVAL}"}}"#)
    );
    assert_eq!(connector_verifies(headers, body, SECRET), Ok(()));
}

#[tokio::test]
async fn the_conditions_pass_only_the_changes_the_connector_acts_on() {
    let receiver = Receiver::start(&[]).await;
    let untouched =
        Record::pm_cloud_ticket("incident", TICKET, "INC0010001").changed("work_notes", "a note");
    let cases = [
        (TICKET_RULE.condition, untouched, false),
        (TICKET_RULE.condition, approved_ticket(), true),
        (
            TICKET_RULE.condition,
            Record::pm_cloud_ticket("incident", TICKET, "INC0010001").changed("active", "false"),
            true,
        ),
        (
            TICKET_RULE.condition,
            Record::pm_cloud_ticket("incident", TICKET, "INC0010001")
                .changed("u_pm_duration", "2 days"),
            true,
        ),
        (
            APPROVAL_RULE.condition,
            Record::new("sysapproval_approver", APPROVAL)
                .with("state", "requested")
                .changed("comments", "why?")
                .referencing(
                    "sysapproval",
                    Record::pm_cloud_ticket("incident", TICKET, "INC0010001"),
                ),
            false,
        ),
    ];
    for (condition, record, expected) in cases {
        let rule = if condition == TICKET_RULE.condition {
            &TICKET_RULE
        } else {
            &APPROVAL_RULE
        };
        let report = run(Run::new(rule, record.clone()).connected(&receiver.url, SECRET)).await;
        assert_eq!(report.condition_met, expected, "{condition} on {record:?}");
    }
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn nothing_is_sent_for_a_record_that_is_not_a_pm_cloud_ticket() {
    let receiver = Receiver::start(&[]).await;
    let other = approved_ticket().with("correlation_display", "Other tool");
    let report = run(Run::new(&TICKET_RULE, other.clone()).connected(&receiver.url, SECRET)).await;
    assert!(!report.condition_met);
    // The script checks too, for a rule whose condition was left empty.
    let report = run(Run::new(&TICKET_RULE, other)
        .without_condition()
        .connected(&receiver.url, SECRET))
    .await;
    assert!(report.requests.is_empty());
    let approval_of_other = Record::new("sysapproval_approver", APPROVAL)
        .changed("state", "approved")
        .referencing(
            "sysapproval",
            Record::new("change_request", TICKET).with("correlation_display", ""),
        );
    let report = run(Run::new(&APPROVAL_RULE, approval_of_other)
        .without_condition()
        .connected(&receiver.url, SECRET))
    .await;
    assert!(report.requests.is_empty());
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn nothing_is_sent_while_the_integration_is_off_and_the_log_says_why() {
    let receiver = Receiver::start(&[]).await;
    for enabled in [Some("false"), None] {
        let mut run_it = Run::new(&TICKET_RULE, approved_ticket())
            .property("pmc_connector.webhook_url", &receiver.url)
            .property("pmc_connector.webhook_secret", SECRET);
        if let Some(enabled) = enabled {
            run_it = run_it.property("pmc_connector.enabled", enabled);
        }
        let report = run(run_it).await;
        assert!(report.requests.is_empty());
        let info = report.logged("info");
        assert_eq!(info.len(), 1, "{:?}", report.logs);
        assert!(
            info[0].contains("pmc_connector.enabled is not true"),
            "{}",
            info[0]
        );
        assert!(info[0].contains("INC0010001"), "{}", info[0]);
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn nothing_is_sent_without_the_url_or_the_secret_and_the_log_says_which() {
    let receiver = Receiver::start(&[]).await;
    let enabled =
        || Run::new(&TICKET_RULE, approved_ticket()).property("pmc_connector.enabled", "true");
    for run_it in [
        enabled(),
        enabled().property("pmc_connector.webhook_url", &receiver.url),
        enabled().property("pmc_connector.webhook_secret", SECRET),
        enabled()
            .property("pmc_connector.webhook_url", "")
            .property("pmc_connector.webhook_secret", SECRET),
    ] {
        let report = run(run_it).await;
        assert!(report.requests.is_empty());
        let errors = report.logged("error");
        assert_eq!(errors.len(), 1, "{:?}", report.logs);
        assert!(
            errors[0].contains("pmc_connector.webhook_url and pmc_connector.webhook_secret"),
            "{}",
            errors[0]
        );
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    for status in [400, 401, 404, 422] {
        let receiver = Receiver::start(&[status]).await;
        let report =
            run(Run::new(&TICKET_RULE, approved_ticket()).connected(&receiver.url, SECRET)).await;
        assert_eq!(receiver.received().len(), 1, "{status}");
        assert!(report.sleeps.is_empty());
        let warnings = report.logged("warn");
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains(&format!("got {status}")),
            "{}",
            warnings[0]
        );
        assert!(report.logged("error").is_empty());
    }
}

#[tokio::test]
async fn a_5xx_is_tried_three_times_with_a_growing_pause() {
    let receiver = Receiver::start(&[500, 502, 503, 200]).await;
    let report =
        run(Run::new(&TICKET_RULE, approved_ticket()).connected(&receiver.url, SECRET)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(report.sleeps, vec![2000, 4000]);
    assert_eq!(report.logged("warn").len(), 3);
    let errors = report.logged("error");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("gave up"), "{}", errors[0]);
    for (headers, body) in &received {
        assert_eq!(connector_verifies(headers, body, SECRET), Ok(()));
    }
}

#[tokio::test]
async fn a_5xx_then_a_200_ends_the_retries() {
    let receiver = Receiver::start(&[503]).await;
    let report =
        run(Run::new(&TICKET_RULE, approved_ticket()).connected(&receiver.url, SECRET)).await;
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(report.sleeps, vec![2000]);
    assert!(report.logged("error").is_empty());
}

#[tokio::test]
async fn no_answer_at_all_is_retried_like_a_5xx() {
    // A port nobody listens on: bound, then dropped.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = format!("http://{closed}/v1/servicenow/events");
    let report = run(Run::new(&TICKET_RULE, approved_ticket()).connected(&url, SECRET)).await;
    assert_eq!(report.requests.len(), 3);
    assert!(
        report
            .requests
            .iter()
            .all(|r| r.status.is_none() && r.error.is_some())
    );
    assert_eq!(report.sleeps, vec![2000, 4000]);
    assert_eq!(report.logged("error").len(), 1);
}
