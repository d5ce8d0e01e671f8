//! The tenant: the API account's current secret and permission, live tokens, received notifications, counters;
//! what the handle can do to them; and what it gives the kit (name, routes, memory).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sim_kit::{Api, Base, Counted};

use crate::config::{JitAccess, SimConfig};
use crate::decision_webhook::{self, DecisionWebhook};
use crate::faults::Fault;
use crate::{authorization, control, notification, oauth};

/// Counters for tests that assert how the connector talked to PM Cloud.
///
/// In JSON the counters after `authorizationRequestCalls` are left out while they are 0: a client that compares the
/// whole answer, and uses none of the calls they count, sees the same object as before they existed.
#[derive(Default, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Tokens issued.
    pub token_grants: u64,
    /// Token requests refused with an OAuth error (not counting injected faults).
    pub failed_grants: u64,
    /// Every call to the notification endpoint, whatever its answer (injected faults included).
    pub notification_calls: u64,
    /// Notifications answered 200 and recorded.
    pub notifications_accepted: u64,
    /// Every call to read authorization requests (list or one), whatever its answer.
    pub authorization_request_calls: u64,
    /// Of those, the calls to the paged list (`GET …/AuthorizationRequest`): what a sweep costs in pages.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub authorization_request_list_calls: u64,
    /// Of those, the reads of one request (`GET …/AuthorizationRequest/{id}`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub authorization_request_read_calls: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// One accepted ticket notification, as PM Cloud received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The JSON body exactly as sent, unknown fields included.
    pub body: Value,
    /// The `x-correlation-id` header, if the caller sent one.
    pub correlation_id: Option<String>,
    /// The path it was sent to: the notification call, or the admin decision path ([`ADMIN_DECISION_PATH`]).
    pub path: String,
    pub received_at: DateTime<Utc>,
}

/// What the tenant learns while it serves: the API account's current secret and permission, live tokens, received
/// notifications, counters.
pub struct Memory {
    /// The secret the token endpoint accepts now; rotation replaces it.
    pub(crate) client_secret: String,
    pub(crate) jit_access: JitAccess,
    /// Live access tokens and when each runs out.
    pub(crate) tokens: HashMap<String, Instant>,
    pub(crate) notifications: Vec<Notification>,
    /// Authorization requests, oldest first by `requestInfo.created`, in creation order among equal times
    /// ([`crate::authorization`]).
    pub(crate) requests: Vec<Value>,
    pub(crate) stats: Stats,
    /// Where a portal decision is announced; a reset keeps it.
    pub(crate) decision_webhook: Option<DecisionWebhook>,
}

/// The memory at start: the configured secret, permission and decision webhook, no tokens, notifications or counts.
impl From<&SimConfig> for Memory {
    fn from(config: &SimConfig) -> Self {
        Memory {
            client_secret: config.client_secret.clone(),
            jit_access: config.jit_access,
            tokens: HashMap::new(),
            notifications: Vec::new(),
            requests: Vec::new(),
            stats: Stats::default(),
            decision_webhook: config.decision_webhook.clone(),
        }
    }
}

impl Counted for Memory {
    type Stats = Stats;

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// A simulated PM Cloud tenant, shared by the request handlers and the [`crate::PmCloudSim`] handle (which
/// dereferences to it).
pub struct Tenant {
    pub(crate) base: Base<Tenant>,
}

impl Tenant {
    /// Every accepted notification, oldest first.
    pub fn notifications(&self) -> Vec<Notification> {
        self.base.lock().notifications.clone()
    }

    /// Every token issued so far stops working, as if it had expired.
    pub fn expire_tokens(&self) {
        self.base.lock().tokens.clear();
    }

    /// PM Cloud's "regenerate secret": only `secret` is accepted from now on, and every token issued under the old
    /// one stops working.
    pub fn rotate_secret(&self, secret: impl Into<String>) {
        let mut inner = self.base.lock();
        inner.client_secret = secret.into();
        inner.tokens.clear();
    }

    /// Change the API account's permission on JIT Application Access; tokens already issued follow the change.
    pub fn set_jit_access(&self, access: JitAccess) {
        self.base.lock().jit_access = access;
    }

    /// A user asks: a new pending authorization request whose `requestInfo` is `info`, under `id` (else a new
    /// uuid), created at `info`'s `created` (RFC 3339, or `YYYY-MM-DD HH:MM:SS` UTC) or now. Nothing is sent
    /// anywhere: this tenant's webhooks are the test's to send (or to lose).
    pub fn add_authorization_request(&self, id: Option<String>, info: Map<String, Value>) -> Value {
        let mut added = self.add_authorization_requests([(id, info)]);
        added.remove(0)
    }

