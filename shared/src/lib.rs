//! The connector's rules and adapters. Every function crate is a thin Lambda edge over this library.

pub mod api;
pub mod auth;
pub mod callback;
pub mod config;
pub mod duration;
pub mod intake;
pub mod problem;
pub mod record;
pub mod request;
pub mod secrets;
pub mod servicenow;
pub mod settings;
pub mod status;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod ticket_content;
pub mod ticketing;
pub mod time;
mod validate;
pub mod validation;
