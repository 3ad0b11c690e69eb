//! `huren audit verify` as an operator runs it: exit status and the line it names.

use std::process::Command;

use huren_audit::{AuditLog, Config, Entry};

fn entry(n: u64) -> Entry {
    Entry {
        time: time::OffsetDateTime::now_utc(),
        caller: "spiffe://huren.dev/region/330110/role/checkpoint/gate-1".into(),
        method: "/huren.v1.Recognition/VerifyCode".into(),
        purpose: "road checkpoint".into(),
        issuing_region: "510000".into(),
        subject_ref: format!("{n:064x}"),
        verdict: "PASS".into(),
        registry_version: 1,
    }
}

#[tokio::test]
async fn verify_exits_zero_on_an_intact_log_and_names_the_altered_record() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    for n in 0..20 {
        log.append(entry(n)).await.unwrap();
    }
    log.close().await.unwrap();

    let huren = env!("CARGO_BIN_EXE_huren");
    let ok = Command::new(huren)
        .args(["audit", "verify"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("20 records intact"));

    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".log"))
        .unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let altered = lines[6].replacen("PASS", "FAIL", 1);
    lines[6] = &altered;
    std::fs::write(&segment, lines.join("\n") + "\n").unwrap();

    let bad = Command::new(huren)
        .args(["audit", "verify"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 7") && stderr.contains("seq 7"),
        "{stderr}"
    );
    assert!(stderr.contains("altered"), "{stderr}");
}

#[tokio::test]
async fn verify_with_a_key_checks_the_chain_against_its_signed_checkpoints() {
    use ed25519_dalek::pkcs8::EncodePublicKey;

    let dir = tempfile::tempdir().unwrap();
    let signer = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let pem = signer
        .verifying_key()
        .to_public_key_pem(Default::default())
        .unwrap();
    let key_file = dir.path().join("audit-checkpoint.pub.pem");
    std::fs::write(&key_file, pem).unwrap();
    let log_dir = dir.path().join("audit");
    let (log, _) =
        AuditLog::open_anchored(&log_dir, Config::default(), std::sync::Arc::new(signer))
            .await
            .unwrap();
    for n in 0..12 {
        log.append(entry(n)).await.unwrap();
    }
    log.close().await.unwrap();

    let huren = env!("CARGO_BIN_EXE_huren");
    let verify = || {
        Command::new(huren)
            .args(["audit", "verify"])
            .arg(&log_dir)
            .arg("--key")
            .arg(&key_file)
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("signed checkpoint of 12 records"));

    // Another node's key (or a forger's) does not vouch for this chain.
    let other = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let other_pem = other
        .verifying_key()
        .to_public_key_pem(Default::default())
        .unwrap();
    std::fs::write(&key_file, other_pem).unwrap();
    let bad = verify();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("not signed by this key"), "{stderr}");
}

/// Observed: `huren audit verify .huren/state`, the directory `serve` prints, said "OK" because it
/// looked for segments in the wrong directory; a check of nothing must fail.
#[tokio::test]
async fn verify_finds_the_log_in_the_state_directory_and_fails_when_it_checked_nothing() {
    let state = tempfile::tempdir().unwrap();
    let audit = state.path().join("audit");
    let (log, _) = AuditLog::open(&audit, Config::default()).await.unwrap();
    for n in 0..3 {
        log.append(entry(n)).await.unwrap();
    }
    log.close().await.unwrap();
    let huren = env!("CARGO_BIN_EXE_huren");

    let out = Command::new(huren)
        .args(["audit", "verify"])
        .arg(state.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 records intact"), "{stdout}");
    assert!(stdout.contains(&audit.display().to_string()), "{stdout}");

    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(huren)
        .args(["audit", "verify"])
        .arg(empty.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("nothing was checked"), "{stderr}");
}

/// The node's audit key as the dev registry keeps it (what `Node::assemble` signs with).
fn registry_audit_key(reg: &std::path::Path) -> std::sync::Arc<ed25519_dalek::SigningKey> {
    match huren_registry::SigningKey::from_pem_file(&reg.join("keys/audit.pem")).unwrap() {
        huren_registry::SigningKey::Ed25519(k) => std::sync::Arc::new(k),
        other => panic!("the dev audit key is Ed25519, not {:?}", other.algorithm()),
    }
}

#[tokio::test]
async fn verify_with_a_registry_uses_the_audit_key_it_lists_and_catches_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg) = (dir.path().join("pki"), dir.path().join("reg"));
    let huren = env!("CARGO_BIN_EXE_huren");
    let run = |args: &[&std::ffi::OsStr]| Command::new(huren).args(args).output().unwrap();
    for args in [
        vec![
            "certs".as_ref(),
            "init".as_ref(),
            "--out".as_ref(),
            pki.as_os_str(),
        ],
        vec![
            "registry".as_ref(),
            "init".as_ref(),
            "--pki".as_ref(),
            pki.as_os_str(),
            "--out".as_ref(),
            reg.as_os_str(),
        ],
    ] {
        let out = run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let write = |signer: Option<std::sync::Arc<ed25519_dalek::SigningKey>>| {
        let log_dir = dir.path().join("audit");
        async move {
            let _ = std::fs::remove_dir_all(&log_dir);
            let (log, _) = match signer {
                Some(s) => AuditLog::open_anchored(&log_dir, Config::default(), s).await,
                None => AuditLog::open(&log_dir, Config::default()).await,
            }
            .unwrap();
            for n in 0..12 {
                log.append(entry(n)).await.unwrap();
            }
            log.close().await.unwrap();
            log_dir
        }
    };
    let verify = |log_dir: &std::path::Path| {
        run(&[
            "audit".as_ref(),
            "verify".as_ref(),
            log_dir.as_os_str(),
            "--registry".as_ref(),
            reg.as_os_str(),
        ])
    };

    let log_dir = write(Some(registry_audit_key(&reg))).await;
    let ok = verify(&log_dir);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.contains("signed checkpoint of 12 records"),
        "{stdout}"
    );
    assert!(stdout.contains("node gateway-1's audit key"), "{stdout}");

    // Rewritten from scratch without the node's key: no checkpoint at all, or one signed by
    // another key. Each chain is intact on its own, and each fails.
    for forger in [
        None,
        Some(std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(
            &[7; 32],
        ))),
    ] {
        let log_dir = write(forger).await;
        let plain = run(&["audit".as_ref(), "verify".as_ref(), log_dir.as_os_str()]);
        assert!(plain.status.success(), "the rewrite is a well-formed chain");
        let bad = verify(&log_dir);
        assert!(
            !bad.status.success(),
            "{}",
            String::from_utf8_lossy(&bad.stdout)
        );
        let stderr = String::from_utf8_lossy(&bad.stderr);
        assert!(
            stderr.contains("does not match its signed checkpoints"),
            "{stderr}"
        );
    }

    // A node the registry does not list has no key to check against.
    let unknown = run(&[
        "audit".as_ref(),
        "verify".as_ref(),
        log_dir.as_os_str(),
        "--registry".as_ref(),
        reg.as_os_str(),
        "--node".as_ref(),
        "gateway-9".as_ref(),
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("lists no audit key"));
}
