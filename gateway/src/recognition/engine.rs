//! The recognition engine: (reading, verifying region, agreement, registry expiry, now) → verdict
//! with reasons.
//!
//! Rules, from DESIGN.md, in the order they are checked:
//! 1. A payload that failed to read: forged, revoked code or issuer, untrusted issuer, malformed, unknown to
//!    its region → REJECT; an issuing region the registry does not know, a format the node
//!    cannot judge, or a person looked up by ID card in a region with no lookup service → REVIEW.
//! 2. No agreement, an agreement that does not cover this pair of provinces, one outside its
//!    effective window, or one whose signed document has expired → REVIEW.
//!    A code its issuer withdrew in the status list the node holds → REJECT (`REVOKED_CODE`),
//!    whatever the agreement.
//! 3. A degraded reading (the issuing region did not answer), a PENDING or UNKNOWN colour, a code
//!    refreshed longer ago than the agreement's maximum age (screenshots, replays), a payload
//!    past its own validity, a refresh time in the future, an offline reading where the
//!    agreement requires an online check, a code its issuer suspended pending review, or a code
//!    whose status list is missing or older than the agreement's `max_status_list_age`
//!    (`STATUS_LIST_STALE`) → REVIEW, never PASS. Every such reason is listed.
//! 4. Otherwise the agreement's rule for the colour, with its quarantine days.
//! 5. Once the registry judged under has expired (a node frozen on an old registry), nothing is
//!    PASS: a PASS becomes REVIEW with REGISTRY_EXPIRED. Every other verdict stands and also
//!    carries REGISTRY_EXPIRED, so whoever reads it knows the rules were out of date.

use std::fmt;

use huren_adapters::status_list::ListStatus;
use huren_adapters::when::rfc3339;
use huren_adapters::{CodeError, Colour, RegionCode, Source, TrustError};
use huren_registry::{Agreement, Verdict};
use time::{Duration, OffsetDateTime};

/// How far a region's clock may run ahead of ours before a refresh time is suspect.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A code's status in the national vocabulary, as the adapter and concept map produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalStatus {
    pub colour: Colour,
    pub issuing_region: RegionCode,
    pub refreshed_at: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub source: Source,
    /// What the issuer's status list held by the node says of the code, looked up under the
    /// agreement's `max_status_list_age` (the engine does no lookup); `None` for codes that name
    /// no list entry (v1 codes, online codes), which keep the rules without it.
    pub list: Option<ListStatus>,
}

/// Why a payload could not be read, as far as the verdict is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFailure {
    /// The signature does not verify: altered or not signed by the issuer it names.
    Forged(String),
    /// Signed by an issuer revoked before the signing time.
    RevokedIssuer(String),
    /// The issuing region revoked this one code.
    RevokedCode(String),
    /// Signed by an issuer the registry does not list for the region, or outside its
    /// certificate's validity.
    UntrustedIssuer(String),
    /// Not a well-formed code of the region it claims.
    Malformed(String),
    /// The issuing region has no record of this code.
    UnknownCode,
    /// The registry does not delegate the issuing region.
    UnknownRegion(RegionCode),
    /// The payload's own validity has passed.
    Expired(OffsetDateTime),
    /// Something this node cannot judge (e.g. a format version it does not speak).
    Unsupported(String),
    /// A lookup by ID card for a household region whose service offers no lookup by ID and
    /// name: nobody was asked, so nothing is guessed.
    NoLookupService(RegionCode),
}

impl From<&CodeError> for ReadFailure {
    fn from(e: &CodeError) -> Self {
        match e {
            CodeError::BadSignature { .. } => ReadFailure::Forged(e.to_string()),
            CodeError::Trust(TrustError::Revoked { .. }) => {
                ReadFailure::RevokedIssuer(e.to_string())
            }
            CodeError::Trust(TrustError::UnknownRegion(r)) => ReadFailure::UnknownRegion(*r),
            CodeError::Trust(TrustError::UnknownIssuer { .. } | TrustError::NotValidAt { .. }) => {
                ReadFailure::UntrustedIssuer(e.to_string())
            }
            CodeError::NotClaimed
            | CodeError::Malformed { .. }
            | CodeError::InvalidResidentId(_) => ReadFailure::Malformed(e.to_string()),
            CodeError::Expired(at) => ReadFailure::Expired(*at),
            CodeError::CodeRevoked { .. } => ReadFailure::RevokedCode(e.to_string()),
            CodeError::UnknownCode => ReadFailure::UnknownCode,
            CodeError::Unsupported(s) => ReadFailure::Unsupported(s.clone()),
        }
    }
}

