//! The Table API: the four task tables the connector may use, and the user, group, membership and approval record
//! tables its approvals read and write ([`crate::schema`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::faults::{self, Effect, Request, RequestKind};
use crate::journal::WORK_NOTES;
use crate::query::{EncodedQuery, Fields};
use crate::schema::{self, APPROVALS, Table, View};
use crate::state::{Instance, Record, sn_error};
use crate::{oauth, ratelimit, webhook};

type Params = HashMap<String, String>;

pub(crate) fn routes() -> Router<Arc<Instance>> {
    Router::new()
        .route("/api/now/table/{table}", get(list).post(create))
        .route("/api/now/table/{table}/{sys_id}", get(read).patch(update))
}

async fn list(
    State(sim): State<Arc<Instance>>,
    Path(table): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let table = match admit(&sim, RequestKind::TableRead, &headers, &table).await {
        Ok(admitted) => admitted.table,
        Err(answer) => return answer,
    };
    let number = |name: &str, default: usize| {
        params
            .get(name)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let (limit, offset) = (number("sysparm_limit", 10_000), number("sysparm_offset", 0));
    let inner = sim.base.lock();
    let view = View::new(&inner, &sim.base.config, table);
    let query = EncodedQuery::parse(params.get("sysparm_query").map_or("", String::as_str));
    let mut matching: Vec<&Record> = inner
        .table(table.name)
        .filter(|record| query.matches(record, &view))
        .collect();
    query.sort(&mut matching, &view);
    let result: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|record| render(&sim, record, &params, &view))
        .collect();
    let mut answer = Json(json!({ "result": result })).into_response();
    // The count of every match, before paging: what a client pages through.
    answer
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(matching.len()));
    answer
}

async fn read(
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let table = match admit(&sim, RequestKind::TableRead, &headers, &table).await {
        Ok(admitted) => admitted.table,
        Err(answer) => return answer,
    };
    let inner = sim.base.lock();
    match inner.record(table.name, &sys_id) {
        Some(record) => {
            let view = View::new(&inner, &sim.base.config, table);
            Json(json!({ "result": render(&sim, record, &params, &view) })).into_response()
        }
        None => not_found(),
    }
}

async fn create(
    State(sim): State<Arc<Instance>>,
    Path(table): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&sim, RequestKind::TableCreate, &headers, &table).await {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    let Some(mut fields) = parse_object(&body) else {
        return bad_payload();
    };
    let Admitted {
        user,
        effect,
        table,
    } = admitted;
    if let Some(field) = &effect.drop_field {
        fields.remove(field);
    }
    let store = {
        let sim = sim.clone();
        move || {
            let mut fields = fields;
            let mut inner = sim.base.lock();
            let note = fields.remove(WORK_NOTES).map(text);
            let fields = fields.into_iter().map(|(name, value)| (name, text(value)));
            let stored = inner.insert(&sim.base.config, table, fields, &user);
            if let Some(field) = effect.drop_field {
                stored.entry(field).or_default();
            }
            let mut record = stored.clone();
            if table.is_task() {
                inner.stats.creates += 1;
            } else if table.name == APPROVALS {
                inner.stats.approval_records_created += 1;
            }
            if let Some(value) = note {
                let (sys_id, on) = (record["sys_id"].clone(), record["sys_created_on"].clone());
                inner.note(table.name, &sys_id, value.clone(), &user, on);
                // The answer is the inserted record in memory, which still holds the note's text.
                record.insert(WORK_NOTES.into(), value);
            }
            let view = View::new(&inner, &sim.base.config, table);
            (
                record["sys_id"].clone(),
                render(&sim, &record, &params, &view),
            )
        }
    };
    let (sys_id, rendered) = match effect.commit_after {
        None => store(),
        // A task of its own, so that the record is stored even when the client hangs up and its request is dropped.
        Some(delay) => {
            let late = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                store()
            });
            match late.await {
                Ok(stored) => stored,
                Err(_) => {
                    return sn_error(StatusCode::INTERNAL_SERVER_ERROR, "Insert failed", None);
                }
            }
        }
    };
    // The record is stored; a lost answer must not undo that.
    if let Some(hold) = effect.hold {
        tokio::time::sleep(hold).await;
    }
    let location = format!(
        "{}/api/now/table/{}/{sys_id}",
        sim.base.base_url, table.name
    );
    let body = Json(json!({ "result": rendered }));
    (StatusCode::CREATED, [(header::LOCATION, location)], body).into_response()
}

