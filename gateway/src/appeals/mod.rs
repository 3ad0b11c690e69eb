//! Cross-region appeals (复核 / 纠错): a checkpoint or a province files for a person against a
//! decision this node made ([`decision`]); the appeal goes to the issuing region's review queue
//! on the node that serves the region ([`queue`], relayed by [`relay`] when that is another
//! node), kept in the node's state directory ([`store`]); the issuing province answers it, and a
//! correction is pushed to the region's service ([`region`]).
//!
//! See `gateway/APPEALS.md` for who may do what and what a correction changes where.

pub mod access;
pub mod contact;
pub mod decision;
pub mod error;
pub mod filing;
pub mod gauge;
pub mod queue;
pub mod record;
pub mod region;
pub mod relay;
pub mod store;
pub mod summary;

pub use error::AppealError;
pub use queue::Appeals;
pub use record::{AppealRecord, AppealState};
pub use store::AppealStore;

/// The methods, as audited and as the policy table names them.
pub const FILE_APPEAL: &str = "/huren.v1.AppealsService/FileAppeal";
pub const GET_APPEAL: &str = "/huren.v1.AppealsService/GetAppeal";
pub const LIST_APPEALS: &str = "/huren.v1.AppealsService/ListAppeals";
pub const ANSWER_APPEAL: &str = "/huren.v1.AppealsService/AnswerAppeal";
pub const RELAY_APPEAL: &str = "/huren.v1.AppealsRelayService/RelayAppeal";

/// Longest reason or answer note kept, in bytes.
pub const MAX_TEXT: usize = 500;
