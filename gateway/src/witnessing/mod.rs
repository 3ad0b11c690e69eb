//! This node as a witness of the registry's transparency log, and the publisher's side of
//! witnessing: every node cosigns a checkpoint it verified as consistent with the last one it
//! cosigned; the publisher node gathers k cosignatures on each new version before acting on it.
//!
//! | module | its one job |
//! |---|---|
//! | [`local`] | this node's witness: its key, its last cosigned checkpoint on disk, fork evidence |
//! | [`gather`] | the publisher asking every listed witness (itself included) to cosign a note |
//! | [`publisher`] | the publisher's registry directory watch: gather, write the cosigned note, act |

pub mod gather;
pub mod local;
pub mod publisher;

pub use local::{AddError, LocalWitness};
