//! The tenant's memory: the API account's current secret and permission, live tokens, queued faults, received
//! notifications, counters. One mutex; every critical section is short and never spans an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{JitAccess, SimConfig};
use crate::faults::Fault;

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

pub(crate) struct Inner {
    /// The secret the token endpoint accepts now; rotation replaces it.
    pub client_secret: String,
    pub jit_access: JitAccess,
    /// Live access tokens and when each runs out.
    pub tokens: HashMap<String, Instant>,
    pub faults: VecDeque<Fault>,
    pub notifications: Vec<Notification>,
    pub stats: Stats,
}

impl Inner {
    fn new(config: &SimConfig) -> Self {
        Inner {
            client_secret: config.client_secret.clone(),
            jit_access: config.jit_access,
            tokens: HashMap::new(),
            faults: VecDeque::new(),
            notifications: Vec::new(),
            stats: Stats::default(),
        }
    }
}

/// State shared by the request handlers and the [`crate::PmCloudSim`] handle.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub base_url: String,
    /// For `GET /sim/whoami`: tells this simulator apart from an older one still holding the port.
    pub started_at: DateTime<Utc>,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(config: SimConfig, base_url: String) -> Self {
        let inner = Inner::new(&config);
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

    /// Back to the state at start: the configured secret and permission, no tokens, faults, notifications or counts.
    pub fn reset(&self) {
        *self.lock() = Inner::new(&self.config);
    }

    /// Dropping every token makes each one fail as an expired one would.
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// PM Cloud's "regenerate secret": the old secret stops working and so does every token issued under it.
    pub fn rotate_secret(&self, secret: String) {
        let mut inner = self.lock();
        inner.client_secret = secret;
        inner.tokens.clear();
    }
}
