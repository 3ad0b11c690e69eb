//! What status lists cost at a province's scale: list and delta sizes, build, open and apply
//! times, and one lookup, for `huren bench status-lists` and the criterion bench to print.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use time::OffsetDateTime;

use super::{CodeStatus, Issuance, StatusBits, StatusDelta, StatusList, StatusLists};
use crate::codec::{IssuerSigner, SignerError};
use crate::model::RegionCode;
use crate::trust::{IssuerKey, KeyAlgorithm, StatusService, TrustError, TrustView};

/// Share of codes withdrawn or suspended in the measured list: in 2020 a few percent of a
/// province's codes were yellow or red at any time; 1 % withdrawn and 0.2 % suspended is the
/// assumption the figures rest on.
pub const WITHDRAWN_SHARE: f64 = 0.01;
pub const SUSPENDED_SHARE: f64 = 0.002;
/// Share of codes that change between two consecutive lists.
pub const CHANGED_SHARE: f64 = 0.001;

/// One row of the benchmark.
#[derive(Debug, Clone)]
pub struct StatusListFigures {
    pub codes: u32,
    /// Raw bits held in memory per list.
    pub raw_bytes: usize,
    /// The signed, compressed list on the wire.
    pub list_bytes: usize,
    /// Signing and compressing a list (issuer side).
    pub build: Duration,
    /// Parsing, checking the signature, inflating and checking the digest (receiving node).
    pub open: Duration,
    /// Installing the opened list in the store.
    pub install: Duration,
    pub delta_changes: usize,
    pub delta_bytes: usize,
    pub delta_build: Duration,
    /// Opening a delta, applying it to the held list and installing the result.
    pub delta_apply: Duration,
    /// One [`StatusLists::status`] call, averaged over many random indices.
    pub lookup: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Sign(#[from] SignerError),
    #[error(transparent)]
    Issue(#[from] super::IssueError),
    #[error("a list the benchmark made was refused: {0}")]
    Refused(#[from] super::StatusListError),
    #[error("the benchmark's lists are not consecutive versions")]
    NotConsecutive,
}

/// Builds a list of `codes` codes, ships it whole and as a delta after [`CHANGED_SHARE`] of
/// codes change, and times each step once (lookups: averaged over a million).
pub fn measure(codes: u32) -> Result<StatusListFigures, BenchError> {
    let region = RegionCode::HUNAN;
    let signer = IssuerSigner::generate("hn-bench", KeyAlgorithm::EcdsaP256Sha256)?;
    let trust = OneIssuer {
        region,
        issuer: signer.issuer_id().to_string(),
        key: signer.public_key(),
    };
    let mut rng = StdRng::seed_from_u64(14);
    let now = OffsetDateTime::now_utc();
    let mut bits = StatusBits::new(codes);
    let codes = bits.count();
    for _ in 0..(f64::from(codes) * WITHDRAWN_SHARE) as u32 {
        bits.set(rng.gen_range(0..codes), CodeStatus::Withdrawn);
    }
    for _ in 0..(f64::from(codes) * SUSPENDED_SHARE) as u32 {
        bits.set(rng.gen_range(0..codes), CodeStatus::Suspended);
    }
    let issuance = |sequence| Issuance {
        region,
        list_id: 0,
        sequence,
        issued_at: now,
        expires_at: now + time::Duration::hours(24),
    };

    let started = Instant::now();
    let first = StatusList::issue(&signer, &issuance(1), bits.clone())?;
    let wire = first.to_bytes();
    let build = started.elapsed();

    let started = Instant::now();
    let opened = StatusList::open(&wire, &trust)?;
    let open = started.elapsed();
    let mut store = StatusLists::new();
    let started = Instant::now();
    store
        .apply(opened, now)
        .map_err(super::StatusListError::from)?;
    let install = started.elapsed();

    let statuses = [
        CodeStatus::Valid,
        CodeStatus::Withdrawn,
        CodeStatus::Suspended,
    ];
    for _ in 0..(f64::from(codes) * CHANGED_SHARE) as u32 {
        bits.set(rng.gen_range(0..codes), statuses[rng.gen_range(0..3)]);
    }
    let started = Instant::now();
    let second = StatusList::issue(&signer, &issuance(2), bits)?;
    let delta = StatusDelta::between(&first, &second).ok_or(BenchError::NotConsecutive)?;
    let delta_wire = delta.to_bytes();
    let delta_build = started.elapsed();

    let started = Instant::now();
    store.apply_delta_bytes(&delta_wire, &trust, now)?;
    let delta_apply = started.elapsed();

    Ok(StatusListFigures {
        codes,
        raw_bytes: first.bits().as_bytes().len(),
        list_bytes: wire.len(),
        build,
        open,
        install,
        delta_changes: delta.changes().len(),
        delta_bytes: delta_wire.len(),
        delta_build,
        delta_apply,
        lookup: lookup_cost(&store, region, &trust.issuer, codes, now, &mut rng),
    })
}

/// Mean time of one lookup at random indices (random, so the cache does not flatter it).
pub fn lookup_cost(
    store: &StatusLists,
    region: RegionCode,
    issuer: &str,
    codes: u32,
    now: OffsetDateTime,
    rng: &mut StdRng,
) -> Duration {
    const LOOKUPS: u32 = 1_000_000;
    let indices: Vec<u32> = (0..LOOKUPS)
        .map(|_| rng.gen_range(0..codes.max(1)))
        .collect();
    let max_age = Duration::from_secs(3600);
    let started = Instant::now();
    for &i in &indices {
        black_box(store.status(region, black_box(issuer), 0, i, now, max_age));
    }
    started.elapsed() / LOOKUPS
}

impl std::fmt::Display for StatusListFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{:>10} codes  raw {:>9} B  list {:>8} B  build {:>7.1} ms  open {:>7.1} ms  \
             install {:>5.2} ms  delta {:>6} changes {:>7} B  build {:>6.1} ms  apply {:>6.1} ms  \
             lookup {:>5.1} ns",
            self.codes,
            self.raw_bytes,
            self.list_bytes,
            ms(self.build),
            ms(self.open),
            ms(self.install),
            self.delta_changes,
            self.delta_bytes,
            ms(self.delta_build),
            ms(self.delta_apply),
            self.lookup.as_secs_f64() * 1e9,
        )
    }
}

/// A registry of one issuer: the benchmark must not depend on test kits.
struct OneIssuer {
    region: RegionCode,
    issuer: String,
    key: IssuerKey,
}

impl TrustView for OneIssuer {
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        _signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        if region == self.region && issuer == self.issuer {
            Ok(self.key.clone())
        } else {
            Err(TrustError::UnknownIssuer {
                region,
                issuer: issuer.to_string(),
            })
        }
    }

    fn status_service(&self, _region: RegionCode) -> Option<StatusService> {
        None
    }

    fn cache_ttl(&self, _region: RegionCode) -> Duration {
        Duration::ZERO
    }
}
