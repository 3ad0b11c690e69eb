//! A probing round for people (the mismatch table and the stale nodes) or as one JSON object.

use super::finding::Round;
use crate::report::Table;
use crate::report::names;

/// The round as the terminal shows it.
pub fn text(round: &Round) -> String {
    let n = round.mismatches.len();
    let mut out = format!(
        "probed {} synthetic persons, {} verdicts, against registry version {}: {n} {}\n",
        round.persons,
        round.checks,
        round.registry_version,
        if n == 1 { "mismatch" } else { "mismatches" }
    );
    if !round.mismatches.is_empty() {
        let mut table = Table::new([
            "verifying",
            "issuing",
            "node",
            "person/status",
            "read as",
            "predicted",
            "got",
            "agreement",
        ]);
        for m in &round.mismatches {
            table.row([
                format!("{} {}", m.verifying, names::region(&m.verifying)),
                format!("{} {}", m.issuing, names::region(&m.issuing)),
                m.node.clone(),
                m.person.clone(),
                m.read_label.clone(),
                m.predicted.clone(),
                m.got.clone(),
                m.agreement.clone(),
            ]);
        }
        out.push_str(&table.to_string());
    }
    if !round.counted.is_empty() {
        out.push_str(&format!(
            "not flagged synthetic (the registry lists no probe issuer), so counted in the national summary: {}\n",
            round.counted.join(", ")
        ));
    }
    for s in &round.stale_nodes {
        out.push_str(&format!(
            "stale node {} (serves {}): {}\n",
            s.node,
            s.serves.join(", "),
            s.detail
        ));
    }
    out
}

/// The round as one line of JSON (lowerCamel keys), for `--json`.
pub fn json(round: &Round) -> anyhow::Result<String> {
    Ok(serde_json::to_string(round)?)
}
