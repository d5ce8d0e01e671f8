//! `ticket-callback` driven with signed API Gateway events against the ServiceNow simulator and the in-memory
//! store. Each test says what an event changes, and what it must leave alone.

use super::*;
use http::header::HeaderValue;
use secrecy::SecretString;
use serde_json::{Value, json};
use servicenow_sim::{SimConfig, SimDecision, SimUser, Simulator};
use shared::domain::base_url::Hosts;
use shared::domain::duration::Duration;
use shared::domain::ids::{RequestId, SysId};
use shared::domain::record::{NotificationState, Outcome, RequestRecord};
use shared::domain::request::Submission;
use shared::domain::settings::Settings;
use shared::domain::status::Status;
use shared::domain::ticket::TaskType;
use shared::http::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature};
use shared::http::lambda::api_request_from_json;
use shared::outbound::client::http_client_with_timeout;
use shared::pmcloud::PmCloudClient;
use shared::rules::ticket_creator::{Processed, TicketCreator};
use shared::secrets::StaticSettings;
use shared::servicenow::{NewTicket, ServiceNowClient};
use shared::store::MemoryStore;
use std::sync::Arc;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

/// A stored request for `pmc_request_id`, as `request-intake` would have stored it.
fn sample_record(pmc_request_id: &str) -> RequestRecord {
    let body = sample_body(pmc_request_id);
    RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        shared::domain::ids::RequestId::random(),
        shared::domain::time::now(),
    )
}

// The setup below is `pub(super)` because `openapi_tests.rs` drives the same world rather than a copy of it.

pub(super) const WEBHOOK_SECRET: &str = "local-dev-webhook-secret-not-for-production";

pub(super) struct World {
    pub(super) sim: Simulator,
    pub(super) store: Arc<MemoryStore>,
    creator: TicketCreator<Arc<MemoryStore>, StaticSettings>,
    pub(super) callback: Callback<Arc<MemoryStore>, StaticSettings>,
}

pub(super) fn client() -> ServiceNowClient {
    ServiceNowClient::new(http_client_with_timeout(
        std::time::Duration::from_secs(2),
        Hosts::Local,
    ))
}

pub(super) async fn world() -> World {
    world_with(|secret| secret).await
}

/// A world whose settings secret is `edit`ed first.
async fn world_with(edit: impl FnOnce(String) -> String) -> World {
    world_on(SimConfig::default(), edit).await
}

/// A world on a simulator set up as `config`.
async fn world_on(config: SimConfig, edit: impl FnOnce(String) -> String) -> World {
    let sim = Simulator::start(config).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let secret = edit(simulator_secret(&sim.base_url()));
    World {
        creator: TicketCreator::new(
            Arc::clone(&store),
            StaticSettings::new(secret.clone()),
            client(),
            PmCloudClient::new(http_client_with_timeout(
                std::time::Duration::from_millis(700),
                Hosts::Local,
            )),
        ),
        callback: Callback::new(
            TicketCallback::new(Arc::clone(&store), client()),
            StaticSettings::new(secret),
        ),
        store,
        sim,
    }
}

impl World {
    /// A request that `ticket-creator` has ticketed; returns it with its ticket's sys_id.
    pub(super) async fn ticketed(&self, pmc: &str) -> (RequestRecord, SysId) {
        let record = sample_record(pmc);
        self.store.create(&record).await.unwrap();
        self.creator.process(&record.id).await.unwrap();
        let record = self.current(&record).await;
        let sys_id = record.ticket.as_ref().unwrap().sys_id.clone();
        (record, sys_id)
    }

    async fn current(&self, record: &RequestRecord) -> RequestRecord {
        self.store.get(&record.id).await.unwrap().unwrap()
    }

    /// The approver acts in ServiceNow (no webhook target: the test sends the event itself).
    pub(super) async fn decide(
        &self,
        sys_id: &str,
        approval: Option<&str>,
        duration: Option<&str>,
        active: Option<bool>,
    ) {
        let decision = SimDecision {
            approval: approval.map(str::to_owned),
            duration: duration.map(str::to_owned),
            notes: Some("Approved for the capture".into()),
            by: Some("alice.approver".into()),
            active,
            send_webhook: None,
        };
        let _no_webhook_target = self.sim.decide("incident", sys_id, decision).await;
    }

    /// `body` as a validly signed event.
    pub(super) async fn send(&self, body: &Value) -> ApiResponse {
        handle(&self.callback, signed(&body.to_string(), WEBHOOK_SECRET, 0)).await
    }

