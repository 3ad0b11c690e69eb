//! Recognition: judging a canonical status under the verifying region's agreement.
//!
//! [`engine`] is pure (no I/O, the clock is an argument) so every rule can be tested exhaustively;
//! the services read codes, look up the agreement in the registry, and call it.

pub mod engine;

pub use engine::{CanonicalStatus, Decision, ReadFailure, Reading, Reason, ReasonCode, decide};

#[cfg(test)]
mod engine_tests;
