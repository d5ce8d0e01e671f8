//! Reading a request body: at most 64 KiB, a JSON media type, and a JSON object (CONTRACT §4: `413`, `415`, `400`).

use super::{ApiRequest, Problem, header};
use crate::pmcloud::{Reading, read_webhook_body};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::{Map, Value};

/// Bodies above this many bytes are refused with 413 (CONTRACT §4).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body as a JSON object, after the size and media type checks.
/// Errors: `413` above [`MAX_BODY_BYTES`], `415` without a JSON media type in UTF-8 or with a content coding
/// (gzip, …), `400` for anything but a JSON object.
pub fn json_object_body(request: &ApiRequest) -> Result<Map<String, Value>, Problem> {
    checked_body(request)?;
    match serde_json::from_slice(request.body()) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Problem::bad_request("the body must be a JSON object")),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// PM Cloud's webhook body as an object, after the same checks as [`json_object_body`], read whether or not PM
/// Cloud JSON-escaped the values it put into the template ([`crate::pmcloud::read_webhook_body`], CONTRACT §5).
/// Errors: as [`json_object_body`]; the `400` names the line and column of the JSON reading's fault.
pub fn webhook_object_body(request: &ApiRequest) -> Result<Map<String, Value>, Problem> {
    checked_body(request)?;
    let (object, reading) = read_webhook_body(request.body())
        .map_err(|error| Problem::bad_request(error.to_string()))?;
    if reading == Reading::Raw {
        tracing::info!(
            "the webhook's values were not JSON-escaped: read as the template filled raw"
        );
    }
    Ok(object)
}

/// The size and media type checks every JSON body passes: `413`, `415`.
fn checked_body(request: &ApiRequest) -> Result<(), Problem> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(MAX_BODY_BYTES));
    }
    let content_type = header(request, CONTENT_TYPE);
    let coded = header(request, CONTENT_ENCODING)
        .is_some_and(|coding| !coding.trim().eq_ignore_ascii_case("identity"));
    if !is_json_media_type(content_type) || !is_utf8(content_type) || coded {
        return Err(Problem::unsupported_media_type());
    }
    Ok(())
}

/// True for an empty body or one of white space only.
pub fn is_blank(request: &ApiRequest) -> bool {
    request.body().iter().all(u8::is_ascii_whitespace)
}

/// `application/json`, or any `+json` type, with or without parameters such as `charset`.
fn is_json_media_type(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = media_type_essence(content_type);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether the `charset` parameter, if any, is UTF-8 (JSON is UTF-8: RFC 8259 §8.1).
fn is_utf8(content_type: Option<&str>) -> bool {
    content_type
        .into_iter()
        .flat_map(|t| t.split(';').skip(1))
        .filter_map(|parameter| parameter.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, value)| {
            let value = value.trim().trim_matches('"');
            value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
        })
}

/// A `Content-Type`'s type and subtype, lower-cased, without parameters such as `charset`.
pub fn media_type_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::CONTENT_TYPE;

    fn request(content_type: Option<&str>, body: &[u8]) -> ApiRequest {
        let mut builder = http::Request::builder().method("POST").uri("/v1/requests");
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(body.to_vec()).unwrap()
    }

    #[test]
    fn accepts_json_media_types_only() {
        for good in [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=\"UTF-8\"",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(
                json_object_body(&request(Some(good), b"{}")).is_ok(),
                "{good}"
            );
        }
        for bad in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonp"),
            Some("application/json; charset=latin1"),
            Some("application/json; charset=\"UTF-16\""),
        ] {
            assert_eq!(
                json_object_body(&request(bad, b"{}")).unwrap_err().status,
                415,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_compressed_body_is_unsupported_not_malformed() {
        let mut gzip = request(Some("application/json"), b"\x1f\x8b\x08");
        gzip.headers_mut()
            .insert(http::header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(json_object_body(&gzip).unwrap_err().status, 415);
        let mut identity = request(Some("application/json"), b"{}");
        identity
            .headers_mut()
            .insert(http::header::CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(json_object_body(&identity).is_ok());
    }

    #[test]
    fn refuses_large_malformed_and_non_object_bodies() {
        let large = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            json_object_body(&request(Some("application/json"), &large))
                .unwrap_err()
                .status,
            413
        );
        let exact = [b"{}".as_slice(), &vec![b' '; MAX_BODY_BYTES - 2]].concat();
        assert!(
            json_object_body(&request(Some("application/json"), &exact)).is_ok(),
            "64 KiB exactly is allowed"
        );
        for bad in [b"{".as_slice(), b"", b"[1]", b"\"text\"", b"null", b"42"] {
            assert_eq!(
                json_object_body(&request(Some("application/json"), bad))
                    .unwrap_err()
                    .status,
                400
            );
        }
    }
}
