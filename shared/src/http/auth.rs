//! Who may call the connector (CONTRACT §3): PM Cloud's bearer keys and ServiceNow's signed webhooks.
//! Every comparison of a key or signature is constant-time, and a refusal changes nothing.

use super::lambda::Origin;
use super::problem::{BEARER_CHALLENGE, WEBHOOK_CHALLENGE};
use super::{ApiRequest, Problem, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far a webhook's timestamp may be from now, either way.
pub const WEBHOOK_WINDOW_SECS: i64 = 300;
/// The webhook's send time, in unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
/// Base64 of HMAC-SHA256(secret, "<timestamp>.<raw body bytes>").
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// `401` unless the request carries `Authorization: Bearer <key>` for one of `keys`. A refusal is logged with
/// where it came from and why, never with the credential.
pub fn require_pmc_key(request: &ApiRequest, keys: &[SecretString]) -> Result<(), Problem> {
    check_bearer(header(request, http::header::AUTHORIZATION), keys).map_err(|reason| {
        log_refusal(request, &reason);
        Problem::unauthorized(BEARER_CHALLENGE)
    })
}

/// `401` unless the request is signed with one of `secrets` within the window, checked on the raw body bytes.
/// A refusal is logged like [`require_pmc_key`]'s.
pub fn require_webhook_signature(
    request: &ApiRequest,
    secrets: &[SecretString],
) -> Result<(), Problem> {
    verify_webhook(
        header(request, TIMESTAMP_HEADER),
        header(request, SIGNATURE_HEADER),
        request.body(),
        secrets,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|reason| {
        log_refusal(request, &reason);
        Problem::unauthorized(WEBHOOK_CHALLENGE)
    })
}

/// One warning per refused call: source IP and route (from [`Origin`]) and the reason.
fn log_refusal(request: &ApiRequest, reason: &dyn std::fmt::Display) {
    let origin = request
        .extensions()
        .get::<Origin>()
        .cloned()
        .unwrap_or_default();
    tracing::warn!(
        source_ip = %origin.source_ip,
        route = %origin.route,
        path = %request.uri().path(),
        %reason,
        "authentication refused"
    );
}

/// Why a bearer key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerAuthError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header is not `Bearer <key>`")]
    Malformed,
    #[error("the bearer key matches no configured key")]
    Mismatch,
}

/// Ok when `authorization` is `Bearer <key>` for one of `keys`. The SHA-256 digests of the keys are compared, in
/// constant time and all of them, so that neither the time taken nor an early exit tells a key's length or which
/// key (if any) matched.
pub fn check_bearer(
    authorization: Option<&str>,
    keys: &[SecretString],
) -> Result<(), BearerAuthError> {
    let presented = authorization
        .ok_or(BearerAuthError::Missing)
        .and_then(|header| bearer_token(header).ok_or(BearerAuthError::Malformed))?;
    let presented = Sha256::digest(presented.as_bytes());
    let matched = keys.iter().fold(false, |matched, key| {
        let key = Sha256::digest(key.expose_secret().as_bytes());
        let equal: bool = key.ct_eq(&presented).into();
        matched | equal
    });
    matched.then_some(()).ok_or(BearerAuthError::Mismatch)
}

fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookAuthError {
    #[error("the X-Webhook-Timestamp or X-Webhook-Signature header is missing")]
    Missing,
    #[error("the X-Webhook-Timestamp or X-Webhook-Signature header is malformed")]
    Malformed,
    #[error("the webhook timestamp is outside the {WEBHOOK_WINDOW_SECS} s window")]
    Stale,
    #[error("the webhook signature matches no configured secret")]
    Mismatch,
}

/// The signature ServiceNow's business rule sends: base64 of HMAC-SHA256(secret, "<timestamp>.<body>"),
/// as `GlideCertificateEncryption.generateMac` computes it.
pub fn webhook_signature(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    BASE64.encode(webhook_mac(secret, timestamp, body).finalize().into_bytes())
}

