//! ServiceNow as an instance demands to be talked to: OAuth 2.0 at `/oauth_token.do` with a kept and renewed
//! token ([`oauth`]), the Table API through a [`Table`] handle scoped to one task table ([`client`]), its wire
//! shapes as serde types ([`wire`]), and every failure sorted into transient or permanent ([`error`]).
//! Sources: ServiceNow's REST API reference ("Table API"), its OAuth documentation, and `../shared/DESIGN.md`.

mod client;
mod error;
mod oauth;
mod record;
mod wire;

pub use client::{ServiceNowClient, Table};
pub use error::ServiceNowError;
pub use oauth::GrantError;
pub use record::TaskRecord;
