//! A remote answer that echoes what the connector sent never carries a secret into a stored detail or a check
//! report (CONTRACT §4). Staged with wiremock: neither simulator echoes credentials.

use crate::domain::base_url::Hosts;
use crate::domain::redact::REDACTED;
use crate::domain::request::Submission;
use crate::domain::settings::tests::{HOOK_SECRET, PMC_KEY_1, secret_json};
use crate::outbound::client::http_client_with_timeout;
use crate::pmcloud::PmCloudClient;
use crate::rules::request_intake::{RequestIntake, Submitted};
use crate::rules::settings_validator::{SettingsValidator, Subject};
use crate::rules::ticket_creator::{Processed, TicketCreator};
use crate::secrets::StaticSettings;
use crate::servicenow::ServiceNowClient;
use crate::store::MemoryStore;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What `secret_json` holds and what the instance below hands out, all of which it then echoes.
const ECHOED: [&str; 5] = [
    "pw-SECRET",
    "client-SECRET",
    "token-ECHOED-1",
    PMC_KEY_1,
    HOOK_SECRET,
];

fn servicenow() -> ServiceNowClient {
    ServiceNowClient::new(http_client_with_timeout(
        Duration::from_secs(2),
        Hosts::Local,
    ))
}

fn echo_of_everything() -> String {
    format!("you sent {}", ECHOED.join(" and "))
}

/// No secret of `secrets` is in `text`, and something was redacted.
fn assert_redacted_of(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains(REDACTED), "{text}");
}

fn assert_redacted(text: &str) {
    assert_redacted_of(text, &ECHOED);
}

#[tokio::test]
async fn a_failure_detail_quoting_an_echo_is_stored_without_the_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "token-ECHOED-1", "token_type": "Bearer", "expires_in": 1799
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/incident"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": echo_of_everything(), "detail": echo_of_everything()}, "status": "failure"
        })))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    let submission = Submission::parse(
        test_support::sample_body("pmc-echo")
            .as_object()
            .expect("an object"),
        false,
    )
    .expect("a valid submission");
    let Ok(Submitted::Created(record)) = RequestIntake::new(Arc::clone(&store))
        .submit(submission)
        .await
    else {
        panic!("created")
    };
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret_json(&server.uri())),
        servicenow(),
        crate::pmcloud::PmCloudClient::new(http_client_with_timeout(
            Duration::from_secs(2),
            Hosts::Local,
        )),
    );
    let Ok(Processed::Failed(failure)) = creator.process(&record.id).await else {
        panic!("a 400 fails the request")
    };
    assert_redacted(&failure.detail);
    let stored = crate::store::RequestStore::get(&*store, &record.id)
        .await
        .unwrap()
        .unwrap();
    assert_redacted(&serde_json::to_string(&stored.resource()).unwrap());
}

#[tokio::test]
async fn a_check_detail_quoting_an_echo_is_answered_without_the_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "access_denied", "error_description": echo_of_everything()
        })))
        .mount(&server)
        .await;
    let validator = SettingsValidator::new(
        servicenow(),
        PmCloudClient::new(http_client_with_timeout(
            Duration::from_secs(2),
            Hosts::Local,
        )),
    );
    let report = validator
        .validate(Subject::Stored, &secret_json(&server.uri()), Hosts::Local)
        .await;
    let oauth = &report.checks[2];
    assert_eq!((oauth.name, oauth.ok), ("oauth", false));
    // No token was granted: the settings' own secrets are what must not come back.
    let settings_secrets = [ECHOED[0], ECHOED[1], ECHOED[3], ECHOED[4]];
    assert_redacted_of(&serde_json::to_string(&report).unwrap(), &settings_secrets);
}

// Redaction at every exit (issue 20): each remote below echoes whatever it was sent (a grant's form with its
// secrets, the bearer token), and each way such text leaves the connector is checked: the callback's problem
// bodies, request-intake's answer to PM Cloud's event, the validator's report, stored details, the work note sent to
// ServiceNow, and every function's log lines.

/// The secrets of [`settings_with_pm_cloud`] and the tokens the stub token endpoints hand out.
const EVERY_SECRET: [&str; 7] = [
    "pw-SECRET",
    "client-SECRET",
    "pmc-client-SECRET",
    "token-ECHOED-1",
    "pmc-token-ECHOED-1",
    PMC_KEY_1,
    HOOK_SECRET,
];

