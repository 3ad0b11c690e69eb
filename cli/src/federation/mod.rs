//! A dev federation of four huren nodes as separate OS processes: what `huren federation init`
//! writes ([`layout`], [`init`]) and the launcher that starts it from `federation.json`
//! ([`launcher`]) for the demo, the tests and the benchmark.

pub mod callers;
pub mod init;
pub mod issue;
pub mod launcher;
pub mod layout;

pub use launcher::Federation;
pub use layout::{FederationFile, NodeEntry, RegionService};
