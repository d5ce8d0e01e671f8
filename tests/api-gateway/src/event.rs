//! The Lambda event of one HTTP request, as API Gateway's HTTP API builds it for a Lambda integration with payload
//! format 2.0 (the format `template.yaml`'s `HttpApi` events use): the request as received, the route it matched
//! and the context API Gateway adds.

use crate::routes::Matched;
use axum::http::{HeaderMap, HeaderName, Method, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;

/// One request as the gateway received it.
pub struct Incoming<'a> {
    pub method: &'a Method,
    /// The path as sent, still percent-encoded, with the stage's segment when the API has a named stage.
    pub raw_path: &'a str,
    /// The query as sent, without its `?`; empty when there is none.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The client's address.
    pub client: SocketAddr,
    /// The address the gateway answered on (`X-Forwarded-Port`).
    pub local: SocketAddr,
}

/// What API Gateway adds to a request: the stage, and the request's id and time.
pub struct Context<'a> {
    /// `$default`, or the name of the stage the request named.
    pub stage: &'a str,
    pub request_id: &'a str,
    pub time: DateTime<Utc>,
}

/// The payload 2.0 event of `incoming`, which matched `matched`.
///
/// As API Gateway builds it: header names in lower case, a header sent more than once as one value joined with
/// `,`, the `Cookie` headers as the `cookies` list instead, `X-Forwarded-For`, `-Port` and `-Proto` and an
/// `X-Amzn-Trace-Id` added; `rawPath` and `rawQueryString` as sent; `queryStringParameters` and `pathParameters`
/// percent-decoded (a name given more than once has its values joined with `,`); the body as it is when it is
/// UTF-8 text, else in base64 with `isBase64Encoded`; no `body` at all when it is empty.
pub fn event(incoming: &Incoming, matched: &Matched, context: &Context) -> Value {
    let (headers, cookies) = event_headers(incoming, context);
    let user_agent = incoming
        .headers
        .get(header::USER_AGENT)
        .map_or(String::new(), |value| text(value.as_bytes()));
    let domain_name = incoming
        .headers
        .get(header::HOST)
        .map_or(incoming.local.to_string(), |value| text(value.as_bytes()));
    let domain_prefix = domain_name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let route_key = matched.route.key();

    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": incoming.raw_path,
        "rawQueryString": incoming.raw_query,
        "headers": headers,
        "requestContext": {
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_prefix,
            "http": {
                "method": incoming.method.as_str(),
                "path": incoming.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": incoming.client.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": context.request_id,
            "routeKey": route_key,
            "stage": context.stage,
            "time": context.time.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": context.time.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    let fields = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        fields.insert("cookies".into(), json!(cookies));
    }
    let query = query_parameters(incoming.raw_query);
    if !query.is_empty() {
        fields.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !matched.parameters.is_empty() {
        let parameters: Map<String, Value> = matched
            .parameters
            .iter()
            .map(|(name, raw)| (name.to_string(), json!(decoded(raw))))
            .collect();
        fields.insert("pathParameters".into(), Value::Object(parameters));
    }
    if !incoming.body.is_empty() {
        let (body, encoded) = match std::str::from_utf8(incoming.body) {
            Ok(text) => (text.to_string(), false),
            Err(_) => (BASE64.encode(incoming.body), true),
        };
        fields.insert("body".into(), json!(body));
        fields.insert("isBase64Encoded".into(), json!(encoded));
    }
    event
}

/// The event's `headers` and `cookies`.
fn event_headers(incoming: &Incoming, context: &Context) -> (Map<String, Value>, Vec<String>) {
    let per_connection = hop_by_hop(incoming.headers);
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in incoming.headers {
        if per_connection.contains(name) {
            continue;
        }
        let value = text(value.as_bytes());
        if name == header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|cookie| !cookie.is_empty())
                    .map(str::to_string),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), json!(value));
            }
        }
    }
    let source_ip = incoming.client.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(Value::as_str) {
        Some(earlier) => format!("{earlier}, {source_ip}"),
        None => source_ip,
    };
    headers.insert("x-forwarded-for".into(), json!(forwarded_for));
    headers.insert(
        "x-forwarded-port".into(),
        json!(incoming.local.port().to_string()),
    );
    headers.insert("x-forwarded-proto".into(), json!("http"));
    if !headers.contains_key("x-amzn-trace-id") {
        headers.insert("x-amzn-trace-id".into(), json!(trace_id(context)));
    }
    (headers, cookies)
}

/// The hop-by-hop headers of a request: `Connection` and those it names, and the standard ones. They belong to the
/// client's connection, which ends at the gateway.
pub fn hop_by_hop(headers: &HeaderMap) -> Vec<HeaderName> {
    let named = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok());
    [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::TE,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ]
    .into_iter()
    .chain(named)
    .collect()
}

/// `queryStringParameters`: each name with its percent-decoded value, the values of a repeated name joined with
/// `,`; a name without `=` has an empty value. `+` stays `+`.
fn query_parameters(raw_query: &str) -> Map<String, Value> {
    let mut parameters = Map::new();
    for pair in raw_query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decoded(name), decoded(value));
        match parameters.get_mut(&name) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                parameters.insert(name, json!(value));
            }
        }
    }
    parameters
}

