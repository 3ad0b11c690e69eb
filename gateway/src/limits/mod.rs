//! Request limits: admission of each call as it arrives (calls in progress, how far behind the
//! node is, a short wait for a permit), and one tower layer per file for the deadline cap and
//! oversize messages; and the one answer every load refusal gets.

mod admission;
mod backoff;
mod deadline;
mod lag;
mod oversize;
mod queue;
mod refusal;
mod wait;

pub use admission::{Admission, Arrival, Ticket, Verdict};
pub use backoff::{MAX_RETRY, MIN_RETRY, retry_delay};
pub use deadline::{Bounded, Deadline, DeadlineLayer};
pub use oversize::{Oversize, OversizeLayer};
pub use refusal::Why;
