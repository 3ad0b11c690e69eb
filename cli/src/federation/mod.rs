//! A dev federation of four huren nodes as separate OS processes: what `huren federation init`
//! writes ([`layout`], [`init`]) and the launcher that starts it from `federation.json`
//! ([`launcher`]) for the demo, the tests and the benchmark.

pub mod init;
pub mod issue;
pub mod launcher;
pub mod layout;

pub use launcher::Federation;
pub use layout::{FederationFile, NodeEntry, RegionService};

/// TODO(merge wip-forward): true once a node forwards online reads of regions it does not
/// serve to the node that does (FederationService.ResolveStatus). Switches on the demo's and
/// the benchmark's forwarding checks.
pub const FORWARDING: bool = false;
/// TODO(merge wip-witness): true once nodes cosign registry checkpoints as witnesses.
pub const COSIGNING: bool = false;
