//! Recognition: judging a canonical status under the verifying region's agreement.
//!
//! [`engine`] is pure (no I/O, the clock is an argument) so every rule can be tested exhaustively;
//! [`pipeline`] does the I/O around it (adapters, audit, counters) for every service;
//! [`shaping`] decides what each role sees; [`receipt`] signs and checks recognition receipts.

pub mod engine;
mod group;
pub mod pipeline;
pub mod receipt;
pub mod shaping;
pub mod wire;

pub use engine::{CanonicalStatus, Decision, ReadFailure, Reading, Reason, ReasonCode, decide};
pub use pipeline::{Call, Judged, Recognizer};

#[cfg(test)]
mod engine_tests;
