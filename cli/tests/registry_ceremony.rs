//! The offline ceremony through the real binary: a root rotation signed by old and new keys is
//! published and verifies; signed only by the new keys it is refused with the reason.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

#[allow(dead_code)] // this test uses the command helpers only
mod support;

use support::p;

/// `huren args`, whatever its outcome (every path the test passes is absolute).
fn run(args: &[&str]) -> Output {
    support::huren_within(
        args,
        Path::new("."),
        Stdio::piped(),
        Duration::from_secs(60),
    )
}

/// `huren args`, which must succeed; its output.
fn ok(args: &[&str]) -> String {
    support::huren_ok(Path::new("."), args)
}

#[test]
fn root_rotation_needs_the_old_and_the_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg) = (dir.path().join("pki"), dir.path().join("reg"));
    ok(&["certs", "init", "--out", p(&pki)]);
    ok(&["registry", "init", "--pki", p(&pki), "--out", p(&reg)]);
    let new: Vec<_> = (1..=3)
        .map(|i| dir.path().join(format!("new-root-{i}.pem")))
        .collect();
    for k in &new {
        ok(&["registry", "keygen", "--out", p(k)]);
    }
    let root_key_ids: Vec<String> = ["root-1", "root-2", "root-3"]
        .iter()
        .map(|n| {
            let key = huren_registry::SigningKey::from_pem_file(&reg.join(format!("keys/{n}.pem")))
                .unwrap();
            key.key_id().0
        })
        .collect();
    let mut rotate = vec!["registry", "rotate-root", "--reg", p(&reg)];
    let pubs: Vec<String> = new
        .iter()
        .map(|k| p(&k.with_extension("pub")).to_string())
        .collect();
    for pubkey in &pubs {
        rotate.extend(["--add-key", pubkey.as_str()]);
    }
    for id in &root_key_ids {
        rotate.extend(["--remove-key", id.as_str()]);
    }
    ok(&rotate);
    ok(&[
        "registry",
        "bump",
        "--reg",
        p(&reg),
        "--doc",
        "agreements/national",
    ]);

    // Only the new keys: refused, with the reason, and nothing published.
    for k in &new[..2] {
        ok(&["registry", "sign", "--reg", p(&reg), "--key", p(k)]);
    }
    let out = run(&["registry", "publish", "--reg", p(&reg)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("root has 0 of the 2 signatures needed from the current root role"),
        "{err}"
    );

    // The old keys sign too (the root; the bumped national agreement is for the new keys only).
    for n in ["root-1", "root-3"] {
        ok(&[
            "registry",
            "sign",
            "--reg",
            p(&reg),
            "--doc",
            "root",
            "--key",
            p(&reg.join(format!("keys/{n}.pem"))),
        ]);
    }
    let published = ok(&["registry", "publish", "--reg", p(&reg)]);
    assert!(
        published.contains("published registry version 2"),
        "{published}"
    );
    let verified = ok(&["registry", "verify", p(&reg)]);
    assert!(verified.contains("root chain v1..v2"), "{verified}");
}

#[test]
fn trust_reset_prints_what_it_discards_and_keeps_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg, state) = (
        dir.path().join("pki"),
        dir.path().join("reg"),
        dir.path().join("state"),
    );
    ok(&["certs", "init", "--out", p(&pki)]);
    ok(&["registry", "init", "--pki", p(&pki), "--out", p(&reg)]);
    let now = time::OffsetDateTime::now_utc();
    let registry = huren_registry::store::load(&reg, None, now).unwrap();
    let trusted = huren_registry::trusted::TrustedState::of(&registry);
    huren_registry::trusted::file::save(&state, &trusted).unwrap();

    let out = ok(&["registry", "trust-reset", "--state", p(&state)]);
    assert!(out.contains("registry (timestamp) version 1"), "{out}");
    assert!(out.contains("regions/440000 version 1"), "{out}");
    assert!(!state.join("trusted.json").exists());
    let records: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("trust-reset-"))
        .collect();
    assert_eq!(records.len(), 1, "one audit record of the reset");
    let kept: huren_registry::trusted::TrustedState =
        serde_json::from_slice(&std::fs::read(records[0].path()).unwrap()).unwrap();
    assert_eq!(kept, trusted);

    let again = ok(&["registry", "trust-reset", "--state", p(&state)]);
    assert!(again.contains("nothing to discard"), "{again}");
}

#[test]
fn revoke_asks_for_one_of_the_three_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg) = (dir.path().join("pki"), dir.path().join("reg"));
    ok(&["certs", "init", "--out", p(&pki)]);
    ok(&["registry", "init", "--pki", p(&pki), "--out", p(&reg)]);
    let revoke = [
        "registry",
        "revoke",
        "--reg",
        p(&reg),
        "--region",
        "510000",
        "--issuer",
        "sc-2020-01",
    ];
    let missing = run(&revoke);
    assert!(!missing.status.success(), "no silent default reason");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--reason"));
    let free_text = run(&[&revoke[..], &["--reason", "key compromise"]].concat());
    assert!(!free_text.status.success());
    assert!(
        String::from_utf8_lossy(&free_text.stderr)
            .contains("key_compromise, retired or superseded")
    );
    for reason in ["key_compromise", "retired", "superseded"] {
        ok(&[&revoke[..], &["--reason", reason]].concat());
    }
}

