//! PM Cloud's Management API, as far as the connector uses it (CONTRACT §12): a client-credentials token kept
//! across warm invocations ([`client`]), the decision notification body built in one place
//! ([`notification`]), and how its failures read ([`error`]), on the outbound kit ([`crate::outbound`]).
//! Sources: BeyondTrust's EPM API reference ("Handle URM ticket notifications", `/oauth/connect/token`) and
//! `../shared/DESIGN.md`.

mod client;
mod error;
mod notification;

pub use client::{PmCloudClient, Push, TokenError};
pub use notification::{NotificationBody, duration_text};
