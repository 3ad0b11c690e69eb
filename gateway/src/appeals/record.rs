//! One appeal as a node keeps it (the issuing region's review queue, or the filing node's copy),
//! and as its filer and the issuing province see it on the wire.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1;
use huren_registry::Verdict;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::recognition::wire;

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppealState {
    Open,
    Upheld,
    Corrected,
}

impl AppealState {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealState::Open => "OPEN",
            AppealState::Upheld => "UPHELD",
            AppealState::Corrected => "CORRECTED",
        }
    }

    pub fn to_wire(self) -> v1::AppealState {
        match self {
            AppealState::Open => v1::AppealState::Open,
            AppealState::Upheld => v1::AppealState::Upheld,
            AppealState::Corrected => v1::AppealState::Corrected,
        }
    }

    /// `None` for UNSPECIFIED (every state).
    pub fn from_wire(state: i32) -> Option<AppealState> {
        match v1::AppealState::try_from(state).ok()? {
            v1::AppealState::Open => Some(AppealState::Open),
            v1::AppealState::Upheld => Some(AppealState::Upheld),
            v1::AppealState::Corrected => Some(AppealState::Corrected),
            v1::AppealState::Unspecified => None,
        }
    }
}

/// An appeal. It names no person: the masked name, the keyed `subject_ref` of the decision and a
/// keyed hash of the contact only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealRecord {
    /// `<issuing province>-<16 hex>`: any node routes it by its first six characters.
    pub appeal_id: String,
    pub issuing_region: String,
    pub verifying_region: String,
    /// The SPIFFE id of the checkpoint or province that filed.
    pub filed_by: String,
    /// The node whose audit holds the decision, and the record's sequence there.
    pub decision_node: String,
    pub decision_seq: u64,
    /// The verdict appealed, as audited (`REVIEW`, `HOME_QUARANTINE`, ...).
    pub verdict: String,
    pub masked_name: String,
    /// The keyed reference the filing node audited the decision under.
    pub subject_ref: String,
    pub reason: String,
    /// Keyed hash of the contact the filer gave; the contact itself is never kept.
    pub contact_hash: String,
    pub state: AppealState,
    #[serde(with = "time::serde::rfc3339")]
    pub filed_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub answered_by: String,
    #[serde(default)]
    pub corrected_colour: Option<String>,
    #[serde(default)]
    pub note: String,
    /// What the correction did, in words for the filer.
    #[serde(default)]
    pub correction: String,
}

impl AppealRecord {
    /// The issuing province, from the id (routing needs nothing else).
    pub fn issuing_province(&self) -> Option<RegionCode> {
        province_of(&self.appeal_id)
    }

    pub fn to_wire(&self) -> v1::Appeal {
        v1::Appeal {
            appeal_id: self.appeal_id.clone(),
            issuing_region: self.issuing_region.clone(),
            verifying_region: self.verifying_region.clone(),
            filed_by: self.filed_by.clone(),
            decision_node: self.decision_node.clone(),
            decision_seq: self.decision_seq,
            verdict: parse_verdict(&self.verdict).map_or(v1::Verdict::Unspecified, wire::verdict)
                as i32,
            masked_name: self.masked_name.clone(),
            reason: self.reason.clone(),
            state: self.state.to_wire() as i32,
            filed_time: Some(wire::timestamp(self.filed_at)),
            answered_time: self.answered_at.map(wire::timestamp),
            answered_by: self.answered_by.clone(),
            corrected_colour: self
                .corrected_colour
                .as_deref()
                .and_then(Colour::parse)
                .map_or(v1::Colour::Unspecified, wire::colour) as i32,
            note: self.note.clone(),
            correction: self.correction.clone(),
        }
    }

    /// A new open appeal of `filing`, filed by `filed_by` against decision `decision_node`#seq.
    pub fn opened(
        appeal_id: String,
        filing: &v1::RelayedFiling,
        filed_by: &str,
        decision_node: &str,
        filed_at: OffsetDateTime,
    ) -> AppealRecord {
        AppealRecord {
            appeal_id,
            issuing_region: filing.issuing_region.clone(),
            verifying_region: filing.verifying_region.clone(),
            filed_by: filed_by.to_string(),
            decision_node: decision_node.to_string(),
            decision_seq: filing.decision_seq,
            verdict: verdict_word(filing.verdict).to_string(),
            masked_name: filing.masked_name.clone(),
            subject_ref: filing.subject_ref.clone(),
            reason: filing.reason.clone(),
            contact_hash: filing.contact_hash.clone(),
            state: AppealState::Open,
            filed_at,
            answered_at: None,
            answered_by: String::new(),
            corrected_colour: None,
            note: String::new(),
            correction: String::new(),
        }
    }

