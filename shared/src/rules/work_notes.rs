//! The ticket tells the approver (CONTRACT §14): a fact is noted on the request, then written on its ticket as a
//! work note, at most once, and never holding back or changing a decision.
//!
//! Per note: the write that records its fact notes it as being written ([`RequestRecord::with_note`]), then one
//! `PATCH` of the ticket (bounded by [`NOTE_TIME`]), and nothing more unless ServiceNow answered without taking it:
//! then one conditional write leaves it to the reconciler ([`crate::domain::backlog::Backlog::FollowUps`]), which
//! writes it on each sweep for [`NOTE_RETRY_WINDOW`], then drops it with a log line. A call that got no answer may
//! have been carried out, so it is not repeated: a note is written at most once.

use crate::domain::record::RequestRecord;
use crate::domain::settings::ServiceNowSettings;
use crate::domain::time::{Timestamp, now};
use crate::domain::work_note::{Fact, NOTE_RETRY_WINDOW, NoteState, WorkNote};
use crate::servicenow::{ServiceNowClient, ServiceNowError, WorkNoteUpdate};
use crate::store::{self, RequestStore, StoreError, Updated};

/// How long one work note's call may take before it is left (as written: it may have arrived).
pub const NOTE_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// A request as stored by the write that noted `fact` at `at` ([`RequestRecord::with_note`]).
pub struct Noted {
    pub request: RequestRecord,
    pub fact: Fact,
    pub at: Timestamp,
}

pub struct WorkNotes<S> {
    store: S,
    servicenow: ServiceNowClient,
}

impl<S: RequestStore> WorkNotes<S> {
    pub fn new(store: S, servicenow: ServiceNowClient) -> Self {
        Self { store, servicenow }
    }

    /// Notes `fact` on `current` (one conditional write; none when the request noted it before) and writes it
    /// ([`Self::send_noted`]). Answers the request as stored. Errors: the store's.
    pub async fn note(
        &self,
        current: RequestRecord,
        fact: &Fact,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, StoreError> {
        let at = now();
        match store::update(&self.store, current, |request| request.with_note(fact, at)).await? {
            Updated::Written(request) => {
                let fact = fact.clone();
                self.send_noted(Noted { request, fact, at }, settings).await
            }
            Updated::Unchanged(request) => Ok(request),
        }
    }

    /// Stores what `change` makes of `current` with `fact`, when given, noted in the same conditional write, then
    /// writes the note ([`Self::send_noted`]): one write and one call. `change` answers `None` when there is
    /// nothing to store (another writer settled the request first): then nothing is stored or sent. Answers the
    /// request as stored after it. Errors: the store's.
    pub async fn store_noting(
        &self,
        current: RequestRecord,
        change: impl Fn(&RequestRecord) -> Option<RequestRecord>,
        fact: Option<Fact>,
        settings: &ServiceNowSettings,
    ) -> Result<Updated, StoreError> {
        let at = now();
        let noting = |request: &RequestRecord| {
            let next = change(request)?;
            Some(match &fact {
                Some(fact) => next.with_note(fact, at).unwrap_or(next),
                None => next,
            })
        };
        Ok(
            match (store::update(&self.store, current, noting).await?, fact) {
                (Updated::Written(request), Some(fact)) => {
                    let noted = Noted { request, fact, at };
                    Updated::Written(self.send_noted(noted, settings).await?)
                }
                (updated, _) => updated,
            },
        )
    }

    /// Writes on the ticket the note that `noted` recorded ([`RequestRecord::with_note`]): one call; when
    /// ServiceNow answered without taking it, one conditional write leaves it to the reconciler. Nothing when the
    /// request holds no such note (its fact was noted before). Answers the request as stored. Errors: the store's
    /// (a ServiceNow failure is recorded on the note, not returned).
    pub async fn send_noted(
        &self,
        noted: Noted,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, StoreError> {
        let Noted { request, fact, at } = noted;
        let Some(ticket) = request.ticket.clone() else {
            return Ok(request);
        };
        let Some(note) = request.note_of(&fact, at) else {
            return Ok(request);
        };
        // Its text is not stored while it is being written.
        let note = WorkNote {
            text: fact.text(),
            ..note.clone()
        };
        if self.send(&request, &note, &ticket, settings).await != NoteState::Pending {
            return Ok(request);
        }
        let now = now();
        let refused = |current: &RequestRecord| current.note_refused(&fact, at, now);
        Ok(match store::update(&self.store, request, refused).await? {
            Updated::Written(stored) | Updated::Unchanged(stored) => stored,
        })
    }

    /// Writes each unwritten note of `request` on its ticket, oldest first, and records how each ended; a note
    /// older than [`NOTE_RETRY_WINDOW`] is dropped without a call. Answers the request as stored. Errors: the
    /// store's (a ServiceNow failure is recorded on the note, not returned).
    pub async fn write(
        &self,
        mut request: RequestRecord,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, StoreError> {
        let Some(ticket) = request.ticket.clone() else {
            return Ok(request);
        };
        let waiting: Vec<WorkNote> = request.unwritten_notes().cloned().collect();
        for note in waiting {
            let (state, calls) = if now() - note.noted_at > NOTE_RETRY_WINDOW {
                tracing::error!(request_id = %request.id, fact = %note.fact, attempts = note.attempts,
                    "work note dropped: ServiceNow did not take it within 24 hours");
                metrics::counter!("WorkNotesDropped").increment(1);
                (NoteState::Dropped, 0)
            } else {
                (self.send(&request, &note, &ticket, settings).await, 1)
            };
            let at = now();
            let ended = |current: &RequestRecord| current.note_ended(&note.fact, state, calls, at);
            request = match store::update(&self.store, request, ended).await? {
                Updated::Written(stored) | Updated::Unchanged(stored) => stored,
            };
        }
        Ok(request)
    }

    /// One call: how the note stands after it.
    async fn send(
        &self,
        request: &RequestRecord,
        note: &WorkNote,
        ticket: &crate::domain::ticket::Ticket,
        settings: &ServiceNowSettings,
    ) -> NoteState {
        let update = WorkNoteUpdate {
            text: &note.text,
            approval: note.approval,
        };
        let table = self.servicenow.table(settings, ticket.table);
        let call = table.write_note(&ticket.sys_id, &update);
        let failure = match tokio::time::timeout(NOTE_TIME, call).await {
            Ok(Ok(())) => {
                metrics::counter!("WorkNotesWritten").increment(1);
                tracing::info!(request_id = %request.id, fact = %note.fact, "work note written");
                return NoteState::Written;
            }
            Ok(Err(ServiceNowError::Transient(transient))) if transient.unanswered => {
                transient.detail
            }
            Err(_) => format!("no answer within {} s", NOTE_TIME.as_secs()),
            Ok(Err(error)) => {
                tracing::warn!(request_id = %request.id, fact = %note.fact, error = %error,
                    "work note not written; the reconciler tries again");
                return NoteState::Pending;
            }
        };
        // The note may be on the ticket already: writing it again could show it twice.
        tracing::warn!(request_id = %request.id, fact = %note.fact, error = %failure,
            "work note sent without an answer; not repeated, it may be on the ticket");
        NoteState::Written
    }
}

#[cfg(test)]
#[path = "work_notes_tests.rs"]
mod tests;
