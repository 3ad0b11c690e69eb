//! Shared codec pieces for the signed regional formats: text armor, signing, verification, tokens.
//!
//! Every signed format is `PREFIX body SEP signature`, where the signature covers the exact
//! ASCII text `PREFIX body` (so no canonicalisation is needed and a flipped character anywhere is
//! caught) and `body` is the armored `|`-separated field list the region's layout names.

pub mod armor;
pub mod batch;
pub mod code_id;
pub mod group;
pub mod signer;
pub mod token;
pub mod verify;

pub use armor::Armor;
pub use batch::{SignedCode, SignedParts, Verified};
pub use code_id::CodeId;
pub use group::{GroupFigures, GroupVerifier};
pub use signer::{IssuerSigner, SignerError};
pub use token::{Claims, Field, SignedFormat};

/// Longest payload any adapter will look at: a QR code holds at most 2,953 bytes, and refusing
/// more before decoding bounds the work an attacker can cause.
pub const MAX_PAYLOAD_LEN: usize = 2048;
