//! The connector's rules and adapters; every function crate is a thin Lambda edge over this library.
//!
//! Layers, inner to outer (an inner one never imports an outer one):
//! - [`domain`]: the vocabulary and pure rules (requests, status, durations, tickets, settings). No I/O.
//! - Ports and adapters: [`store`] (DynamoDB, in memory), [`secrets`] (Secrets Manager, fixed), [`servicenow`]
//!   (OAuth and the Table API), all on [`outbound`] for the HTTP client they share.
//! - [`rules`]: one module per function, from typed input to a typed outcome or error, through the ports.
//! - Edges: [`http`] (bodies, authentication, problems, the Lambda HTTP adapter), [`dynamodb_stream`] (stream
//!   records in, a partial batch response out) and [`runtime`] (environment, wiring, logging, and the one
//!   invocation loop every function runs, [`runtime::serve`]), which the functions' `main.rs` and handlers use.

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
