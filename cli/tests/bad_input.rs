//! Bad input refused up front, as an operator meets it: nonsensical limits in `huren.toml` and
//! a trust domain that is not a SPIFFE name.

use std::process::Stdio;
use std::time::Duration;

#[allow(dead_code)] // this test uses part of the command helpers
mod support;
use support::{huren_within, region_issue};

fn run(args: &[&str], dir: &std::path::Path, bound: Duration) -> std::process::Output {
    huren_within(args, dir, Stdio::piped(), bound)
}

#[test]
fn serve_refuses_a_zero_limit_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (section, key) in [
        ("limits", "max_in_flight"),
        ("limits", "max_concurrent_streams"),
    ] {
        let config = dir.path().join("bad.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n[{section}]\n{key} = 0\n"
            ),
        )
        .unwrap();
        let output = run(
            &["serve", "--config", "bad.toml"],
            dir.path(),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(&format!("{section}.{key} = 0")), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn certs_init_refuses_a_trust_domain_that_is_not_a_spiffe_name() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["Bad Domain/../x", "huren.dev:443", "HUREN.dev"] {
        let output = run(
            &["certs", "init", "--out", "pki", "--trust-domain", bad],
            dir.path(),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{bad}: {stderr}");
        assert!(stderr.contains("trust domain"), "{stderr}");
        assert!(
            !dir.path().join("pki").join("manifest.json").exists(),
            "nothing is minted under {bad:?}"
        );
    }
    let good = run(
        &[
            "certs",
            "init",
            "--out",
            "pki",
            "--trust-domain",
            "gov-cn.example",
        ],
        dir.path(),
        Duration::from_secs(60),
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
}

#[test]
fn numeric_flags_out_of_range_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let init = run(
        &["certs", "init", "--out", "pki"],
        dir.path(),
        Duration::from_secs(60),
    );
    assert!(init.status.success());
    let issue = region_issue("pki");
    for (extra, flag) in [
        (["--valid-days", "9223372036854775807"], "--valid-days"),
        (["--valid-days", "0"], "--valid-days"),
    ] {
        let args: Vec<&str> = issue.iter().map(String::as_str).chain(extra).collect();
        let output = run(&args, dir.path(), Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    for args in [
        &[
            "registry",
            "init",
            "--timestamp-hours",
            "9223372036854775807",
        ][..],
        &["audit", "show", "state", "--limit", "0"][..],
        &["bench", "verify", "--in-flight", "0"][..],
    ] {
        let output = run(args, dir.path(), Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
