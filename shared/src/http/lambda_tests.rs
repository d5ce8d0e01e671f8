//! Odd events become problems, never panics (each case panicked inside `lambda_http` 1.3, the dependency this
//! module replaced), and handlers see the route API Gateway matched.

use super::*;
use crate::http::query_param;
use std::time::{Duration, SystemTime};

/// A payload 2.0 event as API Gateway sends it, for `routeKey` and `rawPath`, changed by `edit`.
fn event(route_key: &str, raw_path: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let method = route_key.split(' ').next().unwrap_or("GET");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-forwarded-proto": "https"},
        "requestContext": {
            "http": {"method": if method == "$default" { "POST" } else { method }, "path": raw_path,
                     "sourceIp": "203.0.113.7"},
            "stage": "$default"
        },
        "body": "{}",
        "isBase64Encoded": false
    });
    edit(&mut event);
    event
}

fn far_deadline() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30)
}

#[test]
fn a_named_stage_in_the_raw_path_does_not_change_the_route() {
    let request = api_request(event("POST /v1/requests", "/prod/v1/requests", |_| {})).unwrap();
    assert_eq!(request.uri().path(), "/v1/requests");
    assert_eq!(request.method(), Method::POST);
    let origin = request.extensions().get::<Origin>().unwrap();
    assert_eq!(origin.source_ip, "203.0.113.7");
    assert_eq!(origin.route, "POST /v1/requests");
}

#[test]
fn path_parameters_fill_the_route_as_one_segment() {
    let request = api_request(event(
        "GET /v1/requests/{id}",
        "/prod/v1/requests/a%2Fb",
        |e| {
            e["pathParameters"] = json!({"id": "a/b?c"});
        },
    ))
    .unwrap();
    assert_eq!(request.uri().path(), "/v1/requests/a%2Fb%3Fc");
    assert_eq!(request.uri().query(), None);
}

#[test]
fn any_routes_take_the_method_from_the_request_context() {
    let request = api_request(event(
        "ANY /v1/settings/validate",
        "/v1/settings/validate",
        |e| {
            e["requestContext"]["http"]["method"] = json!("DELETE");
        },
    ))
    .unwrap();
    assert_eq!(request.method(), Method::DELETE);
    assert_eq!(request.uri().path(), "/v1/settings/validate");
}

#[test]
fn the_default_route_uses_the_raw_path() {
    let request = api_request(event("$default", "/v1/servicenow/events", |_| {})).unwrap();
    assert_eq!(request.uri().path(), "/v1/servicenow/events");
}

#[test]
fn an_odd_query_string_is_kept_and_decodes_to_what_was_sent() {
    for (raw, expected) in [
        ("pmcRequestId=a b\"c{d}|e^f`g<h>", "a b\"c{d}|e^f`g<h>"),
        ("pmcRequestId=%zz%", "%zz%"),
        ("pmcRequestId=caf%C3%A9&&=&x", "café"),
        ("pmcRequestId=\u{1F600}", "\u{1F600}"),
    ] {
        let request = api_request(event("GET /v1/requests", "/v1/requests", |e| {
            e["rawQueryString"] = json!(raw);
        }))
        .unwrap_or_else(|p| panic!("{raw}: {p:?}"));
        assert_eq!(
            query_param(&request, "pmcRequestId").as_deref(),
            Some(expected),
            "{raw}"
        );
    }
}

#[test]
fn a_body_marked_base64_that_is_not_is_a_400() {
    let problem = api_request(event("POST /v1/requests", "/v1/requests", |e| {
        e["isBase64Encoded"] = json!(true);
        e["body"] = json!("not base64 at all!");
    }))
    .unwrap_err();
    assert_eq!(problem.status, 400);
    assert!(problem.detail.contains("base64"), "{}", problem.detail);

    let decoded = api_request(event("POST /v1/requests", "/v1/requests", |e| {
        e["isBase64Encoded"] = json!(true);
        e["body"] = json!(BASE64.encode("{\"a\":1}"));
    }))
    .unwrap();
    assert_eq!(decoded.body(), b"{\"a\":1}");
}

#[test]
fn an_unknown_forwarded_proto_or_an_invalid_header_is_no_fault() {
    let request = api_request(event("POST /v1/requests", "/v1/requests", |e| {
        e["headers"]["x-forwarded-proto"] = json!("gopher");
        e["headers"]["bad header"] = json!("x");
        e["headers"]["x-bad-value"] = json!("a\nb");
    }))
    .unwrap();
    assert_eq!(request.headers()["x-forwarded-proto"], "gopher");
    assert!(request.headers().get("x-bad-value").is_none());
}

#[test]
fn what_is_not_an_http_event_is_a_400() {
    for odd in [
        json!("a string"),
        json!({"headers": {"a": 1}}),
        json!({"routeKey": "$default"}),
        json!({"routeKey": "GET /x", "requestContext": {"http": {"method": "NOT A METHOD"}}}),
    ] {
        let problem = api_request(odd.clone()).unwrap_err();
        assert_eq!(problem.status, 400, "{odd}");
    }
}

#[tokio::test]
async fn the_answer_is_an_api_gateway_response() {
    let answered = answer(
        event("POST /v1/requests", "/v1/requests", |_| {}),
        Trigger::Http.deadline(far_deadline()),
        |request| async move {
            assert_eq!(request.uri().path(), "/v1/requests");
            Problem::conflict("taken").into()
        },
    )
    .await;
    assert_eq!(answered["statusCode"], 409);
    assert_eq!(
        answered["headers"]["content-type"],
        "application/problem+json"
    );
    assert_eq!(answered["isBase64Encoded"], false);
    let body: Value = serde_json::from_str(answered["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], 409);

    let unreadable = answer(
        json!([]),
        Trigger::Http.deadline(far_deadline()),
        |_| async { unreachable!("the handler never sees an unreadable event") },
    )
    .await;
    assert_eq!(unreadable["statusCode"], 400);
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_would_outlive_the_invocation_is_answered_503_in_time() {
    let deadline = SystemTime::now() + Duration::from_secs(3);
    let answered = answer(
        event("POST /v1/requests", "/v1/requests", |_| {}),
        Trigger::Http.deadline(deadline),
        |_| async {
            tokio::time::sleep(Duration::from_secs(600)).await;
            unreachable!("dropped before it answers")
        },
    )
    .await;
    assert_eq!(answered["statusCode"], 503);
    assert!(SystemTime::now() < deadline);
}
