//! The request's status and the only moves it may make (CONTRACT §7): forward, never out of a final state.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Ticketed,
    Approved,
    Denied,
    Cancelled,
    Failed,
    /// v3: nobody decided within `approvals.expireAfterHours` (CONTRACT §15); told to PM Cloud as a denial.
    Expired,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Self::Pending,
        Self::Ticketed,
        Self::Approved,
        Self::Denied,
        Self::Cancelled,
        Self::Failed,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ticketed => "ticketed",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// Decided (or cancelled): nothing moves it any more. `failed` is not among them: a failed request whose
    /// ticket exists still takes the decision read from it (CONTRACT §7 v3).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::Denied | Self::Cancelled | Self::Expired
        )
    }

    /// A decision may land before `ticket-creator` recorded the ticket, so `pending` may move straight to one.
    /// Only ticket creation can fail a request, so `failed` is reachable from `pending` alone; a failed request
    /// moves on only to a decision (or a cancellation) read from its ticket, which exists when ServiceNow created
    /// it before refusing the rest (`correlation_not_stored`, once the correlation is put right). Only a request with
    /// a ticket expires: its deadlines count from the ticket's creation (CONTRACT §15).
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Pending, Ticketed | Approved | Denied | Cancelled | Failed)
                | (Ticketed | Failed, Approved | Denied | Cancelled | Expired)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    #[test]
    fn moves_only_forward() {
        let allowed = [
            (Pending, Ticketed),
            (Pending, Approved),
            (Pending, Denied),
            (Pending, Cancelled),
            (Pending, Failed),
            (Ticketed, Approved),
            (Ticketed, Denied),
            (Ticketed, Cancelled),
            (Failed, Approved),
            (Failed, Denied),
            (Failed, Cancelled),
            (Ticketed, Expired),
            (Failed, Expired),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn final_states_never_move() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(
                Status::ALL.iter().all(|to| !from.can_move_to(*to)),
                "{from}"
            );
        }
        assert!(!Pending.is_final() && !Ticketed.is_final() && !Failed.is_final());
    }

    #[test]
    fn serialises_lowercase() {
        assert_eq!(serde_json::to_string(&Cancelled).unwrap(), "\"cancelled\"");
    }
}
