//! Lookup by ID card for people without a phone (无码人员): the card checked at the edge
//! ([`card`]), a token bucket per caller ([`bucket`]), and the read at the household region
//! ([`read`]), forwarded to the node that serves it when that is another node.
//!
//! A person's ID number goes to their own household province only (its adapter, or the node
//! serving it through `FederationService.ResolveStatus`); the answer is a `Verification` like
//! VerifyCode's, and the audit record holds a keyed pseudonym, never the number.

pub mod bucket;
pub mod card;
mod read;

pub use bucket::{Buckets, Rate};
pub use card::{Card, CardError};
