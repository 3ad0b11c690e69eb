//! Crash safety of `huren registry publish`: killed between writing and renaming, the registry
//! directory holds the old state, which loads; run again, it holds the new one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use huren_registry::store;

fn huren(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .output()
        .expect("run huren");
    assert!(
        out.status.success(),
        "huren {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[test]
fn publish_killed_mid_write_leaves_the_old_state_and_a_rerun_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let reg = dir.path().join("reg");
    let (pki_s, reg_s) = (pki.to_str().unwrap(), reg.to_str().unwrap());
    huren(&["certs", "init", "--out", pki_s]);
    huren(&["registry", "init", "--pki", pki_s, "--out", reg_s]);
    huren(&[
        "registry",
        "revoke",
        "--reg",
        reg_s,
        "--region",
        "510000",
        "--issuer",
        "sc-2020-01",
        "--reason",
        "key_compromise",
    ]);
    let key = reg.join("keys/region-510000-1.pem");
    huren(&[
        "registry",
        "sign",
        "--reg",
        reg_s,
        "--key",
        key.to_str().unwrap(),
    ]);
    let old = std::fs::read(reg.join(store::STATE_FILE)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["registry", "publish", "--reg", reg_s])
        .env(store::PAUSE_ENV, "30000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the new state is fully written to the temporary file but not yet renamed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while temp_files(&reg).is_empty() {
        assert!(Instant::now() < deadline, "publish never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(std::fs::read(reg.join(store::STATE_FILE)).unwrap(), old);
    let loaded = store::load(&reg, None, now()).unwrap();
    assert_eq!(loaded.version(), 1);

    huren(&["registry", "publish", "--reg", reg_s]);
    let loaded = store::load(&reg, None, now()).unwrap();
    assert_eq!(loaded.version(), 2);
    let sc = loaded
        .region(huren_adapters::RegionCode::parse("510000").unwrap())
        .unwrap();
    assert_eq!(sc.document.revocations.len(), 1);
}

#[test]
fn verify_prints_each_check_and_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let reg = dir.path().join("reg");
    let (pki_s, reg_s) = (pki.to_str().unwrap(), reg.to_str().unwrap());
    huren(&["certs", "init", "--out", pki_s]);
    huren(&["registry", "init", "--pki", pki_s, "--out", reg_s]);
    let ok = huren(&["registry", "verify", reg_s]);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(text.contains("✓ regions/510000"), "{text}");
    assert!(text.contains("is valid"), "{text}");

    // Strip every signature from Sichuan's document.
    let path = reg.join(store::STATE_FILE);
    let mut state = store::read_state(&reg).unwrap();
    state
        .documents
        .get_mut("regions/510000")
        .unwrap()
        .signatures
        .clear();
    std::fs::write(&path, state.to_bytes()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["registry", "verify", reg_s])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✗ document regions/510000 has 0 valid signatures"),
        "{text}"
    );

    std::fs::write(&path, b"{\"truncated").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["registry", "verify", reg_s])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a huren registry"));
}
