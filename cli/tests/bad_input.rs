//! Bad input refused up front, as an operator meets it: nonsensical limits in `huren.toml` and
//! a trust domain that is not a SPIFFE name.

use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `huren` and waits at most `bound`: a command that should have refused its input but
/// serves instead is killed and reported.
fn huren_within(args: &[&str], dir: &std::path::Path, bound: Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "huren {args:?} still running after {bound:?} (it accepted the input): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
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
        let output = huren_within(
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
        let output = huren_within(
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
    let good = huren_within(
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
