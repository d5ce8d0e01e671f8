//! The Table API for the four task tables the connector may use.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::faults::{self, Effect, RequestKind};
use crate::journal::WORK_NOTES;
use crate::query::EncodedQuery;
use crate::state::{Instance, Memory, Record, now_text, sn_error};
use crate::{oauth, ratelimit, webhook};

/// A task table and how its records are numbered (`INC0010001`, …).
struct TaskTable {
    name: &'static str,
    prefix: &'static str,
    first: u64,
}

const TABLES: [TaskTable; 4] = [
    TaskTable {
        name: "incident",
        prefix: "INC",
        first: 10001,
    },
    TaskTable {
        name: "change_request",
        prefix: "CHG",
        first: 30001,
    },
    TaskTable {
        name: "sc_task",
        prefix: "SCTASK",
        first: 10001,
    },
    TaskTable {
        name: "sc_req_item",
        prefix: "RITM",
        first: 10001,
    },
];

/// Fields every task table has; a new record carries all of them (empty when not set), as ServiceNow's answers do.
const STANDARD_FIELDS: [&str; 16] = [
    "sys_id",
    "number",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
    "sys_class_name",
    "active",
    "state",
    "approval",
    "short_description",
    "description",
    "correlation_id",
    "correlation_display",
    "assignment_group",
    // A journal field: always read as empty ([`crate::journal`]).
    WORK_NOTES,
];

/// Reference fields are answered as `{"link", "value"}`; the value is a `sys_user_group` sys_id.
const REFERENCE_FIELD: &str = "assignment_group";

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
    if let Err(answer) = admit(&sim, RequestKind::TableRead, &headers, &table).await {
        return answer;
    }
    let number = |name: &str, default: usize| {
        params
            .get(name)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let (limit, offset) = (number("sysparm_limit", 10_000), number("sysparm_offset", 0));
    let inner = sim.base.lock();
    let known = known_fields(&sim, &inner, &table);
    let query = EncodedQuery::parse(params.get("sysparm_query").map_or("", String::as_str));
    let mut matching: Vec<&Record> = inner
        .table(&table)
        .filter(|record| query.matches(record, &known))
        .collect();
    query.sort(&mut matching, &known);
    let result: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|record| render(&sim, record, &params, &known))
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
    if let Err(answer) = admit(&sim, RequestKind::TableRead, &headers, &table).await {
        return answer;
    }
    let inner = sim.base.lock();
    match inner.record(&table, &sys_id) {
        Some(record) => {
            let known = known_fields(&sim, &inner, &table);
            Json(json!({ "result": render(&sim, record, &params, &known) })).into_response()
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
        table: task_table,
    } = admitted;
    if let Some(field) = &effect.drop_field {
        fields.remove(field);
    }
    let store = {
        let sim = sim.clone();
        let table = table.clone();
        move || {
            let mut fields = fields;
            let mut inner = sim.base.lock();
            let note = fields.remove(WORK_NOTES).map(text);
            let mut record = new_record(&sim, &inner, task_table, fields, &user);
            if let Some(field) = effect.drop_field {
                record.entry(field).or_default();
            }
            inner.records.push(record.clone());
            inner.stats.creates += 1;
            if let Some(value) = note {
                let (sys_id, on) = (record["sys_id"].clone(), record["sys_created_on"].clone());
                inner.note(&table, &sys_id, value.clone(), &user, on);
                // The answer is the inserted record in memory, which still holds the note's text.
                record.insert(WORK_NOTES.into(), value);
            }
            let known = known_fields(&sim, &inner, &table);
            (record, known)
        }
    };
    let (record, known) = match effect.commit_after {
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
        "{}/api/now/table/{table}/{}",
        sim.base.base_url, record["sys_id"]
    );
    let body = Json(json!({ "result": render(&sim, &record, &params, &known) }));
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
    let fields = fields.into_iter().map(|(name, value)| (name, text(value)));
    let mut inner = sim.base.lock();
    let watched = |record: &Record| {
        (
            record.get("approval").cloned(),
            record.get("active").cloned(),
        )
    };
    let before = inner.record_mut(&table, &sys_id).map(|r| watched(r));
    let Some(record) = inner.write(&table, &sys_id, fields, &admitted.user) else {
        return not_found();
    };
    let known = known_fields(&sim, &inner, &table);
    let target = inner.webhook.clone();
    drop(inner);
    // The README's business rule: async, on a PM Cloud ticket whose approval or active changed.
    let pm_cloud_ticket = record.get("correlation_display").map(String::as_str) == Some("PM Cloud");
    if let Some(target) = target
        && pm_cloud_ticket
        && before != Some(watched(&record))
    {
        webhook::fire_business_rule(target, table.clone(), sys_id.clone());
    }
    Json(json!({ "result": render(&sim, &record, &params, &known) })).into_response()
}

