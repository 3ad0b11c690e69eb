//! The decision an appeal quotes: its record in this node's audit chain, found by sequence and
//! checked to be an appealable decision of the caller's.

use std::path::Path;

use huren_audit::Entry;
use huren_registry::Verdict;

use crate::appeals::error::AppealError;
use crate::appeals::record::parse_verdict;
use crate::services::recognition::{CONFIRM_WORKERS, VERIFY_CODE, VERIFY_CODES};

/// A decision an appeal may be filed against.
#[derive(Debug, Clone)]
pub struct Decision {
    pub seq: u64,
    /// The judging method that decided: the code is read again as that method reads it.
    pub method: &'static str,
    pub verdict: Verdict,
    pub entry: Entry,
}

/// Reads record `seq` from the audit chain in `audit_dir`: from the one segment that holds it,
/// each line up to it checked against its hash and its link, never the whole chain.
pub fn find(audit_dir: &Path, seq: u64) -> Result<Option<Entry>, AppealError> {
    huren_audit::find(audit_dir, seq)
        .map(|found| found.map(|record| record.entry))
        .map_err(|e| AppealError::AuditUnreadable(e.to_string()))
}

/// Checks that the record at `seq` is a decision, `caller`'s own, and one a person may appeal.
pub fn appealable(seq: u64, entry: Option<Entry>, caller: &str) -> Result<Decision, AppealError> {
    let judging = |m: &str| {
        [VERIFY_CODE, VERIFY_CODES, CONFIRM_WORKERS]
            .into_iter()
            .find(|j| *j == m)
    };
    let (entry, method) = entry
        .and_then(|e| judging(&e.method).map(|m| (e, m)))
        .ok_or(AppealError::NoSuchDecision(seq))?;
    if entry.caller != caller {
        return Err(AppealError::NotYourDecision(seq));
    }
    let verdict = parse_verdict(&entry.verdict).ok_or(AppealError::NoSuchDecision(seq))?;
    if verdict == Verdict::Pass {
        return Err(AppealError::NothingToAppeal(seq));
    }
    Ok(Decision {
        seq,
        method,
        verdict,
        entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    const GATE: &str = "spiffe://huren.dev/region/330110/role/checkpoint/yuhang-1";

    fn entry(method: &str, verdict: &str) -> Entry {
        Entry {
            time: OffsetDateTime::now_utc(),
            caller: GATE.into(),
            method: method.into(),
            purpose: "entry".into(),
            issuing_region: "420000".into(),
            subject_ref: "ab".repeat(32),
            verdict: verdict.into(),
            registry_version: 1,
        }
    }

    #[test]
    fn only_the_callers_own_decisions_other_than_pass_are_appealable() {
        let yellow = entry(VERIFY_CODE, "HOME_QUARANTINE");
        assert!(appealable(3, Some(yellow.clone()), GATE).is_ok());
        assert!(matches!(
            appealable(3, None, GATE),
            Err(AppealError::NoSuchDecision(3))
        ));
        assert!(matches!(
            appealable(
                3,
                Some(yellow),
                "spiffe://huren.dev/region/330110/role/checkpoint/other"
            ),
            Err(AppealError::NotYourDecision(3))
        ));
        assert!(matches!(
            appealable(3, Some(entry(VERIFY_CODE, "PASS")), GATE),
            Err(AppealError::NothingToAppeal(3))
        ));
        // A forwarded read or an appeal's own record is not a decision.
        assert!(matches!(
            appealable(
                3,
                Some(entry("/huren.v1.AppealsService/FileAppeal", "APPEAL_FILED")),
                GATE
            ),
            Err(AppealError::NoSuchDecision(3))
        ));
    }
}
