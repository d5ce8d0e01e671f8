//! What the local simulators (`servicenow-sim`, `pmcloud-sim`) share, so that each of them holds only its own API.
//!
//! A simulator is a type that implements [`Api`]: its own routes, its own memory, its counters and how it resets.
//! The kit supplies the rest:
//!
//! - [`Sim`], the handle of a running simulator: [`Sim::start`] serves it on a free port of 127.0.0.1, dropping
//!   the handle (or [`Sim::shutdown`]) stops it, and it dereferences to the simulator for its own powers.
//! - The fault queue ([`Faults`]) of a `Fault` enum that [`faults!`] declares: `status`, `delay` and `html` faults
//!   for every simulator, plus the simulator's own kinds.
//! - The control routes every simulator has, JSON camelCase, no authentication (it is a local test double):
//!
//!   | Route | Body → answer | Handle |
//!   |---|---|---|
//!   | `GET /` | → 200, [`Api::HOME_PAGE`] | — |
//!   | `POST /sim/faults` | a fault, e.g. `{"kind":"status","target":"…","status":503,"times":2}` → 204 | [`Sim::inject`] |
//!   | `DELETE /sim/faults` | → 204: the fault queue emptied (an outage of many `times` ends when a test says) | — |
//!   | `GET /sim/requests?containing=TEXT` | → [`LoggedRequest`]s whose path, query or body contains `TEXT` (all without it), oldest first | — |
//!   | `POST /sim/reset` | → 204: the fault queue and the request log emptied, then [`Api::reset`] | [`Sim::reset`] |
//!   | `GET /sim/stats` | → the simulator's [`Counted::Stats`] | [`Sim::stats`] |
//!   | `GET /sim/whoami` | → [`WhoAmI`], e.g. `{"name":"pmcloud-sim","pid":4242,"startedAt":"<RFC 3339>"}` | [`Sim::whoami`] |
//!
//! - The binary's [`main`]: `NAME [--listen ADDR] [--config FILE.json]`, serving until SIGINT or SIGTERM.

mod binary;
mod control;
mod faults;
mod handle;
mod locked;
mod requests;
#[cfg(feature = "testing")]
mod testing;

use std::sync::{Arc, MutexGuard};

use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use binary::main;
pub use control::WhoAmI;
pub use faults::{Due, FaultKind, Faults, NoOwnFault, Queued, Target, no_request, ok, once};
pub use handle::Sim;
use locked::Locked;
pub use requests::LoggedRequest;

/// What a simulator supplies: its name, its setup, its fault targets, its routes and its memory's counters.
pub trait Api: Send + Sync + Sized + 'static {
    /// The binary's name, e.g. `servicenow-sim`: its usage line, the prefix of its messages, `name` in
    /// `GET /sim/whoami`.
    const NAME: &'static str;
    /// The binary's port on 127.0.0.1 when `--listen` is not given.
    const DEFAULT_PORT: u16;
    /// `GET /`: a small HTML page that proves the server answers HTTP.
    const HOME_PAGE: &'static str;
    /// The setup before the first request; the binary's `--config FILE.json` (every key optional).
    type Config: DeserializeOwned + Default + Send + Sync + 'static;
    /// What the simulator learns while it serves (records, tokens, counters), made from the setup at start and
    /// again on every reset.
    type Memory: for<'a> From<&'a Self::Config> + Counted + Send + 'static;
    /// The simulator's faults, declared with [`faults!`].
    type Fault: Queued;

    /// The simulator's own routes, its own `/sim/…` routes included.
    fn routes() -> Router<Arc<Self>>;
    /// The simulator at start, serving at `base.base_url`.
    fn new(base: Base<Self>) -> Self;
    /// What the kit keeps for the simulator: where it serves, since when, its setup, faults and memory.
    fn base(&self) -> &Base<Self>;

    /// Back to the state at start after a `POST /sim/reset` (the kit has emptied the fault queue): by default, the
    /// memory made afresh from the setup.
    fn reset(&self) {
        let base = self.base();
        *base.lock() = Self::Memory::from(&base.config);
    }
}

/// A simulator's memory, which keeps its counters.
pub trait Counted {
    /// The counters of `GET /sim/stats`.
    type Stats: Serialize + Clone;

    fn stats(&self) -> &Self::Stats;
}

/// The counters of simulator `A`.
pub type Stats<A> = <<A as Api>::Memory as Counted>::Stats;

/// What every simulator has: where it serves, since when, its setup, its queued faults, its memory and the requests
/// it answered.
pub struct Base<A: Api> {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// When this simulator started serving (several may share a process, as in tests).
    pub started_at: DateTime<Utc>,
    pub config: A::Config,
    pub faults: Faults<A::Fault>,
    memory: Locked<A::Memory>,
    /// The requests answered so far (`GET /sim/requests`).
    requests: Locked<requests::RequestLog>,
}

impl<A: Api> Base<A> {
    /// The counters now.
    pub fn stats(&self) -> Stats<A> {
        self.lock().stats().clone()
    }

    /// The memory, behind one mutex whose lock survives a handler that panicked: keep every critical section
    /// short, and never across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, A::Memory> {
        self.memory.lock()
    }
}
