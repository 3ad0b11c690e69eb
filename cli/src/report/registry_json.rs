//! The trust registry as one JSON object for `huren registry show --json`: the same facts as the
//! table, with lowerCamel field names and RFC 3339 UTC times.

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
