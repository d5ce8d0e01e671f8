//! `/sim/…`: the [`crate::PmCloudSim`] handle's powers over HTTP, for the dev run and curl. No authentication: it
//! is a local test double.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::config::JitAccess;
use crate::faults::Fault;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/notifications", get(notifications))
        .route("/sim/faults", post(add_fault))
        .route("/sim/reset", post(reset))
        .route("/sim/stats", get(stats))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/client-secret", post(rotate_secret))
        .route("/sim/jit-access", put(set_jit_access))
        .route("/sim/whoami", get(whoami))
}

async fn notifications(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.lock().notifications.clone()).into_response()
}

async fn add_fault(State(sim): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    sim.lock().faults.push_back(fault);
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

async fn stats(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.lock().stats.clone()).into_response()
}

async fn expire_tokens(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.expire_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSecret {
    client_secret: String,
}

/// Body `{"clientSecret": "…"}`.
async fn rotate_secret(State(sim): State<Arc<Shared>>, Json(new): Json<NewSecret>) -> StatusCode {
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
    State(sim): State<Arc<Shared>>,
    Json(new): Json<NewJitAccess>,
) -> StatusCode {
    sim.lock().jit_access = new.jit_access;
    StatusCode::NO_CONTENT
}

/// Lets a dev script check that the port it found busy is held by this simulator, and by which process.
async fn whoami(State(sim): State<Arc<Shared>>) -> Response {
    Json(json!({
        "name": "pmcloud-sim",
        "pid": std::process::id(),
        "startedAt": sim.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
    .into_response()
}
