//! The connector's rules and adapters. Every function crate is a thin Lambda edge over this library.

pub mod auth;
pub mod duration;
pub mod problem;
pub mod record;
pub mod request;
pub mod settings;
pub mod status;
pub mod time;
mod validate;
