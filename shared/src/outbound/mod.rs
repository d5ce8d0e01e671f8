//! What every call out of the connector shares, whether to ServiceNow or to PM Cloud: the HTTP client
//! ([`client`]) connecting only where the settings allow ([`public_hosts`]), the answer read bounded
//! ([`answer`]), a transport failure described for an administrator ([`transport`]), one sorting of failures into
//! transient or permanent ([`failure`]), and OAuth tokens granted, kept and renewed ([`token`]). ServiceNow and
//! PM Cloud supply only their grant form, their error bodies and their renewal rule.

pub mod answer;
pub mod client;
pub mod failure;
pub mod public_hosts;
pub mod token;
pub mod transport;
