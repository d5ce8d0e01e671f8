//! A local stand-in for a ServiceNow instance, faithful in what the connector uses: the OAuth token endpoint, the
//! Table API of the four task tables, injected faults, and an approver whose decision fires the signed webhook the
//! customer's business rule would send.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use servicenow_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let instance_url = sim.base_url(); // http://127.0.0.1:PORT
//! # Ok(()) }
//! ```
//!
//! # What the instance serves
//!
//! - `POST /oauth_token.do` (form body): `grant_type=password`, `refresh_token` and `client_credentials`
//!   ([`ClientCredentials`]; no `refresh_token` in its answer). Every refusal is the same 401
//!   `{"error_description":"access_denied","error":"server_error"}`; a malformed request is a 400 with that body.
//! - `GET|POST /api/now/table/{table}`, `GET|PATCH /api/now/table/{table}/{sys_id}` for `incident`,
//!   `change_request`, `sc_task` and `sc_req_item`. List reads take `sysparm_query` (`field=value`, `!=`, `>`, `>=`,
//!   `<`, `<=`, joined by `^`; `ORDERBYfield`, `ORDERBYDESCfield`), `sysparm_limit`, `sysparm_offset`,
//!   `sysparm_fields` and `sysparm_exclude_reference_link`; `X-Total-Count` is the match count before paging.
//! - `GET /nav_to.do?uri=<table>.do%3Fsys_id%3D<sys_id>`: the ticket page behind the link the connector hands out.
//!
//! # The control API
//!
//! Everything the [`Simulator`] handle can do is also under `/sim/…`, JSON camelCase, no authentication:
//!
//! | Route | Body → answer | Handle |
//! |---|---|---|
//! | `POST /sim/faults` | a [`Fault`], e.g. `{"kind":"status","target":"tableCreate","status":503,"times":2}` → 204 | [`Simulator::inject`] |
//! | `PUT /sim/rate-limit` | `{"limit":100,"windowSecs":3600,"target":"anyTable"}` or `null` → 204 | [`Simulator::set_rate_limit`] |
//! | `PUT /sim/webhook` | `{"url","secret"}` or `null` → 204 | [`Simulator::set_webhook`] |
//! | `GET /sim/stats` | → [`Stats`], e.g. `{"passwordGrants":1,"refreshGrants":0,"failedGrants":0,"tableRequests":2,"creates":1}` | [`Simulator::stats`] |
//! | `GET /sim/tickets` | → every record, in creation order | [`Simulator::tickets`] |
//! | `GET /sim/tickets/{table}/{sys_id}` | → the record, or 404 `{"error"}` | [`Simulator::ticket`] |
//! | `PATCH /sim/tickets/{table}/{sys_id}` | `{"field":"text",…}` → the updated record, or 404 `{"error"}` | [`Simulator::update`] |
//! | `POST /sim/tickets/{table}/{sys_id}/decide` | a [`SimDecision`], e.g. `{"approval":"approved","duration":"4 hours","sendWebhook":true}` → `{"webhook":{"status","body"}}`, `{"webhook":null}` (no target), `{"webhook":null,"sent":false}` (`sendWebhook: false`); 404 or 502 `{"error"}` | [`Simulator::decide`] |
//! | `POST /sim/tokens/expire` | → 204 | [`Simulator::expire_access_tokens`] |
//! | `POST /sim/refresh-tokens/revoke` | → 204 | [`Simulator::revoke_refresh_tokens`] |
//! | `POST /sim/reset` | → 204: records, tokens, faults and counters forgotten; webhook target and rate limit rule kept | — |
//! | `GET /sim/whoami` | → [`WhoAmI`]: `{"name":"servicenow-sim","pid":4242,"startedAt":"<RFC 3339>"}` | [`Simulator::whoami`] |
//!
//! Faults (JSON `kind`): `status`, `delay`, `loseCreateResponse` (stored, answer held), `commitLate` (held, then
//! stored), `dropField` (stored without a field), `html` (a hibernating instance's page). See [`Fault`].
//!
//! # Configuration
//!
//! The binary's `--config FILE.json` is a [`SimConfig`], every key optional, e.g.
//! `{"users": [{"username": "svc.pm.connector", "password": "p", "tables": ["incident"]}],
//! "clientCredentials": {"enabled": true, "applicationUser": "svc.pm.connector"},
//! "rateLimit": {"limit": 100, "windowSecs": 3600, "target": "anyTable"},
//! "webhook": {"url": "http://127.0.0.1:9000/v1/servicenow/events", "secret": "s"}}`.

