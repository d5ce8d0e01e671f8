//! What a ticket says about its request (CONTRACT §10): the ticket as read back, and the [`Verdict`] taken from it.
//! Plain data: the ServiceNow adapter reads its record into a [`TicketState`], so that the rules here never see
//! ServiceNow's field names or formats.

use crate::domain::duration::Duration;
use crate::domain::fields::FieldError;
use crate::domain::ids::RequestId;
use crate::domain::record::{Decision, Outcome};
use crate::domain::settings::ServiceNowSettings;
use crate::domain::ticket::Ticket;
use crate::domain::time::Timestamp;

/// Where the ticket's approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Approved,
    Rejected,
    /// Requested, not yet requested, cancelled, or anything else: no decision.
    Undecided,
}

/// A ticket as read back from ServiceNow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub ticket: Ticket,
    /// The request the ticket names, when its correlation id could be one of this connector's.
    pub correlation: Option<RequestId>,
    pub approval: Approval,
    /// False once the ticket is closed.
    pub active: bool,
    /// Who last changed the ticket (a user name), when said.
    pub updated_by: Option<String>,
    /// When the ticket was last changed (UTC); `None` when unreadable.
    pub updated_on: Option<Timestamp>,
    /// The text of the configured duration field (`durationField`, CONTRACT §8), when not empty.
    pub duration_text: Option<String>,
    /// The text of the configured notes field (`notesField`), when not empty.
    pub notes: Option<String>,
}

/// What the ticket says about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Decided(Decision),
    Cancelled,
    Undecided,
}

/// Reads the decision from a ticket (CONTRACT §10), with the duration from `durationField` (§8); a ticket without a
/// readable update time is taken as decided at `now`. Errors: the duration field, when an approval's duration
/// cannot be read.
pub fn verdict(
    state: &TicketState,
    settings: &ServiceNowSettings,
    now: Timestamp,
) -> Result<Verdict, FieldError> {
    let outcome = match state.approval {
        Approval::Approved => Outcome::Approved,
        Approval::Rejected => Outcome::Denied,
        Approval::Undecided if !state.active => return Ok(Verdict::Cancelled),
        Approval::Undecided => return Ok(Verdict::Undecided),
    };
    let decided_at = state.updated_on.unwrap_or_else(|| {
        tracing::warn!(
            "the ticket has no readable sys_updated_on; using the time the event arrived"
        );
        now
    });
    let duration = match outcome {
        Outcome::Denied => None,
        Outcome::Approved => {
            let text = state.duration_text.as_deref().unwrap_or_default();
            let parsed = Duration::from_servicenow_text(text)
                .map_err(|e| FieldError::new(settings.duration_field.clone(), e.to_string()))?;
            Some(parsed.unwrap_or(settings.default_duration))
        }
    };
    Ok(Verdict::Decided(Decision {
        outcome,
        duration,
        expires_at: duration.and_then(|d| d.expires_at(decided_at)),
        decided_by: state.updated_by.clone(),
        decided_at,
        notes: state.notes.clone(),
    }))
}
