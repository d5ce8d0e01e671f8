//! A local stand-in for a ServiceNow instance, faithful in what the connector uses: the OAuth token endpoint, the
//! Table API of the four task tables (work notes kept as journal entries) and of users, groups, group members and
//! approval records, injected faults, and an approver whose decision (on a ticket or on an approval record) fires the
//! signed webhook the customer's business rule would send.
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
//!   `change_request`, `sc_task` and `sc_req_item`, and (CONTRACT §15, shared/DESIGN.md "ServiceNow approvals and
//!   journals") `sys_user` (`user_name`, `name`, `active` `"true"`/`"false"`), `sys_user_group` (`name`),
//!   `sys_user_grmember` (`group`, `user`: sys_ids) and `sysapproval_approver` (`sysapproval` and `document_id`: the
//!   ticket's sys_id, `source_table`, `approver`: a user's sys_id, `state`, default `requested`, `comments`, kept as
//!   plain text, `due_date`). List reads take `sysparm_query` (`field=value`, `!=`, `>`, `>=`, `<`, `<=`, joined by
//!   `^`, queries joined by `^NQ`; `ORDERBYfield`, `ORDERBYDESCfield`), `sysparm_limit`, `sysparm_offset`,
//!   `sysparm_fields` and `sysparm_exclude_reference_link`; `X-Total-Count` is the match count before paging. A
//!   condition or order on a field the table does not know matches every row (and is left out of answers), as
//!   ServiceNow does. Reference fields (`assignment_group`, `group` → `sys_user_group`; `user`, `approver` →
//!   `sys_user`; `sysapproval`, `document_id` → the ticket in any task table) answer `{"link", "value"}` and
//!   dot-walk one level in queries, orders and `sysparm_fields`, whose answer key is the dotted name:
//!   `sysparm_query=sysapproval.correlation_display=PM Cloud`, `user.active=true`;
//!   `sysparm_fields=approver.user_name` → `{"approver.user_name": "alice"}`.
//!   `work_notes` is a journal field: a `POST` or `PATCH` with it appends a [`WorkNote`] by the token's user
//!   instead of storing it (that request's answer still shows the text), and reads give it `""`. A `PATCH` that
//!   changes a PM Cloud ticket's `approval` or `active` fires the business rule's signed webhook in the background,
//!   as the README's async rule does (the connector's own `approval` after a decision made in PM Cloud); so does one
//!   that changes the `state` of an approval record of a PM Cloud ticket (`{"table":"sysapproval_approver",…}`).
//!   A create by the connector is by the token's user (`sys_created_by`, `sys_updated_by`), at the instance's now.
//! - `GET /nav_to.do?uri=<table>.do%3Fsys_id%3D<sys_id>`: the ticket page behind the link the connector hands out.
//!
//! # The control API
//!
//! Everything the [`Simulator`] handle can do is also under `/sim/…`, JSON camelCase, no authentication: the kit's
//! routes (`GET /`, `POST /sim/faults` with a [`Fault`], e.g.
//! `{"kind":"status","target":"tableCreate","status":503,"times":2}`, `GET /sim/stats` → [`Stats`], e.g.
//! `{"passwordGrants":1,"refreshGrants":0,"failedGrants":0,"tableRequests":2,"creates":1}` (`creates` counts
//! tickets; later counters such as `approvalRecordsCreated` show once not 0), `GET /sim/whoami`
//! → `{"name":"servicenow-sim","pid":4242,"startedAt":"<RFC 3339>"}`, and `POST /sim/reset`: records (users,
//! groups, members and approval records too), tokens, faults and counters forgotten; webhook target and rate limit
//! rule kept), and the instance's own:
//!
//! | Route | Body → answer | Handle |
//! |---|---|---|
//! | `PUT /sim/rate-limit` | `{"limit":100,"windowSecs":3600,"target":"anyTable"}` or `null` → 204 | [`Instance::set_rate_limit`] |
//! | `PUT /sim/webhook` | `{"url","secret"}` or `null` → 204 | [`Instance::set_webhook`] |
//! | `GET /sim/tickets` | → every ticket (task-table record), in creation order | [`Instance::tickets`] |
//! | `GET /sim/tickets/{table}/{sys_id}` | → the record, or 404 `{"error"}` | [`Instance::ticket`] |
//! | `PATCH /sim/tickets/{table}/{sys_id}` | `{"field":"text",…}` → the updated record, or 404 `{"error"}` | [`Instance::update`] |
//! | `GET /sim/tickets/{table}/{sys_id}/work_notes` | → `[{"value","sys_created_by","sys_created_on"}]`, oldest first, or 404 `{"error"}` | [`Instance::work_notes`] |
//! | `POST /sim/tickets/{table}/{sys_id}/decide` | a [`SimDecision`], e.g. `{"approval":"approved","duration":"4 hours","sendWebhook":true}` → `{"webhook":{"status","body"}}`, `{"webhook":null}` (no target), `{"webhook":null,"sent":false}` (`sendWebhook: false`); 404 or 502 `{"error"}` | [`Instance::decide`] |
//! | `POST /sim/users` | a [`NewUser`], e.g. `{"userName":"alice","name":"Alice A","active":true}` (`name`, `active` optional) → 201 the `sys_user` record | [`Instance::create_user`] |
//! | `PATCH /sim/users/{sys_id}` | `{"active":false}` → the updated user, or 404 `{"error"}` | [`Instance::set_user_active`] |
//! | `POST /sim/groups` | `{"name":"PM Approvers"}` → 201 the `sys_user_group` record | [`Instance::create_group`] |
//! | `POST /sim/groups/{sys_id}/members` | `{"user":"<sys_id>"}` → 201 the `sys_user_grmember` record, or 404 `{"error"}` | [`Instance::add_member`] |
//! | `GET /sim/approvals?document_id=<ticket sys_id>` | → that ticket's approval records (all without `document_id`), in creation order | [`Instance::approvals`] |
//! | `POST /sim/approvals/{sys_id}/decide` | an [`ApprovalDecision`], e.g. `{"state":"approved","comments":"ok","sendWebhook":true}` → as the ticket's `decide`; `sys_updated_by` is the approver's `user_name`, the webhook `{"table":"sysapproval_approver","sys_id"}` | [`Instance::decide_approval`] |
//! | `POST /sim/tokens/expire` | → 204 | [`Instance::expire_access_tokens`] |
//! | `POST /sim/refresh-tokens/revoke` | → 204 | [`Instance::revoke_refresh_tokens`] |
//!
//! The `/sim/tickets/{table}/{sys_id}` routes take a record of any table, so a user, a group, a membership or an
//! approval record is read (and changed, without a webhook) there too.
//!
//! Faults (JSON `kind`): `status`, `delay`, `loseCreateResponse` (stored, answer held), `commitLate` (held, then
//! stored), `dropField` (stored without a field), `html` (a hibernating instance's page). See [`Fault`]. Targets:
//! `oauth`, `tableRead`, `tableCreate`, `anyTable` (these three for every table), `workNotes` (a `PATCH` with
//! `work_notes` only; its `403` is ServiceNow's ACL refusal, `{"error":{"message":"Operation Failed","detail":"ACL
//! Exception Update Failed due to security constraints"},"status":"failure"}`), `approvals` (any request to
//! `sysapproval_approver`) and `groupMembers` (reads of `sys_user_grmember`). A `403` on a request to a table other
//! than the task tables is ServiceNow's ACL refusal too: a read's `User Not Authorized` / `ACL restricts access to
//! table <table>`, a create's `Operation Failed` / `ACL Exception Insert Failed due to security constraints`, an
//! update's as for `workNotes`. See [`FaultTarget`].
//!
//! # Configuration
//!
//! The binary's `--config FILE.json` is a [`SimConfig`], every key optional, e.g.
//! `{"users": [{"username": "svc.pm.connector", "password": "p", "tables": ["incident"]}],
//! "clientCredentials": {"enabled": true, "applicationUser": "svc.pm.connector"},
//! "rateLimit": {"limit": 100, "windowSecs": 3600, "target": "anyTable"},
//! "webhook": {"url": "http://127.0.0.1:9000/v1/servicenow/events", "secret": "s"}}`. A user's `tables` (default:
//! all) are the tables its roles reach, the user, group, member and approval tables included; a request to another
//! is refused with 403 `User Not Authorized`.

mod approvals;
mod config;
mod control;
mod faults;
mod journal;
mod oauth;
mod pages;
mod query;
mod ratelimit;
mod schema;
mod state;
mod table;
mod webhook;

use sim_kit::Sim;

pub use approvals::{ApprovalDecision, NewUser};
pub use config::{ClientCredentials, SimConfig, SimUser, WebhookTarget};
pub use faults::{CreateFault, Fault, FaultTarget};
pub use journal::WorkNote;
pub use ratelimit::RateLimit;
pub use state::{Instance, Stats};
pub use webhook::{SimDecision, SimError, WebhookDelivery};

/// A running simulated instance. Dropping it (or calling [`Sim::shutdown`]) stops the server.
pub type Simulator = Sim<Instance>;
