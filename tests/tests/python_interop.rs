//! Interop with a non-Rust stack: Python grpcio (BoringSSL) calls health over mTLS with the dev
//! certificates and is refused without them. `.ci/run` installs grpcio in a virtualenv and sets
//! HUREN_PYTHON; outside CI the test skips loudly when that is unset, under CI it fails.

use std::path::Path;

use huren_tests::TestGateway;
use huren_tests::python::python;

fn run(python: &Path, args: &[String]) -> (bool, String) {
    huren_tests::python::run(python, "health_check.py", args)
}

#[tokio::test(flavor = "multi_thread")]
async fn python_grpcio_gets_serving_with_dev_certificates_and_is_refused_without() {
    let Some(python) = python("python_interop") else {
        return;
    };
    let gw = TestGateway::start().await;
    let pki = gw.pki.path();
    let client = gw.pki.manifest.client("checkpoint", None).unwrap();
    let path = |p: &Path| pki.join(p).display().to_string();
    let base = vec![
        "--addr".to_string(),
        gw.addr().to_string(),
        "--ca".to_string(),
        path(&gw.pki.manifest.root_ca),
    ];
    let mut with_cert = base.clone();
    with_cert.extend([
        "--cert".to_string(),
        path(&client.cert),
        "--key".to_string(),
        path(&client.key),
        "--service".to_string(),
        "huren.v1.RecognitionService".to_string(),
    ]);

    let python2 = python.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || run(&python2, &with_cert))
        .await
        .unwrap();
    assert!(
        ok,
        "grpcio with the dev checkpoint certificate failed:\n{out}"
    );
    assert!(out.contains("SERVING"), "{out}");

    let mut without = base;
    without.extend(["--timeout".to_string(), "5".to_string()]);
    let (ok, out) = tokio::task::spawn_blocking(move || run(&python, &without))
        .await
        .unwrap();
    assert!(
        !ok,
        "grpcio without a client certificate was served:\n{out}"
    );
    assert!(out.contains("REFUSED"), "{out}");
}
