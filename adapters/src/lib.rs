//! Per-region adapters: each reads one region's native health code and returns that region's own
//! status words. They know native formats and the canonical model, nothing of gRPC, callers or policy.
//!
//! - [`region`]: the GB/T 2260 region code.
//! - [`model`]: regions, resident IDs, the native reading an adapter returns.
//! - [`trust`]: the narrow view of the trust registry adapters are allowed to see.
//! - [`adapter`]: the [`RegionAdapter`] trait and the [`AdapterSet`] that dispatches a payload to
//!   exactly one adapter. A read yields a [`ReadOutcome`]: the region's words, or degraded with
//!   why. A region's quirks (background tasks, what a status change withdraws) are hooks of its
//!   adapter, so node assembly stays generic.
//! - [`lookup`]: the [`StatusLookup`] trait adapters ask their region's status service through.
//! - [`codec`]: what the signed formats share: armor, issuer signing, verification, tokens.
//! - [`regions`]: the seven reference regions and [`default_adapters`].
//! - [`scan`]: what scanners and pastes do to a payload (whitespace, URL forms), undone once.
//! - [`when`]: times in messages, as RFC 3339.
//! - [`issue`]: the issuing side, for the reference services and `huren region issue`.
//! - [`status_list`]: signed per-issuer status lists that withdraw or suspend single offline codes.
//! - [`net`]: the pooled, pinned, deadline-bound client that reaches regions' status services,
//!   and the wire protocol they speak ([`net::wire`]).
//! - `sim` (feature `sim`): the reference regional status services (HTTPS) the demo, tests and
//!   benches use as the regions' own systems, and what they read from the dev PKI.
//! - `testing` (feature `sim`): an in-memory key ring and a scripted status lookup for tests.
//!
//! The `sim` feature is for tools and tests; a served build leaves it off, so nothing on the
//! served path can reach a simulator or the dev PKI layout.

#![forbid(unsafe_code)]

pub mod adapter;
pub mod codec;
pub mod issue;
pub mod lookup;
pub mod model;
pub mod net;
pub mod region;
pub mod regions;
pub mod scan;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod status_list;
#[cfg(any(test, feature = "sim"))]
pub mod testing;
pub mod trust;
pub mod vocabulary;
pub mod when;

pub use adapter::{
    AdapterSet, ConfigError, LookupQuery, ReadContext, RegionAdapter, StatusLookup, Task, Upkeep,
};
pub use codec::{CodeId, IssuerSigner, SignerError};
pub use issue::{IssueRequest, IssueStatus, issue, native_label};
pub use model::{
    CodeError, Colour, Degraded, NativeReading, Person, ReadOutcome, RegionCode, ResidentId, Source,
};
pub use regions::{
    default_adapters, default_adapters_with, signed_code, signed_format, verify_signed,
};
pub use trust::{IssuerKey, KeyAlgorithm, StatusService, TrustError, TrustView};
