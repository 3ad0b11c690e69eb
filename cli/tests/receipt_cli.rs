//! `huren receipt verify FILE --registry REG`, the real binary: a receipt signed by the node's
//! listed key passes and prints what it says; an altered, foreign or expired one exits non-zero.

use std::path::Path;
use std::process::Output;

use huren::recognition::receipt::{self, ReceiptBody, ReceiptSigner};
use huren_adapters::Colour;
use huren_registry::dev::{DEV_NODE_ID, DevOptions, DevRegistry};
use huren_registry::{Algorithm, SigningKey, Verdict};
use time::{Duration, OffsetDateTime};

fn huren(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .output()
        .expect("huren runs")
}

fn body(valid_until: OffsetDateTime) -> ReceiptBody {
    let now = OffsetDateTime::now_utc();
    ReceiptBody {
        subject_ref: "ab".repeat(32),
        origin_region: "410000".into(),
        destination_region: "330000".into(),
        origin_colour: Colour::Green,
        destination_verdict: Verdict::Pass,
        valid_until,
        agreement: "national".into(),
        registry_version: 1,
        node_id: DEV_NODE_ID.into(),
        issued_at: now,
    }
}

fn check(file: &Path, reg: &Path) -> Output {
    huren(&[
        "receipt",
        "verify",
        &file.display().to_string(),
        "--registry",
        &reg.display().to_string(),
    ])
}

#[test]
fn receipts_verify_offline_and_fail_when_altered_foreign_or_expired() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let reg = dir.path().join("reg");
    let now = OffsetDateTime::now_utc();
    DevRegistry::init(&pki, &reg, &DevOptions::default(), false, now).unwrap();
    let node_key = SigningKey::from_pem_file(&reg.join("keys").join("receipt.pem")).unwrap();
    let signer = ReceiptSigner::new(DEV_NODE_ID, node_key);

    let good = signer.sign(body(now + Duration::hours(24))).unwrap();
    let file = dir.path().join("good.json");
    receipt::write_file(&file, &good).unwrap();
    let out = check(&file, &reg);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains(&"ab".repeat(32)), "{stdout}");
    assert!(stdout.contains("PASS"), "{stdout}");

    let mut altered = good.clone();
    altered.payload = String::from_utf8(altered.payload)
        .unwrap()
        .replace("410000", "420000")
        .into_bytes();
    let file = dir.path().join("altered.json");
    receipt::write_file(&file, &altered).unwrap();
    let out = check(&file, &reg);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("altered"));

    let stranger = ReceiptSigner::new(
        DEV_NODE_ID,
        SigningKey::generate(Algorithm::Ed25519).unwrap(),
    );
    let file = dir.path().join("foreign.json");
    receipt::write_file(
        &file,
        &stranger.sign(body(now + Duration::hours(1))).unwrap(),
    )
    .unwrap();
    let out = check(&file, &reg);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node"));

    let expired = signer.sign(body(now - Duration::minutes(1))).unwrap();
    let file = dir.path().join("expired.json");
    receipt::write_file(&file, &expired).unwrap();
    let out = check(&file, &reg);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
}