    async fn event(&self, table: &str, sys_id: &str) -> ApiResponse {
        self.send(&json!({"table": table, "sys_id": sys_id})).await
    }
}

fn fixture() -> ApiRequest {
    let path = format!(
        "{}/../../events/ticket-callback/servicenow-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    api_request_from_json(&std::fs::read_to_string(path).unwrap())
}

/// The fixture with `body`, signed with `secret` at now + `skew` seconds, as the business rule would.
pub(super) fn signed(body: &str, secret: &str, skew: i64) -> ApiRequest {
    let mut request = fixture();
    let timestamp = (chrono::Utc::now().timestamp() + skew).to_string();
    let signature = webhook_signature(&SecretString::from(secret), &timestamp, body.as_bytes());
    *request.body_mut() = body.as_bytes().to_vec();
    request
        .headers_mut()
        .insert(TIMESTAMP_HEADER, HeaderValue::from_str(&timestamp).unwrap());
    request
        .headers_mut()
        .insert(SIGNATURE_HEADER, HeaderValue::from_str(&signature).unwrap());
    request
}

pub(super) fn answer(response: &ApiResponse) -> Value {
    serde_json::from_str(response.body()).unwrap()
}

fn assert_answer(response: &ApiResponse, record: &RequestRecord, status: &str) {
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    assert_eq!(
        answer(response),
        json!({"requestId": record.id, "status": status})
    );
}

/// The business rule administrators paste into ServiceNow (`servicenow/business-rule.js`, which the README points
/// to), as it stands there, without white space (so that only what the script does counts).
fn business_rule() -> String {
    let path = format!(
        "{}/../../servicenow/business-rule.js",
        env!("CARGO_MANIFEST_DIR")
    );
    let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    script.split_whitespace().collect()
}

#[tokio::test]
async fn the_business_rule_signs_its_event_as_the_callback_verifies_it() {
    let script = business_rule();
    // HMAC-SHA256 over `<timestamp>.<body>` keyed with the secret (`generateMac` takes the key in base64), the
    // timestamp in unix seconds, each in the header the callback reads, and the body that was signed is the one sent.
    for expected in [
        "vartimestamp=String(Math.floor(newGlideDateTime().getNumericValue()/1000));",
        "newGlideCertificateEncryption().generateMac(GlideStringUtil.base64Encode(secret),'HmacSHA256',timestamp+'.'+body);",
        "varbody=JSON.stringify({table:current.getTableName(),sys_id:current.getUniqueValue()});",
        "request.setRequestBody(body);",
        "request.setRequestHeader('X-Webhook-Timestamp',timestamp);",
        "request.setRequestHeader('X-Webhook-Signature',signature);",
    ] {
        assert!(
            script.contains(expected),
            "servicenow/business-rule.js does not hold `{expected}`"
        );
    }
    assert!(TIMESTAMP_HEADER.eq_ignore_ascii_case("X-Webhook-Timestamp"));
    assert!(SIGNATURE_HEADER.eq_ignore_ascii_case("X-Webhook-Signature"));

    // An event of the rule's shape (its keys in its order), signed that way, is taken.
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-business-rule").await;
    w.decide(&sys_id, Some("approved"), Some("4 hours"), None)
        .await;
    let body = format!(r#"{{"table":"incident","sys_id":"{}"}}"#, sys_id.as_str());
    let response = handle(&w.callback, signed(&body, WEBHOOK_SECRET, 0)).await;
    assert_answer(&response, &record, "approved");
}

#[tokio::test]
async fn an_approval_for_4_hours_is_recorded_from_the_ticket() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-approve").await;
    w.decide(&sys_id, Some("approved"), Some("4 hours"), None)
        .await;
    let response = w.event("incident", &sys_id).await;
    assert_answer(&response, &record, "approved");

    let now = w.current(&record).await;
    assert_eq!(now.status, Status::Approved);
    let decision = now.decision.unwrap();
    let ticket = w.sim.ticket("incident", &sys_id).unwrap();
    let updated_on =
        shared::servicenow::parse_datetime(ticket["sys_updated_on"].as_str().unwrap()).unwrap();
    assert_eq!(decision.outcome, Outcome::Approved);
    assert_eq!(decision.duration, Some(Duration::Hours(4)));
    assert_eq!(decision.decided_at, updated_on);
    assert_eq!(
        decision.expires_at,
        Some(updated_on + chrono::Duration::hours(4))
    );
    assert_eq!(decision.decided_by.as_deref(), Some("alice.approver"));
    assert_eq!(decision.notes.as_deref(), Some("Approved for the capture"));
    assert_eq!(now.ticket, record.ticket, "the recorded ticket is kept");
}

#[tokio::test]
async fn a_decision_waits_for_pm_cloud_only_when_pm_cloud_is_configured() {
    // The callback records the decision and answers at once; decision-notifier pushes it (through the stream).
    let w = world_with(|secret| {
        with_pm_cloud(&secret, "https://acme-services.pm.beyondtrustcloud.com")
    })
    .await;
    let (record, sys_id) = w.ticketed("pmc-push").await;
    w.decide(&sys_id, Some("approved"), Some("4 hours"), None)
        .await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    let notification = w.current(&record).await.pm_cloud_notification.unwrap();
    assert_eq!(
        (notification.state, notification.attempts),
        (NotificationState::Pending, 0)
    );

    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-no-push").await;
    w.decide(&sys_id, None, None, Some(false)).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "cancelled");
    let notification = w.current(&record).await.pm_cloud_notification.unwrap();
    assert_eq!(notification.state, NotificationState::NotConfigured);
}