/// What the engine is asked to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Status(CanonicalStatus),
    Failed(ReadFailure),
}

/// A machine-readable reason; the message says it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    Forged,
    RevokedIssuer,
    RevokedCode,
    UntrustedIssuer,
    Malformed,
    UnknownCode,
    UnknownRegion,
    Unsupported,
    Expired,
    NoAgreement,
    AgreementNotForPair,
    AgreementNotEffective,
    Degraded,
    Pending,
    UnknownColour,
    Stale,
    FutureRefresh,
    OnlineCheckRequired,
    /// The issuer suspended the code pending review (its status list says so).
    CodeSuspended,
    /// The issuer's status list is not held, or older than the agreement allows.
    StatusListStale,
    /// The registry the decision was made under has expired.
    RegistryExpired,
    /// The agreement's rule for the colour decided.
    AgreementRule,
    /// A person looked up by ID card whose household region has no lookup service.
    NoLookupService,
}

impl ReasonCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCode::Forged => "FORGED",
            ReasonCode::RevokedIssuer => "REVOKED_ISSUER",
            ReasonCode::RevokedCode => "REVOKED_CODE",
            ReasonCode::UntrustedIssuer => "UNTRUSTED_ISSUER",
            ReasonCode::Malformed => "MALFORMED",
            ReasonCode::UnknownCode => "UNKNOWN_CODE",
            ReasonCode::UnknownRegion => "UNKNOWN_REGION",
            ReasonCode::Unsupported => "UNSUPPORTED",
            ReasonCode::Expired => "EXPIRED",
            ReasonCode::NoAgreement => "NO_AGREEMENT",
            ReasonCode::AgreementNotForPair => "AGREEMENT_NOT_FOR_PAIR",
            ReasonCode::AgreementNotEffective => "AGREEMENT_NOT_EFFECTIVE",
            ReasonCode::Degraded => "DEGRADED",
            ReasonCode::Pending => "PENDING",
            ReasonCode::UnknownColour => "UNKNOWN_COLOUR",
            ReasonCode::Stale => "STALE",
            ReasonCode::FutureRefresh => "FUTURE_REFRESH",
            ReasonCode::OnlineCheckRequired => "ONLINE_CHECK_REQUIRED",
            ReasonCode::CodeSuspended => "CODE_SUSPENDED",
            ReasonCode::StatusListStale => "STATUS_LIST_STALE",
            ReasonCode::RegistryExpired => "REGISTRY_EXPIRED",
            ReasonCode::AgreementRule => "AGREEMENT_RULE",
            ReasonCode::NoLookupService => "NO_LOOKUP_SERVICE",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

