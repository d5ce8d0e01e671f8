//! The document checked against itself and against the code's own types: every example matches its schema,
//! every operation shows examples, the schemas accept what the code accepts and refuse what it refuses, and
//! `assert_conforms` fails on each kind of drift.

use super::*;
use crate::sample_body;
use serde_json::json;
use shared::domain::duration::Duration;
use shared::domain::fields::FieldError;
use shared::domain::ids::SysId;
use shared::domain::record::{
    Decision, Failure, FailureCode, NotificationState, Outcome, RequestRecord,
};
use shared::domain::request::{NewRequest, Submission};
use shared::domain::ticket::{TaskType, Ticket};
use shared::http::{ApiResponse, Problem, body::MAX_BODY_BYTES, method_not_allowed};

/// A stored request for `pmc_request_id`, as `request-intake` would have stored it.
fn sample_record(pmc_request_id: &str) -> RequestRecord {
    let body = sample_body(pmc_request_id);
    RequestRecord::new(
        Submission::parse(body.as_object().expect("an object"), false).expect("a valid sample"),
        shared::domain::ids::RequestId::random(),
        shared::domain::time::now(),
    )
}

/// Every (where, schema, example) the document pairs: request bodies, responses, parameters and headers.
fn examples_with_schemas() -> Vec<(String, &'static Value, Value)> {
    fn media_examples(
        out: &mut Vec<(String, &'static Value, Value)>,
        at: &str,
        content: &'static Value,
    ) {
        for (media_type, media) in content.as_object().into_iter().flatten() {
            let Some(schema) = media.get("schema") else {
                continue;
            };
            for (name, example) in media["examples"].as_object().into_iter().flatten() {
                out.push((
                    format!("{at} {media_type} example {name}"),
                    schema,
                    resolved(example)["value"].clone(),
                ));
            }
        }
    }
    fn parameter_examples(
        out: &mut Vec<(String, &'static Value, Value)>,
        at: &str,
        parameters: Option<&'static Value>,
    ) {
        for parameter in parameters.and_then(Value::as_array).into_iter().flatten() {
            let parameter = resolved(parameter);
            if let Some(example) = parameter.get("example") {
                out.push((
                    format!("{at} parameter {}", parameter["name"]),
                    &parameter["schema"],
                    example.clone(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        parameter_examples(&mut out, path, item.get("parameters"));
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = format!("{} {path}", method.to_ascii_uppercase());
            parameter_examples(&mut out, &at, operation.get("parameters"));
            if let Some(body) = operation.get("requestBody") {
                media_examples(
                    &mut out,
                    &format!("{at} request"),
                    &resolved(body)["content"],
                );
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                let response = resolved(response);
                let at = format!("{at} {status}");
                media_examples(&mut out, &at, &response["content"]);
                for (name, header) in response["headers"].as_object().into_iter().flatten() {
                    let header = resolved(header);
                    if let Some(example) = header.get("example") {
                        out.push((
                            format!("{at} header {name}"),
                            &header["schema"],
                            example.clone(),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_with_the_contract_routes() {
    assert_eq!(document()["openapi"], "3.1.0");
    let operations: BTreeSet<String> = document()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .flat_map(|path| {
            documented_methods(path)
                .into_iter()
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    assert_eq!(
        operations,
        BTreeSet::from(
            [
                "GET /v1/requests",
                "POST /v1/requests",
                "GET /v1/requests/{id}",
                "POST /v1/settings/validate",
                "POST /v1/servicenow/events",
                "POST /v1/pmcloud/events",
            ]
            .map(String::from)
        )
    );
}

#[test]
fn every_reference_resolves() {
    fn walk(value: &Value, found: &mut usize) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    pointed_at(reference);
                    *found += 1;
                }
                object.values().for_each(|v| walk(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = 0;
    walk(document(), &mut found);
    assert!(found > 50, "only {found} references");
}

#[test]
fn every_example_matches_its_schema() {
    let examples = examples_with_schemas();
    assert!(examples.len() > 60, "only {} examples", examples.len());
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|(at, schema, example)| {
            let errors = schema_errors(schema, example);
            (!errors.is_empty()).then(|| format!("{at}:\n    {}", errors.join("\n    ")))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_operation_shows_examples_of_its_body_and_of_every_answer() {
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in documented_methods(path) {
            let operation = &item[method.to_ascii_lowercase()];
            if operation.get("requestBody").is_some() {
                assert!(!request_examples(&method, path).is_empty());
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (media_type, media) in resolved(response)["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        media["examples"].as_object().is_some_and(|e| !e.is_empty()),
                        "{method} {path} {status} {media_type} has no examples"
                    );
                }
            }
        }
    }
}

#[test]
fn every_problem_the_code_builds_is_the_documented_problem_for_its_status() {
    let problems = [
        (
            Problem::bad_request("the body must be a JSON object"),
            "BadRequestProblem",
        ),
        (
            Problem::unauthorized(shared::http::BEARER_CHALLENGE),
            "UnauthorizedProblem",
        ),
        (Problem::not_found("no request has id x"), "NotFoundProblem"),
        (
            Problem::method_not_allowed("GET, POST"),
            "MethodNotAllowedProblem",
        ),
        (
            Problem::conflict("pmcRequestId p was already used"),
            "ConflictProblem",
        ),
        (
            Problem::payload_too_large(MAX_BODY_BYTES),
            "PayloadTooLargeProblem",
        ),
        (
            Problem::unsupported_media_type(),
            "UnsupportedMediaTypeProblem",
        ),
        (
            Problem::validation(vec![FieldError::new(
                "user.email",
                "must be an e-mail address",
            )]),
            "ValidationProblem",
        ),
        (
            Problem::internal("the request store answered unexpectedly"),
            "InternalProblem",
        ),
        (
            Problem::bad_gateway("ServiceNow refused the connector: 403"),
            "BadGatewayProblem",
        ),
        (
            Problem::unavailable("the request store is unavailable"),
            "UnavailableProblem",
        ),
    ];
    for (problem, schema) in problems {
        let value = serde_json::to_value(&problem).unwrap();
        assert_eq!(
            component_errors(schema, &value),
            Vec::<String>::new(),
            "{schema}"
        );
        assert_eq!(component_errors("Problem", &value), Vec::<String>::new());
    }
    assert!(
        !component_errors(
            "UnauthorizedProblem",
            &serde_json::to_value(Problem::not_found("x")).unwrap()
        )
        .is_empty(),
        "each status has its own problem"
    );
}

fn ticket() -> Ticket {
    Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse("9d385017c611228701d22104cc95c371").unwrap(),
        url: "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D9d385017c611228701d22104cc95c371".into(),
    }
}

fn decision(outcome: Outcome, duration: Option<Duration>) -> Decision {
    let decided_at = shared::domain::time::now();
    Decision {
        outcome,
        duration,
        expires_at: duration.and_then(|d| d.expires_at(decided_at).unwrap()),
        decided_by: Some("alice.approver".into()),
        decided_at,
        notes: None,
        decided_in: shared::domain::record::DecidedIn::ServiceNow,
    }
}

#[test]
fn the_request_resource_in_every_status_matches_the_schema_and_its_rules() {
    let now = shared::domain::time::now();
    let pending = sample_record("p-schema");
    let ticketed = pending.ticketed(ticket(), now).unwrap();
    let records = [
        pending.clone(),
        ticketed.clone(),
        ticketed
            .decided(
                decision(Outcome::Approved, Some(Duration::Hours(4))),
                ticket(),
                true,
                now,
            )
            .unwrap(),
        ticketed
            .decided(
                decision(Outcome::Approved, Some(Duration::Forever)),
                ticket(),
                false,
                now,
            )
            .unwrap(),
        pending
            .decided(
                decision(Outcome::Approved, Some(Duration::Months(3))),
                ticket(),
                true,
                now,
            )
            .unwrap()
            .push_ended(NotificationState::Delivered, None, 1, now),
        ticketed
            .decided(decision(Outcome::Denied, None), ticket(), true, now)
            .unwrap()
            .push_ended(
                NotificationState::Failed,
                Some("400 from PM Cloud: The TicketUrl field is required.".into()),
                1,
                now,
            ),
        ticketed.cancelled(ticket(), true, now).unwrap(),
        pending.cancelled(ticket(), false, now).unwrap(),
        pending
            .failed(
                Failure {
                    code: FailureCode::Rejected,
                    detail: "403 from the Table API: no".into(),
                },
                now,
            )
            .unwrap(),
    ];
    for record in records {
        let resource = serde_json::to_value(record.resource()).unwrap();
        assert_eq!(
            component_errors("RequestResource", &resource),
            Vec::<String>::new(),
            "{resource}"
        );
    }

    // The rules between status and the nullable parts are stated, not only the shapes.
    let mut inconsistent = serde_json::to_value(ticketed.resource()).unwrap();
    inconsistent["status"] = json!("approved");
    assert!(!component_errors("RequestResource", &inconsistent).is_empty());
    let mut not_a_uuid = serde_json::to_value(pending.resource()).unwrap();
    not_a_uuid["id"] = json!("not-a-uuid");
    assert!(
        !component_errors("RequestResource", &not_a_uuid).is_empty(),
        "formats are asserted"
    );
    let mut extra = serde_json::to_value(pending.resource()).unwrap();
    extra["details"] = json!({});
    assert!(!component_errors("RequestResource", &extra).is_empty());
}

fn with(pointer: &str, value: Value) -> Value {
    let mut body = sample_body("p-1");
    match body.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent = if parent.is_empty() {
                &mut body
            } else {
                body.pointer_mut(parent).unwrap()
            };
            parent[key] = value;
        }
    }
    body
}

fn without(pointer: &str) -> Value {
    let mut body = sample_body("p-1");
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    parent.as_object_mut().unwrap().remove(key);
    body
}

fn admin(edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = sample_body("p-admin");
    body["requestType"] = json!("admin");
    edit(&mut body);
    body
}

/// The submission schema states the rules of CONTRACT §5 as the parser applies them: what one accepts the
/// other accepts. (One difference JSON Schema cannot state: `4.0` is an integer to JSON Schema, but a
/// duration's value must be written `4`.)
#[test]
fn the_submission_schema_accepts_exactly_what_the_parser_accepts() {
    let valid = [
        sample_body("p-1"),
        admin(|b| {
            b.as_object_mut().unwrap().remove("application");
        }),
        admin(|b| {
            b["application"] = json!({"name": "Setup"});
        }),
        admin(|b| b["application"] = Value::Null),
        with("/requestedDuration", Value::Null),
        with("/policy", Value::Null),
        without("/requestedDuration"),
        without("/policy"),
        with("/reason", json!({"choice": "Other"})),
        with("/reason", json!({"text": "patching"})),
        with("/reason", json!({"choice": "", "text": "patching"})),
        with("/reason", json!({"choice": null, "text": "patching"})),
        with("/reason/text", json!("t".repeat(4000))),
        with("/user/email", json!("")),
        with("/user/email", json!("j.doe+pm@mail.acme.example")),
        with("/user/displayName", Value::Null),
        with(
            "/application/sha256",
            json!("ABCDEF0123".repeat(6) + "abcd"),
        ),
        with("/application/sha256", json!("")),
        with("/application/commandLine", json!("é".repeat(1024))),
        with("/user/name", json!("😀".repeat(1024))),
        with("/pmcRequestId", json!("x".repeat(100))),
        with("/pmcRequestId", json!("A-b_c.d:e")),
        with("/somethingNew", json!({"x": 1})),
        with("/requestedDuration", json!({"type": "once"})),
        with("/requestedDuration", json!({"type": "forever", "value": 3})),
        with("/requestedDuration", json!({"type": "hours", "value": 24})),
        with("/requestedDuration", json!({"type": "days", "value": 31})),
        with("/requestedDuration", json!({"type": "months", "value": 12})),
        with("/requestedDuration", json!({"type": "months", "value": 1})),
        admin(|b| b["requestedDuration"] = json!({"type": "minutes", "value": 90})),
        admin(|b| b["requestedDuration"] = json!({"type": "hours", "value": 2})),
        with("/application/sha1", json!("ABCDEF0123".repeat(4))),
        with("/application/sha1", json!("")),
        with(
            "/details",
            json!({"ApplicationType": "exe", "Drive.Type-1": "Fixed"}),
        ),
        with(
            "/details",
            json!({"ProductCode": "%%ProductCode%%", "Token": ""}),
        ),
        with("/details", Value::Null),
        with(
            "/details",
            Value::Object((0..40).map(|i| (format!("k{i}"), json!("v"))).collect()),
        ),
        json!({"pmcRequestId": "only-the-id"}),
        without("/requestType"),
        without("/user"),
        without("/computer"),
        without("/reason"),
        without("/application"),
        with("/application", Value::Null),
        without("/application/name"),
        without("/application/path"),
        with("/application/path", json!("")),
        with("/application/name", json!("  ")),
        with("/user/name", json!("")),
        with("/user/name", json!(" \t")),
        with("/user/name", Value::Null),
        with("/computer", json!({})),
        with("/reason", json!({})),
        with("/reason", json!({"choice": " ", "text": ""})),
        with("/reason", json!({"choice": null, "text": null})),
    ];
    let invalid = [
        json!({}),
        without("/pmcRequestId"),
        with("/pmcRequestId", json!("")),
        with("/pmcRequestId", json!("x".repeat(101))),
        with("/pmcRequestId", json!("has space")),
        with("/pmcRequestId", json!("slash/no")),
        with("/pmcRequestId", json!("é")),
        with("/pmcRequestId", json!(42)),
        with("/requestType", json!("root")),
        with("/requestType", json!(1)),
        with("/user", json!("jdoe")),
        with("/user/name", json!("x".repeat(1025))),
        with("/computer/os", json!(11)),
        with("/policy", json!([])),
        with("/policy/rule", json!("x".repeat(1025))),
        with("/application/publisher", json!("x".repeat(1025))),
        with("/user/email", json!("jdoe")),
        with("/user/email", json!("jdoe@")),
        with("/user/email", json!("@acme.example")),
        with("/user/email", json!("j doe@acme.example")),
        with("/user/email", json!("a@b@c.d")),
        with("/user/email", json!("jdoe@localhost")),
        with("/user/email", json!("jdoe@acme..example")),
        with("/user/email", json!("jdoe@.acme.example")),
        with("/user/email", json!("jdoe@acme.example.")),
        with("/application/sha256", json!("abc")),
        with("/application/sha256", json!("g".repeat(64))),
        with("/application/sha256", json!("a".repeat(65))),
        with("/application/sha256", json!("a".repeat(63))),
        with("/reason", json!({"text": 5})),
        with("/reason", json!("because")),
        with("/reason/text", json!("t".repeat(4001))),
        with("/reason/choice", json!("c".repeat(1025))),
        with("/requestedDuration", json!({"type": "hours", "value": 25})),
        with("/requestedDuration", json!({"type": "hours", "value": 0})),
        with("/requestedDuration", json!({"type": "hours", "value": -1})),
        with("/requestedDuration", json!({"type": "hours", "value": 4.5})),
        with("/requestedDuration", json!({"type": "hours", "value": "4"})),
        with("/requestedDuration", json!({"type": "hours"})),
        with("/requestedDuration", json!({"type": "hour", "value": 1})),
        with("/requestedDuration", json!({"type": "days", "value": 32})),
        with("/requestedDuration", json!({"type": "months", "value": 13})),
        with("/requestedDuration", json!({"type": "years", "value": 1})),
        with("/requestedDuration", json!({"value": 1})),
        with("/requestedDuration", json!("4 hours")),
        with(
            "/requestedDuration",
            json!({"type": "minutes", "value": 90}),
        ),
        with("/requestedDuration", json!({"type": "minutes", "value": 4})),
        admin(|b| b["requestedDuration"] = json!({"type": "days", "value": 1})),
        admin(|b| b["requestedDuration"] = json!({"type": "once"})),
        admin(|b| b["requestedDuration"] = json!({"type": "minutes", "value": 1441})),
        with("/application/sha1", json!("a".repeat(39))),
        with("/application/sha1", json!("g".repeat(40))),
        with("/details", json!({"A": 1})),
        with("/details", json!({"bad key": "x"})),
        with("/details", json!({"A": "x".repeat(1025)})),
        with("/details", json!(["x"])),
        with(
            "/details",
            Value::Object((0..41).map(|i| (format!("k{i}"), json!("v"))).collect()),
        ),
    ];
    for (body, expected) in valid
        .iter()
        .map(|b| (b, true))
        .chain(invalid.iter().map(|b| (b, false)))
    {
        // `forever` is the settings' choice (allowForever), not the schema's: the schema admits it.
        let parsed = NewRequest::parse(body.as_object().unwrap(), true);
        assert_eq!(parsed.is_ok(), expected, "the parser on {body}: {parsed:?}");
        let errors = component_errors("Submission", body);
        assert_eq!(
            errors.is_empty(),
            expected,
            "the schema on {body}: {errors:?}"
        );
    }
}

fn response(status: u16, content_type: &str, body: &Value) -> http::Response<String> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.to_string())
        .unwrap()
}

fn accepted() -> http::Response<String> {
    let body = serde_json::to_value(sample_record("p-1").resource()).unwrap();
    let mut answer = response(202, "application/json", &body);
    answer.headers_mut().insert(
        "location",
        format!("/v1/requests/{}", body["id"].as_str().unwrap())
            .parse()
            .unwrap(),
    );
    answer
}

fn problem_response(problem: Problem) -> http::Response<String> {
    ApiResponse::from(problem)
}

#[test]
fn conforming_answers_pass() {
    assert_conforms("POST", "/v1/requests", &accepted());
    assert_conforms(
        "POST",
        "/v1/requests",
        &problem_response(Problem::unauthorized(shared::http::BEARER_CHALLENGE)),
    );
    assert_conforms("PUT", "/v1/requests", &method_not_allowed("GET, POST"));
    assert_conforms("DELETE", "/v1/requests/{id}", &method_not_allowed("GET"));
    assert_conforms("GET", "/v1/settings/validate", &method_not_allowed("POST"));
}

#[test]
#[should_panic(expected = "does not document")]
fn an_undocumented_status_fails() {
    assert_conforms(
        "GET",
        "/v1/requests/{id}",
        &problem_response(Problem::conflict("x")),
    );
}

#[test]
#[should_panic(expected = "application/problem+json")]
fn a_problem_sent_as_plain_json_fails() {
    let body = serde_json::to_value(Problem::unauthorized(shared::http::BEARER_CHALLENGE)).unwrap();
    assert_conforms(
        "POST",
        "/v1/requests",
        &response(401, "application/json", &body),
    );
}

#[test]
#[should_panic(expected = "required header Location")]
fn a_missing_location_fails() {
    let mut answer = accepted();
    answer.headers_mut().remove("location");
    assert_conforms("POST", "/v1/requests", &answer);
}

#[test]
#[should_panic(expected = "header Location, which does not match")]
fn a_wrong_location_fails() {
    let mut answer = accepted();
    answer
        .headers_mut()
        .insert("location", "/v1/other/1".parse().unwrap());
    assert_conforms("POST", "/v1/requests", &answer);
}

#[test]
#[should_panic(expected = "does not match the document")]
fn a_body_that_drifted_fails() {
    let mut body = serde_json::to_value(sample_record("p-1").resource()).unwrap();
    body.as_object_mut().unwrap().remove("ticket");
    assert_conforms(
        "GET",
        "/v1/requests/{id}",
        &response(200, "application/json", &body),
    );
}

#[test]
#[should_panic(expected = "does not match the document")]
fn a_problem_with_another_status_s_type_fails() {
    let mut body =
        serde_json::to_value(Problem::unauthorized(shared::http::BEARER_CHALLENGE)).unwrap();
    body["status"] = json!(404);
    assert_conforms(
        "GET",
        "/v1/requests/{id}",
        &response(404, "application/problem+json", &body),
    );
}

#[test]
#[should_panic(expected = "must name exactly the documented methods")]
fn an_allow_header_that_drifted_fails() {
    assert_conforms("PUT", "/v1/requests", &method_not_allowed("POST"));
}

#[test]
#[should_panic(expected = "only 405 conforms")]
fn an_undocumented_method_answered_otherwise_fails() {
    assert_conforms(
        "PATCH",
        "/v1/requests",
        &problem_response(Problem::not_found("x")),
    );
}

#[test]
fn request_examples_are_found_by_operation_and_name() {
    let names: Vec<String> = request_examples("POST", "/v1/requests")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(names.contains(&"application".to_owned()), "{names:?}");
    assert_eq!(
        request_example("POST", "/v1/servicenow/events", "incident")["table"],
        "incident"
    );
    assert!(documented_statuses("POST", "/v1/requests").contains(&202));
}
