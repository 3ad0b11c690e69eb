//! One verification as the page shows it: PASS or STOP, and the few facts staff need to act.
//! Words stay codes here (PASS, GREEN, OFFLINE_SIGNED); the page says them in Chinese or English.

use huren_proto::v1::{Verdict, Verification};
use serde_json::{Value, json};

use crate::report::names;

/// The answer for one verification: `pass` only for a PASS verdict, everything else is STOP
/// with its first reason (a quarantine verdict names its days).
pub fn of_verification(v: &Verification) -> Value {
    let pass = v.verdict == Verdict::Pass as i32;
    let status = v.status.as_ref();
    let issuing = status
        .map(|s| s.issuing_region.as_str())
        .unwrap_or_default();
    json!({
        "answer": if pass { "PASS" } else { "STOP" },
        "verdict": names::verdict(v.verdict),
        "quarantine_days": v.quarantine_days,
        "reason": v.reasons.first().map(|r| json!({"code": r.code, "message": r.message})),
        "colour": status.map_or("UNKNOWN", |s| names::colour(s.colour)),
        "native_label": status.map(|s| s.native_label.as_str()).unwrap_or_default(),
        "name": v.subject.as_ref().map(|s| s.masked_name.as_str()).unwrap_or_default(),
        "issuing_region": issuing,
        "issuing_region_en": names::region(issuing),
        "source": names::source(v.source),
        "verifying_region": v.verifying_region,
    })
}

/// The gateway could not judge the code (unreachable, refused the call): nobody may pass on it,
/// and staff must see why rather than a verdict.
pub fn of_failure(why: &str) -> Value {
    json!({
        "answer": "STOP",
        "verdict": "NOT_CHECKED",
        "reason": {"code": "NOT_CHECKED", "message": why},
        "colour": "UNKNOWN",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_proto::v1::{CanonicalStatus, Colour, Reason, StatusSource, Subject};

    fn verification(verdict: Verdict, colour: Colour) -> Verification {
        Verification {
            verdict: verdict as i32,
            status: Some(CanonicalStatus {
                colour: colour as i32,
                issuing_region: "440000".into(),
                native_label: "绿码".into(),
                ..Default::default()
            }),
            source: StatusSource::OfflineSigned as i32,
            subject: Some(Subject {
                masked_name: "张*".into(),
                ..Default::default()
            }),
            reasons: vec![Reason {
                code: "FORGED".into(),
                message: "bad signature".into(),
            }],
            verifying_region: "330000".into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_a_pass_verdict_lets_through() {
        let pass = of_verification(&verification(Verdict::Pass, Colour::Green));
        assert_eq!(pass["answer"], "PASS");
        assert_eq!(pass["name"], "张*");
        assert_eq!(pass["issuing_region_en"], "Guangdong");
        assert_eq!(pass["source"], "OFFLINE_SIGNED");
        for verdict in [
            Verdict::Reject,
            Verdict::Review,
            Verdict::HomeQuarantine,
            Verdict::CentralQuarantine,
        ] {
            let stop = of_verification(&verification(verdict, Colour::Green));
            assert_eq!(stop["answer"], "STOP", "{verdict:?}");
            assert_eq!(stop["reason"]["code"], "FORGED");
        }
        assert_eq!(of_failure("gateway down")["answer"], "STOP");
    }
}