async fn update(
    State(sim): State<Arc<Instance>>,
    Path((table, sys_id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = parse_object(&body);
    let kind = if fields.as_ref().is_some_and(|f| f.contains_key(WORK_NOTES)) {
        RequestKind::WorkNotesUpdate
    } else {
        RequestKind::TableUpdate
    };
    let admitted = match admit(&sim, kind, &headers, &table).await {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    let Some(fields) = fields else {
        return bad_payload();
    };
    let table = admitted.table;
    let fields = fields.into_iter().map(|(name, value)| (name, text(value)));
    let mut inner = sim.base.lock();
    let before = inner
        .record(table.name, &sys_id)
        .map(|record| watched(table, record));
    let Some(record) = inner.write(table.name, &sys_id, fields, &admitted.user) else {
        return not_found();
    };
    let view = View::new(&inner, &sim.base.config, table);
    // The README's business rule: async, on a PM Cloud ticket's record whose watched fields changed.
    let rule_fires = before != Some(watched(table, &record))
        && view.text(&record, table.pm_cloud_field) == "PM Cloud";
    let answer = Json(json!({ "result": render(&sim, &record, &params, &view) }));
    let target = inner.webhook.clone();
    drop(view);
    drop(inner);
    if let Some(target) = target
        && rule_fires
    {
        webhook::fire_business_rule(target, table.name.to_owned(), sys_id);
    }
    answer.into_response()
}

/// The values of the fields the table's business rule watches.
fn watched(table: &Table, record: &Record) -> Vec<Option<String>> {
    table
        .watched
        .iter()
        .map(|field| record.get(*field).cloned())
        .collect()
}

/// A request that passed [`admit`].
struct Admitted {
    /// The token's user.
    user: String,
    /// What a due fault asks of a create.
    effect: Effect,
    table: &'static Table,
}

/// The checks every Table API request passes, in ServiceNow's order: rate limit, faults, authentication, table,
/// ACL, format.
async fn admit(
    sim: &Instance,
    kind: RequestKind,
    headers: &HeaderMap,
    table: &str,
) -> Result<Admitted, Response> {
    let served = schema::table(table);
    let request = Request {
        kind,
        table: served.map(|t| t.name),
    };
    sim.base.lock().stats.table_requests += 1;
    if let Some(answer) = ratelimit::check(sim, request) {
        return Err(answer);
    }
    let effect = faults::apply(sim, request).await?;
    let user = oauth::bearer_user(sim, headers).ok_or_else(|| {
        sn_error(
            StatusCode::UNAUTHORIZED,
            "User Not Authenticated",
            Some("Required to provide Auth information"),
        )
    })?;
    let Some(table) = served else {
        return Err(sn_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid table {table}"),
            None,
        ));
    };
    let allowed = sim
        .base
        .config
        .users
        .iter()
        .any(|u| u.username == user && u.may_access(table.name));
    if !allowed {
        return Err(faults::not_authorized(table.name));
    }
    if !accepts_json(headers) {
        return Err(sn_error(
            StatusCode::NOT_ACCEPTABLE,
            "Requested response format is not acceptable",
            Some("Send Accept: application/json"),
        ));
    }
    Ok(Admitted {
        user,
        effect,
        table,
    })
}

/// No `Accept` header means anything goes; otherwise one of its media ranges must cover JSON.
fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return true;
    };
    accept.to_str().is_ok_and(|accept| {
        accept.split(',').any(|range| {
            let media = range.split(';').next().unwrap_or_default().trim();
            ["application/json", "application/*", "*/*"]
                .iter()
                .any(|json| media.eq_ignore_ascii_case(json))
        })
    })
}

fn parse_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Some(fields),
        _ => None,
    }
}

fn bad_payload() -> Response {
    sn_error(
        StatusCode::BAD_REQUEST,
        "Exception while reading request",
        Some("The payload is not valid JSON."),
    )
}

/// ServiceNow stores what it is given as text: numbers and booleans become their JSON spelling, null becomes empty.
fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A record as ServiceNow answers it: `sysparm_fields` picks fields, dot-walked ones included (their answer key is
/// the dotted name, their value the referenced record's text); unknown names are left out. A reference field
/// becomes `{"link", "value"}` unless `sysparm_exclude_reference_link=true`.
fn render(sim: &Instance, record: &Record, params: &Params, view: &View<'_>) -> Value {
    let wanted: Option<Vec<&str>> = params
        .get("sysparm_fields")
        .filter(|fields| !fields.trim().is_empty())
        .map(|fields| fields.split(',').map(str::trim).collect());
    let links = params
        .get("sysparm_exclude_reference_link")
        .is_none_or(|flag| flag != "true");
    let value = |name: &str, text: &str| -> Value {
        match view.table.link_table(name) {
            Some(linked) if links && !text.is_empty() => {
                let link = format!("{}/api/now/table/{linked}/{text}", sim.base.base_url);
                json!({ "link": link, "value": text })
            }
            _ => json!(text),
        }
    };
    let fields: Map<String, Value> = match wanted {
        Some(wanted) => wanted
            .into_iter()
            .filter(|name| view.knows(name))
            .map(|name| (name.to_owned(), value(name, view.text(record, name))))
            .collect(),
        None => record
            .iter()
            .map(|(name, text)| (name.clone(), value(name, text)))
            .collect(),
    };
    Value::Object(fields)
}

fn not_found() -> Response {
    sn_error(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}
