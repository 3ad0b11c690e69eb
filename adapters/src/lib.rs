//! Per-region adapters: each reads one region's native health code and returns that region's own
//! status words. They know native formats and the canonical model, nothing of gRPC, callers or policy.
//!
//! - [`model`]: regions, resident IDs, the native reading an adapter returns.
//! - [`trust`]: the narrow view of the trust registry adapters are allowed to see.
//! - [`adapter`]: the [`RegionAdapter`] trait and the [`AdapterSet`] that dispatches a payload to
//!   exactly one adapter.

#![forbid(unsafe_code)]

pub mod adapter;
pub mod model;
pub mod trust;
pub mod vocabulary;

pub use adapter::{AdapterSet, ConfigError, LookupQuery, ReadContext, RegionAdapter, StatusLookup};
pub use model::{CodeError, Colour, NativeReading, Person, RegionCode, ResidentId, Source};
pub use trust::{IssuerKey, KeyAlgorithm, StatusService, TrustError, TrustView};
