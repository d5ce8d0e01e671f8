//! PM Cloud's own `/sim/…` routes: the [`crate::Tenant`]'s powers over HTTP, for the dev run and curl. No
//! authentication: it is a local test double.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::JitAccess;
use crate::state::Tenant;

pub(crate) fn routes() -> Router<Arc<Tenant>> {
    Router::new()
        .route("/sim/notifications", get(notifications))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/client-secret", post(rotate_secret))
        .route("/sim/jit-access", put(set_jit_access))
        .route(
            "/sim/authorization-requests",
            get(authorization_requests).post(add_authorization_request),
        )
        .route(
            "/sim/authorization-requests/{id}/decision",
            post(decide_in_portal),
        )
}

async fn authorization_requests(State(sim): State<Arc<Tenant>>) -> Response {
    Json(sim.authorization_requests()).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewRequest {
    id: Option<String>,
    #[serde(default)]
    request_info: Map<String, Value>,
}

/// Body `{"id"?: "…", "requestInfo": {"user": "ACME\\jdoe", …}}`: 201 with the new pending record.
async fn add_authorization_request(
    State(sim): State<Arc<Tenant>>,
    Json(new): Json<NewRequest>,
) -> Response {
    let record = sim.add_authorization_request(new.id, new.request_info);
    (StatusCode::CREATED, Json(record)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortalDecision {
    approved: bool,
    by: String,
    #[serde(default = "once")]
    duration: String,
}

fn once() -> String {
    "Once".into()
}

/// Body `{"approved": true, "by": "carol.admin", "duration"?: "Once" | "<seconds>"}`: 200 with the record, 404
/// for an unknown id.
async fn decide_in_portal(
    State(sim): State<Arc<Tenant>>,
    Path(id): Path<String>,
    Json(decision): Json<PortalDecision>,
) -> Response {
    match sim.decide_in_portal(&id, decision.approved, &decision.by, &decision.duration) {
        Some(record) => Json(record).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn notifications(State(sim): State<Arc<Tenant>>) -> Response {
    Json(sim.notifications()).into_response()
}

async fn expire_tokens(State(sim): State<Arc<Tenant>>) -> StatusCode {
    sim.expire_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSecret {
    client_secret: String,
}

/// Body `{"clientSecret": "…"}`.
async fn rotate_secret(State(sim): State<Arc<Tenant>>, Json(new): Json<NewSecret>) -> StatusCode {
    sim.rotate_secret(new.client_secret);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewJitAccess {
    jit_access: JitAccess,
}

/// Body `{"jitAccess": "full" | "readOnly" | "none"}`.
async fn set_jit_access(
    State(sim): State<Arc<Tenant>>,
    Json(new): Json<NewJitAccess>,
) -> StatusCode {
    sim.set_jit_access(new.jit_access);
    StatusCode::NO_CONTENT
}
