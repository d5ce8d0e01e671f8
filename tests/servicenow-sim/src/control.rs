//! The instance's own `/sim/…` routes: the [`crate::Instance`]'s powers over HTTP, for the dev run and curl. No
//! authentication: it is a local test double.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::approvals::{ApprovalDecision, NewUser};
use crate::config::WebhookTarget;
use crate::ratelimit::RateLimit;
use crate::state::Instance;
use crate::webhook::{SimDecision, SimError, WebhookDelivery};

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
        .route("/sim/users", post(create_user))
        .route("/sim/users/{sys_id}", patch(set_user_active))
        .route("/sim/groups", post(create_group))
        .route("/sim/groups/{sys_id}/members", post(add_member))
        .route("/sim/approvals", get(approvals))
        .route("/sim/approvals/{sys_id}/decide", post(decide_approval))
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
    not_found(SimError::NotFound)
}

/// 404 `{"error": "…"}`.
fn not_found(error: SimError) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": error.to_string() })),
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
    decision_answer(sim.decide(&table, &sys_id, decision).await)
}

/// Body: an [`ApprovalDecision`]. Answers as [`decide`] does.
async fn decide_approval(
    State(sim): State<Arc<Instance>>,
    Path(sys_id): Path<String>,
    Json(decision): Json<ApprovalDecision>,
) -> Response {
    decision_answer(sim.decide_approval(&sys_id, decision).await)
}

/// What a decision route answers: the connector's answer to the webhook, why none was sent, a 404 without the
/// record, or a 502 when the webhook got no answer.
fn decision_answer(outcome: Result<WebhookDelivery, SimError>) -> Response {
    match outcome {
        Ok(delivery) => Json(json!({ "webhook": delivery })).into_response(),
        Err(SimError::NoWebhookTarget) => Json(json!({ "webhook": null })).into_response(),
        Err(SimError::WebhookSuppressed) => {
            Json(json!({ "webhook": null, "sent": false })).into_response()
        }
        Err(error @ (SimError::NotFound | SimError::NoSuchRecord { .. })) => not_found(error),
        Err(error @ SimError::Delivery(_)) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

/// Body: a [`NewUser`]. Answers 201 with the record.
async fn create_user(State(sim): State<Arc<Instance>>, Json(user): Json<NewUser>) -> Response {
    (StatusCode::CREATED, Json(sim.create_user(user))).into_response()
}

#[derive(Deserialize)]
struct UserChange {
    active: bool,
}

/// Body `{"active": false}`. Answers the updated user, or 404 `{"error"}`.
async fn set_user_active(
    State(sim): State<Arc<Instance>>,
    Path(sys_id): Path<String>,
    Json(change): Json<UserChange>,
) -> Response {
    match sim.set_user_active(&sys_id, change.active) {
        Ok(user) => Json(user).into_response(),
        Err(error) => not_found(error),
    }
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
}

/// Body `{"name": "PM Approvers"}`. Answers 201 with the record.
async fn create_group(State(sim): State<Arc<Instance>>, Json(group): Json<NewGroup>) -> Response {
    (StatusCode::CREATED, Json(sim.create_group(&group.name))).into_response()
}

#[derive(Deserialize)]
struct NewMember {
    user: String,
}

/// Body `{"user": "<sys_id>"}`. Answers 201 with the membership record, or 404 `{"error"}` without such a group or
/// user.
async fn add_member(
    State(sim): State<Arc<Instance>>,
    Path(group): Path<String>,
    Json(member): Json<NewMember>,
) -> Response {
    match sim.add_member(&group, &member.user) {
        Ok(membership) => (StatusCode::CREATED, Json(membership)).into_response(),
        Err(error) => not_found(error),
    }
}

/// `?document_id=<ticket sys_id>` picks one ticket's approval records; without it, all of them.
async fn approvals(
    State(sim): State<Arc<Instance>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let document_id = params.get("document_id").map(String::as_str);
    Json(sim.approvals(document_id)).into_response()
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
