//! Test support for anyone reading codes: an in-memory registry key ring, freshly generated
//! issuers for every signed region, and a scripted [`StatusLookup`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::adapter::{LookupQuery, ReadContext, StatusLookup};
use crate::codec::IssuerSigner;
use crate::model::{
    CodeError, Degraded, NativeReading, Person, ReadOutcome, RegionCode, ResidentId, Source,
};
use crate::trust::{IssuerKey, KeyAlgorithm, StatusService, TrustError, TrustView};

#[derive(Debug, Clone)]
struct IssuerEntry {
    key: IssuerKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    revoked: Option<(OffsetDateTime, String)>,
}

/// A [`TrustView`] held in memory: issuers with validity windows and revocations.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    issuers: HashMap<(RegionCode, String), IssuerEntry>,
    services: HashMap<RegionCode, StatusService>,
    ttl: HashMap<RegionCode, Duration>,
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists `key` as `issuer` of `region`, valid at all times.
    pub fn add_issuer(&mut self, region: RegionCode, issuer: &str, key: IssuerKey) {
        self.issuers.insert(
            (region, issuer.to_string()),
            IssuerEntry {
                key,
                not_before: OffsetDateTime::UNIX_EPOCH,
                not_after: OffsetDateTime::UNIX_EPOCH + time::Duration::days(365 * 200),
                revoked: None,
            },
        );
    }

    /// Lists a signer's public key under its own id.
    pub fn with_signer(mut self, region: RegionCode, signer: &IssuerSigner) -> Self {
        self.add_issuer(region, signer.issuer_id(), signer.public_key());
        self
    }

    /// Revokes the issuer for codes signed at or after `effective_from`.
    pub fn revoke(
        &mut self,
        region: RegionCode,
        issuer: &str,
        effective_from: OffsetDateTime,
        reason: &str,
    ) {
        if let Some(e) = self.issuers.get_mut(&(region, issuer.to_string())) {
            e.revoked = Some((effective_from, reason.to_string()));
        }
    }

    /// Limits the issuer's certificate to `[not_before, not_after]`.
    pub fn set_validity(
        &mut self,
        region: RegionCode,
        issuer: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) {
        if let Some(e) = self.issuers.get_mut(&(region, issuer.to_string())) {
            e.not_before = not_before;
            e.not_after = not_after;
        }
    }

    pub fn set_status_service(&mut self, region: RegionCode, service: StatusService) {
        self.services.insert(region, service);
    }

    pub fn set_cache_ttl(&mut self, region: RegionCode, ttl: Duration) {
        self.ttl.insert(region, ttl);
    }
}

impl TrustView for KeyRing {
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        let Some(entry) = self.issuers.get(&(region, issuer.to_string())) else {
            if self.issuers.keys().any(|(r, _)| *r == region) {
                return Err(TrustError::UnknownIssuer {
                    region,
                    issuer: issuer.to_string(),
                });
            }
            return Err(TrustError::UnknownRegion(region));
        };
        if let Some((effective_from, reason)) = &entry.revoked
            && signed_at >= *effective_from
        {
            return Err(TrustError::Revoked {
                issuer: issuer.to_string(),
                effective_from: *effective_from,
                reason: reason.clone(),
            });
        }
        if signed_at < entry.not_before || signed_at > entry.not_after {
            return Err(TrustError::NotValidAt {
                issuer: issuer.to_string(),
                at: signed_at,
            });
        }
        Ok(entry.key.clone())
    }

    fn status_service(&self, region: RegionCode) -> Option<StatusService> {
        self.services.get(&region).cloned()
    }

    fn cache_ttl(&self, region: RegionCode) -> Duration {
        self.ttl
            .get(&region)
            .copied()
            .unwrap_or(Duration::from_secs(30))
    }
}

/// The dev PKI's issuer ids and algorithms for the five signed regions.
pub const SIGNED_REGIONS: [(RegionCode, &str, KeyAlgorithm); 5] = [
    (RegionCode::GUANGDONG, "gd-2020-01", KeyAlgorithm::Ed25519),
    (
        RegionCode::SICHUAN,
        "sc-2020-01",
        KeyAlgorithm::EcdsaP256Sha256,
    ),
    (
        RegionCode::HUNAN,
        "hn-2020-01",
        KeyAlgorithm::EcdsaP256Sha256,
    ),
    (RegionCode::HUBEI, "hb-2020-01", KeyAlgorithm::Ed25519),
    (RegionCode::NATIONAL, "cn-2020-01", KeyAlgorithm::Ed25519),
];

/// Freshly generated issuers for every signed region, and a key ring that lists them.
pub struct TestIssuers {
    pub ring: KeyRing,
    signers: Vec<(RegionCode, IssuerSigner)>,
}

impl TestIssuers {
    /// Generates keys in memory; no PKI directory needed.
    pub fn generate() -> Result<Self, crate::codec::SignerError> {
        let mut ring = KeyRing::new();
        let mut signers = Vec::new();
        for (region, id, algorithm) in SIGNED_REGIONS {
            let signer = IssuerSigner::generate(id, algorithm)?;
            ring.add_issuer(region, id, signer.public_key());
            signers.push((region, signer));
        }
        Ok(Self { ring, signers })
    }

