//! The show commands print JSON too (issue 13: they had no `--json`): one object each, with
//! lowerCamel names and RFC 3339 times, read here as a script would.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

// Only the runner is used here, not the code-issuing helpers.
#[allow(dead_code)]
mod support;

fn json_of(args: &[&str], dir: &Path) -> serde_json::Value {
    let out = support::huren_within(args, dir, Stdio::piped(), Duration::from_secs(60));
    assert!(
        out.status.success(),
        "huren {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("huren {args:?} ({e}): {text}"))
}

fn rfc3339(value: &serde_json::Value) -> bool {
    value.as_str().is_some_and(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
    })
}

#[test]
fn certs_show_registry_show_and_audit_show_print_json() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = support::huren_within(args, dir.path(), Stdio::null(), Duration::from_secs(60));
        assert!(out.status.success(), "huren {args:?}");
    };
    run(&["certs", "init", "--out", "pki"]);
    // Duration flags take humantime as well as their unit: two days, not 48 hours' number.
    run(&[
        "registry",
        "init",
        "--pki",
        "pki",
        "--out",
        "reg",
        "--timestamp-hours",
        "2d",
    ]);

    let certs = json_of(&["certs", "show", "--pki", "pki", "--json"], dir.path());
    assert_eq!(certs["trustDomain"], "huren.dev");
    let all = certs["certificates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(all.len() > 3, "{certs}");
    assert!(all.iter().all(|c| rfc3339(&c["notAfter"])), "{certs}");
    assert!(
        all.iter().any(|c| c["kind"] == "client"
            && c["spiffeIds"][0]
                .as_str()
                .is_some_and(|id| id.starts_with("spiffe://huren.dev/"))),
        "{certs}"
    );

    let registry = json_of(&["registry", "show", "reg", "--json"], dir.path());
    assert!(rfc3339(&registry["timestampExpires"]), "{registry}");
    let expires = time::OffsetDateTime::parse(
        registry["timestampExpires"].as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::hours(47) && left <= time::Duration::hours(48),
        "{left}"
    );
    let regions = registry["regions"].as_array().cloned().unwrap_or_default();
    assert!(regions.iter().any(|r| r["code"] == "330000"), "{registry}");
    assert!(
        regions
            .iter()
            .flat_map(|r| r["issuers"].as_array().cloned().unwrap_or_default())
            .all(|i| rfc3339(&i["notAfter"])),
        "{registry}"
    );
    assert!(!registry["agreements"].as_array().is_none_or(Vec::is_empty));

    let log = json_of(&["registry", "log", "reg", "--json"], dir.path());
    let entries = log["entries"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty(), "{log}");
    assert!(
        entries
            .iter()
            .all(|e| e["leafHash"].as_str().is_some_and(|h| h.len() == 64)),
        "{log}"
    );
    let last = log["checkpoints"]
        .as_array()
        .and_then(|c| c.last().cloned());
    assert_eq!(
        last.as_ref().map(|cp| cp["treeSize"].clone()),
        Some(serde_json::json!(entries.len())),
        "the last checkpoint covers every entry: {log}"
    );

    std::fs::create_dir_all(dir.path().join("state/audit")).unwrap();
    let audit = json_of(&["audit", "show", "state", "--json"], dir.path());
    assert_eq!(audit["intactRecords"], 0, "{audit}");
    assert_eq!(audit["chain"], "OK", "{audit}");
}
