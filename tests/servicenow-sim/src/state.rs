//! The instance: its records, tokens, counters, webhook target and rate limit; what the handle can do to them; and
//! what it gives the kit (name, routes, memory).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sim_kit::{Api, Base, Counted};

use crate::config::{SimConfig, WebhookTarget};
use crate::faults::Fault;
use crate::journal::{Journal, WORK_NOTES, WorkNote};
use crate::ratelimit::{RateLimit, RateWindow};
use crate::webhook::{self, SimDecision, SimError, WebhookDelivery};
use crate::{control, oauth, pages, table};

/// A stored record: ServiceNow hands every field out as a string, so that is how it is kept.
pub(crate) type Record = BTreeMap<String, String>;

/// Counters for tests that assert how the connector talked to the instance.
///
/// In JSON the counters after `creates` are left out while they are 0: a client that compares the whole answer, and
/// uses none of the features they count, sees the same object as before they existed.
#[derive(Default, Clone, Debug, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Stats {
    /// Successful `grant_type=password` grants.
    pub password_grants: u64,
    /// Successful `grant_type=refresh_token` grants.
    pub refresh_grants: u64,
    /// Refused grants of any kind (not counting injected faults or rate limiting).
    pub failed_grants: u64,
    /// Every request to `/api/now/table/…`, whatever its answer.
    pub table_requests: u64,
    /// Records stored by `POST /api/now/table/…`.
    pub creates: u64,
    /// Successful `grant_type=client_credentials` grants.
    #[serde(skip_serializing_if = "is_zero")]
    pub client_credentials_grants: u64,
    /// Requests refused with 429 by the rate limit rule ([`crate::RateLimit`]), not by an injected fault.
    #[serde(skip_serializing_if = "is_zero")]
    pub rate_limited: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// Who a token was issued to and until when.
pub(crate) struct Grant {
    pub username: String,
    pub expires_at: Instant,
}

/// What the instance learns while it serves (records, tokens, counters), and its webhook target and rate limit
/// rule, which a reset keeps.
#[derive(Default)]
pub struct Memory {
    /// Every table's records in creation order; `sys_class_name` says which table.
    pub(crate) records: Vec<Record>,
    pub(crate) access_tokens: HashMap<String, Grant>,
    pub(crate) refresh_tokens: HashMap<String, Grant>,
    pub(crate) stats: Stats,
    /// The records' work notes, which a read of the record does not give.
    pub(crate) journal: Journal,
    pub(crate) webhook: Option<WebhookTarget>,
    pub(crate) rate_limit: Option<RateWindow>,
}

impl Memory {
    /// Forget everything learnt since start, but keep the webhook target and rate limit rule (whose count starts
    /// over in a new window).
    pub(crate) fn reset(&mut self) {
        *self = Memory {
            webhook: self.webhook.take(),
            rate_limit: self.rate_limit.as_ref().map(RateWindow::restarted),
            ..Memory::default()
        };
    }

    pub(crate) fn record(&self, table: &str, sys_id: &str) -> Option<&Record> {
        self.records.iter().find(|r| is(r, table, sys_id))
    }

    pub(crate) fn record_mut(&mut self, table: &str, sys_id: &str) -> Option<&mut Record> {
        self.records.iter_mut().find(|r| is(r, table, sys_id))
    }

    /// Update record `sys_id` of `table` as `user` would: `fields` set, except the instance's own `sys_` fields and
    /// `work_notes`, whose text is appended as a [`WorkNote`] by `user` and stored empty; then `sys_updated_on` (now)
    /// and `sys_updated_by` (`user`). Returns the record as the update answers it, the note's text still in
    /// `work_notes` (the updated record in memory still holds it, unlike a later read); `None` without such a record.
    pub(crate) fn write(
        &mut self,
        table: &str,
        sys_id: &str,
        fields: impl IntoIterator<Item = (String, String)>,
        user: &str,
    ) -> Option<Record> {
        let record = self.record_mut(table, sys_id)?;
        let mut note = None;
        for (name, value) in fields {
            if name == WORK_NOTES {
                record.insert(name, String::new());
                note = Some(value);
            } else if !name.starts_with("sys_") {
                record.insert(name, value);
            }
        }
        let now = now_text();
        record.insert("sys_updated_on".into(), now.clone());
        record.insert("sys_updated_by".into(), user.to_owned());
        let mut answer = record.clone();
        if let Some(value) = note {
            answer.insert(WORK_NOTES.into(), value.clone());
            self.note(table, sys_id, value, user, now);
        }
        Some(answer)
    }

    /// Append a work note to the record's journal, written by `user` at `on` (`YYYY-MM-DD HH:MM:SS` UTC). Empty or
    /// blank text adds nothing, as ServiceNow ignores an empty journal entry.
    pub(crate) fn note(
        &mut self,
        table: &str,
        sys_id: &str,
        value: String,
        user: &str,
        on: String,
    ) {
        if value.trim().is_empty() {
            return;
        }
        self.journal
            .entry((table.to_owned(), sys_id.to_owned()))
            .or_default()
            .push(WorkNote {
                value,
                sys_created_by: user.to_owned(),
                sys_created_on: on,
            });
    }

    pub(crate) fn table<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Record> {
        self.records
            .iter()
            .filter(move |r| r.get("sys_class_name").is_some_and(|t| t == table))
    }
}

