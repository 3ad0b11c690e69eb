//! Answers as JSON for `--json`: enum names as strings, times as RFC 3339, absent fields left out.

use huren_proto::v1::{
    CheckManifestResponse, ConfirmWorkersResponse, EntryError, GetNationalSummaryResponse,
    ManifestTotals, PassengerDecision, RecognitionReceipt, Verification, WatchManifestResponse,
};
use serde_json::{Value, json};

use super::names;

pub fn verification(v: &Verification) -> Value {
    let status = v.status.as_ref().map(|s| {
        json!({
            "colour": names::colour(s.colour),
            "issuing_region": s.issuing_region,
            "issuer": s.issuer,
            "refresh_time": names::time(s.refresh_time.as_ref()),
            "expire_time": names::time(s.expire_time.as_ref()),
            "native_label": s.native_label,
        })
    });
    let subject = v
        .subject
        .as_ref()
        .map(|s| json!({ "masked_name": s.masked_name, "subject_ref": s.subject_ref }));
    let reasons: Vec<Value> = v
        .reasons
        .iter()
        .map(|r| json!({ "code": r.code, "message": r.message }))
        .collect();
    json!({
        "verdict": names::verdict(v.verdict),
        "quarantine_days": v.quarantine_days,
        "status": status,
        "source": names::source(v.source),
        "registry_version": v.registry_version,
        "subject": subject,
        "reasons": reasons,
        "verifying_region": v.verifying_region,
        "agreement": v.agreement,
    })
}

pub fn entry_error(e: &EntryError) -> Value {
    let code = names_code(e.code);
    json!({ "code": code, "message": e.message, "reason": e.reason })
}

fn names_code(code: i32) -> &'static str {
    super::status::code_name(tonic::Code::from_i32(code))
}

pub fn receipt(r: &RecognitionReceipt) -> Value {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let envelope = r.envelope.as_ref().map(|e| {
        let signatures: Vec<Value> = e
            .signatures
            .iter()
            .map(|s| json!({ "key_id": s.key_id, "signature": b64(&s.signature) }))
            .collect();
        json!({
            "payload_type": e.payload_type,
            "payload": b64(&e.payload),
            "signatures": signatures,
        })
    });
    json!({
        "subject_ref": r.subject_ref,
        "origin_colour": names::colour(r.origin_colour),
        "destination_verdict": names::verdict(r.destination_verdict),
        "valid_until_time": names::time(r.valid_until_time.as_ref()),
        "agreement": r.agreement,
        "registry_version": r.registry_version,
        "envelope": envelope,
    })
}

pub fn confirmations(resp: &ConfirmWorkersResponse) -> Value {
    let rows: Vec<Value> = resp
        .confirmations
        .iter()
        .map(|c| {
            json!({
                "worker_ref": c.worker_ref,
                "verification": c.verification.as_ref().map(verification),
                "receipt": c.receipt.as_ref().map(receipt),
                "error": c.error.as_ref().map(entry_error),
            })
        })
        .collect();
    let totals = resp.totals.as_ref().map(|t| {
        json!({ "confirmed": t.confirmed, "not_confirmed": t.not_confirmed, "errors": t.errors })
    });
    json!({ "confirmations": rows, "totals": totals })
}

pub fn decision(d: &PassengerDecision) -> Value {
    json!({
        "seat": d.seat,
        "boarding": names::boarding(d.boarding),
        "verification": d.verification.as_ref().map(verification),
        "error": d.error.as_ref().map(entry_error),
    })
}

pub fn totals(t: Option<&ManifestTotals>) -> Value {
    t.map_or(
        Value::Null,
        |t| json!({ "total": t.total, "board": t.board, "deny": t.deny, "review": t.review }),
    )
}

pub fn manifest(resp: &CheckManifestResponse) -> Value {
    json!({
        "train_id": resp.train_id,
        "decisions": resp.decisions.iter().map(decision).collect::<Vec<_>>(),
        "totals": totals(resp.totals.as_ref()),
        "registry_version": resp.registry_version,
    })
}

pub fn watch_event(event: &WatchManifestResponse) -> Value {
    json!({
        "changes": event.changes.iter().map(decision).collect::<Vec<_>>(),
        "totals": totals(event.totals.as_ref()),
        "event_time": names::time(event.event_time.as_ref()),
        "departed": event.departed,
    })
}

pub fn summary(resp: &GetNationalSummaryResponse) -> Value {
    let verifications: Vec<Value> = resp
        .verifications
        .iter()
        .map(|v| {
            json!({
                "verifying_region": v.verifying_region,
                "issuing_region": v.issuing_region,
                "colour": names::colour(v.colour),
                "verdict": names::verdict(v.verdict),
                "source": names::source(v.source),
                "count": v.count,
            })
        })
        .collect();
    let confirmations: Vec<Value> = resp
        .confirmations
        .iter()
        .map(|c| {
            json!({
                "origin_region": c.origin_region,
                "destination_region": c.destination_region,
                "confirmed": c.confirmed,
                "not_confirmed": c.not_confirmed,
            })
        })
        .collect();
    let health: Vec<Value> = resp
        .region_health
        .iter()
        .map(|h| json!({ "region": h.region, "health": names::health(h.health), "detail": h.detail }))
        .collect();
    let mut out = json!({
        "start_time": names::time(resp.start_time.as_ref()),
        "end_time": names::time(resp.end_time.as_ref()),
        "verifications": verifications,
        "confirmations": confirmations,
        "region_health": health,
        "registry_version": resp.registry_version,
    });
    // Only a fanned-out answer says which nodes it merges: a single node's stays as it was.
    if !resp.nodes.is_empty() || resp.partial {
        let missing: Vec<Value> = resp
            .missing_nodes
            .iter()
            .map(|m| {
                json!({
                    "node_id": m.node_id,
                    "reason": huren::fanout::merge::reason_word(m.reason()),
                    "detail": m.detail,
                })
            })
            .collect();
        out["nodes"] = json!(resp.nodes);
        out["partial"] = json!(resp.partial);
        out["missing_nodes"] = json!(missing);
    }
    out
}
