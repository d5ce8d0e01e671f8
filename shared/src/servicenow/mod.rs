//! ServiceNow as an instance demands to be talked to: OAuth 2.0 at `/oauth_token.do` with a kept and renewed
//! token ([`oauth`]), the Table API through a [`Table`] handle scoped to one task table ([`client`]), what it
//! writes ([`task`]) and reads ([`record`]) in ServiceNow's field names, its wire shapes and date-time form
//! ([`wire`]), and every failure sorted into transient or permanent ([`error`]). Nothing outside this module
//! names a ServiceNow field.
//! Sources: ServiceNow's REST API reference ("Table API"), its OAuth documentation, and `../shared/DESIGN.md`.

mod approval;
mod client;
mod error;
mod oauth;
mod record;
mod task;
mod wire;

pub use approval::{APPROVAL_TABLE, ApprovalRecord, Closing, Member, RecordState};
pub use client::{ServiceNowClient, Table};
pub use error::ServiceNowError;
pub use oauth::GrantError;
pub use record::TaskRecord;
pub use task::{NewTicket, WorkNoteUpdate};
pub use wire::parse_datetime;
