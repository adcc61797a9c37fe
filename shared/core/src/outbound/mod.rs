//! Everything that leaves the service over HTTP goes through here.

pub mod guard;
pub mod sender;

pub use guard::{parse_allow_nets, OutboundPolicy, Refusal};
pub use sender::{GuardedSender, HttpSender, OutboundRequest, OutboundResponse, SendError};