/// `raw` percent-decoded; bytes that are not UTF-8 become U+FFFD.
fn decoded(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// A header value as text: HTTP allows bytes that are not UTF-8 (obs-text), which become U+FFFD.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An X-Ray trace id, `Root=1-<epoch seconds in hex>-<24 hex digits>`, from the request's id.
fn trace_id(context: &Context) -> String {
    let unique: String = context
        .request_id
        .bytes()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("Root=1-{:08x}-{:0>24.24}", context.time.timestamp(), unique)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::route_for;
    use axum::http::HeaderValue;

    fn incoming<'a>(
        method: &'a Method,
        raw_path: &'a str,
        raw_query: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Incoming<'a> {
        Incoming {
            method,
            raw_path,
            raw_query,
            headers,
            body,
            client: "192.0.2.7:50123".parse().unwrap(),
            local: "127.0.0.1:9080".parse().unwrap(),
        }
    }

    fn context() -> Context<'static> {
        Context {
            stage: "$default",
            request_id: "JKJaXmPLvHcESHA=",
            time: DateTime::from_timestamp_millis(1_583_348_638_390).unwrap(),
        }
    }

    #[test]
    fn the_event_has_payload_2_0s_shape() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("api.example:9080"));
        headers.insert(header::USER_AGENT, HeaderValue::from_static("agent/1"));
        headers.append("x-many", HeaderValue::from_static("a"));
        headers.append("x-many", HeaderValue::from_static("b, c"));
        headers.append(header::COOKIE, HeaderValue::from_static("s=1; t=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("u=3"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("x-private"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.1"));
        let method = Method::PATCH;
        let matched = route_for("PATCH", "/v1/requests/a%2Fb%20c").unwrap();
        let event = event(
            &incoming(
                &method,
                "/v1/requests/a%2Fb%20c",
                "b=%2F+x&a&b=2",
                &headers,
                b"{}",
            ),
            &matched,
            &context(),
        );
        assert_eq!(
            event,
            json!({
                "version": "2.0",
                "routeKey": "ANY /v1/requests/{id}",
                "rawPath": "/v1/requests/a%2Fb%20c",
                "rawQueryString": "b=%2F+x&a&b=2",
                "cookies": ["s=1", "t=2", "u=3"],
                "headers": {
                    "host": "api.example:9080",
                    "user-agent": "agent/1",
                    "x-many": "a,b, c",
                    "x-forwarded-for": "198.51.100.1, 192.0.2.7",
                    "x-forwarded-port": "9080",
                    "x-forwarded-proto": "http",
                    "x-amzn-trace-id": "Root=1-5e5ffb9e-4a4b4a61586d504c76486345",
                },
                "queryStringParameters": {"b": "/+x,2", "a": ""},
                "pathParameters": {"id": "a/b c"},
                "requestContext": {
                    "apiId": "local",
                    "domainName": "api.example:9080",
                    "domainPrefix": "api",
                    "http": {
                        "method": "PATCH",
                        "path": "/v1/requests/a%2Fb%20c",
                        "protocol": "HTTP/1.1",
                        "sourceIp": "192.0.2.7",
                        "userAgent": "agent/1",
                    },
                    "requestId": "JKJaXmPLvHcESHA=",
                    "routeKey": "ANY /v1/requests/{id}",
                    "stage": "$default",
                    "time": "04/Mar/2020:19:03:58 +0000",
                    "timeEpoch": 1_583_348_638_390_i64,
                },
                "body": "{}",
                "isBase64Encoded": false,
            })
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_goes_in_base64_and_an_empty_one_not_at_all() {
        let headers = HeaderMap::new();
        let method = Method::POST;
        let matched = route_for("POST", "/v1/requests").unwrap();
        let binary = event(
            &incoming(&method, "/v1/requests", "", &headers, b"{\xff\x00}"),
            &matched,
            &context(),
        );
        assert_eq!(binary["body"], "e/8AfQ==");
        assert_eq!(binary["isBase64Encoded"], true);
        assert_eq!(binary["rawQueryString"], "");
        assert!(binary.get("queryStringParameters").is_none());
        assert!(binary.get("pathParameters").is_none());
        assert!(binary.get("cookies").is_none());
        // Without a Host or User-Agent, the gateway's own address and an empty agent.
        assert_eq!(binary["requestContext"]["domainName"], "127.0.0.1:9080");
        assert_eq!(binary["requestContext"]["http"]["userAgent"], "");

        let empty = event(
            &incoming(&method, "/v1/requests", "", &headers, b""),
            &matched,
            &context(),
        );
        assert!(empty.get("body").is_none());
        assert_eq!(empty["isBase64Encoded"], false);
    }

    #[test]
    fn values_that_are_not_utf8_are_replaced_not_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        headers.insert(
            "x-amzn-trace-id",
            HeaderValue::from_static("Root=1-00000000-000000000000000000000001"),
        );
        let method = Method::GET;
        let matched = route_for("GET", "/v1/requests/%FF").unwrap();
        let event = event(
            &incoming(&method, "/v1/requests/%FF", "q=%FE", &headers, b""),
            &matched,
            &context(),
        );
        assert_eq!(event["headers"]["x-latin"], "caf\u{fffd}");
        assert_eq!(event["pathParameters"]["id"], "\u{fffd}");
        assert_eq!(event["queryStringParameters"]["q"], "\u{fffd}");
        assert_eq!(event["rawQueryString"], "q=%FE");
        // A trace id the client sent is kept.
        assert_eq!(
            event["headers"]["x-amzn-trace-id"],
            "Root=1-00000000-000000000000000000000001"
        );
    }
}
