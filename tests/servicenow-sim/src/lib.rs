//! A local stand-in for a ServiceNow instance, faithful in what the connector uses: the OAuth token endpoint, the
//! Table API of the four task tables (work notes kept as journal entries), injected faults, and an approver whose decision fires the signed webhook the
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
//!   `work_notes` is a journal field: a `POST` or `PATCH` with it appends a [`WorkNote`] by the token's user
//!   instead of storing it (that request's answer still shows the text), and reads give it `""`. A `PATCH` that
//!   changes a PM Cloud ticket's `approval` or `active` fires the business rule's signed webhook in the background,
//!   as the README's async rule does (the connector's own `approval` after a decision made in PM Cloud).
//! - `GET /nav_to.do?uri=<table>.do%3Fsys_id%3D<sys_id>`: the ticket page behind the link the connector hands out.
//!
//! # The control API
//!
//! Everything the [`Simulator`] handle can do is also under `/sim/…`, JSON camelCase, no authentication: the kit's
//! routes (`GET /`, `POST /sim/faults` with a [`Fault`], e.g.
//! `{"kind":"status","target":"tableCreate","status":503,"times":2}`, `GET /sim/stats` → [`Stats`], e.g.
//! `{"passwordGrants":1,"refreshGrants":0,"failedGrants":0,"tableRequests":2,"creates":1}`, `GET /sim/whoami`
//! → `{"name":"servicenow-sim","pid":4242,"startedAt":"<RFC 3339>"}`, and `POST /sim/reset`: records, tokens,
//! faults and counters forgotten; webhook target and rate limit rule kept), and the instance's own:
//!
//! | Route | Body → answer | Handle |
//! |---|---|---|
//! | `PUT /sim/rate-limit` | `{"limit":100,"windowSecs":3600,"target":"anyTable"}` or `null` → 204 | [`Instance::set_rate_limit`] |
//! | `PUT /sim/webhook` | `{"url","secret"}` or `null` → 204 | [`Instance::set_webhook`] |
//! | `GET /sim/tickets` | → every record, in creation order | [`Instance::tickets`] |
//! | `GET /sim/tickets/{table}/{sys_id}` | → the record, or 404 `{"error"}` | [`Instance::ticket`] |
//! | `PATCH /sim/tickets/{table}/{sys_id}` | `{"field":"text",…}` → the updated record, or 404 `{"error"}` | [`Instance::update`] |
//! | `GET /sim/tickets/{table}/{sys_id}/work_notes` | → `[{"value","sys_created_by","sys_created_on"}]`, oldest first, or 404 `{"error"}` | [`Instance::work_notes`] |
//! | `POST /sim/tickets/{table}/{sys_id}/decide` | a [`SimDecision`], e.g. `{"approval":"approved","duration":"4 hours","sendWebhook":true}` → `{"webhook":{"status","body"}}`, `{"webhook":null}` (no target), `{"webhook":null,"sent":false}` (`sendWebhook: false`); 404 or 502 `{"error"}` | [`Instance::decide`] |
//! | `POST /sim/tokens/expire` | → 204 | [`Instance::expire_access_tokens`] |
//! | `POST /sim/refresh-tokens/revoke` | → 204 | [`Instance::revoke_refresh_tokens`] |
//!
//! Faults (JSON `kind`): `status`, `delay`, `loseCreateResponse` (stored, answer held), `commitLate` (held, then
//! stored), `dropField` (stored without a field), `html` (a hibernating instance's page). See [`Fault`]. Targets:
//! `oauth`, `tableRead`, `tableCreate`, `anyTable`, and `workNotes` (a `PATCH` with `work_notes` only; its `403` is
//! ServiceNow's ACL refusal, `{"error":{"message":"Operation Failed","detail":"ACL Exception Update Failed due to
//! security constraints"},"status":"failure"}`). See [`FaultTarget`].
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
mod journal;
mod oauth;
mod pages;
mod query;
mod ratelimit;
mod state;
mod table;
mod webhook;

use sim_kit::Sim;

pub use config::{ClientCredentials, SimConfig, SimUser, WebhookTarget};
pub use faults::{CreateFault, Fault, FaultTarget};
pub use journal::WorkNote;
pub use ratelimit::RateLimit;
pub use state::{Instance, Stats};
pub use webhook::{SimDecision, SimError, WebhookDelivery};

/// A running simulated instance. Dropping it (or calling [`Sim::shutdown`]) stops the server.
pub type Simulator = Sim<Instance>;
