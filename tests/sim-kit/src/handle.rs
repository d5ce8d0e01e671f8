//! The handle of a running simulator: its server, started and stopped.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::control::{self, WhoAmI};
use crate::requests;
use crate::{Api, Base, Faults, Locked, Stats};

/// A running simulator. Dropping it (or calling [`Sim::shutdown`]) stops the server. It dereferences to the
/// simulator `A`, for the powers only that simulator has.
pub struct Sim<A> {
    api: Arc<A>,
    /// Dropping this sender is the server's signal to stop.
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl<A: Api> Sim<A> {
    /// Serve on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// The listener's, as [`Sim::start_on`].
    pub async fn start(config: A::Config) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Serve on `addr` (port 0: a free one).
    ///
    /// # Errors
    /// When `addr` cannot be bound (taken, not local) or its port cannot be read back.
    pub async fn start_on(addr: SocketAddr, config: A::Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let base = Base {
            base_url: format!("http://{}", listener.local_addr()?),
            started_at: Utc::now(),
            faults: Faults::default(),
            memory: Locked::new(A::Memory::from(&config)),
            requests: Locked::default(),
            config,
        };
        let api = Arc::new(A::new(base));
        let app = Router::new()
            .merge(control::routes::<A>())
            .merge(A::routes())
            .layer(axum::middleware::from_fn_with_state(
                api.clone(),
                requests::log::<A>,
            ))
            .with_state(api.clone());
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
                eprintln!("{}: server failed: {error}", A::NAME);
            }
        });
        Ok(Sim { api, stop, server })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the URL to give the connector.
    pub fn base_url(&self) -> String {
        self.api.base().base_url.clone()
    }

    /// Queue a fault behind those already queued.
    pub fn inject(&self, fault: A::Fault) {
        self.api.base().faults.push(fault);
    }

    /// The counters now, as `GET /sim/stats` answers.
    pub fn stats(&self) -> Stats<A> {
        self.api.base().stats()
    }

    /// Back to the state at start, as `POST /sim/reset` does.
    pub fn reset(&self) {
        control::reset(&*self.api);
    }

    /// Which simulator this is: the process id and when it started, as `GET /sim/whoami` answers.
    pub fn whoami(&self) -> WhoAmI {
        WhoAmI::of(&*self.api)
    }

    /// Stop accepting connections and wait until the requests in flight are answered.
    pub async fn shutdown(self) {
        drop(self.stop);
        // A server task that panicked has nothing left to stop.
        let _ = self.server.await;
    }
}

impl<A> Deref for Sim<A> {
    type Target = A;

    fn deref(&self) -> &A {
        &self.api
    }
}