    /// The filing node's copy of an appeal another node's queue took.
    pub fn copy_of(appeal: &v1::Appeal, filing: &v1::RelayedFiling) -> AppealRecord {
        let filed_at = appeal
            .filed_time
            .as_ref()
            .and_then(wire::from_timestamp)
            .unwrap_or_else(OffsetDateTime::now_utc);
        let mut copy = Self::opened(
            appeal.appeal_id.clone(),
            filing,
            &appeal.filed_by,
            &appeal.decision_node,
            filed_at,
        );
        copy.follow(appeal);
        copy
    }

    /// Takes the answer another node holds (the issuing node's record is the truth), keeping
    /// this node's own facts.
    pub fn follow(&mut self, answer: &v1::Appeal) {
        self.state = AppealState::from_wire(answer.state).unwrap_or(self.state);
        self.answered_at = answer.answered_time.as_ref().and_then(wire::from_timestamp);
        self.answered_by = answer.answered_by.clone();
        self.corrected_colour = v1::Colour::try_from(answer.corrected_colour)
            .ok()
            .and_then(colour_from_wire)
            .map(|c| c.as_str().to_string());
        self.note = answer.note.clone();
        self.correction = answer.correction.clone();
    }
}

/// The issuing province an appeal id names, if it is well formed.
pub fn province_of(appeal_id: &str) -> Option<RegionCode> {
    let (region, rest) = appeal_id.split_once('-')?;
    let well_formed = rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    let region = RegionCode::parse(region).ok()?;
    (well_formed && region == region.province()).then_some(region)
}

/// A fresh appeal id for `issuing`'s queue.
pub fn new_id(issuing: RegionCode) -> String {
    format!(
        "{}-{}",
        issuing.province(),
        hex::encode(rand::random::<[u8; 8]>())
    )
}

/// An audited verdict word back as the verdict.
pub fn parse_verdict(word: &str) -> Option<Verdict> {
    [
        Verdict::Pass,
        Verdict::HomeQuarantine,
        Verdict::CentralQuarantine,
        Verdict::Review,
        Verdict::Reject,
    ]
    .into_iter()
    .find(|v| v.as_str() == word)
}

/// The audited word of a wire verdict (`VERDICT_UNSPECIFIED` as `REVIEW`: a person looks).
pub fn verdict_word(verdict: i32) -> &'static str {
    match v1::Verdict::try_from(verdict).unwrap_or(v1::Verdict::Review) {
        v1::Verdict::Pass => Verdict::Pass.as_str(),
        v1::Verdict::HomeQuarantine => Verdict::HomeQuarantine.as_str(),
        v1::Verdict::CentralQuarantine => Verdict::CentralQuarantine.as_str(),
        v1::Verdict::Reject => Verdict::Reject.as_str(),
        v1::Verdict::Review | v1::Verdict::Unspecified => Verdict::Review.as_str(),
    }
}

/// A correction's colour from the wire; `None` for UNSPECIFIED and UNKNOWN (not a status).
pub fn colour_from_wire(c: v1::Colour) -> Option<Colour> {
    match c {
        v1::Colour::Green => Some(Colour::Green),
        v1::Colour::Yellow => Some(Colour::Yellow),
        v1::Colour::Red => Some(Colour::Red),
        v1::Colour::Pending => Some(Colour::Pending),
        v1::Colour::Unknown | v1::Colour::Unspecified => None,
    }
}

/// An open Hubei appeal filed at the Yuhang checkpoint, for tests.
#[cfg(test)]
pub(crate) fn sample() -> AppealRecord {
    let filing = v1::RelayedFiling {
        issuing_region: "420000".into(),
        verifying_region: "330000".into(),
        decision_seq: 7,
        verdict: v1::Verdict::HomeQuarantine as i32,
        masked_name: "王*".into(),
        reason: "my code turned yellow by mistake".into(),
        contact_hash: "cd".repeat(32),
        payload: String::new(),
        subject_ref: "ab".repeat(32),
    };
    AppealRecord::opened(
        new_id(RegionCode::HUBEI),
        &filing,
        "spiffe://huren.dev/region/330110/role/checkpoint/yuhang-1",
        "zhejiang",
        OffsetDateTime::now_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appeal_id_names_its_issuing_province() {
        let id = new_id(RegionCode::parse("420100").unwrap());
        assert!(id.starts_with("420000-"), "{id}");
        assert_eq!(province_of(&id), Some(RegionCode::HUBEI));
        assert_eq!(province_of("420100-0123456789abcdef"), None);
        assert_eq!(province_of("420000-0123"), None);
        assert_eq!(province_of("../../etc-0123456789abcdef"), None);
    }
}
