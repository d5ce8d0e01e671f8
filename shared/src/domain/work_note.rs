//! What the ticket is told after it exists (CONTRACT §14): one work note per distinct fact, kept on the request
//! from the moment the fact is recorded until ServiceNow took it (or 24 hours passed), so that no note is lost
//! and none is written twice.
//!
//! A note is recorded in the same write as its fact (a push's outcome, a decision made in PM Cloud) or, for an
//! approval that was not applied, in one write of its own, as being written: whoever recorded it writes it right
//! after, and records nothing more unless ServiceNow answered that it did not take it. Only then does the note wait
//! ([`NoteState::Pending`]) for the reconciler ([`crate::domain::backlog::Backlog::FollowUps`]). So a note costs one
//! write, the fact's, and a writer that dies before its call leaves no second note behind it: at most once.

use crate::domain::record::{Decision, Outcome, RequestRecord};
use crate::domain::time::{Timestamp, rfc3339};
use serde::{Deserialize, Serialize};

/// How long an unwritten note is tried again (CONTRACT §14: 24 hours), counted from when it was recorded.
pub const NOTE_RETRY_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// How long after it was recorded an unwritten note falls to the reconciler: longer than its first writer's call
/// may take ([`crate::rules::work_notes::NOTE_TIME`]), so that the two never write it at once.
pub const NOTE_GRACE: chrono::Duration = chrono::Duration::minutes(1);

/// The longest fact key kept: an approval's bad duration text is part of its key, and ServiceNow's field may be
/// long.
const MAX_FACT_CHARS: usize = 200;

/// A work note on the request: `{"fact", "text", "approval", "notedAt", "state", "attempts"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkNote {
    /// What the note is about ([`Fact::key`]): a request gets at most one note per fact, ever.
    pub fact: String,
    /// The note's text while it waits to be written; emptied once written or dropped, to keep the item small.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The decision the ticket's approval is set to along with the note (a decision made in PM Cloud, §13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Outcome>,
    /// When the fact was recorded (UTC).
    #[serde(with = "rfc3339")]
    pub noted_at: Timestamp,
    pub state: NoteState,
    /// Calls made to write it so far.
    #[serde(default)]
    pub attempts: u32,
}

/// Where a work note stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteState {
    /// Waits to be written by the reconciler: its first call was answered without taking it.
    Pending,
    /// ServiceNow took it, or may have: it is being written by whoever noted it, or its call got no answer (a
    /// call that got no answer is not repeated: at most once wins).
    Written,
    /// Not written within [`NOTE_RETRY_WINDOW`]; a log line says so.
    Dropped,
}

/// The facts a ticket is told of (CONTRACT §14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// An approval that was not applied: the duration field and its problem, as the `422` names them.
    ApprovalNotApplied { problem: String },
    /// PM Cloud accepted the decision at this time.
    Delivered { at: Timestamp },
    /// PM Cloud refused the decision for good; its answer.
    Refused { detail: String },
    /// The decision was made in PM Cloud's portal.
    DecidedInPmCloud(Decision),
    /// `remindAfterHours` passed (CONTRACT §15): who has not answered (their user names; empty without records).
    Reminder { waiting_on: Vec<String> },
    /// `escalateAfterHours` passed: the escalation group (its name, when ServiceNow gave it) and who of it was
    /// asked (user names).
    Escalated {
        group: Option<String>,
        asked: Vec<String>,
    },
    /// `expireAfterHours` passed without a decision.
    Expired { hours: String },
}

impl Fact {
    /// The note's identity: the same fact again is not noted again.
    pub fn key(&self) -> String {
        let key = match self {
            Self::ApprovalNotApplied { problem } => format!("approval-not-applied:{problem}"),
            Self::Delivered { .. } => "delivered".to_owned(),
            Self::Refused { .. } => "refused-by-pm-cloud".to_owned(),
            Self::DecidedInPmCloud(_) => "decided-in-pm-cloud".to_owned(),
            Self::Reminder { .. } => "reminder".to_owned(),
            Self::Escalated { .. } => "escalated".to_owned(),
            Self::Expired { .. } => "expired".to_owned(),
        };
        key.chars().take(MAX_FACT_CHARS).collect()
    }

