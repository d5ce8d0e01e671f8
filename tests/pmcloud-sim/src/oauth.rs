//! `POST /oauth/connect/token`: PM Cloud's IdentityServer, client-credentials grant only; and the bearer check of
//! the Management API.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::{self, FaultTarget};
use crate::state::Tenant;

/// The one scope the Management API has; a token carries it whether or not the request named it.
pub(crate) const SCOPE: &str = "urn:management:api";

type Params = HashMap<String, String>;

pub(crate) async fn token(
    State(sim): State<Arc<Tenant>>,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    if let Err(answer) = faults::apply(&sim, FaultTarget::Token).await {
        return answer;
    }
    // IdentityServer reads form bodies only; anything else is `invalid_request` before the client is looked at.
    let Ok(Form(params)) = form else {
        return refusal(&sim, "invalid_request");
    };
    grant(&sim, &params).unwrap_or_else(|error| refusal(&sim, error))
}

/// IdentityServer's order: authenticate the client, then validate the grant type, then the scope.
fn grant(sim: &Tenant, params: &Params) -> Result<Response, &'static str> {
    let mut inner = sim.base.lock();
    let client_ok = params.get("client_id") == Some(&sim.base.config.client_id)
        && params.get("client_secret") == Some(&inner.client_secret);
    if !client_ok {
        return Err("invalid_client");
    }
    if params.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err("unsupported_grant_type");
    }
    if let Some(scope) = params.get("scope")
        && !scope.split_whitespace().all(|s| s == SCOPE)
    {
        return Err("invalid_scope");
    }
    let access_token = random_token();
    let lifetime = sim.base.config.token_lifetime_secs;
    inner.tokens.insert(
        access_token.clone(),
        Instant::now() + Duration::from_secs(lifetime),
    );
    inner.stats.token_grants += 1;
    drop(inner);
    let body = json!({
        "access_token": access_token,
        "expires_in": lifetime,
        "token_type": "Bearer",
        "scope": SCOPE,
    });
    Ok(no_store(StatusCode::OK, body.to_string()))
}

/// IdentityServer's error answer: 400 and `{"error": …}`, nothing else, whatever went wrong.
fn refusal(sim: &Tenant, error: &str) -> Response {
    sim.base.lock().stats.failed_grants += 1;
    no_store(
        StatusCode::BAD_REQUEST,
        json!({ "error": error }).to_string(),
    )
}

/// Token answers must not be cached (RFC 6749 §5.1); IdentityServer sends these headers on errors too.
fn no_store(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store, no-cache, max-age=0"),
            (header::PRAGMA, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// ASP.NET's JwtBearer refusal of a request without a live token, or `None` to let the request through: 401, no
/// body, and a `WWW-Authenticate` challenge that says whether a token was missing or bad (unknown, expired or
/// revoked: the API cannot tell these apart either once it is gone).
pub(crate) fn bearer_refusal(sim: &Tenant, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return Some(challenge("Bearer"));
    };
    let live = sim
        .base
        .lock()
        .tokens
        .get(token)
        .is_some_and(|expires_at| *expires_at > Instant::now());
    (!live).then(|| challenge(r#"Bearer error="invalid_token""#))
}

fn challenge(value: &'static str) -> Response {
    let mut answer = StatusCode::UNAUTHORIZED.into_response();
    answer
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
    answer
}

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
