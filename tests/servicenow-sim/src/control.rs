//! The instance's own `/sim/…` routes: the [`crate::Instance`]'s powers over HTTP, for the dev run and curl. No
//! authentication: it is a local test double.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::config::WebhookTarget;
use crate::ratelimit::RateLimit;
use crate::state::Instance;
use crate::webhook::{SimDecision, SimError};

pub(crate) fn routes() -> Router<Arc<Instance>> {
    Router::new()
        .route("/sim/rate-limit", put(set_rate_limit))
        .route("/sim/tickets", get(tickets))
        .route("/sim/tickets/{table}/{sys_id}", get(ticket).patch(update))
        .route("/sim/tickets/{table}/{sys_id}/decide", post(decide))
        .route("/sim/tickets/{table}/{sys_id}/work_notes", get(work_notes))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/refresh-tokens/revoke", post(revoke_refresh_tokens))
        .route("/sim/webhook", put(set_webhook))
}

/// Body `{"limit", "windowSecs", "target"}`, or `null` to lift the limit.
async fn set_rate_limit(
    State(sim): State<Arc<Instance>>,
    Json(rule): Json<Option<RateLimit>>,
) -> StatusCode {
    sim.set_rate_limit(rule);
    StatusCode::NO_CONTENT
}

async fn tickets(State(sim): State<Arc<Instance>>) -> Response {
    Json(sim.tickets()).into_response()
}

/// One record as stored, or 404 `{"error"}`.
async fn ticket(
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
) -> Response {
    match sim.ticket(&table, &sys_id) {
        Some(record) => Json(record).into_response(),
        None => no_such_ticket(),
    }
}

/// Body: an object of string fields. Answers the updated record, or 404 `{"error"}`.
async fn update(
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(fields): Json<BTreeMap<String, String>>,
) -> Response {
    match sim.update(&table, &sys_id, fields) {
        Ok(record) => Json(record).into_response(),
        Err(_) => no_such_ticket(),
    }
}

/// The record's work notes, oldest first, or 404 `{"error"}`.
async fn work_notes(
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
) -> Response {
    match sim.work_notes(&table, &sys_id) {
        Some(notes) => Json(notes).into_response(),
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
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(decision): Json<SimDecision>,
) -> Response {
    match sim.decide(&table, &sys_id, decision).await {
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

async fn expire_tokens(State(sim): State<Arc<Instance>>) -> StatusCode {
    sim.expire_access_tokens();
    StatusCode::NO_CONTENT
}

async fn revoke_refresh_tokens(State(sim): State<Arc<Instance>>) -> StatusCode {
    sim.revoke_refresh_tokens();
    StatusCode::NO_CONTENT
}

/// Body `{"url", "secret"}`, or `null` to stop sending webhooks.
async fn set_webhook(
    State(sim): State<Arc<Instance>>,
    Json(target): Json<Option<WebhookTarget>>,
) -> StatusCode {
    sim.set_webhook(target);
    StatusCode::NO_CONTENT
}
