//! The API's answers as tables a person reads: one verification, a manifest, worker
//! confirmations, the national summary.

use std::collections::BTreeMap;

use huren_proto::v1::{
    CheckManifestResponse, ConfirmWorkersResponse, GetNationalSummaryResponse, PassengerDecision,
    Verification,
};

use super::lang;
use super::names;
use super::table::Table;

/// One verification, a field per line.
pub fn verification(v: &Verification) -> String {
    let mut t = Table::new(["field", "value"]);
    t.row([lang::label("verdict"), names::verdict(v.verdict)]);
    if v.quarantine_days > 0 {
        t.row([
            lang::label("quarantine"),
            &format!("{} days", v.quarantine_days),
        ]);
    }
    if let Some(s) = &v.status {
        t.row([
            lang::label("colour"),
            &format!("{} ({})", names::colour(s.colour), s.native_label),
        ]);
        t.row([
            lang::label("issued by"),
            &format!(
                "{} {} {}",
                s.issuing_region,
                names::region(&s.issuing_region),
                s.issuer
            ),
        ]);
        t.row([
            lang::label("refreshed"),
            &names::time(s.refresh_time.as_ref()),
        ]);
        t.row([
            lang::label("valid until"),
            &names::time(s.expire_time.as_ref()),
        ]);
    }
    t.row([lang::label("source"), names::source(v.source)]);
    if let Some(s) = &v.subject {
        if !s.masked_name.is_empty() {
            t.row([lang::label("name"), &s.masked_name]);
        }
        if !s.subject_ref.is_empty() {
            t.row([lang::label("subject_ref"), &s.subject_ref]);
        }
    }
    t.row([
        lang::label("rules of"),
        &format!(
            "{} {}",
            v.verifying_region,
            names::region(&v.verifying_region)
        ),
    ]);
    t.row([lang::label("agreement"), &v.agreement]);
    t.row([
        lang::label("registry"),
        &format!("version {}", v.registry_version),
    ]);
    for r in &v.reasons {
        t.row([lang::label("reason"), &format!("{}: {}", r.code, r.message)]);
    }
    // What an appeal quotes: only a decision other than PASS is appealed.
    if v.audit_seq > 0 && v.verdict != huren_proto::v1::Verdict::Pass as i32 {
        t.row([
            lang::label("appeal ref"),
            &format!(
                "audit #{} (huren appeal file --decision {})",
                v.audit_seq, v.audit_seq
            ),
        ]);
    }
    t.to_string()
}

/// The first reason's code, or "-".
pub fn first_reason(v: Option<&Verification>) -> String {
    v.and_then(|v| v.reasons.first())
        .map_or_else(|| "-".to_string(), |r| r.code.clone())
}

/// A passenger's row: seat, boarding, verdict, colour, issuing region, name, reason or error.
pub fn decision_row(d: &PassengerDecision) -> Vec<String> {
    let v = d.verification.as_ref();
    let status = v.and_then(|v| v.status.as_ref());
    let why = match &d.error {
        Some(e) => format!("error {}: {}", e.reason, e.message),
        None => first_reason(v),
    };
    vec![
        d.seat.clone(),
        names::boarding(d.boarding).to_string(),
        v.map_or("-", |v| names::verdict(v.verdict)).to_string(),
        status.map_or("-", |s| names::colour(s.colour)).to_string(),
        status.map_or_else(|| "-".to_string(), |s| s.issuing_region.clone()),
        v.and_then(|v| v.subject.as_ref())
            .map_or_else(|| "-".to_string(), |s| s.masked_name.clone()),
        why,
    ]
}

pub const DECISION_HEADER: [&str; 7] = [
    "seat", "boarding", "verdict", "colour", "issuer", "name", "why",
];

/// Totals, then every passenger not boarding (all of them with `all`).
pub fn manifest(resp: &CheckManifestResponse, all: bool) -> String {
    let mut out = String::new();
    if let Some(t) = &resp.totals {
        out.push_str(&format!(
            "train {}: {} passengers, {} BOARD, {} DENY, {} REVIEW (registry version {})\n",
            resp.train_id, t.total, t.board, t.deny, t.review, resp.registry_version
        ));
    }
    let mut table = Table::new(DECISION_HEADER);
    for d in &resp.decisions {
        if all || d.boarding != huren_proto::v1::Boarding::Board as i32 {
            table.row(decision_row(d));
        }
    }
    if !table.is_empty() {
        out.push_str(&table.to_string());
    }
    out
}

