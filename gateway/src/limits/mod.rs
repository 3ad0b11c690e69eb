//! Request limits, one tower layer per file: deadline cap, concurrency, oversize messages; and
//! the one answer every load refusal gets.

mod concurrency;
mod deadline;
mod oversize;
mod refusal;

pub use concurrency::{Concurrency, ConcurrencyLayer};
pub use deadline::{Bounded, Deadline, DeadlineLayer};
pub use oversize::{Oversize, OversizeLayer};
