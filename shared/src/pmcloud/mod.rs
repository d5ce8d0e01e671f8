//! PM Cloud's Management API, as far as the connector uses it (CONTRACT §12): a client-credentials token kept
//! across warm invocations ([`client`]), the decision notification body built in one place
//! ([`notification`]), how its failures read ([`error`]), on the outbound kit ([`crate::outbound`]), and the
//! webhook body read whether or not PM Cloud escaped its values ([`webhook_body`], CONTRACT §5), what PM Cloud's
//! record of a request says ([`ReadBack`], §5) and where it stands ([`AuthorizationRequest`], §13).
//! Sources: BeyondTrust's EPM API reference ("Handle URM ticket notifications", `/oauth/connect/token`) and
//! `../shared/DESIGN.md`.

mod access_decision;
mod authorization_request;
mod client;
mod error;
mod notification;
mod webhook_body;

pub use access_decision::{AccessState, AuthorizationRequest, Granted, PmCloudDecision};
pub use authorization_request::ReadBack;
pub use client::{AccessError, PmCloudClient, Push, SWEEP_PAGE_SIZE, TokenError};
pub use notification::{NotificationBody, duration_text};
pub use webhook_body::{BodyError, IDENTIFYING_FIELDS, Reading, read_webhook_body};
