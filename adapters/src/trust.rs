//! The narrow view of the trust registry that adapters see. The gateway's registry implements it;
//! tests implement it with a small in-memory key ring.

use std::time::Duration;

use time::OffsetDateTime;

use crate::region::RegionCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Ed25519,
    /// ECDSA P-256 with SHA-256. The code formats carry 64-byte `r || s` signatures with a low
    /// `s` (see `codec::verify`), so that each payload has exactly one accepted form.
    EcdsaP256Sha256,
    /// SM2 with SM3 (GB/T 32918.2, GB/T 32905), the default signer id of GB/T 35276. Signatures
    /// are 64 bytes `r || s`; SM2 has no `(r, n - s)` twin, so no normalisation is needed.
    Sm2Sm3,
}

/// An issuer's public key as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    pub algorithm: KeyAlgorithm,
    /// Ed25519: 32 bytes. P-256 and SM2: the uncompressed SEC1 point (65 bytes).
    pub public_key: Vec<u8>,
}

/// Where a region's status service is and who it must prove to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusService {
    /// Base URL, e.g. `https://127.0.0.1:8443`.
    pub url: String,
    /// The SPIFFE URI SAN its TLS certificate must carry.
    pub spiffe_id: String,
    /// DER of the CA that must have issued its certificate (the region's CA).
    pub ca_der: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("region {0} is not delegated in the trust registry")]
    UnknownRegion(RegionCode),
    #[error("issuer {issuer} is not listed for region {region}")]
    UnknownIssuer { region: RegionCode, issuer: String },
    #[error("issuer {issuer} was revoked from {}: {reason}", crate::when::rfc3339(.effective_from))]
    Revoked {
        issuer: String,
        effective_from: OffsetDateTime,
        reason: String,
    },
    #[error("issuer {issuer}'s certificate was not valid at {}", crate::when::rfc3339(.at))]
    NotValidAt { issuer: String, at: OffsetDateTime },
}

/// What an adapter may ask of the registry.
pub trait TrustView: Send + Sync {
    /// The key of `issuer` in `region`, if the registry lists it, its certificate chains to the
    /// region's CA and was valid at `signed_at`, and it was not revoked as of `signed_at`. An
    /// issuer revoked for key compromise is refused at any `signed_at` (`TrustError::Revoked`):
    /// whoever holds a stolen key can write any signing time into a code.
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError>;

    /// The key that may sign `issuer`'s status lists at `signed_at`: as [`TrustView::issuer_key`],
    /// except that a revocation which leaves the issuer's earlier codes in force (superseded,
    /// ...) does not stop it: those codes must stay withdrawable until they expire, and only
    /// their own issuer can sign their list. A key revoked for compromise signs nothing trusted.
    fn status_list_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        self.issuer_key(region, issuer, signed_at)
    }

    /// The region's status service, for online regions.
    fn status_service(&self, region: RegionCode) -> Option<StatusService>;

    /// How long an online status may be served from cache.
    fn cache_ttl(&self, region: RegionCode) -> Duration;
}
