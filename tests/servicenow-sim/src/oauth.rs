//! `POST /oauth_token.do`: the password, refresh-token and client-credentials grants, and the bearer check of the
//! Table API.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::{self, RequestKind};
use crate::ratelimit;
use crate::state::{Grant, Instance};

/// ServiceNow's default refresh-token lifetime; using the token does not extend it.
const REFRESH_LIFETIME: Duration = Duration::from_secs(100 * 24 * 60 * 60);

type Params = HashMap<String, String>;

pub(crate) async fn token(
    State(sim): State<Arc<Instance>>,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    if let Some(answer) = ratelimit::check(&sim, RequestKind::Oauth.into()) {
        return answer;
    }
    if let Err(answer) = faults::apply(&sim, RequestKind::Oauth.into()).await {
        return answer;
    }
    // The endpoint takes form bodies only; JSON (or anything else) is a bad request.
    let Ok(Form(params)) = form else {
        return refusal(&sim, StatusCode::BAD_REQUEST);
    };
    let answer = match params.get("grant_type").map(String::as_str) {
        Some("password") => password_grant(&sim, &params),
        Some("refresh_token") => refresh_grant(&sim, &params),
        Some("client_credentials") => client_credentials_grant(&sim, &params),
        _ => Err(StatusCode::BAD_REQUEST),
    };
    answer.unwrap_or_else(|status| refusal(&sim, status))
}

fn password_grant(sim: &Instance, params: &Params) -> Result<Response, StatusCode> {
    let user = sim
        .base
        .config
        .users
        .iter()
        .find(|u| Some(&u.username) == params.get("username"))
        .filter(|u| client_ok(sim, params) && Some(&u.password) == params.get("password"))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let refresh_token = random_token();
    let mut inner = sim.base.lock();
    inner.refresh_tokens.insert(
        refresh_token.clone(),
        Grant {
            username: user.username.clone(),
            expires_at: Instant::now() + REFRESH_LIFETIME,
        },
    );
    inner.stats.password_grants += 1;
    drop(inner);
    Ok(issue(sim, &user.username, Some(refresh_token)))
}

/// A refresh gives a new access token and hands back the same refresh token: ServiceNow does not rotate it.
fn refresh_grant(sim: &Instance, params: &Params) -> Result<Response, StatusCode> {
    if !client_ok(sim, params) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let refresh_token = params
        .get("refresh_token")
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let mut inner = sim.base.lock();
    let username = inner
        .refresh_tokens
        .get(refresh_token)
        .filter(|grant| grant.expires_at > Instant::now())
        .map(|grant| grant.username.clone())
        .ok_or(StatusCode::UNAUTHORIZED)?;
    inner.stats.refresh_grants += 1;
    drop(inner);
    Ok(issue(sim, &username, Some(refresh_token.clone())))
}

/// The application's own token, acting as the configured application user. There is no refresh token: the client
/// asks again with its credentials.
fn client_credentials_grant(sim: &Instance, params: &Params) -> Result<Response, StatusCode> {
    // A request that names no client at all is malformed; one that names the wrong client is refused.
    if !params.contains_key("client_id") || !params.contains_key("client_secret") {
        return Err(StatusCode::BAD_REQUEST);
    }
    let grant = &sim.base.config.client_credentials;
    if !grant.enabled || !client_ok(sim, params) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let users = &sim.base.config.users;
    let user = match &grant.application_user {
        Some(name) => users.iter().find(|u| &u.username == name),
        None => users.first(),
    }
    .ok_or(StatusCode::UNAUTHORIZED)?;
    sim.base.lock().stats.client_credentials_grants += 1;
    Ok(issue(sim, &user.username, None))
}

fn client_ok(sim: &Instance, params: &Params) -> bool {
    params.get("client_id") == Some(&sim.base.config.client_id)
        && params.get("client_secret") == Some(&sim.base.config.client_secret)
}

fn issue(sim: &Instance, username: &str, refresh_token: Option<String>) -> Response {
    let access_token = random_token();
    let lifetime = sim.base.config.token_lifetime_secs;
    sim.base.lock().access_tokens.insert(
        access_token.clone(),
        Grant {
            username: username.to_owned(),
            expires_at: Instant::now() + Duration::from_secs(lifetime),
        },
    );
    let mut body = json!({
        "access_token": access_token,
        "scope": "useraccount",
        "token_type": "Bearer",
        "expires_in": lifetime,
    });
    if let Some(refresh_token) = refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    Json(body).into_response()
}

/// ServiceNow gives the same answer for a bad client, an unknown user, a wrong password, a dead refresh token and a
/// grant type the entry does not allow.
fn refusal(sim: &Instance, status: StatusCode) -> Response {
    sim.base.lock().stats.failed_grants += 1;
    // Byte for byte ServiceNow's answer, key order included.
    let body = r#"{"error_description":"access_denied","error":"server_error"}"#;
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The user behind a valid, unexpired `Authorization: Bearer` token.
pub(crate) fn bearer_user(sim: &Instance, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    sim.base
        .lock()
        .access_tokens
        .get(token.trim())
        .filter(|grant| grant.expires_at > Instant::now())
        .map(|grant| grant.username.clone())
}

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
