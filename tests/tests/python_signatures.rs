//! Interop with independent implementations of huren's signed formats, in Python:
//! securesystemslib verifies a recognition receipt and registry envelopes (Ed25519 and P-256, a
//! threshold of root keys) from their standard DSSE JSON; a C2SP verifier written from the
//! specifications with pyca/cryptography checks the registry's checkpoint note, its log
//! signature and the witnesses' `cosignature/v1` lines against k. Altered ones are refused.
//! Skips outside CI when HUREN_PYTHON is unset (see `huren_tests::python`).

use std::path::{Path, PathBuf};

use base64::Engine as _;

use huren::recognition::receipt::{self, ReceiptBody, ReceiptSigner};
use huren_adapters::Colour;
use huren_registry::dev::{DEV_NODE_ID, DevOptions, DevRegistry};
use huren_registry::note::{NoteVerifier, SignatureType, SignedNote};
use huren_registry::witness::{Cosigner, log_verifiers};
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
                // No dev role key is SM2; the script refuses an algorithm it does not know.
                Algorithm::Sm2 => "sm2",
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

/// The interpreter (or `None` to skip), a dev registry, a scratch directory and the time.
fn setup() -> Option<(PathBuf, DevRegistry, tempfile::TempDir, OffsetDateTime)> {
    let python = python("python_signatures")?;
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let dev = DevRegistry::build(pki.path(), &DevOptions::default(), now).expect("dev registry");
    Some((python, dev, tempfile::tempdir().unwrap(), now))
}

#[test]
fn securesystemslib_verifies_huren_receipts_and_registry_envelopes() {
    let Some((python, dev, dir, now)) = setup() else {
        return;
    };

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

/// Runs `checkpoint_verify.py` on `note` with the log's and the witnesses' vkeys.
fn verify_note(
    python: &Path,
    dir: &Path,
    note: &str,
    log_vkey: &str,
    witness_vkeys: &[String],
    threshold: u32,
) -> (bool, String) {
    let path = dir.join("checkpoint.note");
    std::fs::write(&path, note).unwrap();
    let mut args = vec![
        "--note".to_string(),
        path.display().to_string(),
        "--log-vkey".into(),
        log_vkey.to_string(),
        "--threshold".into(),
        threshold.to_string(),
    ];
    for v in witness_vkeys {
        args.extend(["--witness-vkey".to_string(), v.clone()]);
    }
    run(python, "checkpoint_verify.py", &args)
}

#[test]
fn an_independent_c2sp_verifier_checks_the_cosigned_checkpoint_note() {
    let Some((python, dev, dir, now)) = setup() else {
        return;
    };
    let mut note = SignedNote::parse(dev.registry.state().log.note.as_deref().unwrap()).unwrap();
    let log_vkey = log_verifiers(dev.registry.root())[0].vkey();

    // Four witnesses as the dev federation has them; two of them cosign.
    let mut vkeys = Vec::new();
    for (i, id) in ["national", "zhejiang", "west", "south"].iter().enumerate() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let v = NoteVerifier::new(id, SignatureType::CosignatureV1, &key.public_key()).unwrap();
        vkeys.push(v.vkey());
        if i % 2 == 0 {
            let sig = Cosigner::new(id, key, None)
                .cosign(&note, &[], now.unix_timestamp() as u64)
                .unwrap();
            note.add(sig);
        }
    }
    let text = note.to_text();
    let (ok, out) = verify_note(&python, dir.path(), &text, &log_vkey, &vkeys, 2);
    assert!(ok, "the cosigned checkpoint was refused:\n{out}");
    assert!(out.contains("cosigned-by national west"), "{out}");
    let cp = dev.registry.checkpoint();
    assert!(
        out.contains(&format!("VERIFIED {} {} ", cp.origin, cp.tree_size)),
        "{out}"
    );

    // Three needed, two given: refused.
    let (ok, out) = verify_note(&python, dir.path(), &text, &log_vkey, &vkeys, 3);
    assert!(!ok && out.contains("REFUSED"), "{out}");

    // Another tree size under the same signatures: refused.
    let size_line = format!("\n{}\n", cp.tree_size);
    let altered = text.replacen(&size_line, &format!("\n{}\n", cp.tree_size + 1), 1);
    let (ok, out) = verify_note(&python, dir.path(), &altered, &log_vkey, &vkeys, 0);
    assert!(!ok && out.contains("REFUSED"), "{out}");
}