mod config;
mod control;
mod faults;
mod oauth;
mod pages;
mod query;
mod ratelimit;
mod state;
mod table;
mod webhook;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::response::Html;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{ClientCredentials, SimConfig, SimUser, WebhookTarget};
pub use control::WhoAmI;
pub use faults::{Fault, FaultTarget};
pub use ratelimit::RateLimit;
pub use state::Stats;
pub use webhook::{SimDecision, SimError, WebhookDelivery};

use state::Shared;

/// A running simulated instance. Dropping it (or calling [`Simulator::shutdown`]) stops the server.
pub struct Simulator {
    shared: Arc<Shared>,
    /// Dropping this sender is the server's signal to stop.
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Simulator {
    /// Serve on a free port of 127.0.0.1.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::new(config, base_url));
        let app = Router::new()
            .route("/", get(Html(HOME_PAGE)))
            .route("/oauth_token.do", post(oauth::token))
            .route("/nav_to.do", get(pages::nav_to))
            .merge(table::routes())
            .merge(control::routes())
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stopped = async {
                // Either a message or the sender's drop means stop.
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
            {
                eprintln!("servicenow-sim: server failed: {error}");
            }
        });
        Ok(Simulator {
            shared,
            stop,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the instance URL to give the connector.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Queue a fault behind those already queued.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// Put a rate limit rule in force, its first window starting now (and its count at 0); `None` lifts it.
    pub fn set_rate_limit(&self, rule: Option<RateLimit>) {
        self.shared.set_rate_limit(rule);
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Every record of every table, in creation order, each with `sys_class_name` = its table. Values are stored
    /// strings (`assignment_group` is its plain sys_id here).
    pub fn tickets(&self) -> Vec<serde_json::Value> {
        self.shared.tickets()
    }

    pub fn ticket(&self, table: &str, sys_id: &str) -> Option<serde_json::Value> {
        self.shared
            .lock()
            .record(table, sys_id)
            .map(|record| serde_json::json!(record))
    }

    /// Change a ticket the way someone editing it would, without it being a decision (no webhook): set `fields`,
    /// then `sys_updated_on` to now and `sys_updated_by` to the `sys_updated_by` of `fields` (default `sim.admin`).
    /// Other `sys_` fields are ignored. Returns the updated record.
    pub fn update<K, V>(
        &self,
        table: &str,
        sys_id: &str,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<serde_json::Value, SimError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let fields = fields.into_iter().map(|(k, v)| (k.into(), v.into()));
        self.shared
            .update(table, sys_id, fields)
            .map(|record| serde_json::json!(record))
            .ok_or(SimError::NotFound)
    }

    /// Which simulator this is: the process id and when it started, as `GET /sim/whoami` answers.
    pub fn whoami(&self) -> WhoAmI {
        WhoAmI::of(&self.shared)
    }

    /// Every access token issued so far stops working, as if it had expired.
    pub fn expire_access_tokens(&self) {
        self.shared.expire_access_tokens();
    }

    /// Every refresh token issued so far stops working.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.revoke_refresh_tokens();
    }

    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.shared.lock().webhook = target;
    }

    /// Act as the approver: update the ticket, then send the signed webhook and return the connector's answer.
    /// The ticket is updated even when this fails with [`SimError::NoWebhookTarget`] or [`SimError::Delivery`].
    /// A decision with `send_webhook: Some(false)` updates the ticket, sends nothing and returns
    /// `Err(SimError::WebhookSuppressed)`.
    pub async fn decide(
        &self,
        table: &str,
        sys_id: &str,
        decision: SimDecision,
    ) -> Result<WebhookDelivery, SimError> {
        webhook::decide(&self.shared, table, sys_id, decision).await
    }

    /// Stop accepting connections and wait until the requests in flight are answered.
    pub async fn shutdown(self) {
        drop(self.stop);
        // A server task that panicked has nothing left to stop.
        let _ = self.server.await;
    }
}

/// `GET /` only has to prove that the instance answers HTTP.
const HOME_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>ServiceNow (servicenow-sim)</title></head>\
<body><h1>servicenow-sim</h1><p>A local stand-in for a ServiceNow instance.</p></body></html>\n";