    /// The note as the approver and the service desk read it; never a secret (details are redacted before they
    /// reach a fact).
    pub fn text(&self) -> String {
        match self {
            Self::ApprovalNotApplied { problem } => format!(
                "PM Cloud connector: the approval was not applied ({problem}). The request still waits for a \
                 decision: correct the duration and approve again."
            ),
            Self::Delivered { at } => format!(
                "PM Cloud connector: PM Cloud accepted the decision at {} UTC; the user's computer applies it at \
                 its next check-in or when the application is launched again.",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            Self::Refused { detail } => format!(
                "PM Cloud connector: PM Cloud refused the decision for good and it will not be sent again. PM \
                 Cloud answered: {detail}. Check the API account's JIT permission (Full Access) and that the \
                 request still exists in PM Cloud; the user has not been told the decision."
            ),
            Self::DecidedInPmCloud(decision) => format!(
                "PM Cloud connector: this request was {} in PM Cloud by {} at {} UTC. The ticket's approval was \
                 set to match; nothing more is needed here.",
                decided_words(decision),
                decision.decided_by.as_deref().unwrap_or("an administrator"),
                decision.decided_at.format("%Y-%m-%d %H:%M:%S")
            ),
            Self::Reminder { waiting_on } if waiting_on.is_empty() => {
                "PM Cloud connector: reminder: this elevation request still waits for a decision."
                    .to_owned()
            }
            Self::Reminder { waiting_on } => format!(
                "PM Cloud connector: reminder: this elevation request still waits for a decision. Not answered \
                 yet: {}.",
                waiting_on.join(", ")
            ),
            Self::Escalated { group, asked } => {
                let group = group.as_deref().map_or_else(
                    || "the escalation group".to_owned(),
                    |name| format!("the group {name}"),
                );
                let asked = if asked.is_empty() {
                    "it has no member who was not asked already".to_owned()
                } else {
                    format!(
                        "{} more approver(s) were asked: {}",
                        asked.len(),
                        asked.join(", ")
                    )
                };
                format!(
                    "PM Cloud connector: no decision yet, so the request was escalated to {group}; {asked}."
                )
            }
            Self::Expired { hours } => format!(
                "PM Cloud connector: no decision within {hours} hours, so the request expired and PM Cloud was \
                 told it is denied. The user can ask again."
            ),
        }
    }

    /// The approval the ticket is set to with the note.
    fn approval(&self) -> Option<Outcome> {
        match self {
            Self::DecidedInPmCloud(decision) => Some(decision.outcome),
            _ => None,
        }
    }
}

/// "approved for 4 hours", "approved once", "denied".
fn decided_words(decision: &Decision) -> String {
    match (decision.outcome, decision.duration) {
        (Outcome::Denied, _) => "denied".to_owned(),
        (Outcome::Expired, _) => "expired".to_owned(),
        (Outcome::Approved, Some(duration)) => format!("approved ({duration})"),
        (Outcome::Approved, None) => "approved".to_owned(),
    }
}

impl RequestRecord {
    /// A copy that notes `fact` at `now` as being written (one call, counted in its `attempts`) by the caller right
    /// after storing it ([`crate::rules::work_notes::WorkNotes::send_noted`]); `None` when the request has noted
    /// it before (written or not).
    pub fn with_note(&self, fact: &Fact, now: Timestamp) -> Option<Self> {
        let key = fact.key();
        if self.work_notes.iter().any(|note| note.fact == key) {
            return None;
        }
        let mut next = self.clone();
        next.work_notes.push(WorkNote {
            fact: key,
            text: String::new(),
            approval: fact.approval(),
            noted_at: now,
            state: NoteState::Written,
            attempts: 1,
        });
        next.updated_at = now;
        Some(next)
    }

    /// The note of `fact` noted at `noted_at` (by [`Self::with_note`]), if the request holds it.
    pub fn note_of(&self, fact: &Fact, noted_at: Timestamp) -> Option<&WorkNote> {
        let key = fact.key();
        self.work_notes
            .iter()
            .find(|note| note.fact == key && note.noted_at == noted_at)
    }

    /// A copy in which the note of `fact` noted at `noted_at`, whose first call ServiceNow answered without taking
    /// it, waits for the reconciler with its text; `None` when the request holds no such note being written.
    pub fn note_refused(&self, fact: &Fact, noted_at: Timestamp, now: Timestamp) -> Option<Self> {
        let key = fact.key();
        let mut next = self.clone();
        let note = next.work_notes.iter_mut().find(|note| {
            note.fact == key && note.noted_at == noted_at && note.state == NoteState::Written
        })?;
        note.state = NoteState::Pending;
        note.text = fact.text();
        next.updated_at = now;
        Some(next)
    }

    /// A copy in which the note `fact` ended as `state` after `calls` more calls; `None` when it is no longer
    /// pending (another writer ended it).
    pub fn note_ended(
        &self,
        fact: &str,
        state: NoteState,
        calls: u32,
        now: Timestamp,
    ) -> Option<Self> {
        let mut next = self.clone();
        let note = next
            .work_notes
            .iter_mut()
            .find(|note| note.fact == fact && note.state == NoteState::Pending)?;
        note.attempts += calls;
        if state != NoteState::Pending {
            note.state = state;
            note.text.clear();
        }
        next.updated_at = now;
        Some(next)
    }

    /// The notes waiting to be written, oldest first.
    pub fn unwritten_notes(&self) -> impl Iterator<Item = &WorkNote> {
        self.work_notes
            .iter()
            .filter(|note| note.state == NoteState::Pending)
    }

    /// When the oldest unwritten note was recorded, if any is waiting.
    pub fn oldest_unwritten_note(&self) -> Option<Timestamp> {
        self.unwritten_notes().map(|note| note.noted_at).min()
    }
}

#[cfg(test)]
#[path = "work_note_tests.rs"]
mod tests;
