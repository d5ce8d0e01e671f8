//! The handler driven with API Gateway HTTP API events (the fixtures in `events/request-intake/`),
//! against the in-memory store and, for the concurrency guarantee, against DynamoDB in the emulator.

use super::*;
use http::HeaderValue;
use http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use shared::domain::ids::{PmcRequestId, RequestId};
use shared::domain::record::RequestRecord;
use shared::domain::request::RequestType;
use shared::domain::time::Timestamp;
use shared::http::lambda::api_request_from_json;
use shared::secrets::StaticSettings;
use shared::store::{CreateOutcome, DynamoStore, MemoryStore, Remote, ReplaceOutcome, StoreError};
use std::sync::Arc;
use test_support::{create_requests_table, emulator_config, sample_body};

// The setup below is `pub(super)` because `openapi_tests.rs` sends its requests through the same helpers.

pub(super) const KEY: &str = "local-dev-pmc-key-not-for-production-use";

/// A valid settings secret whose caller keys are mid-rotation: `KEY` and an older one are both accepted (the
/// OpenAPI tests share it; none of their 401 cases presents the older key).
pub(super) fn settings() -> StaticSettings {
    StaticSettings::new(
        json!({
            "servicenow": {
                "instanceUrl": "https://acme.service-now.com", "username": "svc", "password": "pw",
                "clientId": "id", "clientSecret": "secret", "taskType": "incident"
            },
            "pmcApiKeys": ["old-key-being-rotated-out-0000000000000", KEY],
            "webhookSecrets": ["hook-secret-of-the-request-intake-tests"]
        })
        .to_string(),
    )
}

/// The function over an in-memory store, and that store, to see what was stored.
pub(super) fn intake() -> (Intake<Arc<MemoryStore>, StaticSettings>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let intake = Intake::new(rules(Arc::clone(&store)), settings());
    (intake, store)
}

/// The function's rules over `store`, with clients for local simulators.
pub(super) fn rules<S: RequestStore + SharedState + Clone>(store: S) -> Rules<S> {
    let http = shared::outbound::client::http_client_with_timeout(
        std::time::Duration::from_secs(2),
        shared::domain::base_url::Hosts::Local,
    );
    Rules::new(
        store,
        ServiceNowClient::new(http.clone()),
        PmCloudClient::new(http),
    )
}