/// `add-issuer --algorithm sm2`: Hunan's SM2 certificate is listed under a new id, signed,
/// published and verified; declared as P-256 it is refused.
#[test]
fn an_sm2_issuer_is_added_published_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg) = (dir.path().join("pki"), dir.path().join("reg"));
    ok(&["certs", "init", "--out", p(&pki)]);
    ok(&["registry", "init", "--pki", p(&pki), "--out", p(&reg)]);
    let cert = pki.join("regions/430000/issuer-sm2.pem");
    let add = |algorithm: &str| {
        run(&[
            "registry",
            "add-issuer",
            "--reg",
            p(&reg),
            "--region",
            "430000",
            "--id",
            "hn-sm2-2026-02",
            "--cert",
            p(&cert),
            "--algorithm",
            algorithm,
        ])
    };
    let wrong = add("ecdsa-p256");
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("sm2"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(add("sm2").status.success());
    let key = reg.join("keys/region-430000-1.pem");
    ok(&["registry", "sign", "--reg", p(&reg), "--key", p(&key)]);
    ok(&["registry", "publish", "--reg", p(&reg)]);
    ok(&["registry", "verify", p(&reg)]);
    let shown = ok(&["registry", "show", p(&reg)]);
    assert!(shown.contains("hn-sm2-2026-02"), "{shown}");
    assert!(shown.contains("sm2"), "{shown}");
}

/// Signs the pending root with the dev root keys named, then publishes.
fn sign_root_and_publish(reg: &Path, keys: &[&str]) -> Output {
    for n in keys {
        ok(&[
            "registry",
            "sign",
            "--reg",
            p(reg),
            "--doc",
            "root",
            "--key",
            p(&reg.join(format!("keys/{n}.pem"))),
        ]);
    }
    run(&["registry", "publish", "--reg", p(reg)])
}

#[test]
fn a_node_is_listed_changed_and_removed_under_the_root_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, reg) = (dir.path().join("pki"), dir.path().join("reg"));
    ok(&["certs", "init", "--out", p(&pki)]);
    ok(&["registry", "init", "--pki", p(&pki), "--out", p(&reg)]);
    let (receipt, witness) = (
        dir.path().join("zj-receipt.pem"),
        dir.path().join("zj-witness.pem"),
    );
    for k in [&receipt, &witness] {
        ok(&["registry", "keygen", "--out", p(k)]);
    }
    let (receipt_pub, witness_pub) = (receipt.with_extension("pub"), witness.with_extension("pub"));
    let spiffe = "spiffe://huren.test/region/330000/role/gateway/zhejiang";
    let add = [
        "registry",
        "node",
        "add",
        "--reg",
        p(&reg),
        "--id",
        "zhejiang",
        "--spiffe-id",
        spiffe,
        "--region",
        "330000",
        "--endpoint",
        "https://127.0.0.1:7001",
        "--endpoint",
        "https://127.0.0.1:7002",
        "--receipt-key",
        p(&receipt_pub),
        "--witness-key",
        p(&witness_pub),
    ];
    let pending = ok(&add);
    assert!(
        pending.contains("needs 2 of the current root role"),
        "{pending}"
    );

    // One root signature is below the threshold: refused, nothing published.
    let out = sign_root_and_publish(&reg, &["root-1"]);
    assert!(!out.status.success(), "published with one root signature");
    let out = sign_root_and_publish(&reg, &["root-2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = ok(&["registry", "show", p(&reg)]);
    assert!(shown.contains(&format!("zhejiang {spiffe}")), "{shown}");
    assert!(shown.contains("endpoint https://127.0.0.1:7002"), "{shown}");
    assert!(shown.contains("witness key"), "{shown}");

    // Listed once: adding it again, or another node under its SPIFFE id, is refused.
    let again = run(&add);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already lists node \"zhejiang\""));
    let mut twin = add;
    twin[6] = "zhejiang-2";
    let twin = run(&twin);
    assert!(!twin.status.success());
    assert!(String::from_utf8_lossy(&twin.stderr).contains("already node \"zhejiang\"'s"));

    ok(&[
        "registry",
        "node",
        "set",
        "--reg",
        p(&reg),
        "--id",
        "zhejiang",
        "--region",
        "330000",
        "--region",
        "310000",
    ]);
    assert!(
        sign_root_and_publish(&reg, &["root-1", "root-3"])
            .status
            .success()
    );
    let shown = ok(&["registry", "show", p(&reg)]);
    assert!(shown.contains("serves 330000 310000"), "{shown}");

    ok(&[
        "registry",
        "node",
        "remove",
        "--reg",
        p(&reg),
        "--id",
        "zhejiang",
    ]);
    assert!(
        sign_root_and_publish(&reg, &["root-2", "root-3"])
            .status
            .success()
    );
    let shown = ok(&["registry", "show", p(&reg)]);
    assert!(!shown.contains("zhejiang"), "{shown}");
    assert!(ok(&["registry", "verify", p(&reg)]).contains("root chain v1..v4"));
}
