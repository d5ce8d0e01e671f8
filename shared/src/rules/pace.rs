//! A remote's pause as one invocation knows it (CONTRACT §12, §13): after a `429`, no function calls that remote
//! before the time it named. The pause is shared by every function through the table and read at most once per
//! invocation; a pause asked for during the invocation is kept without reading it back.

use crate::domain::time::{Timestamp, now};
use crate::outbound::failure::{Failure, LONGEST_PAUSE, Transient};
use crate::store::{Remote, SharedState, StoreError};
use std::sync::Mutex;

pub struct Pace {
    remote: Remote,
    /// `None` until read; then the pause, if any.
    known: Mutex<Option<Option<Timestamp>>>,
}

impl Pace {
    pub fn new(remote: Remote) -> Self {
        Self {
            remote,
            known: Mutex::new(None),
        }
    }

    /// The pause in force at `now`, reading the shared state the first time (one read).
    pub async fn until(
        &self,
        state: &impl SharedState,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let known = *self.known.lock().expect("pace lock");
        let until = match known {
            Some(until) => until,
            None => {
                let until = state.paused_until(self.remote).await?;
                *self.known.lock().expect("pace lock") = Some(until);
                until
            }
        };
        Ok(until.filter(|until| now < *until))
    }

    /// Pauses every function's calls to the remote for `wait` (at most [`LONGEST_PAUSE`]) from now, through the
    /// shared state (one conditional write), and answers until when.
    pub async fn pause(
        &self,
        state: &impl SharedState,
        wait: std::time::Duration,
    ) -> Result<Timestamp, StoreError> {
        let wait = chrono::Duration::from_std(wait.min(LONGEST_PAUSE))
            .expect("an hour fits chrono's range");
        let until = now() + wait;
        state.pause(self.remote, until).await?;
        *self.known.lock().expect("pace lock") = Some(Some(until));
        Ok(until)
    }

    /// After a call that ended in `failure`: when it asks for a wait (a `429`), pauses every function's calls for
    /// that long ([`Self::pause`], one conditional write) and says so in the log; any other failure changes nothing.
    pub async fn heed(
        &self,
        state: &impl SharedState,
        failure: &Failure,
    ) -> Result<(), StoreError> {
        if let Failure::Transient(Transient {
            retry_after: Some(wait),
            ..
        }) = failure
        {
            let until = self.pause(state, *wait).await?;
            tracing::warn!(remote = ?self.remote, %until, "asked to slow down: no function calls it before then");
        }
        Ok(())
    }

    /// True when this invocation learnt of a pause in force at `now` (the reconciler stops its sweep then).
    pub fn holds(&self, now: Timestamp) -> bool {
        matches!(*self.known.lock().expect("pace lock"), Some(Some(until)) if now < until)
    }
}