/// `secret_json` for an instance at `uri`, with PM Cloud's API at `uri` too.
fn settings_with_pm_cloud(uri: &str) -> String {
    let mut settings: serde_json::Value = serde_json::from_str(&secret_json(uri)).unwrap();
    settings["pmCloud"] = json!({
        "apiUrl": uri, "clientId": "pmc-client", "clientSecret": "pmc-client-SECRET"
    });
    settings.to_string()
}

fn parsed(secret: &str) -> crate::domain::settings::Settings {
    crate::domain::settings::Settings::parse(secret, Hosts::Local).unwrap()
}

/// An endpoint that answers `status` with the body `shape` makes of everything it was sent: the request's body (a
/// grant's form with its secrets) and its `Authorization` header (a bearer token).
struct Echo {
    status: u16,
    shape: fn(String) -> serde_json::Value,
}

impl Echo {
    fn of(status: u16, shape: fn(String) -> serde_json::Value) -> Option<Self> {
        Some(Self { status, shape })
    }
}

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let sent = format!(
            "you sent {} with {authorization}",
            String::from_utf8_lossy(&request.body)
        );
        ResponseTemplate::new(self.status).set_body_json((self.shape)(sent))
    }
}

fn servicenow_error(sent: String) -> serde_json::Value {
    json!({"error": {"message": sent, "detail": sent}, "status": "failure"})
}

fn oauth_refusal(sent: String) -> serde_json::Value {
    json!({"error": sent, "error_description": sent})
}

fn problem_details(sent: String) -> serde_json::Value {
    json!({"title": sent, "detail": sent})
}

/// ServiceNow and PM Cloud on one server: ServiceNow's token endpoint answers `servicenow` (`None`: grants
/// `token-ECHOED-1`), PM Cloud's answers `pm_cloud` (`None`: nothing is mounted for it).
async fn remotes(servicenow: Option<Echo>, pm_cloud: Option<Echo>) -> MockServer {
    let server = MockServer::start().await;
    let servicenow_token = Mock::given(method("POST")).and(path("/oauth_token.do"));
    match servicenow {
        Some(echo) => servicenow_token.respond_with(echo),
        None => servicenow_token.respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "token-ECHOED-1", "token_type": "Bearer", "expires_in": 1799
        }))),
    }
    .mount(&server)
    .await;
    if let Some(echo) = pm_cloud {
        Mock::given(method("POST"))
            .and(path("/oauth/connect/token"))
            .respond_with(echo)
            .mount(&server)
            .await;
    }
    server
}

/// What the functions log while it lives (on this thread: each test runs on a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures every event at every level until the guard is dropped.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = lambda_runtime::tracing::subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// No secret of [`EVERY_SECRET`] in `text` (something was logged or answered: `text` is not empty).
fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.trim().is_empty(), "{what} is empty");
    for secret in EVERY_SECRET {
        assert!(!text.contains(secret), "{secret} in {what}: {text}");
    }
}

fn callback_event() -> crate::rules::ticket_callback::TicketEvent {
    crate::rules::ticket_callback::TicketEvent::Ticket {
        task_type: crate::domain::ticket::TaskType::Incident,
        sys_id: crate::domain::ids::SysId::parse("9d385017c611228701d22104cc95c371").unwrap(),
    }
}

/// The problem ticket-callback answers for an event while ServiceNow at `server` answers as mounted: its status,
/// after checking that neither its body nor the log quotes a secret, and that the body quotes the echo.
async fn callback_problem_status(server: &MockServer) -> u16 {
    let logs = Logs::default();
    let _capture = logs.capture();
    let callback = crate::rules::ticket_callback::TicketCallback::new(
        Arc::new(MemoryStore::new()),
        servicenow(),
    );
    let settings = parsed(&settings_with_pm_cloud(&server.uri()));
    let error = callback
        .apply_event(callback_event(), &settings)
        .await
        .expect_err("ServiceNow failed");
    let problem = crate::http::Problem::from(error);
    let body = serde_json::to_string(&problem).unwrap();
    assert_no_secret("the problem body", &body);
    assert!(body.contains(REDACTED), "the echo is quoted: {body}");
    assert_no_secret("the log", &logs.text());
    problem.status
}

/// ticket-callback's `503` when ServiceNow's token endpoint fails with an echo of the grant it was sent.
#[tokio::test]
async fn the_callbacks_503_and_its_log_quote_no_secret_a_token_endpoint_echoed() {
    let server = remotes(Echo::of(500, servicenow_error), None).await;
    assert_eq!(callback_problem_status(&server).await, 503);
}

