//! The HTTP response of a function's answer, as API Gateway's HTTP API reads a Lambda integration's answer with
//! payload format 2.0: `{"statusCode", "headers", "cookies", "body", "isBase64Encoded"}`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

/// The response a function's answer makes.
#[derive(Debug, PartialEq)]
pub struct FunctionResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The response in `payload`, the function's answer, or why API Gateway could not read one (it answers `502`).
///
/// As API Gateway reads it: `statusCode` is the status; each `headers` entry a header (a number or a boolean as
/// its text) and each `cookies` entry a `Set-Cookie`; `body` (none when absent) is base64-decoded when
/// `isBase64Encoded`. `multiValueHeaders` belongs to format 1.0 and is ignored. An answer that is JSON but has no
/// `statusCode` is taken as the body of a `200` with `Content-Type: application/json`. The answer's framing
/// headers (`Content-Length`, `Transfer-Encoding` and the other hop-by-hop ones) are left out: the gateway frames
/// the body it sends.
pub fn read(payload: &[u8]) -> Result<FunctionResponse, String> {
    let answer: Value = serde_json::from_slice(payload)
        .map_err(|err| format!("the function's answer is not JSON ({err})"))?;
    let Some(fields) = answer.as_object().filter(|f| f.contains_key("statusCode")) else {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(FunctionResponse {
            status: StatusCode::OK,
            headers,
            body: payload.to_vec(),
        });
    };
    let status = fields["statusCode"]
        .as_u64()
        .filter(|code| (100..=599).contains(code))
        .and_then(|code| StatusCode::from_u16(code as u16).ok())
        .ok_or(format!(
            "statusCode {} is not an HTTP status",
            fields["statusCode"]
        ))?;

    let mut headers = HeaderMap::new();
    for (name, value) in present(fields.get("headers"))
        .map(|value| value.as_object().ok_or("headers is not an object"))
        .transpose()?
        .into_iter()
        .flatten()
    {
        let value = match value {
            Value::String(text) => text.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => return Err(format!("the value of header {name:?} is {other}")),
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("{value:?} is not a value of header {name}"))?;
        headers.append(name, value);
    }
    for name in framing(&headers) {
        headers.remove(name);
    }
    for cookie in present(fields.get("cookies"))
        .map(|value| value.as_array().ok_or("cookies is not a list"))
        .transpose()?
        .into_iter()
        .flatten()
    {
        let value = cookie
            .as_str()
            .and_then(|text| HeaderValue::from_str(text).ok())
            .ok_or(format!("cookie {cookie} is not a Set-Cookie value"))?;
        headers.append(header::SET_COOKIE, value);
    }

    let encoded = match present(fields.get("isBase64Encoded")) {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => return Err(format!("isBase64Encoded is {other}, not a boolean")),
    };
    let body = match present(fields.get("body")) {
        None => Vec::new(),
        Some(Value::String(text)) if encoded => BASE64
            .decode(text)
            .map_err(|err| format!("the body is marked base64 but is not ({err})"))?,
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => return Err(format!("the body is {other}, not a string")),
    };
    Ok(FunctionResponse {
        status,
        headers,
        body,
    })
}

/// `value` unless it is absent or `null`.
fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|value| !value.is_null())
}

