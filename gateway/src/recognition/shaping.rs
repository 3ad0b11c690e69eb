//! What each role may see of a decision (DESIGN.md, "Identity and privacy rules").
//!
//! | role | subject | status |
//! |---|---|---|
//! | checkpoint | masked name | colour, issuer, times, native label |
//! | carrier | masked name | colour and issuing region only |
//! | province, gateway | masked name + `subject_ref` for the verifying region | everything |
//!
//! No role ever gets an ID number: [`Judged`] holds it only as the adapter read it, and nothing
//! here copies it out.

use huren_proto::v1;

use crate::identity::Role;
use crate::recognition::pipeline::{Call, Judged, UNIDENTIFIED};
use crate::recognition::wire;

/// The decision as `role` may see it.
pub fn verification(call: &Call, judged: &Judged) -> v1::Verification {
    let role = call.peer.role;
    let d = &judged.decision;
    v1::Verification {
        verdict: wire::verdict(d.verdict) as i32,
        quarantine_days: i32::try_from(d.quarantine_days).unwrap_or(i32::MAX),
        status: status(role, judged),
        source: source(judged) as i32,
        registry_version: call.registry.version(),
        subject: Some(subject(role, judged)),
        reasons: d.reasons.iter().map(wire::reason).collect(),
        verifying_region: call.verifying.to_string(),
        agreement: d
            .agreement_id
            .as_ref()
            .map(|id| format!("agreements/{id}"))
            .unwrap_or_default(),
        forwarded_by: judged
            .forwarded
            .as_ref()
            .map(|f| f.node_id.clone())
            .unwrap_or_default(),
        audit_seq: judged.audit_seq.unwrap_or_default(),
    }
}

/// Where the status came from; a status another node read for this one says so.
fn source(judged: &Judged) -> v1::StatusSource {
    match (&judged.forwarded, judged.source) {
        (Some(_), huren_adapters::Source::Online | huren_adapters::Source::Cached) => {
            v1::StatusSource::Forwarded
        }
        (_, s) => wire::source(s),
    }
}

fn subject(role: Role, judged: &Judged) -> v1::Subject {
    // Only a province links its own records; a gateway never calls a judging method itself.
    let may_link = role == Role::Province;
    v1::Subject {
        masked_name: judged.masked_name().unwrap_or_default(),
        subject_ref: if may_link && judged.subject_ref != UNIDENTIFIED {
            judged.subject_ref.clone()
        } else {
            String::new()
        },
    }
}

fn status(role: Role, judged: &Judged) -> Option<v1::CanonicalStatus> {
    let Some(s) = &judged.status else {
        return Some(v1::CanonicalStatus {
            colour: v1::Colour::Unknown as i32,
            issuing_region: judged.issuing.to_string(),
            ..Default::default()
        });
    };
    let c = &s.canonical;
    let mut out = v1::CanonicalStatus {
        colour: wire::colour(c.colour) as i32,
        issuing_region: c.issuing_region.to_string(),
        issuer: String::new(),
        refresh_time: None,
        expire_time: None,
        native_label: String::new(),
    };
    if role != Role::Carrier {
        out.issuer = s
            .issuer
            .as_ref()
            .map(|i| format!("regions/{}/issuers/{i}", c.issuing_region))
            .unwrap_or_default();
        out.refresh_time = Some(wire::timestamp(c.refreshed_at));
        out.expire_time = c.valid_until.map(wire::timestamp);
        out.native_label = s.native_label.clone();
    }
    Some(out)
}
