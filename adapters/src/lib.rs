//! Per-region adapters: each reads one region's native health code and returns that region's own
//! status words. They know native formats and the canonical model, nothing of gRPC, callers or policy.
//!
//! - [`model`]: regions, resident IDs, the native reading an adapter returns.
//! - [`trust`]: the narrow view of the trust registry adapters are allowed to see.
//! - [`adapter`]: the [`RegionAdapter`] trait and the [`AdapterSet`] that dispatches a payload to
//!   exactly one adapter.
//! - [`codec`]: what the signed formats share: armor, issuer signing, verification, tokens.
//! - [`regions`]: the seven reference regions and [`default_adapters`].
//! - [`issue`]: the issuing side, for the reference services and `huren region issue`.
//! - [`service`]: the reference regional status services (HTTPS) the demo, tests and benches use.
//! - [`status_list`]: signed per-issuer status lists that withdraw or suspend single offline codes.
//! - [`net`]: the pooled, pinned, deadline-bound client that reaches regions' status services.
//! - [`testing`]: an in-memory key ring and a scripted status lookup for tests.

#![forbid(unsafe_code)]

pub mod adapter;
pub mod codec;
pub mod issue;
pub mod model;
pub mod net;
pub mod regions;
pub mod service;
pub mod status_list;
pub mod testing;
pub mod trust;
pub mod vocabulary;

pub use adapter::{AdapterSet, ConfigError, LookupQuery, ReadContext, RegionAdapter, StatusLookup};
pub use codec::{CodeId, IssuerSigner, SignerError};
pub use issue::{IssueRequest, IssueStatus, issue, native_label};
pub use model::{CodeError, Colour, NativeReading, Person, RegionCode, ResidentId, Source};
pub use regions::{default_adapters, default_adapters_with, signed_format};
pub use trust::{IssuerKey, KeyAlgorithm, StatusService, TrustError, TrustView};