    /// Many users ask at once: [`Tenant::add_authorization_request`] for each `(id, requestInfo)`, under one lock.
    /// Returns the new records in the order given.
    pub fn add_authorization_requests(
        &self,
        new: impl IntoIterator<Item = (Option<String>, Map<String, Value>)>,
    ) -> Vec<Value> {
        let added: Vec<Value> = new
            .into_iter()
            .map(|(id, info)| authorization::new_record(id, info))
            .collect();
        let mut inner = self.base.lock();
        inner.requests.extend(added.iter().cloned());
        // Stable: among equal times, the order of creation stays.
        inner.requests.sort_by_cached_key(authorization::created_at);
        added
    }

    /// Every authorization request, oldest first (by `requestInfo.created`, in creation order among equal times;
    /// a `created` that is not a time counts as the oldest).
    pub fn authorization_requests(&self) -> Vec<Value> {
        self.base.lock().requests.clone()
    }

    /// The authorization request `id`, if the tenant holds it.
    pub fn authorization_request(&self, id: &str) -> Option<Value> {
        self.base
            .lock()
            .requests
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
    }

    /// An approver decides request `id` in PM Cloud's portal: `accessDecision` becomes `2000` (approved, for
    /// `duration`: `Once` or seconds) or `2001` (denied), by `by`, now; then, when a decision webhook is set, it is
    /// announced there in the background ([`DecisionWebhook`]). `None` for an unknown id.
    pub fn decide_in_portal(
        &self,
        id: &str,
        approved: bool,
        by: &str,
        duration: &str,
    ) -> Option<Value> {
        let time = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let record = self.decide(id, approved, by, duration, &time)?;
        let target = self.base.lock().decision_webhook.clone();
        if let Some(target) = target {
            decision_webhook::announce(target, id);
        }
        Some(record)
    }

    /// Where [`Tenant::decide_in_portal`] announces decisions (PM Cloud's *Decision Updated* webhook); `None`:
    /// nowhere. A decision recorded from a ticket notification is not announced.
    pub fn set_decision_webhook(&self, target: Option<DecisionWebhook>) {
        self.base.lock().decision_webhook = target;
    }

    /// Records a decision on request `id` (from the portal or a ticket notification).
    pub(crate) fn decide(
        &self,
        id: &str,
        approved: bool,
        by: &str,
        duration: &str,
        time: &str,
    ) -> Option<Value> {
        let mut inner = self.base.lock();
        let record = inner.requests.iter_mut().find(|r| r["id"] == id)?;
        record["accessDecision"] = json!({
            "status": if approved { 2000 } else { 2001 },
            "decisionPerformedByUser": by,
            "decisionTime": time,
            "duration": duration,
        });
        Some(record.clone())
    }
}

/// Where this tenant takes admin-access decisions. BeyondTrust does not publish the AdminAccessRequest decision
/// call's path; this stand-in's is set as `pmCloud.adminDecisionPath` in the dev settings.
pub const ADMIN_DECISION_PATH: &str = "/management-api/v2/AdminAccessRequest/decision";

impl Api for Tenant {
    const NAME: &'static str = "pmcloud-sim";
    const DEFAULT_PORT: u16 = 8090;
    /// Proves that the tenant answers HTTP, and points a curious human at the control API.
    const HOME_PAGE: &'static str = "<!DOCTYPE html>\n<html><head><title>PM Cloud (pmcloud-sim)</title></head>\
<body><h1>pmcloud-sim</h1><p>A local stand-in for the PM Cloud Management API.</p>\
<p>Control API: <a href=\"/sim/whoami\">/sim/whoami</a>, <a href=\"/sim/stats\">/sim/stats</a>, \
<a href=\"/sim/notifications\">/sim/notifications</a>.</p></body></html>\n";
    type Config = SimConfig;
    type Memory = Memory;
    type Fault = Fault;

    fn routes() -> Router<Arc<Tenant>> {
        Router::new()
            .route(
                "/management-api/v2/AuthorizationRequest/notification",
                post(notification::notify),
            )
            .route(ADMIN_DECISION_PATH, post(notification::notify_admin))
            .route(
                "/management-api/v2/AuthorizationRequest",
                get(authorization::list),
            )
            .route(
                "/management-api/v2/AuthorizationRequest/{id}",
                get(authorization::get),
            )
            .route("/oauth/connect/token", post(oauth::token))
            .merge(control::routes())
    }

    fn new(base: Base<Tenant>) -> Self {
        Tenant { base }
    }

    fn base(&self) -> &Base<Tenant> {
        &self.base
    }

    /// Back to the configured secret and permission with nothing remembered, the decision webhook target kept.
    fn reset(&self) {
        let mut inner = self.base.lock();
        let decision_webhook = inner.decision_webhook.take();
        *inner = Memory {
            decision_webhook,
            ..Memory::from(&self.base.config)
        };
    }
}
