//! The routes every simulator has: `GET /` and the common `/sim/…` control routes (see the crate's table).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Api, requests};

pub(crate) fn routes<A: Api>() -> Router<Arc<A>> {
    Router::new()
        .route("/", get(Html(A::HOME_PAGE)))
        .route(
            "/sim/faults",
            post(add_fault::<A>).delete(clear_faults::<A>),
        )
        .route("/sim/requests", get(requests::list::<A>))
        .route("/sim/reset", post(reset_route::<A>))
        .route("/sim/stats", get(stats::<A>))
        .route("/sim/whoami", get(whoami::<A>))
}

/// Which simulator process answers: a dev script that started one can tell it from a stale one still holding the
/// port. JSON: `{"name": "servicenow-sim", "pid": 4242, "startedAt": "2025-01-01T12:00:00.123Z"}` (RFC 3339).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// The simulator's [`Api::NAME`].
    pub name: String,
    /// The serving process's id.
    pub pid: u32,
    /// When this simulator started serving (several may share a process, as in tests).
    pub started_at: DateTime<Utc>,
}

impl WhoAmI {
    pub(crate) fn of<A: Api>(sim: &A) -> Self {
        WhoAmI {
            name: A::NAME.into(),
            pid: std::process::id(),
            started_at: sim.base().started_at,
        }
    }
}

/// Empty the fault queue and the request log, then reset the simulator.
pub(crate) fn reset<A: Api>(sim: &A) {
    sim.base().faults.clear();
    sim.base().requests.lock().clear();
    sim.reset();
}

async fn add_fault<A: Api>(State(sim): State<Arc<A>>, Json(fault): Json<A::Fault>) -> StatusCode {
    sim.base().faults.push(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults<A: Api>(State(sim): State<Arc<A>>) -> StatusCode {
    sim.base().faults.clear();
    StatusCode::NO_CONTENT
}

async fn reset_route<A: Api>(State(sim): State<Arc<A>>) -> StatusCode {
    reset(&*sim);
    StatusCode::NO_CONTENT
}

async fn stats<A: Api>(State(sim): State<Arc<A>>) -> Response {
    Json(sim.base().stats()).into_response()
}

async fn whoami<A: Api>(State(sim): State<Arc<A>>) -> Response {
    Json(WhoAmI::of(&*sim)).into_response()
}
