//! PM Cloud's own `/sim/…` routes: the [`crate::Tenant`]'s powers over HTTP, for the dev run and curl. No
//! authentication: it is a local test double.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::JitAccess;
use crate::decision_webhook::DecisionWebhook;
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
        .route("/sim/decision-webhook", put(set_decision_webhook))
}

/// Body `{"url", "authorization"?}`, or `null` to announce no decision.
async fn set_decision_webhook(
    State(sim): State<Arc<Tenant>>,
    Json(target): Json<Option<DecisionWebhook>>,
) -> StatusCode {
    sim.set_decision_webhook(target);
    StatusCode::NO_CONTENT
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

/// `count` requests alike: ids `<id>-1` … `<id>-<count>` when `id` is given, else new uuids.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlikeRequests {
    count: usize,
    id: Option<String>,
    #[serde(default)]
    request_info: Map<String, Value>,
}

/// The most requests one call creates, so that a typo cannot exhaust memory.
const MAX_NEW_REQUESTS: usize = 10_000;

/// The bodies `POST /sim/authorization-requests` takes; the first that fits is meant.
#[derive(Deserialize)]
#[serde(untagged)]
enum NewRequests {
    Many(Vec<NewRequest>),
    Alike(AlikeRequests),
    One(NewRequest),
}

/// Body `{"id"?: "…", "requestInfo": {"user": "ACME\\jdoe", "created"?: "<RFC 3339>", …}}`: 201 with the new pending
/// record. An array of such bodies, or `{"count": 1000, "id"?: "bench", "requestInfo": {…}}`: 201 with the new
/// records in an array, in the order given; 400 `{"error"}` for more than [`MAX_NEW_REQUESTS`].
async fn add_authorization_request(
    State(sim): State<Arc<Tenant>>,
    Json(new): Json<NewRequests>,
) -> Response {
    let many: Vec<(Option<String>, Map<String, Value>)> = match new {
        NewRequests::One(one) => {
            let record = sim.add_authorization_request(one.id, one.request_info);
            return (StatusCode::CREATED, Json(record)).into_response();
        }
        NewRequests::Many(many) => many.into_iter().map(|n| (n.id, n.request_info)).collect(),
        NewRequests::Alike(alike) => (1..=alike.count)
            .map(|n| {
                let id = alike.id.as_ref().map(|prefix| format!("{prefix}-{n}"));
                (id, alike.request_info.clone())
            })
            .collect(),
    };
    if many.len() > MAX_NEW_REQUESTS {
        let error = format!("at most {MAX_NEW_REQUESTS} requests at once");
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    }
    let records = sim.add_authorization_requests(many);
    (StatusCode::CREATED, Json(records)).into_response()
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
