//! What a ticket says about its request (CONTRACT §10): the ticket as read back, and the [`Verdict`] taken from it.
//! Plain data: the ServiceNow adapter reads its record into a [`TicketState`], so that the rules here never see
//! ServiceNow's field names or formats.

use crate::domain::duration::Duration;
use crate::domain::fields::FieldError;
use crate::domain::ids::RequestId;
use crate::domain::record::{Decision, Outcome};
use crate::domain::request::NewRequest;
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
    /// Who created the ticket (a user name), when said.
    pub created_by: Option<String>,
    /// Who last changed the ticket (a user name), when said.
    pub updated_by: Option<String>,
    /// When the ticket was last changed (UTC); `None` when unreadable.
    pub updated_on: Option<Timestamp>,
    /// The text of the configured duration field (`durationField`, CONTRACT §8), when not empty.
    pub duration_text: Option<String>,
    /// The text of the configured notes field (`notesField`), when not empty.
    pub notes: Option<String>,
}

impl TicketState {
    /// Whether the connector's own ServiceNow user created the ticket: [`created_by_connector`].
    pub fn created_by_connector(&self, connector_user: Option<&str>) -> bool {
        created_by_connector(self.created_by.as_deref(), connector_user)
    }
}

/// Whether a ticket whose `sys_created_by` is `created_by` is the connector's (CONTRACT §10 v3): it names
/// `connector_user` (user names compare without regard to case, as ServiceNow's do). Always true when the settings
/// do not say who the connector acts as (the client-credentials grant without `username`).
pub fn created_by_connector(created_by: Option<&str>, connector_user: Option<&str>) -> bool {
    connector_user.is_none_or(|user| created_by.is_some_and(|by| by.eq_ignore_ascii_case(user)))
}

/// What the ticket says about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Decided(Decision),
    Cancelled,
    Undecided,
}

/// Reads the decision on `request` from its ticket (CONTRACT §10), with the duration from `durationField` (§8; an
/// empty field means [`NewRequest::unstated_duration`]); a ticket without a readable update time is taken as
/// decided at `now`. Errors: the duration field, when an approval's duration cannot be read, is invalid for the
/// request's type (an admin session of days, minutes for an application, `forever` without `allowForever`), or
/// would end past the calendar; the message says what to write instead.
pub fn verdict(
    state: &TicketState,
    request: &NewRequest,
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
        Outcome::Denied | Outcome::Expired => None,
        Outcome::Approved => {
            let refused =
                |message: String| FieldError::new(settings.duration_field.clone(), message);
            let text = state.duration_text.as_deref().unwrap_or_default();
            let duration = Duration::from_servicenow_text(text)
                .map_err(|e| refused(e.to_string()))?
                .unwrap_or_else(|| request.unstated_duration(settings.default_duration));
            request
                .request_type
                .admits(duration, settings.allow_forever)
                .map_err(|why| refused(format!("{duration} {why}")))?;
            Some(duration)
        }
    };
    let expires_at = duration
        .map(|d| d.expires_at(decided_at))
        .transpose()
        .map_err(|e| FieldError::new(settings.duration_field.clone(), e.to_string()))?
        .flatten();
    Ok(Verdict::Decided(Decision {
        outcome,
        duration,
        expires_at,
        decided_by: state.updated_by.clone(),
        decided_at,
        notes: state.notes.clone(),
        decided_in: crate::domain::record::DecidedIn::ServiceNow,
    }))
}