#[tokio::test]
async fn a_rejection_is_a_denial() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-deny").await;
    w.decide(&sys_id, Some("rejected"), None, None).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "denied");
    let decision = w.current(&record).await.decision.unwrap();
    assert_eq!(
        (decision.outcome, decision.duration, decision.expires_at),
        (Outcome::Denied, None, None)
    );
}

#[tokio::test]
async fn a_ticket_closed_without_a_decision_cancels_the_request() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-cancel").await;
    w.decide(&sys_id, None, None, Some(false)).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "cancelled");
    assert_eq!(w.current(&record).await.decision, None);
}

#[tokio::test]
async fn an_undecided_ticket_changes_nothing() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-undecided").await;
    let before = w.current(&record).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "ticketed");
    assert_eq!(w.current(&record).await, before);
}

#[tokio::test]
async fn decisions_are_final_against_repeated_and_late_events() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-final").await;
    w.decide(&sys_id, Some("approved"), Some("2 days"), None)
        .await;
    w.event("incident", &sys_id).await;
    let approved = w.current(&record).await;

    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    w.decide(&sys_id, Some("rejected"), None, Some(false)).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    assert_eq!(
        w.current(&record).await,
        approved,
        "nothing changed, not even updatedAt"
    );
}

#[tokio::test]
async fn an_invalid_duration_is_refused_with_422_and_the_request_stays_ticketed() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-bad-duration").await;
    w.decide(&sys_id, Some("approved"), Some("25 hours"), None)
        .await;
    let response = w.event("incident", &sys_id).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer(&response)["errors"][0]["field"], "u_pm_duration");
    assert_eq!(w.current(&record).await.status, Status::Ticketed);

    // Once the approver corrects it, the next event applies the approval.
    w.decide(&sys_id, Some("approved"), Some("P3M"), None).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    assert_eq!(
        w.current(&record).await.decision.unwrap().duration,
        Some(Duration::Months(3))
    );
}

#[tokio::test]
async fn an_empty_duration_means_the_default_duration() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-default").await;
    w.decide(&sys_id, Some("approved"), Some(""), None).await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    let decision = w.current(&record).await.decision.unwrap();
    assert_eq!(
        (decision.duration, decision.expires_at),
        (Some(Duration::Once), None)
    );
}

