//! The connector's rules and adapters; every function crate is a thin Lambda edge over this library.
//!
//! Layers, inner to outer (an inner one never imports an outer one):
//! - [`domain`]: the vocabulary and pure rules (requests, status, durations, tickets, settings). No I/O.
//! - Ports and adapters: [`store`] (DynamoDB, in memory), [`secrets`] (Secrets Manager, fixed), [`servicenow`]
//!   (OAuth and the Table API), all on [`outbound`] for the HTTP client they share.
//! - [`rules`]: one module per function, from typed input to a typed outcome or error, through the ports.
//! - Edges: [`http`] (bodies, authentication, problems, the Lambda HTTP adapter) and [`runtime`] (environment,
//!   wiring, logging), which the functions' `main.rs` and handlers use.

pub mod domain;
pub mod dynamodb_stream;
pub mod http;
pub mod outbound;
pub mod pmcloud;
pub mod rules;
pub mod runtime;
pub mod secrets;
pub mod servicenow;
pub mod store;
