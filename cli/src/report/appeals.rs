//! Appeals (复核) as a person reads them: one appeal as a field/value table, a list as rows.

use huren_proto::v1::{Appeal, AppealState};

use super::lang;
use super::names;
use super::table::Table;

pub fn state(s: i32) -> &'static str {
    match AppealState::try_from(s) {
        Ok(AppealState::Open) => "OPEN",
        Ok(AppealState::Upheld) => "UPHELD",
        Ok(AppealState::Corrected) => "CORRECTED",
        _ => "-",
    }
}

pub fn appeal(a: &Appeal) -> String {
    let mut t = Table::new(["field", "value"].map(lang::label));
    t.row([lang::label("appeal"), &a.appeal_id]);
    t.row([lang::label("state"), state(a.state)]);
    t.row([
        lang::label("issuing"),
        &format!("{} {}", a.issuing_region, names::region(&a.issuing_region)),
    ]);
    t.row([
        lang::label("decision"),
        &format!(
            "{} under {} rules (node {} audit #{})",
            names::verdict(a.verdict),
            a.verifying_region,
            a.decision_node,
            a.decision_seq
        ),
    ]);
    if !a.masked_name.is_empty() {
        t.row([lang::label("name"), &a.masked_name]);
    }
    t.row([lang::label("reason"), &a.reason]);
    t.row([lang::label("filed by"), &a.filed_by]);
    t.row([lang::label("filed"), &names::time(a.filed_time.as_ref())]);
    if a.answered_time.is_some() {
        t.row([
            lang::label("answered"),
            &names::time(a.answered_time.as_ref()),
        ]);
        t.row([lang::label("answered by"), &a.answered_by]);
    }
    if a.state == AppealState::Corrected as i32 {
        t.row([
            lang::label("corrected to"),
            names::colour(a.corrected_colour),
        ]);
    }
    if !a.note.is_empty() {
        t.row([lang::label("note"), &a.note]);
    }
    if !a.correction.is_empty() {
        t.row([lang::label("correction"), &a.correction]);
    }
    t.to_string()
}

pub fn appeals(list: &[Appeal]) -> String {
    if list.is_empty() {
        return "no appeals\n".to_string();
    }
    let mut t = Table::new(["appeal", "state", "issuing", "verdict", "filed"].map(lang::label));
    for a in list {
        t.row([
            a.appeal_id.as_str(),
            state(a.state),
            a.issuing_region.as_str(),
            names::verdict(a.verdict),
            &names::time(a.filed_time.as_ref()),
        ]);
    }
    t.to_string()
}
