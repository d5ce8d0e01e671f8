//! PM Cloud's own `/sim/…` routes: the [`crate::Tenant`]'s powers over HTTP, for the dev run and curl. No
//! authentication: it is a local test double.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use crate::config::JitAccess;
use crate::state::Tenant;

pub(crate) fn routes() -> Router<Arc<Tenant>> {
    Router::new()
        .route("/sim/notifications", get(notifications))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/client-secret", post(rotate_secret))
        .route("/sim/jit-access", put(set_jit_access))
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
