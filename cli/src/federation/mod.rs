//! A dev federation of four huren nodes as separate OS processes: what `huren federation init`
//! writes ([`layout`], [`init`]) and the launcher that starts it from `federation.json`
//! ([`launcher`]) for the demo, the tests and the benchmark.

pub mod init;
pub mod issue;
pub mod launcher;
pub mod layout;

pub use launcher::Federation;
pub use layout::{FederationFile, NodeEntry, RegionService};

/// A node forwards online reads of regions it does not serve to the node that does
/// (FederationService.ResolveStatus): the demo's and the benchmark's forwarding checks are on.
pub const FORWARDING: bool = true;
/// TODO(merge wip-witness): true once nodes cosign registry checkpoints as witnesses.
pub const COSIGNING: bool = false;