/// Totals, then a row per worker.
pub fn confirmations(resp: &ConfirmWorkersResponse) -> String {
    let mut out = String::new();
    if let Some(t) = &resp.totals {
        out.push_str(&format!(
            "{} confirmed, {} not confirmed, {} errors\n",
            t.confirmed, t.not_confirmed, t.errors
        ));
    }
    let mut table = Table::new([
        "worker",
        "verdict",
        "colour",
        "issuer",
        "subject_ref",
        "receipt",
        "why",
    ]);
    for c in &resp.confirmations {
        let v = c.verification.as_ref();
        let status = v.and_then(|v| v.status.as_ref());
        let subject_ref = v
            .and_then(|v| v.subject.as_ref())
            .map_or_else(|| "-".to_string(), |s| short(&s.subject_ref));
        let why = match &c.error {
            Some(e) => format!("error {}: {}", e.reason, e.message),
            None => first_reason(v),
        };
        table.row([
            c.worker_ref.clone(),
            v.map_or("-", |v| names::verdict(v.verdict)).to_string(),
            status.map_or("-", |s| names::colour(s.colour)).to_string(),
            status.map_or_else(|| "-".to_string(), |s| s.issuing_region.clone()),
            subject_ref,
            if c.receipt.is_some() { "signed" } else { "-" }.to_string(),
            why,
        ]);
    }
    out.push_str(&table.to_string());
    out
}

/// The first 12 characters of a long reference, for tables.
pub fn short(s: &str) -> String {
    if s.chars().count() > 12 {
        format!("{}…", s.chars().take(12).collect::<String>())
    } else if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

/// Counts by verifying × issuing region and verdict, confirmations by route, region health.
pub fn summary(resp: &GetNationalSummaryResponse) -> String {
    let mut out = format!(
        "national summary {} .. {} (registry version {})\n",
        names::time(resp.start_time.as_ref()),
        names::time(resp.end_time.as_ref()),
        resp.registry_version
    );
    let verdicts = [
        "PASS",
        "HOME_QUARANTINE",
        "CENTRAL_QUARANTINE",
        "REVIEW",
        "REJECT",
    ];
    let mut by_pair: BTreeMap<(String, String), BTreeMap<&str, u64>> = BTreeMap::new();
    for v in &resp.verifications {
        *by_pair
            .entry((v.verifying_region.clone(), v.issuing_region.clone()))
            .or_default()
            .entry(names::verdict(v.verdict))
            .or_default() += v.count;
    }
    let mut t = Table::new([
        "verifying",
        "issuing",
        "PASS",
        "HOME_Q",
        "CENTRAL_Q",
        "REVIEW",
        "REJECT",
        "total",
    ]);
    for ((verifying, issuing), counts) in &by_pair {
        let mut row = vec![verifying.clone(), issuing.clone()];
        for v in verdicts {
            row.push(counts.get(v).copied().unwrap_or(0).to_string());
        }
        row.push(counts.values().sum::<u64>().to_string());
        t.row(row);
    }
    out.push_str("decisions by verifying x issuing region:\n");
    out.push_str(&t.to_string());
    if !resp.confirmations.is_empty() {
        let mut c = Table::new(["origin", "destination", "confirmed", "not_confirmed"]);
        for row in &resp.confirmations {
            c.row([
                row.origin_region.clone(),
                row.destination_region.clone(),
                row.confirmed.to_string(),
                row.not_confirmed.to_string(),
            ]);
        }
        out.push_str("worker confirmations:\n");
        out.push_str(&c.to_string());
    }
    if !resp.region_health.is_empty() {
        let mut h = Table::new(["region", "", "health", "detail"]);
        for r in &resp.region_health {
            h.row([
                r.region.clone(),
                names::region(&r.region).to_string(),
                names::health(r.health).to_string(),
                r.detail.clone(),
            ]);
        }
        out.push_str("adapter health:\n");
        out.push_str(&h.to_string());
    }
    if !resp.appeals.is_empty() {
        let mut a = Table::new(["verifying", "issuing", "state", "appeals"]);
        for row in &resp.appeals {
            a.row([
                row.verifying_region.clone(),
                row.issuing_region.clone(),
                super::appeals::state(row.state).to_string(),
                row.count.to_string(),
            ]);
        }
        out.push_str("appeals by route:\n");
        out.push_str(&a.to_string());
    }
    out.push_str(&federation_lines(&resp.nodes, &resp.missing_nodes));
    out
}

/// Which nodes a fanned-out answer merges and which are missing; nothing on a single node.
pub fn federation_lines(nodes: &[String], missing: &[huren_proto::v1::MissingNode]) -> String {
    let mut out = String::new();
    if !nodes.is_empty() {
        out.push_str(&format!("merged from nodes: {}\n", nodes.join(", ")));
    }
    for m in missing {
        out.push_str(&format!(
            "PARTIAL: node {} missing ({}): {}\n",
            m.node_id,
            huren::fanout::merge::reason_word(m.reason()),
            m.detail
        ));
    }
    out
}
