//! Request limits, one tower layer per file: deadline cap, concurrency, oversize messages.

mod concurrency;
mod deadline;
mod oversize;

pub use concurrency::{ConcurrencyLayer, ConcurrencyLimit};
pub use deadline::{Deadline, DeadlineLayer, parse_grpc_timeout};
pub use oversize::{Oversize, OversizeLayer};
