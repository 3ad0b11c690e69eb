//! Interop with an independent DSSE implementation: Python securesystemslib verifies a huren
//! recognition receipt and registry envelopes (Ed25519 and P-256, a threshold of root keys)
//! from their standard DSSE JSON, and refuses one whose payload was altered. Skips outside CI
//! when HUREN_PYTHON is unset (see `huren_tests::python`).

use std::path::Path;

use base64::Engine as _;

use huren::recognition::receipt::{self, ReceiptBody, ReceiptSigner};
use huren_adapters::Colour;
use huren_registry::dev::{DEV_NODE_ID, DevOptions, DevRegistry};
use huren_registry::{Algorithm, Envelope, KeySet, SigningKey, Verdict};
use huren_tests::Pki;
use huren_tests::python::{python, run};
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// The trusted keys as `dsse_verify.py` reads them.
fn keys_json(set: &KeySet) -> serde_json::Value {
    set.keys
        .iter()
        .map(|(id, key)| {
            let algorithm = match key.algorithm {
                Algorithm::Ed25519 => "ed25519",
                Algorithm::EcdsaP256 => "ecdsa-p256",
            };
            json!({"keyid": id.0, "algorithm": algorithm, "public": b64(&key.public)})
        })
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Runs `dsse_verify.py` on `env` written as JSON, trusting `set`.
fn verify(python: &Path, dir: &Path, name: &str, env: &Envelope, set: &KeySet) -> (bool, String) {
    let env_path = dir.join(format!("{name}.json"));
    let keys_path = dir.join(format!("{name}.keys.json"));
    std::fs::write(&env_path, serde_json::to_vec_pretty(env).unwrap()).unwrap();
    std::fs::write(&keys_path, serde_json::to_vec(&keys_json(set)).unwrap()).unwrap();
    run(
        python,
        "dsse_verify.py",
        &[
            "--envelope".into(),
            env_path.display().to_string(),
            "--keys".into(),
            keys_path.display().to_string(),
            "--threshold".into(),
            set.threshold.to_string(),
            "--payload-type".into(),
            env.payload_type.clone(),
        ],
    )
}

#[test]
fn securesystemslib_verifies_huren_receipts_and_registry_envelopes() {
    let Some(python) = python("python_dsse") else {
        return;
    };
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let dev = DevRegistry::build(pki.path(), &DevOptions::default(), now).expect("dev registry");
    let dir = tempfile::tempdir().unwrap();

    // A recognition receipt, written as huren writes receipt files.
    let key = SigningKey::from_pkcs8_der(&dev.keys.receipt.to_pkcs8_der().unwrap()).unwrap();
    let signer = ReceiptSigner::new(DEV_NODE_ID, key);
    let env = signer
        .sign(ReceiptBody {
            subject_ref: "ref-1".into(),
            origin_region: "410000".into(),
            destination_region: "330000".into(),
            origin_colour: Colour::Green,
            destination_verdict: Verdict::Pass,
            valid_until: now + Duration::days(1),
            agreement: "national".into(),
            registry_version: dev.registry.version(),
            node_id: String::new(),
            issued_at: now,
        })
        .unwrap();
    let receipt_path = dir.path().join("receipt.json");
    receipt::write_file(&receipt_path, &env).unwrap();
    let written: Envelope = serde_json::from_slice(&std::fs::read(&receipt_path).unwrap()).unwrap();
    let node_keys = KeySet::new([dev.registry.receipt_key(DEV_NODE_ID).unwrap().clone()], 1);
    let (ok, out) = verify(&python, dir.path(), "receipt", &written, &node_keys);
    assert!(ok && out.contains("VERIFIED"), "receipt refused:\n{out}");

    // The root: two of three root keys must have signed.
    let state = dev.registry.state();
    let root = state.root().unwrap();
    let root_keys = dev.registry.root().roles.root.clone();
    assert_eq!(root_keys.threshold, 2);
    let (ok, out) = verify(&python, dir.path(), "root", root, &root_keys);
    assert!(ok, "root envelope refused:\n{out}");

    // Sichuan's region document is signed with P-256 keys (DER signatures).
    let sichuan = &state.documents["regions/510000"];
    let sichuan_keys = dev.registry.root().regions["510000"].keys.clone();
    assert!(
        sichuan_keys
            .keys
            .values()
            .all(|k| k.algorithm == Algorithm::EcdsaP256)
    );
    let (ok, out) = verify(&python, dir.path(), "sichuan", sichuan, &sichuan_keys);
    assert!(ok, "P-256 region envelope refused:\n{out}");

    // An altered payload is refused by the other implementation too.
    let mut altered = written.clone();
    altered.payload[0] ^= 1;
    let (ok, out) = verify(&python, dir.path(), "altered", &altered, &node_keys);
    assert!(
        !ok && out.contains("REFUSED"),
        "altered receipt accepted:\n{out}"
    );
}
