//! The prober's synthetic persons on the four-node dev federation, as separate processes: after
//! `huren probe` has verified every region's persons under every province's rules, the national
//! summary counts of every region — Zhejiang and Henan, read online, included — are what they
//! were; real persons read the same way are counted; the nodes' audit records say which
//! decisions were about test persons; and a real resident cannot be made one to hide them.

// Only `huren_within` is used here.
#[allow(dead_code)]
mod support;

#[path = "support/federation.rs"]
mod shared;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use huren::recognition::pipeline::SYNTHETIC_MARK;
use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_cli::federation::Federation;
use huren_cli::federation::issue::{KNOWN_AFTER, issue_code, issue_input};
use huren_cli::federation::layout::{NODES_DIR, PKI_DIR, REGIONS_DIR};
use huren_proto::v1::Verdict;
use shared::{files_holding, verify};
use support::p;

/// Every region the prober issues persons of.
const REGIONS: [&str; 7] = [
    "330000", "440000", "510000", "430000", "410000", "420000", "000000",
];
/// Real residents (valid check digits): a Hangzhou one and a Nanyang (Henan) one.
const ZHEJIANG_RESIDENT: &str = "330106198503070016";
const HENAN_RESIDENT: &str = "411302199206150029";
/// A Henan test person of the region's own test channel.
const HENAN_TEST_PERSON: &str = "41130220000101001X";

fn id(number: &str) -> ResidentId {
    ResidentId::parse(number).unwrap()
}

/// Decisions the national summary (merged from every node) counts, by issuing region; every
/// region listed, 0 when none.
async fn counted(federation: &Federation) -> BTreeMap<String, u64> {
    let summary = shared::national_summary(federation).await;
    REGIONS
        .iter()
        .map(|r| (r.to_string(), summary.decisions_issued_in(r)))
        .collect()
}

#[tokio::test]
async fn the_probers_persons_of_every_region_are_never_counted_and_real_ones_are() {
    let tmp = tempfile::tempdir().unwrap();
    let (federation, dir) = shared::start(&tmp).await;
    let gate = shared::checkpoint_at_zhejiang(&federation).await;

    // Real residents of the two online regions: Zhejiang's read by zhejiang's own service,
    // Henan's forwarded to west, which signs the statement.
    let zhejiang = issue_code(
        &dir,
        RegionCode::ZHEJIANG,
        &id(ZHEJIANG_RESIDENT),
        "王芳",
        Colour::Green,
    )
    .unwrap();
    let henan = issue_code(
        &dir,
        RegionCode::HENAN,
        &id(HENAN_RESIDENT),
        "李强",
        Colour::Green,
    )
    .unwrap();
    tokio::time::sleep(KNOWN_AFTER).await;
    for payload in [&zhejiang, &henan] {
        assert_eq!(verify(&gate, payload).await.verdict(), Verdict::Pass);
    }
    let before = counted(&federation).await;
    assert_eq!(
        before["330000"], 1,
        "a real Zhejiang person is counted: {before:?}"
    );
    assert_eq!(
        before["410000"], 1,
        "a real Henan person is counted: {before:?}"
    );

    // The whole matrix through the command line: 21 persons × 6 provinces' rules.
    let out = support::huren_within(
        &["probe", "--federation", p(&dir), "--json"],
        &dir,
        Stdio::piped(),
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let round: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(round["checks"], 126, "{stdout}");
    assert_eq!(round["mismatches"], serde_json::json!([]), "{stdout}");
    assert_eq!(round["counted"], serde_json::json!([]), "{stdout}");
    assert_eq!(
        counted(&federation).await,
        before,
        "the prober's 126 verdicts were counted"
    );

    // Judged, and the verdict shown to the caller, yet audited as a test person and not counted:
    // locally at zhejiang and in west's signed statement for the forwarded Henan reads.
    let test_person = IssueInput {
        synthetic: true,
        ..IssueInput::new(id(HENAN_TEST_PERSON), "赵敏", Colour::Green)
    };
    let payload = issue_input(&dir, RegionCode::HENAN, &test_person).unwrap();
    tokio::time::sleep(KNOWN_AFTER).await;
    assert_eq!(verify(&gate, &payload).await.verdict(), Verdict::Pass);
    assert_eq!(counted(&federation).await, before);
    let nodes = dir.join(NODES_DIR);
    for node in ["zhejiang", "west", "south"] {
        let audited = files_holding(&nodes.join(node), SYNTHETIC_MARK.as_bytes());
        assert!(!audited.is_empty(), "node {node} audits no test person");
    }

    // Attack: Zhejiang's test channel asked to make its real resident a test person, so their
    // next scans drop out of the summary. The region's records refuse it; they stay counted.
    let out = support::huren_within(
        &[
            "region",
            "issue",
            "--synthetic",
            "--region",
            "330000",
            "--id",
            ZHEJIANG_RESIDENT,
            "--name",
            "王芳",
            "--colour",
            "GREEN",
            "--pki",
            p(&dir.join(PKI_DIR)),
            "--data",
            p(&dir.join(REGIONS_DIR).join("330000")),
        ],
        &dir,
        Stdio::piped(),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a real resident was made synthetic");
    assert!(stderr.contains("real resident"), "{stderr}");
    tokio::time::sleep(KNOWN_AFTER).await;
    for payload in [&zhejiang, &henan] {
        assert_eq!(verify(&gate, payload).await.verdict(), Verdict::Pass);
    }
    let after = counted(&federation).await;
    assert_eq!(after["330000"], before["330000"] + 1, "{after:?}");
    assert_eq!(after["410000"], before["410000"] + 1, "{after:?}");
}
