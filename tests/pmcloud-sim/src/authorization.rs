//! `GET /management-api/v2/AuthorizationRequest` (paged list) and `GET …/AuthorizationRequest/{id}`: the tenant's
//! authorization requests, as the connector reads them back (CONTRACT §5, §11, §13).
//!
//! A record is `{"id", "requestInfo": {"user", "hostName", "productDescription", "reason", "workstyle",
//! "sha1Hash", "created", …}, "accessDecision": {"status": 1000|2000|2001, "decisionPerformedByUser",
//! "decisionTime", "duration"}, "serviceTicket": {…}}`. BeyondTrust confirms `requestInfo.user`,
//! `requestInfo.created`, `accessDecision.status` and `serviceTicket`; the other names follow its webhook template,
//! as the connector infers them. Reading needs a live token and JIT Read Only or Full Access (else 403).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use crate::config::JitAccess;
use crate::faults::{self, FaultTarget};
use crate::oauth;
use crate::problem;
use crate::state::Tenant;

/// `accessDecision.status` of a request nobody decided yet.
pub const PENDING: u16 = 1000;
/// The largest page the list answers (`Pagination.PageSize`).
pub const MAX_PAGE_SIZE: usize = 200;

/// `GET /management-api/v2/AuthorizationRequest?Pagination.PageNumber=N&Pagination.PageSize=S` (newest first by
/// `requestInfo.created`, whatever `Sorts[0]` says): `{"data": [...], "pageCount", "totalRecordCount"}`; a page
/// past the end is empty.
pub(crate) async fn list(
    State(sim): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    sim.base.lock().stats.authorization_request_list_calls += 1;
    if let Err(answer) = admitted(&sim, &headers).await {
        return answer;
    }
    let number = |name: &str, default: usize| {
        query
            .get(name)
            .map_or(Ok(default), |text| text.parse::<usize>())
    };
    let (Ok(page), Ok(size)) = (
        number("Pagination.PageNumber", 1),
        number("Pagination.PageSize", 20),
    ) else {
        return problem::validation(Map::from_iter([(
            "Pagination".to_owned(),
            json!(["The value is not valid."]),
        )]));
    };
    if page == 0 || size == 0 || size > MAX_PAGE_SIZE {
        return problem::validation(Map::from_iter([(
            "Pagination".to_owned(),
            json!([format!(
                "PageNumber must be 1 or more and PageSize from 1 to {MAX_PAGE_SIZE}."
            )]),
        )]));
    }
    let requests = sim.authorization_requests();
    let total = requests.len();
    let data: Vec<Value> = requests
        .into_iter()
        .rev()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    Json(json!({
        "data": data,
        "pageCount": total.div_ceil(size),
        "totalRecordCount": total,
    }))
    .into_response()
}

/// `GET /management-api/v2/AuthorizationRequest/{id}`: the record, or a 404 ProblemDetails.
pub(crate) async fn get(
    State(sim): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    sim.base.lock().stats.authorization_request_read_calls += 1;
    if let Err(answer) = admitted(&sim, &headers).await {
        return answer;
    }
    match sim.authorization_request(&id) {
        Some(record) => Json(record).into_response(),
        None => problem::problem_with_detail(
            StatusCode::NOT_FOUND,
            &format!("No authorization request has the id {id}."),
        ),
    }
}

/// The checks before a read: faults, a live token (401), JIT access (403).
async fn admitted(sim: &Tenant, headers: &HeaderMap) -> Result<(), Response> {
    sim.base.lock().stats.authorization_request_calls += 1;
    faults::apply(sim, FaultTarget::AuthorizationRequest).await?;
    if let Some(answer) = oauth::bearer_refusal(sim, headers) {
        return Err(answer);
    }
    if sim.base.lock().jit_access == JitAccess::None {
        return Err(problem::problem_with_detail(
            StatusCode::FORBIDDEN,
            "The API account has no access to JIT Application Access.",
        ));
    }
    Ok(())
}

/// When a record was created: its `requestInfo.created` read as RFC 3339, or as `YYYY-MM-DD HH:MM:SS` (with or
/// without a fraction) in UTC; `None` (sorting before every time) when it is neither.
pub(crate) fn created_at(record: &Value) -> Option<DateTime<Utc>> {
    let text = record["requestInfo"]["created"].as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.to_utc())
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()
}

/// A new pending record for `info` (its `requestInfo`), under `id` or a new one, created now unless `info` says
/// when.
pub(crate) fn new_record(id: Option<String>, mut info: Map<String, Value>) -> Value {
    let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    info.entry("created").or_insert_with(|| {
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    });
    json!({
        "id": id,
        "requestInfo": info,
        "accessDecision": {"status": PENDING},
        "serviceTicket": null,
    })
}
