//! PM Cloud's Management API, as far as the connector uses it (CONTRACT §12): a client-credentials token kept
//! across warm invocations ([`client`]), the decision notification body built in one place
//! ([`notification`]), and failures sorted into transient or permanent ([`error`]).
//! Sources: BeyondTrust's EPM API reference ("Handle URM ticket notifications", `/oauth/connect/token`) and
//! `../shared/DESIGN.md`.

mod client;
mod error;
mod notification;

pub use client::{PmCloudClient, Push, TokenError};
pub use error::PmCloudError;
pub use notification::{NotificationBody, duration_text};