#[tokio::test]
async fn the_decision_comes_from_the_ticket_never_from_the_body() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-body").await;
    let body = json!({"table": "incident", "sys_id": sys_id, "approval": "approved", "u_pm_duration": "forever"}).to_string();
    let response = handle(&w.callback, signed(&body, WEBHOOK_SECRET, 0)).await;
    assert_answer(&response, &record, "ticketed");
    assert_eq!(w.current(&record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn forged_stale_and_unsigned_events_are_refused_before_servicenow_is_asked() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-forged").await;
    w.decide(&sys_id, Some("approved"), Some("forever"), None)
        .await;
    let body = json!({"table": "incident", "sys_id": sys_id}).to_string();
    let requests_before = w.sim.stats().table_requests;

    let mut unsigned = signed(&body, WEBHOOK_SECRET, 0);
    unsigned.headers_mut().remove(SIGNATURE_HEADER);
    let mut tampered = signed(&body, WEBHOOK_SECRET, 0);
    *tampered.body_mut() = body.replace(sys_id.as_str(), &"f".repeat(32)).into_bytes();
    let mut malformed = signed(&body, WEBHOOK_SECRET, 0);
    malformed
        .headers_mut()
        .insert(TIMESTAMP_HEADER, HeaderValue::from_static("yesterday"));
    for request in [
        signed(&body, "not-the-secret", 0),
        signed(&body, WEBHOOK_SECRET, -400),
        signed(&body, WEBHOOK_SECRET, 400),
        unsigned,
        tampered,
        malformed,
    ] {
        let response = handle(&w.callback, request).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{}",
            response.body()
        );
        assert!(
            response.headers()[http::header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("X-Webhook-Signature"),
            "RFC 9110: a 401 names its challenge"
        );
    }
    assert_eq!(
        w.sim.stats().table_requests,
        requests_before,
        "ServiceNow was not asked"
    );
    assert_eq!(w.current(&record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn tickets_that_match_no_request_are_404() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-404").await;
    assert_eq!(
        w.event("incident", &"a".repeat(32)).await.status(),
        StatusCode::NOT_FOUND,
        "unknown sys_id"
    );
    assert_eq!(
        w.event("sc_task", &sys_id).await.status(),
        StatusCode::NOT_FOUND,
        "another table"
    );

    // A ticket in another table that claims the request's correlation id is not the request's ticket.
    let stray = w.sim_create("sc_task", &record.id).await;
    w.sim
        .decide(
            "sc_task",
            &stray,
            SimDecision {
                approval: Some("approved".into()),
                ..Default::default()
            },
        )
        .await
        .ok();
    assert_eq!(
        w.event("sc_task", &stray).await.status(),
        StatusCode::NOT_FOUND
    );
    // Nor is a second incident claiming it.
    let twin = w.sim_create("incident", &record.id).await;
    assert_eq!(
        w.event("incident", &twin).await.status(),
        StatusCode::NOT_FOUND
    );
    let unrelated = w.sim_create("incident", "no-such-request").await;
    assert_eq!(
        w.event("incident", &unrelated).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(w.current(&record).await.status, Status::Ticketed);
}

impl World {
    /// Creates a ticket in the simulator directly, as someone in ServiceNow might.
    async fn sim_create(&self, table: &str, correlation_id: &str) -> String {
        self.sim_create_as(table, correlation_id, |secret| secret)
            .await
    }

    /// [`Self::sim_create`] with the simulator's secret `edit`ed first (another user, say).
    async fn sim_create_as(
        &self,
        table: &str,
        correlation_id: &str,
        edit: impl FnOnce(String) -> String,
    ) -> String {
        let secret = edit(simulator_secret(&self.sim.base_url()));
        let settings = Settings::parse(&secret, Hosts::Local).unwrap();
        let correlation_id = RequestId::parse(correlation_id).unwrap();
        let ticket = NewTicket {
            short_description: "made by hand".into(),
            description: String::new(),
            correlation_id: &correlation_id,
            assignment_group: None,
            duration: None,
        };
        let record = client()
            .table(&settings.servicenow, TaskType::parse(table).unwrap())
            .create(&ticket)
            .await
            .unwrap();
        record.sys_id().unwrap().to_string()
    }
}

#[tokio::test]
async fn a_decision_that_beats_ticket_creator_lands_on_the_right_request() {
    let w = world().await;
    let record = sample_record("pmc-early");
    w.store.create(&record).await.unwrap();
    // The ticket exists in ServiceNow, but ticket-creator has not recorded it yet.
    let sys_id = w.sim_create("incident", &record.id).await;
    w.decide(&sys_id, Some("approved"), Some("1 day"), None)
        .await;
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
    let now = w.current(&record).await;
    assert_eq!(
        now.ticket.as_ref().unwrap().sys_id,
        sys_id,
        "the ticket is recorded with the decision"
    );

    // ticket-creator's late delivery neither opens a second ticket nor undoes the decision.
    let processed = w.creator.process(&record.id).await.unwrap();
    assert_eq!(processed, Processed::AlreadyDone(Status::Approved));
    assert_eq!(w.sim.tickets().len(), 1);
}

#[tokio::test]
async fn bad_bodies_after_a_valid_signature_get_400_and_422() {
    let w = world().await;
    assert_eq!(
        handle(&w.callback, signed("{\"table\":", WEBHOOK_SECRET, 0))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let response = handle(
        &w.callback,
        signed("{\"table\":\"incident\"}", WEBHOOK_SECRET, 0),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer(&response)["errors"][0]["field"], "sys_id");
    let response = handle(
        &w.callback,
        signed(
            "{\"table\":\"incident\",\"sys_id\":\"../x\"}",
            WEBHOOK_SECRET,
            0,
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn servicenow_being_down_is_503_and_changes_nothing() {
    let w = world().await;
    let (record, sys_id) = w.ticketed("pmc-down").await;
    w.decide(&sys_id, Some("approved"), Some("4 hours"), None)
        .await;
    w.sim.inject(servicenow_sim::Fault::Status {
        target: servicenow_sim::FaultTarget::TableRead,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    assert_eq!(
        w.event("incident", &sys_id).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(w.current(&record).await.status, Status::Ticketed);
    assert_answer(&w.event("incident", &sys_id).await, &record, "approved");
}

#[tokio::test]
async fn other_methods_and_routes_are_refused() {
    let w = world().await;
    let mut get = fixture();
    *get.method_mut() = http::Method::GET;
    assert_eq!(
        handle(&w.callback, get).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let mut other = fixture();
    *other.uri_mut() = "/v1/other".parse().unwrap();
    assert_eq!(
        handle(&w.callback, other).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// CONTRACT §7 v3: `failed` is final only for a request without a ticket. ServiceNow created this one's ticket but
/// dropped its `correlation_id`; once an administrator puts it right, the approval on it is the request's decision.
#[tokio::test]
async fn a_failed_request_whose_ticket_exists_still_takes_the_decision_on_it() {
    let w = world().await;
    w.sim.inject(servicenow_sim::Fault::DropField {
        field: "correlation_id".into(),
        times: 1,
    });
    let record = sample_record("pmc-dropped");
    w.store.create(&record).await.unwrap();
    let processed = w.creator.process(&record.id).await.unwrap();
    assert!(matches!(processed, Processed::Failed(_)), "{processed:?}");
    assert_eq!(w.current(&record).await.status, Status::Failed);

    let ticket = w.sim.tickets().into_iter().next().unwrap();
    let sys_id = ticket["sys_id"].as_str().unwrap().to_owned();
    w.sim
        .update(
            "incident",
            &sys_id,
            [("correlation_id", record.id.as_str())],
        )
        .unwrap();
    w.decide(&sys_id, Some("approved"), Some("4 hours"), None)
        .await;
    let response = w.event("incident", &sys_id).await;
    assert_answer(&response, &record, "approved");
    let now = w.current(&record).await;
    assert_eq!(now.status, Status::Approved);
    assert_eq!(now.ticket.unwrap().sys_id.as_str(), sys_id);
    assert_eq!(now.decision.unwrap().duration, Some(Duration::Hours(4)));
}

/// CONTRACT §10 v3: while a request has no recorded ticket, a ticket carrying its `correlation_id` that someone
/// else created is not its own: the event is a `404`, and ticket-creator does not adopt it (it creates its own).
#[tokio::test]
async fn a_ticket_another_user_created_is_neither_taken_nor_adopted() {
    let mut config = SimConfig::default();
    config.users.push(SimUser {
        username: "mallory".into(),
        password: "mallory-password".into(),
        tables: None,
    });
    let w = world_on(config, |secret| secret).await;
    let record = sample_record("pmc-foreign");
    w.store.create(&record).await.unwrap();
    let foreign = w
        .sim_create_as("incident", record.id.as_str(), |secret| {
            secret
                .replace("svc.pm.connector", "mallory")
                .replace("sim-password", "mallory-password")
        })
        .await;
    w.decide(&foreign, Some("approved"), Some("1 day"), None)
        .await;
    let response = w.event("incident", &foreign).await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "{}",
        response.body()
    );
    assert_eq!(w.current(&record).await.status, Status::Pending);

    let processed = w.creator.process(&record.id).await.unwrap();
    let Processed::Ticketed(ticket) = processed else {
        panic!("{processed:?}")
    };
    assert_ne!(ticket.sys_id.as_str(), foreign, "a ticket of its own");
    assert_eq!(
        w.sim
            .tickets()
            .iter()
            .filter(|t| t["correlation_id"] == record.id.as_str())
            .count(),
        2
    );
    // Once the request has its own ticket, the other one is another ticket claiming its id: still 404.
    let again = w.event("incident", &foreign).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}
