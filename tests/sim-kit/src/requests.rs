//! The requests a simulator answered, so that a test or a benchmark can count the calls made for one request of
//! the connector (by its id in the path, the query or the body) instead of reading global counters that other
//! traffic also moves. The `/sim/…` control routes are not logged.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Api;

/// The most requests kept: the oldest are dropped beyond it (a burst of 10,000 requests makes about 30,000 calls).
const MAX_LOGGED: usize = 100_000;
/// The most bytes of a body kept for matching; the connector's bodies are a few kilobytes.
const BODY_KEPT: usize = 16 * 1024;
/// The largest body read at all (the routes' own limits still apply to what they are handed).
const BODY_READ: usize = 64 * 1024 * 1024;

/// One answered request, as `GET /sim/requests` lists it. JSON: `{"method": "GET", "path": "/api/now/table/incident",
/// "query": "sysparm_query=…" (as sent, percent-encoded; absent without one), "status": 503, "receivedAt": "<RFC
/// 3339>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The status the simulator answered (an injected fault's included).
    pub status: u16,
    pub received_at: DateTime<Utc>,
}

struct Entry {
    request: LoggedRequest,
    /// The body's first [`BODY_KEPT`] bytes, as text.
    body: String,
}

impl Entry {
    fn mentions(&self, text: &str) -> bool {
        let request = &self.request;
        request.path.contains(text)
            || request.query.as_deref().is_some_and(|q| q.contains(text))
            || self.body.contains(text)
    }
}

/// The requests answered so far, oldest first, at most [`MAX_LOGGED`].
#[derive(Default)]
pub(crate) struct RequestLog(VecDeque<Entry>);

impl RequestLog {
    fn record(&mut self, entry: Entry) {
        if self.0.len() == MAX_LOGGED {
            self.0.pop_front();
        }
        self.0.push_back(entry);
    }

    /// The requests whose path, query or body contains `text` (all of them without one), oldest first.
    pub(crate) fn containing(&self, text: Option<&str>) -> Vec<LoggedRequest> {
        self.0
            .iter()
            .filter(|entry| text.is_none_or(|text| entry.mentions(text)))
            .map(|entry| entry.request.clone())
            .collect()
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// The middleware that logs every request but the control routes' once it is answered.
pub(crate) async fn log<A: Api>(
    State(sim): State<Arc<A>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/sim/") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let received_at = Utc::now();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_READ).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let body = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEPT)]).into_owned();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let request = LoggedRequest {
        method,
        path,
        query,
        status: response.status().as_u16(),
        received_at,
    };
    sim.base().requests.lock().record(Entry { request, body });
    response
}

/// `GET /sim/requests?containing=TEXT`.
#[derive(Deserialize)]
pub(crate) struct Containing {
    containing: Option<String>,
}

pub(crate) async fn list<A: Api>(
    State(sim): State<Arc<A>>,
    Query(Containing { containing }): Query<Containing>,
) -> Json<Vec<LoggedRequest>> {
    Json(sim.base().requests.lock().containing(containing.as_deref()))
}
