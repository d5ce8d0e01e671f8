//! The instance's memory: records, tokens, queued faults, counters. One mutex; every critical section is short and
//! never spans an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{SimConfig, WebhookTarget};
use crate::faults::Fault;
use crate::ratelimit::{RateLimit, RateWindow};

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

#[derive(Default)]
pub(crate) struct Inner {
    /// Every table's records in creation order; `sys_class_name` says which table.
    pub records: Vec<Record>,
    pub access_tokens: HashMap<String, Grant>,
    pub refresh_tokens: HashMap<String, Grant>,
    pub faults: VecDeque<Fault>,
    pub stats: Stats,
    pub webhook: Option<WebhookTarget>,
    pub rate_limit: Option<RateWindow>,
}

impl Inner {
    pub fn record(&self, table: &str, sys_id: &str) -> Option<&Record> {
        self.records.iter().find(|r| is(r, table, sys_id))
    }

    pub fn record_mut(&mut self, table: &str, sys_id: &str) -> Option<&mut Record> {
        self.records.iter_mut().find(|r| is(r, table, sys_id))
    }

    pub fn table<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Record> {
        self.records
            .iter()
            .filter(move |r| r.get("sys_class_name").is_some_and(|t| t == table))
    }
}

fn is(record: &Record, table: &str, sys_id: &str) -> bool {
    record.get("sys_class_name").is_some_and(|t| t == table)
        && record.get("sys_id").is_some_and(|s| s == sys_id)
}

/// State shared by the request handlers and the [`crate::Simulator`] handle.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub base_url: String,
    /// When this instance started serving, for `/sim/whoami`.
    pub started_at: DateTime<Utc>,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(config: SimConfig, base_url: String) -> Self {
        let inner = Inner {
            webhook: config.webhook.clone(),
            rate_limit: config.rate_limit.clone().map(RateWindow::new),
            ..Inner::default()
        };
        Shared {
            config,
            base_url,
            started_at: Utc::now(),
            inner: Mutex::new(inner),
        }
    }

    /// A panicking handler must not take the whole simulator down with it, so a poisoned lock is still used.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forget everything learnt since start, but keep the configured webhook target and rate limit rule (whose
    /// count starts over in a new window).
    pub fn reset(&self) {
        let mut inner = self.lock();
        let webhook = inner.webhook.take();
        let rate_limit = inner.rate_limit.as_ref().map(RateWindow::restarted);
        *inner = Inner {
            webhook,
            rate_limit,
            ..Inner::default()
        };
    }

    /// A change that is no decision: set `fields` on the record as an update by `sys_updated_by` (a field of
    /// `fields`, default `sim.admin`) would. Other `sys_` fields are the instance's own and are ignored. `None` when
    /// there is no such record.
    pub fn update(
        &self,
        table: &str,
        sys_id: &str,
        fields: impl IntoIterator<Item = (String, String)>,
    ) -> Option<Record> {
        let mut inner = self.lock();
        let record = inner.record_mut(table, sys_id)?;
        let mut by = "sim.admin".to_owned();
        for (name, value) in fields {
            if name == "sys_updated_by" {
                by = value;
            } else if !name.starts_with("sys_") {
                record.insert(name, value);
            }
        }
        record.insert("sys_updated_by".into(), by);
        record.insert("sys_updated_on".into(), now_text());
        Some(record.clone())
    }

    /// Put `rule` in force, its first window starting now; `None` lifts the limit.
    pub fn set_rate_limit(&self, rule: Option<RateLimit>) {
        self.lock().rate_limit = rule.map(RateWindow::new);
    }

    /// Dropping every access token makes each one fail as an expired one would.
    pub fn expire_access_tokens(&self) {
        self.lock().access_tokens.clear();
    }

    pub fn revoke_refresh_tokens(&self) {
        self.lock().refresh_tokens.clear();
    }

    pub fn tickets(&self) -> Vec<Value> {
        self.lock().records.iter().map(|r| json!(r)).collect()
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
