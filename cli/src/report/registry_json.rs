//! The trust registry as one JSON object for `huren registry show --json` and its log for
//! `huren registry log --json`: the same facts as the tables, with lowerCamel field names and
//! RFC 3339 UTC times.

use huren_adapters::Colour;
use huren_adapters::when::rfc3339;
use huren_registry::Registry;
use serde_json::{Map, Value, json};

pub fn registry(r: &Registry) -> Value {
    let regions: Vec<Value> = r
        .regions()
        .map(|region| {
            let d = &region.document;
            let issuers: Vec<Value> = d
                .issuers
                .iter()
                .map(|(id, iss)| {
                    json!({
                        "id": id,
                        "algorithm": iss.algorithm.as_str(),
                        "status": format!("{:?}", iss.status),
                        "notBefore": rfc3339(&iss.not_before),
                        "notAfter": rfc3339(&iss.not_after),
                    })
                })
                .collect();
            let revocations: Vec<Value> = d
                .revocations
                .iter()
                .map(|rev| {
                    json!({
                        "issuer": rev.issuer,
                        "effectiveFrom": rfc3339(&rev.effective_from),
                        "reason": rev.reason.to_string(),
                    })
                })
                .collect();
            let concept_map: Map<String, Value> = d
                .concept_map
                .labels
                .iter()
                .map(|(label, entry)| {
                    let mut mapped = json!({ "colour": entry.colour.as_str() });
                    if let Some(lapse) = entry.lapse {
                        mapped["lapsesTo"] = json!(lapse.to.as_str());
                        mapped["lapsesAfterSecs"] = json!(lapse.after_secs);
                    }
                    (label.to_string(), mapped)
                })
                .collect();
            let mut shown = json!({
                "code": region.code.to_string(),
                "name": region.delegation.name,
                "system": d.system,
                "version": d.version,
                "cacheTtlSecs": d.cache_ttl_secs,
                "issuers": issuers,
                "revocations": revocations,
                "conceptMap": concept_map,
            });
            if let Some(s) = &d.status_service {
                shown["statusService"] = json!({ "url": s.url, "spiffeId": s.spiffe_id });
            }
            shown
        })
        .collect();
    let agreements: Vec<Value> = r
        .agreements()
        .map(|a| {
            let rules: Map<String, Value> = Colour::ALL
                .iter()
                .map(|c| {
                    let rule = a.rules.get(*c);
                    let shown = json!({
                        "verdict": rule.verdict.as_str(),
                        "quarantineDays": rule.quarantine_days,
                    });
                    (c.as_str().to_string(), shown)
                })
                .collect();
            json!({
                "id": a.id,
                "kind": format!("{:?}", a.kind),
                "verifying": a.verifying.to_string(),
                "issuing": a.issuing.to_string(),
                "maxCodeAgeSecs": a.max_code_age_secs,
                "onlineCheckRequired": a.online_check_required,
                "rules": rules,
            })
        })
        .collect();
    let nodes: Vec<Value> = r
        .nodes()
        .iter()
        .map(|(id, n)| {
            let mut shown = json!({
                "id": id,
                "spiffeId": n.spiffe_id,
                "receiptKey": n.receipt_key.key_id().to_string(),
                "regions": n.regions,
            });
            if let Some(audit) = &n.audit_key {
                shown["auditKey"] = json!(audit.key_id().to_string());
            }
            shown
        })
        .collect();
    json!({
        "version": r.version(),
        "rootVersion": r.root().version,
        "timestampExpires": rfc3339(&r.timestamp().expires),
        "regions": regions,
        "agreements": agreements,
        "nodes": nodes,
    })
}

/// The transparency log: every entry, every checkpoint (an unreadable one says so instead of
/// vanishing) and the C2SP checkpoint note witnesses cosign, when the registry carries one.
pub fn log(r: &Registry) -> Value {
    let log = &r.state().log;
    let entries: Vec<Value> = log
        .entries
        .iter()
        .enumerate()
        .map(|(index, e)| {
            json!({
                "index": index,
                "document": e.document,
                "version": e.version,
                "publishedIn": e.published_in,
                "leafHash": e.leaf_hash,
            })
        })
        .collect();
    let checkpoints: Vec<Value> = log
        .checkpoints
        .iter()
        .map(|env| {
            match huren_registry::canonical::decode::<huren_registry::log::Checkpoint>(&env.payload)
            {
                Ok(cp) => json!({
                    "treeSize": cp.tree_size,
                    "rootHash": cp.root_hash,
                    "signatures": env.signatures.len(),
                }),
                Err(e) => json!({ "unreadable": e.to_string() }),
            }
        })
        .collect();
    let mut out = json!({
        "origin": r.root().log_origin,
        "entries": entries,
        "checkpoints": checkpoints,
    });
    if let Some(note) = &log.note {
        out["note"] = json!(note);
    }
    out
}