/// ticket-callback's `502` when the Table API refuses with an echo of the bearer token it was sent.
#[tokio::test]
async fn the_callbacks_502_and_its_log_quote_no_secret_the_table_api_echoed() {
    let server = remotes(None, None).await;
    Mock::given(method("GET"))
        .and(path(
            "/api/now/table/incident/9d385017c611228701d22104cc95c371",
        ))
        .respond_with(Echo {
            status: 403,
            shape: servicenow_error,
        })
        .mount(&server)
        .await;
    assert_eq!(callback_problem_status(&server).await, 502);
}

/// The reconciler's run (what its handler logs) and its log lines, when ServiceNow's token endpoint echoes.
#[tokio::test]
async fn the_reconcilers_problems_and_log_quote_no_secret_a_token_endpoint_echoed() {
    let server = remotes(
        Echo::of(500, servicenow_error),
        Echo::of(503, problem_details),
    )
    .await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let reconciler = crate::rules::reconciler::Reconciler::new(
        MemoryStore::new(),
        StaticSettings::new(settings_with_pm_cloud(&server.uri())),
        servicenow(),
        pm_cloud(),
        crate::rules::reconciler::Thresholds::default(),
    );
    let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
    let swept = reconciler
        .run(crate::runtime::serve::Trigger::Schedule.deadline(deadline))
        .await;
    assert!(swept.problems.len() >= 2, "{swept:?}");
    let problems = swept.problems.join("\n");
    assert_no_secret("the run's problems", &problems);
    assert!(problems.contains(REDACTED), "{problems}");
    tracing::warn!(?swept, "reconciled, with problems");
    assert_no_secret("the log", &logs.text());
}

fn pm_cloud() -> PmCloudClient {
    PmCloudClient::new(http_client_with_timeout(
        Duration::from_secs(2),
        Hosts::Local,
    ))
}

/// A request stored `pending` for `pmc`.
async fn submitted(store: &Arc<MemoryStore>, pmc: &str) -> crate::domain::record::RequestRecord {
    let body = test_support::sample_body(pmc);
    let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
    match RequestIntake::new(Arc::clone(store))
        .submit(submission)
        .await
    {
        Ok(Submitted::Created(record)) => record,
        _ => panic!("created"),
    }
}

/// request-intake's answer to PM Cloud's Decision Updated event, and its log, when PM Cloud's token endpoint
/// echoes the grant it was sent.
#[tokio::test]
async fn request_intakes_event_answer_and_log_quote_no_secret_a_token_endpoint_echoed() {
    let server = remotes(None, Echo::of(500, problem_details)).await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let store = Arc::new(MemoryStore::new());
    let stored = submitted(&store, "pmc-event-echo").await;
    let settings = parsed(&settings_with_pm_cloud(&server.uri()));
    let mirror = crate::rules::pmcloud_mirror::PmCloudMirror::new(
        Arc::clone(&store),
        servicenow(),
        pm_cloud(),
    );
    let answered = mirror
        .event(
            &stored.pmc_request_id,
            &settings,
            settings.pm_cloud.as_ref().unwrap(),
        )
        .await
        .unwrap()
        .expect("a known request");
    assert_no_secret(
        "the answer",
        &serde_json::to_string(&answered.resource()).unwrap(),
    );
    let log = logs.text();
    assert_no_secret("the log", &log);
    assert!(
        log.contains(REDACTED),
        "the failure is logged, quoted: {log}"
    );
}

/// The validator's report and its log when PM Cloud's token endpoint refuses with an echo of the grant.
#[tokio::test]
async fn the_validators_pm_cloud_detail_and_log_quote_no_secret_a_token_endpoint_echoed() {
    let server = remotes(None, Echo::of(400, oauth_refusal)).await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let validator = SettingsValidator::new(servicenow(), pm_cloud());
    let report = validator
        .validate(
            Subject::Stored,
            &settings_with_pm_cloud(&server.uri()),
            Hosts::Local,
        )
        .await;
    let pmcloud = report.checks.last().unwrap();
    assert_eq!((pmcloud.name, pmcloud.ok), ("pmcloud", false));
    assert_no_secret("the report", &serde_json::to_string(&report).unwrap());
    assert_no_secret("the log", &logs.text());
}

