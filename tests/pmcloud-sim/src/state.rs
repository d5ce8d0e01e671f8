//! The tenant: the API account's current secret and permission, live tokens, received notifications, counters;
//! what the handle can do to them; and what it gives the kit (name, routes, memory).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_kit::{Api, Base, Counted};

use crate::config::{JitAccess, SimConfig};
use crate::faults::Fault;
use crate::{control, notification, oauth};

/// Counters for tests that assert how the connector talked to PM Cloud.
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
}

/// One accepted ticket notification, as PM Cloud received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The JSON body exactly as sent, unknown fields included.
    pub body: Value,
    /// The `x-correlation-id` header, if the caller sent one.
    pub correlation_id: Option<String>,
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
    pub(crate) stats: Stats,
}

/// The memory at start, or after a reset: the configured secret and permission, no tokens, notifications or counts.
impl From<&SimConfig> for Memory {
    fn from(config: &SimConfig) -> Self {
        Memory {
            client_secret: config.client_secret.clone(),
            jit_access: config.jit_access,
            tokens: HashMap::new(),
            notifications: Vec::new(),
            stats: Stats::default(),
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
}

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
            .route("/oauth/connect/token", post(oauth::token))
            .merge(control::routes())
    }

    fn new(base: Base<Tenant>) -> Self {
        Tenant { base }
    }

    fn base(&self) -> &Base<Tenant> {
        &self.base
    }
}