fn webhook_mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks a webhook on its raw bytes, before anything parses them.
pub fn verify_webhook(
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    secrets: &[SecretString],
    now_unix: i64,
) -> Result<(), WebhookAuthError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(WebhookAuthError::Missing);
    };
    let timestamp = timestamp.trim();
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookAuthError::Malformed);
    }
    let sent_at: i64 = timestamp.parse().map_err(|_| WebhookAuthError::Malformed)?;
    let signature = BASE64
        .decode(signature.trim())
        .map_err(|_| WebhookAuthError::Malformed)?;
    if (now_unix - sent_at).abs() > WEBHOOK_WINDOW_SECS {
        return Err(WebhookAuthError::Stale);
    }
    let matched = secrets.iter().fold(false, |matched, secret| {
        matched
            | webhook_mac(secret, timestamp, body)
                .verify_slice(&signature)
                .is_ok()
    });
    if matched {
        Ok(())
    } else {
        Err(WebhookAuthError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<SecretString> {
        list.iter().map(|k| SecretString::from(*k)).collect()
    }

    #[test]
    fn accepts_any_configured_bearer_key() {
        let keys = keys(&["first-key", "second-key"]);
        assert_eq!(check_bearer(Some("Bearer first-key"), &keys), Ok(()));
        assert_eq!(check_bearer(Some("Bearer second-key"), &keys), Ok(()));
        assert_eq!(
            check_bearer(Some("bearer second-key"), &keys),
            Ok(()),
            "the scheme is case-insensitive"
        );
    }

    #[test]
    fn refuses_missing_wrong_and_malformed_bearer_keys_and_says_which() {
        use BearerAuthError::*;
        let keys = keys(&["first-key"]);
        for (header, reason) in [
            (None, Missing),
            (Some(""), Malformed),
            (Some("Bearer"), Malformed),
            (Some("Bearer "), Malformed),
            (Some("Basic first-key"), Malformed),
            (Some("first-key"), Malformed),
            (Some("Bearer first-ke"), Mismatch),
            (Some("Bearer first-key2"), Mismatch),
            (Some("Bearer FIRST-KEY"), Mismatch),
        ] {
            assert_eq!(check_bearer(header, &keys), Err(reason), "{header:?}");
        }
        assert_eq!(
            check_bearer(Some("Bearer first-key"), &[]),
            Err(Mismatch),
            "no configured key admits nobody"
        );
    }

    /// Computed independently with `printf '%s' '1764331445.{"table":"incident","sys_id":"0123"}' |
    /// openssl dgst -sha256 -hmac 'webhook-secret' -binary | base64`, which is what ServiceNow's
    /// `GlideCertificateEncryption().generateMac(GlideStringUtil.base64Encode('webhook-secret'), 'HmacSHA256', data)` returns.
    const VECTOR_BODY: &[u8] = br#"{"table":"incident","sys_id":"0123"}"#;
    const VECTOR_TIMESTAMP: &str = "1764331445";
    const VECTOR_SIGNATURE: &str = "d8E4aMyIOcc7SZt/dzIofhwHRbeougAUucysnZ2IIEY=";

    #[test]
    fn signature_matches_the_servicenow_test_vector() {
        let secret = SecretString::from("webhook-secret");
        assert_eq!(
            webhook_signature(&secret, VECTOR_TIMESTAMP, VECTOR_BODY),
            VECTOR_SIGNATURE
        );
        assert_eq!(
            verify_webhook(
                Some(VECTOR_TIMESTAMP),
                Some(VECTOR_SIGNATURE),
                VECTOR_BODY,
                &[secret],
                1764331445
            ),
            Ok(())
        );
    }

    #[test]
    fn rfc4231_case_2_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn accepts_any_configured_webhook_secret_within_the_window() {
        let secrets = keys(&["old", "new"]);
        let now = 1_800_000_000;
        for secret in &secrets {
            for skew in [-300, 0, 300] {
                let ts = (now + skew).to_string();
                let sig = webhook_signature(secret, &ts, b"{}");
                assert_eq!(
                    verify_webhook(Some(&ts), Some(&sig), b"{}", &secrets, now),
                    Ok(()),
                    "skew {skew}"
                );
            }
        }
    }

    #[test]
    fn refuses_bad_webhooks_with_the_reason() {
        let secrets = keys(&["secret"]);
        let now = 1_800_000_000;
        let ts = now.to_string();
        let good = webhook_signature(&secrets[0], &ts, b"body");
        let other = webhook_signature(&SecretString::from("other"), &ts, b"body");
        let stale_ts = (now - 301).to_string();
        let stale = webhook_signature(&secrets[0], &stale_ts, b"body");
        let future_ts = (now + 301).to_string();
        let future = webhook_signature(&secrets[0], &future_ts, b"body");
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], WebhookAuthError);
        let cases: [Case; 10] = [
            (None, Some(&good), b"body", WebhookAuthError::Missing),
            (Some(&ts), None, b"body", WebhookAuthError::Missing),
            (
                Some("soon"),
                Some(&good),
                b"body",
                WebhookAuthError::Malformed,
            ),
            (
                Some("-5"),
                Some(&good),
                b"body",
                WebhookAuthError::Malformed,
            ),
            (
                Some(&ts),
                Some("not base64!"),
                b"body",
                WebhookAuthError::Malformed,
            ),
            (
                Some(&stale_ts),
                Some(&stale),
                b"body",
                WebhookAuthError::Stale,
            ),
            (
                Some(&future_ts),
                Some(&future),
                b"body",
                WebhookAuthError::Stale,
            ),
            (Some(&ts), Some(&other), b"body", WebhookAuthError::Mismatch),
            (Some(&ts), Some(&good), b"body ", WebhookAuthError::Mismatch),
            (
                Some(&(now - 1).to_string()),
                Some(&good),
                b"body",
                WebhookAuthError::Mismatch,
            ),
        ];
        for (ts, sig, body, expected) in cases {
            assert_eq!(
                verify_webhook(ts, sig, body, &secrets, now),
                Err(expected),
                "{ts:?} {sig:?}"
            );
        }
        assert_eq!(
            verify_webhook(Some(&ts), Some(&good), b"body", &[], now),
            Err(WebhookAuthError::Mismatch)
        );
    }
}