    /// One valid code per signed region for `name`, in the region's first status word, signed at
    /// `now` and valid for a day.
    pub fn sample_payloads(&self, name: &str, now: OffsetDateTime) -> Vec<(RegionCode, String)> {
        use crate::issue::{IssueRequest, IssueStatus, issue};
        SIGNED_REGIONS
            .iter()
            .map(|(region, _, _)| {
                let label = crate::vocabulary::vocabulary(region.as_str())
                    .and_then(|v| v.labels.first())
                    .map_or("绿码", |(label, _)| *label);
                let req = IssueRequest::new(
                    resident_id(),
                    name,
                    IssueStatus::Label(label.into()),
                    now + time::Duration::days(1),
                );
                match issue(*region, &req, self.signer(*region), now) {
                    Ok(payload) => (*region, payload),
                    Err(e) => panic!("test code for {region} not issued: {e}"),
                }
            })
            .collect()
    }

    /// The signer of a signed region. Panics for a region without one: test code only.
    pub fn signer(&self, region: RegionCode) -> &IssuerSigner {
        match self.signers.iter().find(|(r, _)| *r == region) {
            Some((_, s)) => s,
            None => panic!("no test issuer for region {region}"),
        }
    }
}

/// One scripted answer: region, question, answer.
type Scripted = (RegionCode, LookupQuery, Result<ReadOutcome, CodeError>);

/// A [`StatusLookup`] that answers from a script and records every question.
#[derive(Default)]
pub struct FakeLookup {
    answers: Mutex<Vec<Scripted>>,
    calls: Mutex<Vec<(RegionCode, LookupQuery)>>,
}

impl FakeLookup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `query` to `region` with `answer` from now on.
    pub fn answer(
        &self,
        region: RegionCode,
        query: LookupQuery,
        answer: Result<ReadOutcome, CodeError>,
    ) {
        if let Ok(mut a) = self.answers.lock() {
            a.push((region, query, answer));
        }
    }

    /// Every question asked so far.
    pub fn calls(&self) -> Vec<(RegionCode, LookupQuery)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl StatusLookup for FakeLookup {
    /// A question nobody scripted gets [`CodeError::UnknownCode`], like a region without the record.
    async fn lookup(
        &self,
        region: RegionCode,
        query: &LookupQuery,
        _service: Option<&StatusService>,
        _ttl: Duration,
        _deadline: Instant,
    ) -> Result<ReadOutcome, CodeError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push((region, query.clone()));
        }
        let answers = self
            .answers
            .lock()
            .map_err(|_| CodeError::Unsupported("fake lookup poisoned".into()))?;
        answers
            .iter()
            .rev()
            .find(|(r, q, _)| *r == region && q == query)
            .map(|(_, _, a)| a.clone())
            .unwrap_or(Err(CodeError::UnknownCode))
    }
}

/// What an online status service might answer: `label` for a masked name, refreshed at `at`.
pub fn online_reading(region: RegionCode, label: &str, at: OffsetDateTime) -> ReadOutcome {
    ReadOutcome::Read(NativeReading {
        region,
        issuer_id: None,
        native_label: label.to_string(),
        subject: Person {
            id: None,
            name: "张*".to_string(),
            region_handle: None,
        },
        refreshed_at: at,
        valid_until: None,
        source: Source::Online,
        checked_in_at: None,
        status_ref: None,
        notes: Vec::new(),
        synthetic: false,
    })
}

/// What a region that cannot be reached yields.
pub fn degraded_reading(region: RegionCode) -> ReadOutcome {
    ReadOutcome::Degraded(Degraded {
        region,
        subject: Person {
            id: None,
            name: "张*".to_string(),
            region_handle: None,
        },
        issuer_id: None,
        signed_at: None,
        valid_until: None,
        why: vec![format!(
            "region {region} did not answer within the deadline"
        )],
        unlisted: false,
    })
}

/// A read context with a one-second deadline.
pub fn context<'a>(
    trust: &'a dyn TrustView,
    lookup: &'a dyn StatusLookup,
    now: OffsetDateTime,
) -> ReadContext<'a> {
    ReadContext::new(trust, lookup, now, Instant::now() + Duration::from_secs(1))
}

/// A valid resident ID (correct check digit): 11010519491231002X.
pub fn resident_id() -> ResidentId {
    match ResidentId::parse("11010519491231002X") {
        Ok(id) => id,
        Err(e) => panic!("test resident ID is invalid: {e}"),
    }
}

/// One shape for both outcomes, so a test can assert on a read whichever way it went: a degraded
/// read shows as [`Source::Degraded`] with an empty label and its `why` as notes. Tests only: served
/// code matches on [`ReadOutcome`].
pub fn flat(outcome: ReadOutcome) -> NativeReading {
    match outcome {
        ReadOutcome::Read(reading) => reading,
        ReadOutcome::Degraded(d) => NativeReading {
            region: d.region,
            issuer_id: d.issuer_id,
            native_label: String::new(),
            subject: d.subject,
            refreshed_at: d.signed_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
            valid_until: d.valid_until,
            source: Source::Degraded,
            checked_in_at: None,
            status_ref: None,
            notes: d.why,
            synthetic: false,
        },
    }
}