/// The headers of a response that frame it on its connection.
fn framing(headers: &HeaderMap) -> Vec<HeaderName> {
    let mut names = crate::event::hop_by_hop(headers);
    names.push(header::CONTENT_LENGTH);
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(value: Value) -> Result<FunctionResponse, String> {
        read(value.to_string().as_bytes())
    }

    #[test]
    fn a_response_object_is_read_as_api_gateway_reads_it() {
        let response = answer(json!({
            "statusCode": 201,
            "headers": {
                "Content-Type": "application/json",
                "location": "/v1/requests/a",
                "x-count": 3,
                "x-flag": true,
                "content-length": "999",
                "transfer-encoding": "chunked",
            },
            "multiValueHeaders": {"x-ignored": ["a"]},
            "cookies": ["a=1; Secure", "b=2"],
            "body": "e30=",
            "isBase64Encoded": true,
        }))
        .unwrap();
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.body, b"{}");
        let headers = &response.headers;
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["location"], "/v1/requests/a");
        assert_eq!(headers["x-count"], "3");
        assert_eq!(headers["x-flag"], "true");
        assert!(!headers.contains_key("x-ignored"));
        assert!(!headers.contains_key("content-length"));
        assert!(!headers.contains_key("transfer-encoding"));
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1; Secure", "b=2"]);
    }

    #[test]
    fn what_may_be_left_out_is_left_out() {
        let response = answer(json!({"statusCode": 204})).unwrap();
        assert_eq!(response.status, StatusCode::NO_CONTENT);
        assert!(response.headers.is_empty());
        assert!(response.body.is_empty());
        let response = answer(json!({
            "statusCode": 200, "headers": null, "cookies": null, "body": null, "isBase64Encoded": null,
        }))
        .unwrap();
        assert!(response.headers.is_empty() && response.body.is_empty());
        let response = answer(json!({"statusCode": 200, "body": "é"})).unwrap();
        assert_eq!(response.body, "é".as_bytes());
    }

    #[test]
    fn json_without_a_status_code_is_a_200_with_that_json() {
        for payload in [&br#"{"ok": true}"#[..], b"[1, 2]", b"\"text\"", b"null"] {
            let response = read(payload).unwrap();
            assert_eq!(response.status, StatusCode::OK);
            assert_eq!(response.headers["content-type"], "application/json");
            assert_eq!(response.body, payload);
        }
    }

    #[test]
    fn an_answer_api_gateway_cannot_read_is_refused_with_the_reason() {
        for (payload, reason) in [
            (b"not json".to_vec(), "not JSON"),
            (b"".to_vec(), "not JSON"),
            (
                json!({"statusCode": "200"}).to_string().into_bytes(),
                "statusCode",
            ),
            (
                json!({"statusCode": 99}).to_string().into_bytes(),
                "statusCode",
            ),
            (
                json!({"statusCode": 600}).to_string().into_bytes(),
                "statusCode",
            ),
            (
                json!({"statusCode": null}).to_string().into_bytes(),
                "statusCode",
            ),
            (
                json!({"statusCode": 200, "headers": []})
                    .to_string()
                    .into_bytes(),
                "headers is not an object",
            ),
            (
                json!({"statusCode": 200, "headers": {"x": {}}})
                    .to_string()
                    .into_bytes(),
                "header \"x\"",
            ),
            (
                json!({"statusCode": 200, "headers": {"a b": "1"}})
                    .to_string()
                    .into_bytes(),
                "not a header name",
            ),
            (
                json!({"statusCode": 200, "headers": {"x": "a\nb"}})
                    .to_string()
                    .into_bytes(),
                "not a value",
            ),
            (
                json!({"statusCode": 200, "cookies": "a=1"})
                    .to_string()
                    .into_bytes(),
                "cookies is not a list",
            ),
            (
                json!({"statusCode": 200, "cookies": [1]})
                    .to_string()
                    .into_bytes(),
                "not a Set-Cookie",
            ),
            (
                json!({"statusCode": 200, "body": {}})
                    .to_string()
                    .into_bytes(),
                "not a string",
            ),
            (
                json!({"statusCode": 200, "body": "%%", "isBase64Encoded": true})
                    .to_string()
                    .into_bytes(),
                "marked base64",
            ),
            (
                json!({"statusCode": 200, "isBase64Encoded": "yes"})
                    .to_string()
                    .into_bytes(),
                "not a boolean",
            ),
        ] {
            let err = read(&payload).expect_err(reason);
            assert!(
                err.contains(reason),
                "{}: {err}",
                String::from_utf8_lossy(&payload)
            );
        }
    }
}
