//! Where a request waits, for the reconciler (CONTRACT §13): the backlogs of the table's sparse index, and which one
//! a request is in. One index key a request, so the backlogs are ranked: a ticket first, then a push, then what the
//! connector still owes the ticket.

use crate::domain::record::{NotificationState, RequestRecord};
use crate::domain::status::Status;
use crate::domain::time::Timestamp;

/// What a request waits for that the reconciler drives when the usual path stranded it (CONTRACT §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backlog {
    /// A pending request waiting for its ticket.
    Tickets,
    /// A decision waiting to be pushed to PM Cloud.
    Pushes,
    /// What the connector still owes a ticket (CONTRACT §14, §15): work notes to write, approval records to add,
    /// deadlines to keep; waiting since the earliest of them falls due. A request waits here only when it waits for
    /// nothing else, so that one index key suffices.
    FollowUps,
}

impl Backlog {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tickets => "tickets",
            Self::FollowUps => "follow_ups",
            Self::Pushes => "pushes",
        }
    }
}

impl RequestRecord {
    /// The backlog the request waits in, if any, and since when: a pending request since it was created, a
    /// decision waiting for its push since it was recorded.
    /// Otherwise, follow-ups (unwritten work notes, approval records, deadlines), since the earliest falls due.
    pub fn backlog(&self) -> Option<(Backlog, Timestamp)> {
        if self.status == Status::Pending {
            return Some((Backlog::Tickets, self.created_at));
        }
        if let Some(notification) = &self.pm_cloud_notification
            && notification.state == NotificationState::Pending
        {
            return Some((Backlog::Pushes, notification.at));
        }
        let deadline = self
            .approvals
            .as_ref()
            .and_then(|approvals| approvals.next_due(self.status.is_final()));
        let note = self
            .oldest_unwritten_note()
            .map(|noted| noted + crate::domain::work_note::NOTE_GRACE);
        deadline
            .into_iter()
            .chain(note)
            .min()
            .map(|due| (Backlog::FollowUps, due))
    }
}
