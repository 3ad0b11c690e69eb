//! Request limits, one tower layer per file: deadline cap, concurrency (with admission by how far
//! behind the node is and a short wait for a permit), oversize messages; and the one answer every
//! load refusal gets.

mod backoff;
mod concurrency;
mod deadline;
mod lag;
mod oversize;
mod queue;
mod refusal;
mod wait;

pub use backoff::{MAX_RETRY, MIN_RETRY, retry_delay};
pub use concurrency::{Concurrency, ConcurrencyLayer};
pub use deadline::{Bounded, Deadline, DeadlineLayer};
pub use oversize::{Oversize, OversizeLayer};
