//! `/sim/…`: the [`crate::Simulator`] handle's powers over HTTP, for the dev run and curl. No authentication: it is
//! a local test double.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::WebhookTarget;
use crate::faults::Fault;
use crate::ratelimit::RateLimit;
use crate::state::Shared;
use crate::webhook::{self, SimDecision, SimError};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/faults", post(add_fault))
        .route("/sim/rate-limit", put(set_rate_limit))
        .route("/sim/reset", post(reset))
        .route("/sim/stats", get(stats))
        .route("/sim/tickets", get(tickets))
        .route("/sim/tickets/{table}/{sys_id}", get(ticket).patch(update))
        .route("/sim/tickets/{table}/{sys_id}/decide", post(decide))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/refresh-tokens/revoke", post(revoke_refresh_tokens))
        .route("/sim/webhook", put(set_webhook))
        .route("/sim/whoami", get(whoami))
}

/// Which simulator process answers: a dev script that started one can tell it from a stale one still holding the
/// port. JSON: `{"name": "servicenow-sim", "pid": 4242, "startedAt": "2025-01-01T12:00:00.123Z"}` (RFC 3339).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// Always `servicenow-sim`.
    pub name: String,
    /// The serving process's id.
    pub pid: u32,
    /// When this simulator started serving (several may share a process, as in tests).
    pub started_at: DateTime<Utc>,
}

impl WhoAmI {
    pub(crate) fn of(sim: &Shared) -> Self {
        WhoAmI {
            name: "servicenow-sim".into(),
            pid: std::process::id(),
            started_at: sim.started_at,
        }
    }
}

async fn add_fault(State(sim): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    sim.lock().faults.push_back(fault);
    StatusCode::NO_CONTENT
}

/// Body `{"limit", "windowSecs", "target"}`, or `null` to lift the limit.
async fn set_rate_limit(
    State(sim): State<Arc<Shared>>,
    Json(rule): Json<Option<RateLimit>>,
) -> StatusCode {
    sim.set_rate_limit(rule);
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

async fn stats(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.lock().stats.clone()).into_response()
}

async fn tickets(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.tickets()).into_response()
}

/// One record as stored, or 404 `{"error"}`.
async fn ticket(
    State(sim): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
) -> Response {
    match sim.lock().record(&table, &sys_id) {
        Some(record) => Json(record).into_response(),
        None => no_such_ticket(),
    }
}

/// Body: an object of string fields. Answers the updated record, or 404 `{"error"}`.
async fn update(
    State(sim): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(fields): Json<BTreeMap<String, String>>,
) -> Response {
    match sim.update(&table, &sys_id, fields) {
        Some(record) => Json(record).into_response(),
        None => no_such_ticket(),
    }
}

fn no_such_ticket() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": SimError::NotFound.to_string() })),
    )
        .into_response()
}

/// Answers `{"webhook": {"status", "body"}}`, `{"webhook": null}` when no target is configured, or
/// `{"webhook": null, "sent": false}` when the decision said `"sendWebhook": false` (the ticket is updated in every
/// case).
async fn decide(
    State(sim): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(decision): Json<SimDecision>,
) -> Response {
    match webhook::decide(&sim, &table, &sys_id, decision).await {
        Ok(delivery) => Json(json!({ "webhook": delivery })).into_response(),
        Err(SimError::NoWebhookTarget) => Json(json!({ "webhook": null })).into_response(),
        Err(SimError::WebhookSuppressed) => {
            Json(json!({ "webhook": null, "sent": false })).into_response()
        }
        Err(SimError::NotFound) => no_such_ticket(),
        Err(error @ SimError::Delivery(_)) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

async fn expire_tokens(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.expire_access_tokens();
    StatusCode::NO_CONTENT
}

async fn revoke_refresh_tokens(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.revoke_refresh_tokens();
    StatusCode::NO_CONTENT
}

/// Body `{"url", "secret"}`, or `null` to stop sending webhooks.
async fn set_webhook(
    State(sim): State<Arc<Shared>>,
    Json(target): Json<Option<WebhookTarget>>,
) -> StatusCode {
    sim.lock().webhook = target;
    StatusCode::NO_CONTENT
}

async fn whoami(State(sim): State<Arc<Shared>>) -> Response {
    Json(WhoAmI::of(&sim)).into_response()
}
