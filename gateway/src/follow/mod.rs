//! Following the registry node to node: a node configured with `[federation] follow` pulls
//! each new version from the publisher or any peer (GetRegistry delta with its log entries and
//! a consistency proof, woken by WatchRegistry, with a bounded poll behind it), verifies it as
//! it verifies a local publish — the TUF steps, its log consistent with the trusted state, k
//! witnesses' cosignatures — and only then swaps it in and keeps it.
//!
//! | module | its one job |
//! |---|---|
//! | [`delta`] | the wire forms of a delta, and the signed state it rebuilds from the one held |
//! | [`task`] | the background task: wake, pull from the first node with a newer version, offer, keep |

pub mod delta;
pub mod task;

pub use task::{FOLLOW_FAILURES, Follow};
