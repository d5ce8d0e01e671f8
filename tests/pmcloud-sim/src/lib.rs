//! A local stand-in for the PM Cloud (BeyondTrust Endpoint Privilege Management) Management API, faithful in what
//! the connector uses: the client-credentials token endpoint and the URM ticket notification, plus injected faults.
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
//!   Other errors are ProblemDetails `{"type","title","status","detail"?,"traceId"}`.
//!
//! # The control API
//!
//! No authentication; every JSON name is camelCase.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /` | | 200 a small HTML page |
//! | `GET /sim/whoami` | | 200 `{"name":"pmcloud-sim","pid":1234,"startedAt":"2025-03-01T14:05:09Z"}` |
//! | `GET /sim/notifications` | | 200 `[{"body":{…as sent…},"correlationId":"…"\|null,"receivedAt":"RFC 3339"}]`, oldest first |
//! | `GET /sim/stats` | | 200 `{"tokenGrants","failedGrants","notificationCalls","notificationsAccepted"}` |
//! | `POST /sim/faults` | a [`Fault`] | 204 |
//! | `POST /sim/reset` | | 204: back to the configured secret and JIT access; no tokens, faults, notifications, counts |
//! | `POST /sim/tokens/expire` | | 204: every live token is refused from now on |
//! | `POST /sim/client-secret` | `{"clientSecret":"…"}` | 204: the new secret; every live token is dropped |
//! | `PUT /sim/jit-access` | `{"jitAccess":"full"\|"readOnly"\|"none"}` | 204 |
//!
//! Faults queue and each applies to the next `times` requests of its target (default 1), in queue order:
//!
//! - `{"kind":"status","target":"token"|"notification","status":503,"retryAfterSecs":7,"times":2}`: that status
//!   with the endpoint's error body; a 429 always carries `Retry-After` (default 1).
//! - `{"kind":"delay","target":…,"millis":300,"times":1}`: the normal answer, late.
//! - `{"kind":"html","target":…,"status":502,"times":1}`: that status with an HTML error page.

mod config;
mod control;
mod faults;
mod notification;
mod oauth;
mod problem;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::response::Html;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{JitAccess, SimConfig};
pub use faults::{Fault, FaultTarget};
pub use state::{Notification, Stats};

use state::Shared;

/// A running simulated tenant. Dropping it (or calling [`PmCloudSim::shutdown`]) stops the server.
pub struct PmCloudSim {
    shared: Arc<Shared>,
    /// Dropping this sender is the server's signal to stop.
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl PmCloudSim {
    /// Serve on a free port of 127.0.0.1.
    pub async fn start(config: SimConfig) -> std::io::Result<PmCloudSim> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<PmCloudSim> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::new(config, base_url));
        let app = Router::new()
            .route("/", get(Html(HOME_PAGE)))
            .route("/oauth/connect/token", post(oauth::token))
            .route(
                "/management-api/v2/AuthorizationRequest/notification",
                post(notification::notify),
            )
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
                eprintln!("pmcloud-sim: server failed: {error}");
            }
        });
        Ok(PmCloudSim {
            shared,
            stop,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the tenant URL to give the connector. The token endpoint
    /// and the Management API share it, as on a real `…-services.pm.beyondtrustcloud.com` host.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Queue a fault behind those already queued.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// Every accepted notification, oldest first.
    pub fn notifications(&self) -> Vec<Notification> {
        self.shared.lock().notifications.clone()
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Every token issued so far stops working, as if it had expired.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Regenerate the API account's secret: only `secret` is accepted from now on, and every live token is dropped.
    pub fn rotate_secret(&self, secret: impl Into<String>) {
        self.shared.rotate_secret(secret.into());
    }

    /// Change the API account's permission on JIT Application Access; tokens already issued follow the change.
    pub fn set_jit_access(&self, access: JitAccess) {
        self.shared.lock().jit_access = access;
    }

    /// Back to the state at start, as `POST /sim/reset` does.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stop accepting connections and wait until the requests in flight are answered.
    pub async fn shutdown(self) {
        drop(self.stop);
        // A server task that panicked has nothing left to stop.
        let _ = self.server.await;
    }
}

/// `GET /` only has to prove that the tenant answers HTTP, and point a curious human at the control API.
const HOME_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>PM Cloud (pmcloud-sim)</title></head>\
<body><h1>pmcloud-sim</h1><p>A local stand-in for the PM Cloud Management API.</p>\
<p>Control API: <a href=\"/sim/whoami\">/sim/whoami</a>, <a href=\"/sim/stats\">/sim/stats</a>, \
<a href=\"/sim/notifications\">/sim/notifications</a>.</p></body></html>\n";