/// A request that passed [`admit`].
struct Admitted {
    /// The token's user.
    user: String,
    /// What a due fault asks of a create.
    effect: Effect,
    table: &'static TaskTable,
}

/// The checks every Table API request passes, in ServiceNow's order: rate limit, faults, authentication, table,
/// ACL, format.
async fn admit(
    sim: &Instance,
    kind: RequestKind,
    headers: &HeaderMap,
    table: &str,
) -> Result<Admitted, Response> {
    sim.base.lock().stats.table_requests += 1;
    if let Some(answer) = ratelimit::check(sim, kind) {
        return Err(answer);
    }
    let effect = faults::apply(sim, kind).await?;
    let user = oauth::bearer_user(sim, headers).ok_or_else(|| {
        sn_error(
            StatusCode::UNAUTHORIZED,
            "User Not Authenticated",
            Some("Required to provide Auth information"),
        )
    })?;
    let Some(task_table) = TABLES.iter().find(|t| t.name == table) else {
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
        .any(|u| u.username == user && u.may_access(table));
    if !allowed {
        return Err(sn_error(
            StatusCode::FORBIDDEN,
            "User Not Authorized",
            Some(&format!("ACL restricts access to table {table}")),
        ));
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
        table: task_table,
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

fn new_record(
    sim: &Instance,
    inner: &Memory,
    table: &TaskTable,
    fields: Map<String, Value>,
    user: &str,
) -> Record {
    let mut record: Record = STANDARD_FIELDS
        .iter()
        .copied()
        .chain([
            sim.base.config.duration_field.as_str(),
            sim.base.config.notes_field.as_str(),
        ])
        .map(|name| (name.to_owned(), String::new()))
        .collect();
    record.insert("active".into(), "true".into());
    record.insert("state".into(), "1".into());
    record.insert("approval".into(), "not requested".into());
    record.extend(fields.into_iter().map(|(name, value)| (name, text(value))));
    let number = table.first + inner.table(table.name).count() as u64;
    let now = now_text();
    record.extend([
        ("sys_id".into(), uuid::Uuid::new_v4().simple().to_string()),
        ("number".into(), format!("{}{number:07}", table.prefix)),
        ("sys_created_on".into(), now.clone()),
        ("sys_updated_on".into(), now),
        ("sys_created_by".into(), user.to_owned()),
        ("sys_updated_by".into(), user.to_owned()),
        ("sys_class_name".into(), table.name.to_owned()),
    ]);
    record
}

/// ServiceNow stores what it is given as text: numbers and booleans become their JSON spelling, null becomes empty.
fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The fields a table knows: the standard ones, the configured ones, and any a stored record of it carries.
fn known_fields(sim: &Instance, inner: &Memory, table: &str) -> BTreeSet<String> {
    STANDARD_FIELDS
        .iter()
        .map(|&name| name.to_owned())
        .chain([
            sim.base.config.duration_field.clone(),
            sim.base.config.notes_field.clone(),
        ])
        .chain(inner.table(table).flat_map(|record| record.keys().cloned()))
        .collect()
}

/// A record as ServiceNow answers it: `sysparm_fields` picks fields (unknown names are left out), and the reference
/// field becomes `{"link", "value"}` unless `sysparm_exclude_reference_link=true`.
fn render(sim: &Instance, record: &Record, params: &Params, known: &BTreeSet<String>) -> Value {
    let wanted: Option<Vec<&str>> = params
        .get("sysparm_fields")
        .filter(|fields| !fields.trim().is_empty())
        .map(|fields| fields.split(',').map(str::trim).collect());
    let links = params
        .get("sysparm_exclude_reference_link")
        .is_none_or(|flag| flag != "true");
    let value = |name: &str, text: &str| -> Value {
        if name == REFERENCE_FIELD && links && !text.is_empty() {
            let link = format!("{}/api/now/table/sys_user_group/{text}", sim.base.base_url);
            json!({ "link": link, "value": text })
        } else {
            json!(text)
        }
    };
    let fields: Map<String, Value> = match wanted {
        Some(wanted) => wanted
            .into_iter()
            .filter(|name| known.contains(*name))
            .map(|name| {
                let text = record.get(name).map_or("", String::as_str);
                (name.to_owned(), value(name, text))
            })
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
