//! A client whose own certificate cannot work says which file and why before it connects
//! (issue 13: an expired certificate gave `UNKNOWN: transport error`, naming nothing).

use std::path::Path;
use std::process::Command;

use huren_certs::{Ca, InitOptions, LeafSpec, Manifest};
use time::{Duration, OffsetDateTime};

const URI: &str = "spiffe://huren.dev/region/330110/role/checkpoint/gate-9";

/// `huren verify` presenting `spec` issued by `ca`; no gateway listens, so only the client's
/// own check can answer.
fn verify_with(dir: &Path, pki: &Path, name: &str, ca: &Ca, spec: &LeafSpec) -> (bool, String) {
    let (cert, key) = ca.issue(spec).unwrap();
    let (cert_file, key_file) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["verify", "YKM1.a.b", "--gateway", "https://127.0.0.1:9"])
        .arg("--pki")
        .arg(pki)
        .arg("--cert")
        .arg(&cert_file)
        .arg("--key")
        .arg(&key_file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unusable_client_certificate_is_named_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &InitOptions::default()).unwrap();
    let manifest = Manifest::load(&pki).unwrap();
    let region = manifest.region("330000").unwrap();
    let read = |p: &Path| std::fs::read_to_string(pki.join(p)).unwrap();
    let ca = Ca::load(&read(&region.ca), &read(&region.ca_key)).unwrap();
    let now = OffsetDateTime::now_utc();

    let expired = LeafSpec {
        not_before: now - Duration::days(30),
        not_after: now - Duration::days(1),
        ..LeafSpec::client("gate-9 expired", URI)
    };
    let (ok, err) = verify_with(dir.path(), &pki, "expired", &ca, &expired);
    assert!(!ok);
    assert!(
        err.contains("client certificate") && err.contains("expired.pem"),
        "{err}"
    );
    assert!(err.contains("expired at 20"), "{err}");
    assert_eq!(err.lines().count(), 1, "said once: {err}");

    let early = LeafSpec {
        not_before: now + Duration::days(2),
        not_after: now + Duration::days(30),
        ..LeafSpec::client("gate-9 early", URI)
    };
    let (ok, err) = verify_with(dir.path(), &pki, "early", &ca, &early);
    assert!(!ok);
    assert!(err.contains("early.pem: not valid before"), "{err}");

    let server = LeafSpec::server("gate-9 server", URI);
    let (ok, err) = verify_with(dir.path(), &pki, "server", &ca, &server);
    assert!(!ok);
    assert!(
        err.contains("server.pem: not a client certificate"),
        "{err}"
    );

    let stranger = Ca::new_root("another root").unwrap();
    let foreign = LeafSpec::client("gate-9 foreign", URI);
    let (ok, err) = verify_with(dir.path(), &pki, "foreign", &stranger, &foreign);
    assert!(!ok);
    assert!(
        err.contains("foreign.pem: not issued under the PKI's root"),
        "{err}"
    );

    // A good certificate passes the check and only then fails to connect (nothing listens).
    let good = LeafSpec::client("gate-9 good", URI);
    let (ok, err) = verify_with(dir.path(), &pki, "good", &ca, &good);
    assert!(!ok);
    assert!(!err.contains("client certificate"), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
}
