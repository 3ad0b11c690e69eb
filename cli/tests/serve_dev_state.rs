//! `huren serve` on dev state that does not fit (issue 13, "Re-created PKI", "no status
//! service"): refused with what to run, and a region nobody lists named as such. (An expired
//! registry's hint is a unit test in `serve/dev_state.rs`: `registry init` cannot make one.)

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use huren_adapters::CodeId;
use huren_adapters::regions::zhejiang;
use tokio::io::{AsyncBufReadExt, BufReader};

/// `huren ARGS` in `cwd`, run to its end (a serve that should have refused is stopped after 60 s).
async fn huren(cwd: &Path, args: &[&str]) -> Output {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(cwd)
        .env_remove("HUREN_CONFIG")
        .env_remove("HUREN_PKI")
        .env_remove("HUREN_REGISTRY")
        .env_remove("HUREN_STATE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the command ends by itself")
        .unwrap()
}

const SERVE: [&str; 4] = ["serve", "--listen", "127.0.0.1:0", "--no-admin"];

#[tokio::test]
async fn a_recreated_pki_is_refused_and_an_unlisted_service_is_named() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    assert!(huren(dir, &["certs", "init"]).await.status.success());
    assert!(huren(dir, &["registry", "init"]).await.status.success());
    assert!(
        huren(dir, &["certs", "init", "--force"])
            .await
            .status
            .success()
    );

    let out = huren(dir, &SERVE).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("do not belong together"), "{err}");
    assert!(
        err.contains("huren registry init --pki .huren/dev --out .huren/registry --force"),
        "{err}"
    );

    // As told: the registry again from this PKI; then serve, and ask about a Zhejiang code, whose
    // status service the dev registry does not list.
    let again = huren(
        dir,
        &[
            "registry",
            "init",
            "--pki",
            ".huren/dev",
            "--out",
            ".huren/registry",
            "--force",
        ],
    )
    .await;
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let mut serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(SERVE)
        .current_dir(dir)
        .env_remove("HUREN_CONFIG")
        .env_remove("HUREN_PKI")
        .env_remove("HUREN_REGISTRY")
        .env_remove("HUREN_STATE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.strip_prefix("huren is serving gRPC over mutual TLS on ") {
                return Some(addr.trim().to_string());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("serve starts on a registry made from its PKI");
    let code = zhejiang::payload(&CodeId::random(), None);
    let gateway = format!("https://{addr}");
    let out = huren(dir, &["verify", &code, "--gateway", &gateway]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("verdict      REVIEW"), "{stdout}");
    assert!(
        stdout.contains("no status service listed for region 330000"),
        "{stdout}"
    );
    assert!(!stdout.contains("did not answer in time"), "{stdout}");
    let _ = serve.kill().await;
}
