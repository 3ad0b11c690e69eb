//! `huren probe`, the reverse-testing prober (反向测试): synthetic persons of every region and
//! status word, verified under every verifying region's rules at the node serving that region,
//! each verdict compared with what the newest published registry predicts
//! ([`huren_registry::predict`]), and every node's registry version compared with that one.
//!
//! It works on a federation directory (`huren federation init`): the persons are issued into
//! the reference regional services' records, the predictions come from its registry, and the
//! calls use its dev PKI. A national certificate may not verify codes (national sees no
//! per-person data), so the verifications use the PKI's province certificate, which may name any
//! verifying region; the registry versions are asked with the national certificate.

pub mod ask;
pub mod finding;
pub mod metrics;
pub mod persons;
pub mod report;
pub mod round;

pub use finding::{Mismatch, Round, StaleNode};
pub use round::{Scope, run_round};
