//! Recognition agreements: how a verifying region treats each canonical colour of an issuing region.

use huren_adapters::Colour;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the verifying region decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    HomeQuarantine,
    CentralQuarantine,
    /// A person must look: pending, stale, unknown issuer region, no agreement.
    Review,
    /// Forged, revoked issuer, malformed.
    Reject,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::HomeQuarantine => "HOME_QUARANTINE",
            Verdict::CentralQuarantine => "CENTRAL_QUARANTINE",
            Verdict::Review => "REVIEW",
            Verdict::Reject => "REJECT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub verdict: Verdict,
    /// Days of quarantine for the two quarantine verdicts, 0 otherwise.
    pub quarantine_days: u32,
}

impl Rule {
    pub const fn new(verdict: Verdict, quarantine_days: u32) -> Self {
        Self {
            verdict,
            quarantine_days,
        }
    }
}

/// A verdict for every canonical colour: the type makes a gap impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColourRules {
    pub green: Rule,
    pub yellow: Rule,
    pub red: Rule,
    pub pending: Rule,
    pub unknown: Rule,
}

impl ColourRules {
    /// The national defaults an agreement starts from: green → PASS, yellow → 7 days at home,
    /// red → 14 days centralised, pending/unknown → REVIEW.
    pub fn national_defaults() -> Self {
        Self {
            green: Rule::new(Verdict::Pass, 0),
            yellow: Rule::new(Verdict::HomeQuarantine, 7),
            red: Rule::new(Verdict::CentralQuarantine, 14),
            pending: Rule::new(Verdict::Review, 0),
            unknown: Rule::new(Verdict::Review, 0),
        }
    }

    pub fn get(&self, colour: Colour) -> Rule {
        match colour {
            Colour::Green => self.green,
            Colour::Yellow => self.yellow,
            Colour::Red => self.red,
            Colour::Pending => self.pending,
            Colour::Unknown => self.unknown,
        }
    }

    pub fn set(&mut self, colour: Colour, rule: Rule) {
        match colour {
            Colour::Green => self.green = rule,
            Colour::Yellow => self.yellow = rule,
            Colour::Red => self.red = rule,
            Colour::Pending => self.pending = rule,
            Colour::Unknown => self.unknown = rule,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementKind {
    /// Signed by the root role; `verifying` and `issuing` may be `*`.
    National,
    /// Signed by both regions' thresholds; both regions named.
    Bilateral,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// `national` or `<verifying>-<issuing>`; the document is `agreements/<id>`.
    pub id: String,
    pub version: u64,
    #[serde(with = "crate::canonical::when")]
    pub expires: OffsetDateTime,
    pub kind: AgreementKind,
    /// Province code, or `*` (national agreements only).
    pub verifying: String,
    pub issuing: String,
    pub rules: ColourRules,
    /// A code whose status was refreshed longer ago than this is REVIEW, never PASS.
    pub max_code_age_secs: u64,
    /// The verifying region wants the issuing region's live status, not only a signed payload.
    pub online_check_required: bool,
    #[serde(with = "crate::canonical::when")]
    pub effective_from: OffsetDateTime,
    #[serde(with = "crate::canonical::when::option")]
    pub effective_until: Option<OffsetDateTime>,
    /// How fresh the issuer's status list must be for a code that names an entry in one (a v2
    /// offline code): a code whose list is missing or older is REVIEW (`STATUS_LIST_STALE`),
    /// never PASS. Absent in agreements signed before status lists (and then not serialised, so
    /// their signed bytes are unchanged): the list must then only be unexpired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_status_list_age_secs: Option<u64>,
}

/// Matches any region in a national agreement.
pub const ANY_REGION: &str = "*";

impl Agreement {
    pub fn document_name(id: &str) -> String {
        format!("{}{id}", super::AGREEMENT_PREFIX)
    }

    pub fn is_effective(&self, at: OffsetDateTime) -> bool {
        at >= self.effective_from && self.effective_until.is_none_or(|until| at < until)
    }

    /// How well it covers (verifying, issuing): 2 for an exact pair, 1 with one `*`, 0 with two.
    pub fn specificity(&self, verifying: &str, issuing: &str) -> Option<u8> {
        let side = |scope: &str, code: &str| match scope {
            ANY_REGION => Some(0),
            s if s == code => Some(1),
            _ => None,
        };
        Some(side(&self.verifying, verifying)? + side(&self.issuing, issuing)?)
    }

    pub fn max_code_age(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.max_code_age_secs).unwrap_or(i64::MAX))
    }

    /// [`Agreement::max_status_list_age_secs`]; without one, any unexpired list will do.
    pub fn max_status_list_age(&self) -> std::time::Duration {
        self.max_status_list_age_secs
            .map_or(std::time::Duration::MAX, std::time::Duration::from_secs)
    }
}

impl super::Document for Agreement {
    const PAYLOAD_TYPE: &'static str = "application/vnd.huren.agreement+json";
    fn name(&self) -> String {
        Self::document_name(&self.id)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}