/// The memory at start: nothing learnt yet, the configured webhook target and rate limit rule in force.
impl From<&SimConfig> for Memory {
    fn from(config: &SimConfig) -> Self {
        Memory {
            webhook: config.webhook.clone(),
            rate_limit: config.rate_limit.clone().map(RateWindow::new),
            ..Memory::default()
        }
    }
}

impl Counted for Memory {
    type Stats = Stats;

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn is(record: &Record, table: &str, sys_id: &str) -> bool {
    record.get("sys_class_name").is_some_and(|t| t == table)
        && record.get("sys_id").is_some_and(|s| s == sys_id)
}

/// A simulated ServiceNow instance, shared by the request handlers and the [`crate::Simulator`] handle (which
/// dereferences to it).
pub struct Instance {
    pub(crate) base: Base<Instance>,
}

impl Instance {
    /// Put a rate limit rule in force, its first window starting now (and its count at 0); `None` lifts it.
    pub fn set_rate_limit(&self, rule: Option<RateLimit>) {
        self.base.lock().rate_limit = rule.map(RateWindow::new);
    }

    /// Every record of every table, in creation order, each with `sys_class_name` = its table. Values are stored
    /// strings (`assignment_group` is its plain sys_id here).
    pub fn tickets(&self) -> Vec<Value> {
        self.base.lock().records.iter().map(|r| json!(r)).collect()
    }

    /// One record as stored, or `None` when `table` has no record `sys_id`.
    pub fn ticket(&self, table: &str, sys_id: &str) -> Option<Value> {
        self.base
            .lock()
            .record(table, sys_id)
            .map(|record| json!(record))
    }

    /// Change a ticket the way someone editing it would, without it being a decision (no webhook): set `fields`,
    /// then `sys_updated_on` to now and `sys_updated_by` to the `sys_updated_by` of `fields` (default `sim.admin`).
    /// Other `sys_` fields are the instance's own and are ignored; `work_notes` is appended to the journal by that
    /// user and stored empty, as through the Table API. Returns the updated record (with the note's text).
    ///
    /// # Errors
    /// [`SimError::NotFound`] when `table` has no record `sys_id`.
    pub fn update<K, V>(
        &self,
        table: &str,
        sys_id: &str,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Value, SimError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut by = "sim.admin".to_owned();
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter_map(|(name, value)| {
                if name == "sys_updated_by" {
                    by = value;
                    None
                } else {
                    Some((name, value))
                }
            })
            .collect();
        let record = self.base.lock().write(table, sys_id, fields, &by);
        record.map(|record| json!(record)).ok_or(SimError::NotFound)
    }

    /// The work notes of a record, oldest first (empty when none were written), or `None` when `table` has no
    /// record `sys_id`.
    pub fn work_notes(&self, table: &str, sys_id: &str) -> Option<Vec<WorkNote>> {
        let inner = self.base.lock();
        inner.record(table, sys_id)?;
        let key = (table.to_owned(), sys_id.to_owned());
        Some(inner.journal.get(&key).cloned().unwrap_or_default())
    }

    /// Every access token issued so far stops working, as if it had expired.
    pub fn expire_access_tokens(&self) {
        self.base.lock().access_tokens.clear();
    }

    /// Every refresh token issued so far stops working.
    pub fn revoke_refresh_tokens(&self) {
        self.base.lock().refresh_tokens.clear();
    }

    /// Where [`Instance::decide`] sends the signed webhook; `None`: nowhere.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.base.lock().webhook = target;
    }

    /// Act as the approver: update the ticket, then send the signed webhook and return the connector's answer.
    ///
    /// # Errors
    /// [`SimError::NotFound`] without such a ticket. The ticket is updated even when this fails with
    /// [`SimError::NoWebhookTarget`] or [`SimError::Delivery`]. A decision with `send_webhook: Some(false)` updates
    /// the ticket, sends nothing and returns `Err(SimError::WebhookSuppressed)`.
    pub async fn decide(
        &self,
        table: &str,
        sys_id: &str,
        decision: SimDecision,
    ) -> Result<WebhookDelivery, SimError> {
        webhook::decide(self, table, sys_id, decision).await
    }
}

/// ServiceNow's error answer: `{"error": {"message", "detail"}, "status": "failure"}`.
pub(crate) fn sn_error(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "detail": detail}, "status": "failure"});
    (status, Json(body)).into_response()
}

/// ServiceNow's timestamp form, always UTC.
pub(crate) fn now_text() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Api for Instance {
    const NAME: &'static str = "servicenow-sim";
    const DEFAULT_PORT: u16 = 8089;
    /// Only has to prove that the instance answers HTTP.
    const HOME_PAGE: &'static str = "<!DOCTYPE html>\n<html><head><title>ServiceNow (servicenow-sim)</title></head>\
<body><h1>servicenow-sim</h1><p>A local stand-in for a ServiceNow instance.</p></body></html>\n";
    type Config = SimConfig;
    type Memory = Memory;
    type Fault = Fault;

    fn routes() -> Router<Arc<Instance>> {
        Router::new()
            .route("/oauth_token.do", post(oauth::token))
            .route("/nav_to.do", get(pages::nav_to))
            .merge(table::routes())
            .merge(control::routes())
    }

    fn new(base: Base<Instance>) -> Self {
        Instance { base }
    }

    fn base(&self) -> &Base<Instance> {
        &self.base
    }

    /// Records, tokens and counters forgotten; the webhook target and the rate limit rule kept (its count starting
    /// over in a new window).
    fn reset(&self) {
        self.base.lock().reset();
    }
}
