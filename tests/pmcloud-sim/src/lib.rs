//! A local stand-in for the PM Cloud (BeyondTrust Endpoint Privilege Management) Management API, faithful in what
//! the connector uses: the client-credentials token endpoint, the URM ticket notification (and a stand-in admin
//! decision call), the authorization requests read back one by one and in pages, the *Decision Updated* webhook
//! after a decision in its "portal", plus injected faults.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use pmcloud_sim::{PmCloudSim, SimConfig};
//! let sim = PmCloudSim::start(SimConfig::default()).await?;
//! let tenant_url = sim.base_url(); // http://127.0.0.1:PORT
//! # Ok(()) }
//! ```
//!
//! # The PM Cloud endpoints
//!
//! - `POST /oauth/connect/token`, form body `grant_type=client_credentials&client_id=…&client_secret=…`
//!   (`scope=urn:management:api` optional): 200 `{"access_token","expires_in","token_type":"Bearer",
//!   "scope":"urn:management:api"}`. Refusals are 400 `{"error": …}`: `invalid_request` (not a form body),
//!   `invalid_client` (wrong id or secret), `unsupported_grant_type` (missing or other grant), `invalid_scope`.
//! - `POST /management-api/v2/AuthorizationRequest/notification` with `Authorization: Bearer <token>` and a JSON
//!   body of ten non-empty strings (`itsmRequestId`, `systemId`, `ticketId`, `ticketUrl`, `decision`,
//!   `status`, `duration`, `decisionPerformedByUser`, `decisionTime`, `message`): 200 with an empty body.
//!   401 (no body, `WWW-Authenticate: Bearer`) without a live token; 403 unless the API account has Full Access
//!   to JIT; 415 unless the body is JSON; 400 ValidationProblemDetails
//!   `{"type","title":"One or more validation errors occurred.","status":400,"errors":{"TicketId":["The TicketId
//!   field is required."]},"traceId"}` for a missing field or a `decision` other than `Approved`/`Denied`, a
//!   `status` other than `"2000"`/`"2001"`, a `decisionTime` not `YYYY-MM-DD HH:MM:SS`, a `duration` not
//!   `Once`, `Forever` or digits; 404 for an `itsmRequestId` outside `knownRequestIds` when that list is set.
//!   Other errors are ProblemDetails `{"type","title","status","detail"?,"traceId"}`. An accepted notification
//!   for a request the tenant holds records its decision on that request's `accessDecision`.
//! - `POST /management-api/v2/AdminAccessRequest/decision` ([`ADMIN_DECISION_PATH`]): the same as the
//!   notification, recorded with its path. BeyondTrust does not publish the real admin decision call's path.
//! - `GET /management-api/v2/AuthorizationRequest?Pagination.PageNumber=N&Pagination.PageSize=S` (S ≤ 200; newest
//!   first by `requestInfo.created`, whatever `Sorts[0]` says; no `Filter.*`): `{"data": [...], "pageCount",
//!   "totalRecordCount"}`; `GET …/AuthorizationRequest/{id}`: one record or 404. Both need a live token (401) and
//!   JIT Read Only or Full Access (403); see `authorization.rs` for the record's shape. [`Stats`] counts them
//!   apart (`authorizationRequestListCalls`, `authorizationRequestReadCalls`), so a test can tell what a sweep cost.
//!
//! # The control API
//!
//! The kit's (`GET /`, `GET /sim/whoami`, `GET /sim/stats` → [`Stats`], `POST /sim/faults` with a [`Fault`],
//! `POST /sim/reset`: back to the configured secret and JIT access; no tokens, faults, notifications, requests,
//! counts; the decision webhook target kept), and
//! PM Cloud's own; no authentication, every JSON name camelCase:
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /sim/notifications` | | 200 `[{"body":{…as sent…},"correlationId":"…"\|null,"receivedAt":"RFC 3339"}]`, oldest first |
//! | `POST /sim/tokens/expire` | | 204: every live token is refused from now on |
//! | `POST /sim/client-secret` | `{"clientSecret":"…"}` | 204: the new secret; every live token is dropped |
//! | `PUT /sim/jit-access` | `{"jitAccess":"full"\|"readOnly"\|"none"}` | 204 |
//! | `GET /sim/authorization-requests` | | 200 every record, oldest first by `requestInfo.created` |
//! | `POST /sim/authorization-requests` | `{"id"?:"…","requestInfo":{"created"?:"<RFC 3339>",…}}` | 201 the new pending record, created then (default now); no webhook is sent |
//! | `POST /sim/authorization-requests` | `[{"id"?,"requestInfo"},…]` or `{"count":1000,"id"?:"bench","requestInfo":{…}}` (ids `bench-1`…) | 201 the new records, in an array; 400 `{"error"}` above 10,000 |
//! | `POST /sim/authorization-requests/{id}/decision` | `{"approved":true,"by":"…","duration"?:"Once"\|"3600"}` | 200 the record decided in the "portal" (announced to the decision webhook, if set), 404 |
//! | `PUT /sim/decision-webhook` | `{"url":"…","authorization"?:"Bearer …"}` or `null` | 204: from now on a portal decision POSTs `{"pmcRequestId","eventType":"JIT Application Access Decision Updated"}` there with that `Authorization`, once, in the background, logged ([`DecisionWebhook`]) |
//!
//! Faults queue and each applies to the next `times` requests of its target (default 1), in queue order:
//!
//! - `{"kind":"status","target":"token"|"notification"|"authorizationRequest","status":503,"retryAfterSecs":7,"times":2}`: that status
//!   with the endpoint's error body; a 429 always carries `Retry-After` (default 1).
//! - `{"kind":"delay","target":…,"millis":300,"times":1}`: the normal answer, late.
//! - `{"kind":"html","target":…,"status":502,"times":1}`: that status (default 200) with an HTML error page.

mod authorization;
mod config;
mod control;
mod decision_webhook;
mod faults;
mod notification;
mod oauth;
mod problem;
mod state;

use sim_kit::Sim;

pub use authorization::{MAX_PAGE_SIZE, PENDING};
pub use config::{JitAccess, SimConfig};
pub use decision_webhook::{DECISION_UPDATED, DecisionWebhook};
pub use faults::{Fault, FaultTarget};
pub use state::{ADMIN_DECISION_PATH, Notification, Stats, Tenant};

/// A running simulated tenant. Dropping it (or calling [`Sim::shutdown`]) stops the server.
pub type PmCloudSim = Sim<Tenant>;