/// decision-notifier: the stored `pmCloudNotification.detail`, the work note ServiceNow is sent, and the log, when
/// PM Cloud's token endpoint refuses with an echo of the grant.
#[tokio::test]
async fn a_refused_push_stores_and_notes_no_secret_a_token_endpoint_echoed() {
    let server = remotes(None, Echo::of(400, oauth_refusal)).await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"sys_id": "9d385017c611228701d22104cc95c371"}
        })))
        .mount(&server)
        .await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let store = Arc::new(MemoryStore::new());
    let pending = submitted(&store, "pmc-push-echo").await;
    let instance = crate::domain::base_url::BaseUrl::parse(&server.uri(), Hosts::Local).unwrap();
    let ticket = crate::domain::ticket::Ticket::new(
        &instance,
        crate::domain::ticket::TaskType::Incident,
        "INC0010001".into(),
        crate::domain::ids::SysId::parse("9d385017c611228701d22104cc95c371").unwrap(),
    );
    let now = crate::domain::time::now();
    let decision = crate::domain::record::Decision {
        outcome: crate::domain::record::Outcome::Denied,
        duration: None,
        expires_at: None,
        decided_by: Some("alice.approver".into()),
        decided_at: now,
        notes: None,
        decided_in: crate::domain::record::DecidedIn::ServiceNow,
    };
    let decided = pending
        .ticketed(ticket.clone(), now)
        .unwrap()
        .decided(decision, ticket, true, now)
        .unwrap();
    let decided = match crate::store::update(&*store, pending, |_| Some(decided.clone()))
        .await
        .unwrap()
    {
        crate::store::Updated::Written(stored) => stored,
        other => panic!("{other:?}"),
    };
    let notifier = crate::rules::decision_notifier::DecisionNotifier::new(
        Arc::clone(&store),
        StaticSettings::new(settings_with_pm_cloud(&server.uri())),
        pm_cloud(),
        servicenow(),
    );
    let pushed = notifier.push(&decided.id).await;
    assert!(pushed.is_ok(), "{pushed:?}");
    let stored = crate::store::RequestStore::get(&*store, &decided.id)
        .await
        .unwrap()
        .unwrap();
    let resource = serde_json::to_value(stored.resource()).unwrap();
    assert_eq!(
        resource["pmCloudNotification"]["state"], "failed",
        "{resource}"
    );
    assert_no_secret("the stored request", &resource.to_string());
    let notes: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.method.as_str() == "PATCH")
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert_eq!(notes.len(), 1, "the ticket is told: {notes:?}");
    assert_no_secret("the work note", &notes[0]);
    assert_no_secret("the log", &logs.text());
}

/// ticket-creator's outcome and its log when ServiceNow's token endpoint fails with an echo of the grant.
#[tokio::test]
async fn ticket_creators_outcome_and_log_quote_no_secret_a_token_endpoint_echoed() {
    let server = remotes(Echo::of(502, servicenow_error), None).await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let store = Arc::new(MemoryStore::new());
    let pending = submitted(&store, "pmc-create-echo").await;
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret_json(&server.uri())),
        servicenow(),
        pm_cloud(),
    );
    let outcome = creator.process(&pending.id).await;
    let outcome = format!("{outcome:?}");
    assert_no_secret("the outcome", &outcome);
    let stored = crate::store::RequestStore::get(&*store, &pending.id)
        .await
        .unwrap()
        .unwrap();
    assert_no_secret(
        "the stored request",
        &serde_json::to_string(&stored.resource()).unwrap(),
    );
    assert_no_secret("the log", &logs.text());
}

/// The ticket ticket-creator writes says why PM Cloud did not confirm the webhook's values: when PM Cloud's token
/// endpoint echoes the grant it was sent, what ServiceNow is sent holds none of it.
#[tokio::test]
async fn the_ticket_text_quotes_no_secret_pm_clouds_token_endpoint_echoed() {
    let server = remotes(None, Echo::of(500, problem_details)).await;
    let store = Arc::new(MemoryStore::new());
    let pending = submitted(&store, "pmc-ticket-echo").await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/incident"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"result": {
            "sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010001",
            "correlation_id": pending.id.as_str()
        }})))
        .mount(&server)
        .await;
    let logs = Logs::default();
    let _capture = logs.capture();
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(settings_with_pm_cloud(&server.uri())),
        servicenow(),
        pm_cloud(),
    );
    let outcome = creator.process(&pending.id).await;
    assert!(matches!(outcome, Ok(Processed::Ticketed(_))), "{outcome:?}");
    let created: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| {
            request.method.as_str() == "POST" && request.url.path() == "/api/now/table/incident"
        })
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert_eq!(created.len(), 1);
    assert!(
        created[0].contains("PM Cloud") && created[0].contains(REDACTED),
        "the ticket says why PM Cloud did not confirm, quoted: {}",
        created[0]
    );
    assert_no_secret("the ticket", &created[0]);
    assert_no_secret("the log", &logs.text());
}