fn fixture(name: &str) -> ApiRequest {
    let path = format!(
        "{}/../../events/request-intake/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    api_request_from_json(&text)
}

/// The submit fixture with another body.
pub(super) fn submit_with(body: &[u8]) -> ApiRequest {
    let mut request = fixture("submit-request.json");
    *request.body_mut() = body.to_vec();
    request
}

pub(super) fn submit_json(body: &Value) -> ApiRequest {
    submit_with(body.to_string().as_bytes())
}

pub(super) fn get_path(path_and_query: &str) -> ApiRequest {
    let mut request = fixture("get-request.json");
    *request.uri_mut() = path_and_query.parse().unwrap();
    request
}

pub(super) fn body(response: &ApiResponse) -> Value {
    serde_json::from_str(response.body()).expect("a JSON body")
}

pub(super) fn assert_problem(response: &ApiResponse, status: u16) -> Value {
    assert_eq!(response.status(), status, "{}", response.body());
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let problem = body(response);
    assert_eq!(problem["status"], status);
    problem
}

#[tokio::test]
async fn a_new_request_is_accepted_with_its_location_and_can_be_read_back() {
    let (intake, _) = intake();
    let response = handle(&intake, fixture("submit-request.json")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let created = body(&response);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        response.headers()[LOCATION],
        format!("/v1/requests/{id}").as_str()
    );
    assert_eq!(
        created["pmcRequestId"],
        "3c5e2a8e-0d2b-4f7e-9a51-1f0b6f0f4e21"
    );
    assert_eq!(created["requestType"], "application");
    assert_eq!(created["status"], "pending");
    for absent in ["ticket", "decision", "failure"] {
        assert_eq!(created[absent], Value::Null, "{absent}");
    }
    assert_eq!(created["createdAt"], created["updatedAt"]);

    let by_id = handle(&intake, get_path(&format!("/v1/requests/{id}"))).await;
    assert_eq!(by_id.status(), StatusCode::OK);
    assert_eq!(body(&by_id), created);

    let by_pmc = handle(&intake, fixture("find-request.json")).await;
    assert_eq!(by_pmc.status(), StatusCode::OK);
    assert_eq!(body(&by_pmc), created);
}

#[tokio::test]
async fn a_retry_with_the_same_json_value_answers_200_with_the_stored_request() {
    let (intake, store) = intake();
    let first = body(&handle(&intake, fixture("submit-request.json")).await);
    // The same value with other key order and white space.
    let original: Value = serde_json::from_slice(fixture("submit-request.json").body()).unwrap();
    let reordered = format!(
        "{{ \"requestedDuration\": {},\n \"policy\": {}, \"reason\": {}, \"application\": {}, \"computer\": {}, \"user\": {}, \"requestType\": \"application\", \"pmcRequestId\": {} }}",
        original["requestedDuration"],
        original["policy"],
        original["reason"],
        original["application"],
        original["computer"],
        original["user"],
        original["pmcRequestId"]
    );
    let retry = handle(&intake, submit_with(reordered.as_bytes())).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(body(&retry), first);
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn a_reused_pmc_request_id_with_other_content_is_a_conflict_and_changes_nothing() {
    let (intake, store) = intake();
    let first = body(&handle(&intake, fixture("submit-request.json")).await);
    let mut changed: Value = serde_json::from_slice(fixture("submit-request.json").body()).unwrap();
    changed["reason"]["text"] = json!("something else");
    let response = handle(&intake, submit_json(&changed)).await;
    let problem = assert_problem(&response, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("3c5e2a8e-0d2b-4f7e-9a51-1f0b6f0f4e21")
    );
    assert_eq!(store.len(), 1);
    let stored = handle(
        &intake,
        get_path(&format!("/v1/requests/{}", first["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(body(&stored), first);
}

#[tokio::test]
async fn every_authentication_failure_is_401_and_stores_nothing() {
    let (intake, store) = intake();
    let cases: [Option<&str>; 6] = [
        None,
        Some("Bearer wrong-key"),
        Some("Bearer "),
        Some("Basic bG9jYWw6a2V5"),
        Some(KEY),
        Some("Bearer local-dev-pmc-key-not-for-production-use-and-more"),
    ];
    for authorization in cases {
        for mut request in [
            fixture("submit-request.json"),
            fixture("find-request.json"),
            fixture("get-request.json"),
        ] {
            request.headers_mut().remove(AUTHORIZATION);
            if let Some(value) = authorization {
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            let response = handle(&intake, request).await;
            assert_eq!(
                response.headers()[http::header::WWW_AUTHENTICATE],
                r#"Bearer realm="pmc-servicenow-connector""#,
                "RFC 9110: a 401 names its challenge"
            );
            let problem = assert_problem(&response, 401);
            assert!(!problem.to_string().contains(KEY), "no key is echoed");
        }
    }
    assert!(store.is_empty());
}

#[tokio::test]
async fn the_second_key_of_a_rotation_is_accepted() {
    let (intake, _) = intake();
    let mut request = fixture("submit-request.json");
    request.headers_mut().insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer old-key-being-rotated-out-0000000000000"),
    );
    assert_eq!(
        handle(&intake, request).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn bad_bodies_get_400_413_415_and_store_nothing() {
    let (intake, store) = intake();
    assert_problem(
        &handle(&intake, submit_with(b"{\"pmcRequestId\": ")).await,
        400,
    );
    assert_problem(&handle(&intake, submit_with(b"[]")).await, 400);
    assert_problem(&handle(&intake, submit_with(b"")).await, 400);

    let mut padded = sample_body("big");
    padded["reason"]["text"] = json!("x".repeat(70 * 1024));
    assert_problem(&handle(&intake, submit_json(&padded)).await, 413);

    let mut form = fixture("submit-request.json");
    form.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    assert_problem(&handle(&intake, form).await, 415);
    let mut no_type = fixture("submit-request.json");
    no_type.headers_mut().remove(CONTENT_TYPE);
    assert_problem(&handle(&intake, no_type).await, 415);
    assert!(store.is_empty());
}

#[tokio::test]
async fn invalid_fields_get_422_naming_every_one_and_store_nothing() {
    let (intake, store) = intake();
    let mut bad = sample_body("p-422");
    bad["application"]["sha256"] = json!("xyz");
    bad["user"]["email"] = json!("not-an-address");
    bad["requestedDuration"] = json!({"type": "hours", "value": 25});
    bad["application"]["sha1"] = json!("not-a-hash");
    let problem = assert_problem(&handle(&intake, submit_json(&bad)).await, 422);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "application.sha1",
            "application.sha256",
            "requestedDuration.value",
            "user.email"
        ]
    );
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].is_string())
    );
    assert!(store.is_empty());
}

#[tokio::test]
async fn unknown_ids_are_404_and_other_methods_405() {
    let (intake, _) = intake();
    assert_problem(&handle(&intake, fixture("get-request.json")).await, 404);
    assert_problem(&handle(&intake, fixture("find-request.json")).await, 404);
    // An id that could never have been accepted is not found, and not quoted back.
    let odd = assert_problem(
        &handle(&intake, get_path("/v1/requests?pmcRequestId=zq%20zq%00")).await,
        404,
    );
    assert!(!odd["detail"].as_str().unwrap().contains("zq"), "{odd}");
    // Missing, empty or white space: absent, as in a body.
    for path in [
        "/v1/requests",
        "/v1/requests?pmcRequestId=",
        "/v1/requests?pmcRequestId=%20",
    ] {
        let missing_query = assert_problem(&handle(&intake, get_path(path)).await, 422);
        assert_eq!(
            missing_query["errors"][0]["field"], "pmcRequestId",
            "{path}"
        );
    }
    assert_problem(&handle(&intake, get_path("/v2/other")).await, 404);

    for (method, path, allowed) in [
        ("PUT", "/v1/requests", "GET, POST"),
        ("DELETE", "/v1/requests", "GET, POST"),
        ("DELETE", "/v1/requests/abc", "GET"),
        ("POST", "/v1/requests/abc", "GET"),
    ] {
        let mut request = fixture("submit-request.json");
        *request.method_mut() = method.parse().unwrap();
        *request.uri_mut() = path.parse().unwrap();
        let response = handle(&intake, request).await;
        assert_problem(&response, 405);
        assert_eq!(response.headers()[http::header::ALLOW], allowed);
    }
}

async fn submit_concurrently<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: Arc<Intake<S, C>>,
    submission: &Value,
) -> Vec<(StatusCode, Value)>
where
    Intake<S, C>: Send + Sync + 'static,
{
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let intake = Arc::clone(&intake);
            let request = submit_json(submission);
            tokio::spawn(async move {
                let response = handle(&intake, request).await;
                (response.status(), body(&response))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Exactly one of the answers created the request; every other one is a retry of it.
fn assert_one_request(answers: &[(StatusCode, Value)]) {
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::ACCEPTED)
        .count();
    let retried = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!((created, retried), (1, answers.len() - 1), "{answers:?}");
    let id = &answers[0].1["id"];
    assert!(
        answers.iter().all(|(_, body)| &body["id"] == id),
        "all answers name one request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_identical_posts_create_one_request_in_memory() {
    let (intake, store) = intake();
    let intake = Arc::new(intake);
    let answers = submit_concurrently(Arc::clone(&intake), &sample_body("concurrent-mem")).await;
    assert_one_request(&answers);
    assert_eq!(store.len(), 1);
}

/// moto's server is not atomic under concurrent conditional writes (a limitation of the emulator, not of
/// DynamoDB), so this wrapper lets one store call reach it at a time while the handlers still run concurrently.
struct OneCallAtATime<S> {
    inner: S,
    gate: tokio::sync::Mutex<()>,
}

impl<S: SharedState> SharedState for OneCallAtATime<S> {
    async fn paused_until(&self, remote: Remote) -> Result<Option<Timestamp>, StoreError> {
        self.inner.paused_until(remote).await
    }
    async fn pause(&self, remote: Remote, until: Timestamp) -> Result<(), StoreError> {
        self.inner.pause(remote, until).await
    }
    async fn watermark(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.watermark().await
    }
    async fn set_watermark(&self, at: Timestamp) -> Result<(), StoreError> {
        self.inner.set_watermark(at).await
    }
    async fn settings_invalid_since(&self, now: Timestamp) -> Result<Timestamp, StoreError> {
        self.inner.settings_invalid_since(now).await
    }
    async fn settings_valid(&self) -> Result<(), StoreError> {
        self.inner.settings_valid().await
    }
}

impl<S: RequestStore> RequestStore for OneCallAtATime<S> {
    async fn request_id_for(&self, id: &PmcRequestId) -> Result<RequestId, StoreError> {
        let _turn = self.gate.lock().await;
        self.inner.request_id_for(id).await
    }
    async fn create(&self, record: &RequestRecord) -> Result<CreateOutcome, StoreError> {
        let _turn = self.gate.lock().await;
        self.inner.create(record).await
    }
    async fn get(&self, id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        let _turn = self.gate.lock().await;
        self.inner.get(id).await
    }
    async fn find_by_pmc_request_id(
        &self,
        id: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let _turn = self.gate.lock().await;
        self.inner.find_by_pmc_request_id(id).await
    }
    async fn replace(&self, next: &RequestRecord) -> Result<ReplaceOutcome, StoreError> {
        let _turn = self.gate.lock().await;
        self.inner.replace(next).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_identical_posts_create_one_request_in_dynamodb() {
    let config = emulator_config().await;
    let table = create_requests_table(&config).await;
    let store = OneCallAtATime {
        inner: DynamoStore::from_config(&config, &table),
        gate: tokio::sync::Mutex::new(()),
    };
    let intake = Arc::new(Intake::new(rules(Arc::new(store)), settings()));
    let answers = submit_concurrently(Arc::clone(&intake), &sample_body("concurrent-ddb")).await;
    assert_one_request(&answers);

    let items = aws_sdk_dynamodb::Client::new(&config)
        .scan()
        .table_name(&table)
        .filter_expression("kind = :request")
        .expression_attribute_values(
            ":request",
            aws_sdk_dynamodb::types::AttributeValue::S("request".into()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        items.count, 1,
        "one request item (beside it only the table's request id key)"
    );
}

#[tokio::test]
async fn the_whole_function_works_against_dynamodb() {
    let config = emulator_config().await;
    let table = create_requests_table(&config).await;
    let intake = Intake::new(rules(DynamoStore::from_config(&config, &table)), settings());
    let created = handle(&intake, fixture("submit-request.json")).await;
    assert_eq!(created.status(), StatusCode::ACCEPTED);
    let retry = handle(&intake, fixture("submit-request.json")).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let found = handle(&intake, fixture("find-request.json")).await;
    assert_eq!(body(&found), body(&created));
    let id = body(&created)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        body(&handle(&intake, get_path(&format!("/v1/requests/{id}"))).await),
        body(&created)
    );
}

/// A webhook template administrators paste into PM Cloud (`pmcloud/<name>`, which the README points to), as it
/// stands there.
pub(super) fn webhook_template(name: &str) -> String {
    let path = format!("{}/../../pmcloud/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// How PM Cloud puts a value into the template: BeyondTrust does not say whether it JSON-escapes (CONTRACT §5).
#[derive(Debug, Clone, Copy)]
enum Fill {
    Escaped,
    Raw,
}

/// The template with each `%%Placeholder%%` replaced by its value; every placeholder of the template must have a
/// value.
fn fill(template: &str, values: &[(&str, &str)], how: Fill) -> String {
    let mut filled = template.to_owned();
    for (name, value) in values {
        let placeholder = format!("%%{name}%%");
        let text = match how {
            Fill::Raw => (*value).to_owned(),
            Fill::Escaped => {
                let escaped = serde_json::to_string(value).unwrap();
                escaped[1..escaped.len() - 1].to_owned()
            }
        };
        filled = filled.replace(&placeholder, &text);
    }
    assert!(
        !filled.contains("%%"),
        "a placeholder has no value: {filled}"
    );
    filled
}

/// A realistic value for every placeholder of the templates, as PM Cloud fills them in.
const TEMPLATE_VALUES: [(&str, &str); 26] = [
    ("RequestId", "7b0e9f64-51c3-4f0a-9a2e-3c1d5e7f9b21"),
    ("User", "ACME\\jdoe"),
    ("HostName", "LT-0042"),
    ("ProductDescription", "Wireshark Network Analyzer"),
    ("Sha1Hash", "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"),
    ("Reason", "Need to capture \"VPN\" traffic\nfor INC0012345"),
    ("Workstyle", "Developers"),
    ("ApplicationGroup", "Network tools"),
    ("EventType", "JIT Application Access Ticket Created"),
    ("TenantId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    ("TicketNumber", "EPM000123"),
    ("ApplicationType", "exe"),
    ("Action", "Elevate"),
    ("trustedOwnership", "True"),
    ("DriveType", "Fixed"),
    ("BtZoneIdentifierExists", "False"),
    (
        "DownloadSourceUrl",
        "https://www.wireshark.org/download/win64/",
    ),
    ("UacTriggered", "True"),
    // Values PM Cloud leaves empty for an executable: absent, not a 422.
    ("ProductCode", ""),
    ("UpgradeCode", ""),
    ("ClsId", ""),
    ("ComDisplayName", " "),
    ("Token", "Custom Elevation"),
    ("TokenAssignmentIsShell", "False"),
    ("UserLanguage", "en-US"),
    ("FilePathObjectId", "42"),
];

/// The `details` the full template stores from [`TEMPLATE_VALUES`], in the template's order, empty ones dropped.
fn expected_details() -> Vec<(String, String)> {
    [
        ("EventType", "JIT Application Access Ticket Created"),
        ("TenantId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
        ("TicketNumber", "EPM000123"),
        ("ApplicationType", "exe"),
        ("Action", "Elevate"),
        ("TrustedOwnership", "True"),
        ("DriveType", "Fixed"),
        ("BtZoneIdentifierExists", "False"),
        (
            "DownloadSourceUrl",
            "https://www.wireshark.org/download/win64/",
        ),
        ("UacTriggered", "True"),
        ("Token", "Custom Elevation"),
        ("TokenAssignmentIsShell", "False"),
        ("UserLanguage", "en-US"),
        ("FilePathObjectId", "42"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

async fn stored(store: &MemoryStore, pmc_request_id: &str) -> RequestRecord {
    store
        .find_by_pmc_request_id(&PmcRequestId::parse(pmc_request_id).unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_full_template_filled_raw_or_escaped_is_accepted_and_stored_exactly() {
    let values = TEMPLATE_VALUES;
    for (first, second) in [(Fill::Raw, Fill::Escaped), (Fill::Escaped, Fill::Raw)] {
        let (intake, store) = intake();
        let filled = fill(&webhook_template("webhook-template.json"), &values, first);
        let response = handle(&intake, submit_with(filled.as_bytes())).await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{first:?}: {}",
            response.body()
        );

        let stored = stored(&store, TEMPLATE_VALUES[0].1).await;
        let d = &stored.details;
        assert_eq!(d.request_type, RequestType::Application, "the default");
        assert_eq!(d.user.as_ref().unwrap().name.as_deref(), Some("ACME\\jdoe"));
        assert_eq!(
            d.computer.as_ref().unwrap().host_name.as_deref(),
            Some("LT-0042")
        );
        let application = d.application.as_ref().unwrap();
        assert_eq!(
            application.name.as_deref(),
            Some("Wireshark Network Analyzer")
        );
        assert_eq!(
            application.sha1.as_deref(),
            Some("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
            "stored lower-case"
        );
        assert_eq!(
            d.reason.as_ref().unwrap().text.as_deref(),
            Some("Need to capture \"VPN\" traffic\nfor INC0012345")
        );
        let policy = d.policy.as_ref().unwrap();
        assert_eq!(
            (
                policy.workstyle.as_deref(),
                policy.application_group.as_deref()
            ),
            (Some("Developers"), Some("Network tools"))
        );
        assert_eq!(d.details, expected_details(), "{first:?}");

        let description = shared::domain::ticket_content::description(
            &stored,
            &shared::domain::ticket_content::Confirmation::NotAsked,
        );
        for line in [
            "User: ACME\\jdoe",
            "Computer: LT-0042",
            "Application: Wireshark Network Analyzer",
            "SHA-1: a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            "Reason text: Need to capture \"VPN\" traffic\n    for INC0012345",
            "Workstyle: Developers",
            "DriveType: Fixed",
            "TicketNumber: EPM000123",
        ] {
            assert!(description.contains(line), "{line:?} in {description}");
        }
        assert!(
            !description.contains("ProductCode"),
            "empty values are absent"
        );

        // The other filling of the same request is the same content: PM Cloud's retry is answered 200.
        let again = fill(&webhook_template("webhook-template.json"), &values, second);
        let retry = handle(&intake, submit_with(again.as_bytes())).await;
        assert_eq!(
            retry.status(),
            StatusCode::OK,
            "{second:?}: {}",
            retry.body()
        );
        assert_eq!(store.len(), 1);
    }
}

#[tokio::test]
async fn the_minimal_template_needs_no_escaping_and_is_accepted() {
    let values = [
        ("RequestId", "REQ-2026-000417"),
        ("EventType", "JIT Application Access Ticket Created"),
        ("TenantId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    ];
    for how in [Fill::Raw, Fill::Escaped] {
        let (intake, store) = intake();
        let filled = fill(
            &webhook_template("webhook-template-minimal.json"),
            &values,
            how,
        );
        let response = handle(&intake, submit_with(filled.as_bytes())).await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{how:?}: {}",
            response.body()
        );
        let d = stored(&store, "REQ-2026-000417").await.details;
        assert_eq!(
            (&d.user, &d.computer, &d.application, &d.reason),
            (&None, &None, &None, &None)
        );
        assert_eq!(d.details.len(), 2);
    }
}

/// CONTRACT §5's examples, in the reason and (but for the one with a line break, which no name holds: an escaped
/// one reads as a raw body) in the user name, raw or escaped: stored as PM Cloud put them in.
#[tokio::test]
async fn the_contracts_example_strings_round_trip_raw_and_escaped() {
    for value in [
        "ACME\\jdoe",
        "C:\\Program Files\\Wireshark\\Wireshark.exe",
        "ACME\\bob",
        "C:\\tools\\new.exe",
        "He said \"now\"\nsecond line",
    ] {
        for how in [Fill::Raw, Fill::Escaped] {
            let (intake, store) = intake();
            let mut values = TEMPLATE_VALUES.to_vec();
            for (name, v) in values.iter_mut() {
                if *name == "Reason" || (*name == "User" && !value.contains('\n')) {
                    *v = value;
                }
            }
            let filled = fill(&webhook_template("webhook-template.json"), &values, how);
            let response = handle(&intake, submit_with(filled.as_bytes())).await;
            assert_eq!(response.status(), StatusCode::ACCEPTED, "{value:?} {how:?}");
            let d = stored(&store, TEMPLATE_VALUES[0].1).await.details;
            if !value.contains('\n') {
                assert_eq!(d.user.unwrap().name.as_deref(), Some(value), "{how:?}");
            }
            assert_eq!(d.reason.unwrap().text.as_deref(), Some(value), "{how:?}");
        }
    }
}

#[tokio::test]
async fn a_template_placeholder_pm_cloud_left_unreplaced_is_absent_in_an_optional_field() {
    let (intake, store) = intake();
    // As a tenant whose PM Cloud spells the SHA-1 placeholder otherwise would send it.
    let values: Vec<(&str, &str)> = TEMPLATE_VALUES
        .iter()
        .copied()
        .filter(|(name, _)| *name != "Sha1Hash")
        .collect();
    let template =
        webhook_template("webhook-template.json").replace("%%Sha1Hash%%", "@@Sha1Hash@@");
    let body = fill(&template, &values, Fill::Escaped).replace("@@", "%%");
    let response = handle(&intake, submit_with(body.as_bytes())).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{}",
        response.body()
    );
    let application = stored(&store, TEMPLATE_VALUES[0].1)
        .await
        .details
        .application
        .unwrap();
    assert_eq!(application.sha1, None);
    assert_eq!(
        application.name.as_deref(),
        Some("Wireshark Network Analyzer")
    );
}

#[tokio::test]
async fn a_value_that_breaks_the_json_is_a_400_with_line_and_column_and_no_body() {
    // A body cut short is neither reading: 400 naming line and column, quoting nothing of the body.
    let (intake, store) = intake();
    let values = TEMPLATE_VALUES;
    let filled = fill(
        &webhook_template("webhook-template.json"),
        &values,
        Fill::Raw,
    );
    let cut = &filled[..filled.find("LT-0042").unwrap()];
    let problem = assert_problem(&handle(&intake, submit_with(cut.as_bytes())).await, 400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("line") && detail.contains("column"),
        "{detail}"
    );
    assert!(!detail.contains("ACME"), "{detail}");
    assert!(store.is_empty());
}

/// A stack fresh from `sam deploy` whose secret still holds the template's placeholders is closed: every route
/// answers 503 naming the field, the placeholder key included, and nothing is stored.
#[tokio::test]
async fn a_secret_with_the_template_placeholders_opens_no_route() {
    let placeholder = "REPLACE-ME-WITH-A-LONG-RANDOM-KEY";
    let settings = StaticSettings::new(
        json!({
            "servicenow": {
                "instanceUrl": "https://acme.service-now.com", "username": "svc", "password": "pw",
                "clientId": "id", "clientSecret": "secret", "taskType": "incident"
            },
            "pmcApiKeys": [placeholder],
            "webhookSecrets": ["REPLACE-ME-WITH-A-LONG-RANDOM-SECRET"]
        })
        .to_string(),
    );
    let store = Arc::new(MemoryStore::new());
    let intake = Intake::new(rules(Arc::clone(&store)), settings);
    for name in [
        "submit-request.json",
        "get-request.json",
        "find-request.json",
    ] {
        let mut request = fixture(name);
        request.headers_mut().insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {placeholder}")).unwrap(),
        );
        let response = handle(&intake, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        let detail = serde_json::from_str::<Value>(response.body()).unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            detail.contains("pmcApiKeys[0]") && detail.contains("webhookSecrets[0]"),
            "{detail}"
        );
        assert!(!detail.contains(placeholder), "{detail}");
    }
    let submitted: Value = serde_json::from_slice(fixture("submit-request.json").body()).unwrap();
    let pmc_request_id = PmcRequestId::parse(submitted["pmcRequestId"].as_str().unwrap()).unwrap();
    assert!(
        store
            .find_by_pmc_request_id(&pmc_request_id)
            .await
            .unwrap()
            .is_none(),
        "nothing is stored"
    );
}

/// An id no request could have is a 404 without a store call (this store fails every call) and is not quoted.
#[tokio::test]
async fn an_id_that_was_never_issued_is_a_404_without_a_store_call() {
    let intake = Intake::new(
        rules(shared::store::FaultyStore { corrupt: false }),
        settings(),
    );
    for id in ["x".repeat(101), "%F0%9F%98%80".to_owned()] {
        let mut request = fixture("get-request.json");
        *request.uri_mut() = format!("/v1/requests/{id}").parse().unwrap();
        let response = handle(&intake, request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
        assert!(!response.body().contains(&id), "{}", response.body());
    }
}