impl Reason {
    fn new(code: ReasonCode, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// From the agreement's rule; 0 unless the verdict is a quarantine.
    pub quarantine_days: u32,
    pub reasons: Vec<Reason>,
    /// The agreement the decision was made under, when one applied.
    pub agreement_id: Option<String>,
}

impl Decision {
    fn without_rule(verdict: Verdict, reasons: Vec<Reason>, agreement: Option<&Agreement>) -> Self {
        Decision {
            verdict,
            quarantine_days: 0,
            reasons,
            agreement_id: agreement.map(|a| a.id.clone()),
        }
    }

    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

/// Judges `reading` in `verifying`'s rules. `agreement` is what the registry returned for the
/// pair at `now` (`Registry::agreement`); it is checked again here so a wrong one cannot pass.
/// `registry_expires` is when that registry expires (`Registry::expires`): from then on nothing
/// passes (rule 5).
pub fn decide(
    reading: &Reading,
    verifying: RegionCode,
    agreement: Option<&Agreement>,
    registry_expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Decision {
    let decision = decide_by_rules(reading, verifying, agreement, now);
    if now < registry_expires {
        return decision;
    }
    frozen(decision, registry_expires)
}

/// Rule 5: a decision made under a registry that expired at `expired`.
fn frozen(mut decision: Decision, expired: OffsetDateTime) -> Decision {
    let reason = Reason::new(
        ReasonCode::RegistryExpired,
        format!(
            "the trust registry this node holds expired at {}; nothing passes until a \
             newer registry is published",
            rfc3339(&expired)
        ),
    );
    if decision.verdict != Verdict::Pass {
        decision.reasons.push(reason);
        return decision;
    }
    Decision {
        verdict: Verdict::Review,
        quarantine_days: 0,
        reasons: vec![reason],
        agreement_id: decision.agreement_id,
    }
}

/// Rules 1 to 4.
fn decide_by_rules(
    reading: &Reading,
    verifying: RegionCode,
    agreement: Option<&Agreement>,
    now: OffsetDateTime,
) -> Decision {
    let status = match reading {
        Reading::Failed(failure) => return judge_failure(failure, agreement),
        Reading::Status(s) => s,
    };
    let (v, i) = (verifying.province(), status.issuing_region.province());
    if status.list == Some(ListStatus::Withdrawn) {
        // The issuer's own signed word that this code no longer stands: no agreement can pass it.
        return Decision::without_rule(
            Verdict::Reject,
            vec![Reason::new(
                ReasonCode::RevokedCode,
                format!("{i} withdrew this code in its signed status list"),
            )],
            agreement,
        );
    }
    let Some(agreement) = agreement else {
        return Decision::without_rule(
            Verdict::Review,
            vec![Reason::new(
                ReasonCode::NoAgreement,
                format!("{v} has no recognition agreement for codes of {i}"),
            )],
            None,
        );
    };
    if agreement.specificity(v.as_str(), i.as_str()).is_none() {
        return Decision::without_rule(
            Verdict::Review,
            vec![Reason::new(
                ReasonCode::AgreementNotForPair,
                format!(
                    "agreement {} covers {} judging {}, not {v} judging {i}",
                    agreement.id, agreement.verifying, agreement.issuing
                ),
            )],
            Some(agreement),
        );
    }
    if now >= agreement.expires {
        // The registry refuses expired documents on load; one can still lapse while served.
        return Decision::without_rule(
            Verdict::Review,
            vec![Reason::new(
                ReasonCode::AgreementNotEffective,
                format!(
                    "agreement {} v{} expired at {}; the registry needs a newer version",
                    agreement.id,
                    agreement.version,
                    rfc3339(&agreement.expires)
                ),
            )],
            Some(agreement),
        );
    }
    if !agreement.is_effective(now) {
        let until = agreement
            .effective_until
            .map_or_else(|| "open-ended".to_string(), |u| rfc3339(&u));
        return Decision::without_rule(
            Verdict::Review,
            vec![Reason::new(
                ReasonCode::AgreementNotEffective,
                format!(
                    "agreement {} is effective from {} until {until}, not at {}",
                    agreement.id,
                    rfc3339(&agreement.effective_from),
                    rfc3339(&now)
                ),
            )],
            Some(agreement),
        );
    }

    let review = review_reasons(status, agreement, now);
    if !review.is_empty() {
        return Decision::without_rule(Verdict::Review, review, Some(agreement));
    }
    let rule = agreement.rules.get(status.colour);
    let quarantine_days = match rule.verdict {
        Verdict::HomeQuarantine | Verdict::CentralQuarantine => rule.quarantine_days,
        _ => 0,
    };
    Decision {
        verdict: rule.verdict,
        quarantine_days,
        reasons: vec![Reason::new(
            ReasonCode::AgreementRule,
            format!(
                "agreement {} v{}: {} from {i} → {}{}",
                agreement.id,
                agreement.version,
                status.colour.as_str(),
                rule.verdict.as_str(),
                if quarantine_days > 0 {
                    format!(" ({quarantine_days} days)")
                } else {
                    String::new()
                }
            ),
        )],
        agreement_id: Some(agreement.id.clone()),
    }
}

/// Everything about a readable status that stops the agreement's rule from deciding.
fn review_reasons(
    status: &CanonicalStatus,
    agreement: &Agreement,
    now: OffsetDateTime,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let colour = status.colour.as_str();
    if status.source == Source::Degraded {
        reasons.push(Reason::new(
            ReasonCode::Degraded,
            format!(
                "region {} did not answer in time; its status is not known",
                status.issuing_region
            ),
        ));
    }
    match status.colour {
        Colour::Pending => reasons.push(Reason::new(
            ReasonCode::Pending,
            "the issuing region has not decided this person's colour yet",
        )),
        Colour::Unknown => reasons.push(Reason::new(
            ReasonCode::UnknownColour,
            "the issuing region's status word has no canonical colour",
        )),
        _ => {}
    }
    let age = now - status.refreshed_at;
    if age > agreement.max_code_age() {
        reasons.push(Reason::new(
            ReasonCode::Stale,
            format!(
                "{colour} refreshed {} h ago, over the {} h agreement {} allows",
                age.whole_hours(),
                agreement.max_code_age().whole_hours(),
                agreement.id
            ),
        ));
    }
    if status.refreshed_at - now > CLOCK_SKEW {
        reasons.push(Reason::new(
            ReasonCode::FutureRefresh,
            format!(
                "refreshed at {}, later than now ({})",
                rfc3339(&status.refreshed_at),
                rfc3339(&now)
            ),
        ));
    }
    if let Some(until) = status.valid_until.filter(|u| *u <= now) {
        reasons.push(Reason::new(
            ReasonCode::Expired,
            format!("the code was valid until {}", rfc3339(&until)),
        ));
    }
    match status.list {
        Some(ListStatus::Suspended) => reasons.push(Reason::new(
            ReasonCode::CodeSuspended,
            "the issuer suspended this code pending review (its signed status list says so)",
        )),
        Some(ListStatus::Stale) => reasons.push(Reason::new(
            ReasonCode::StatusListStale,
            format!(
                "the issuer's status list held here is expired or older than agreement {} allows; \
                 whether the code was withdrawn is not known",
                agreement.id
            ),
        )),
        Some(ListStatus::Missing) => reasons.push(Reason::new(
            ReasonCode::StatusListStale,
            "no status list of the issuer covering this code is held here; whether the code \
             was withdrawn is not known",
        )),
        Some(ListStatus::Valid | ListStatus::Withdrawn) | None => {}
    }
    // A cached status came from an online check within the region's TTL; an offline-signed one
    // did not ask the region at all.
    if agreement.online_check_required && status.source == Source::OfflineSigned {
        reasons.push(Reason::new(
            ReasonCode::OnlineCheckRequired,
            format!(
                "agreement {} requires the issuing region's live status; this was read offline",
                agreement.id
            ),
        ));
    }
    reasons
}

fn judge_failure(failure: &ReadFailure, agreement: Option<&Agreement>) -> Decision {
    let (verdict, code, message) = match failure {
        ReadFailure::Forged(m) => (Verdict::Reject, ReasonCode::Forged, m.clone()),
        ReadFailure::RevokedIssuer(m) => (Verdict::Reject, ReasonCode::RevokedIssuer, m.clone()),
        ReadFailure::RevokedCode(m) => (Verdict::Reject, ReasonCode::RevokedCode, m.clone()),
        ReadFailure::UntrustedIssuer(m) => {
            (Verdict::Reject, ReasonCode::UntrustedIssuer, m.clone())
        }
        ReadFailure::Malformed(m) => (Verdict::Reject, ReasonCode::Malformed, m.clone()),
        ReadFailure::UnknownCode => (
            Verdict::Reject,
            ReasonCode::UnknownCode,
            "the issuing region has no record of this code".to_string(),
        ),
        ReadFailure::UnknownRegion(r) => (
            Verdict::Review,
            ReasonCode::UnknownRegion,
            format!("region {r} is not in the trust registry"),
        ),
        ReadFailure::Expired(at) => (
            Verdict::Review,
            ReasonCode::Expired,
            format!("the code was valid until {}", rfc3339(at)),
        ),
        ReadFailure::Unsupported(m) => (Verdict::Review, ReasonCode::Unsupported, m.clone()),
        ReadFailure::NoLookupService(r) => (
            Verdict::Review,
            ReasonCode::NoLookupService,
            format!(
                "household region {r} offers no lookup by ID card; check the person by hand \
                 (ask for a paper certificate or call the region's hotline)"
            ),
        ),
    };
    Decision::without_rule(verdict, vec![Reason::new(code, message)], agreement)
}
