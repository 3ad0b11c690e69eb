//! The node's audit log after the scenarios, checked the way `huren audit verify` does, and
//! compared with what the national summary counted.

use super::check::Checks;
use crate::loopback::stack::Stack;

/// The audit log of the node, checked like an operator would (`huren audit verify`).
pub fn run(stack: &Stack, counted: Option<u64>, checks: &mut Checks) {
    println!("\naudit log");
    let dir = stack.regions.dirs.state.join(huren::node::AUDIT_DIR);
    match huren_audit::verify(&dir) {
        Ok(report) => {
            println!(
                "  {}: {} records, one per decision about a person, each hash-chained to the one before",
                dir.display(),
                report.scan.records
            );
            checks.expect(
                "the audit log verifies (what `huren audit verify` checks)",
                report.is_ok(),
                report.to_string(),
            );
            if let Some(counted) = counted {
                checks.equal(
                    "every decision the national summary counted has its audit record",
                    report.scan.records,
                    counted,
                );
            }
        }
        Err(e) => checks.expect("the audit log verifies", false, e.to_string()),
    }
}
