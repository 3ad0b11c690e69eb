//! `huren serve` with nothing configured: it creates the dev PKI and the dev registry in
//! `./.huren`, verifies codes over mutual TLS at once, and on SIGTERM stops with an intact audit
//! log holding the decision.

use std::process::Stdio;
use std::time::Duration;

use huren::connect::connect;
use huren_adapters::{IssueRequest, IssueStatus, IssuerSigner, RegionCode, ResidentId};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn an_unconfigured_serve_creates_the_dev_setup_and_verifies_at_once() {
    huren::tls::install_crypto_provider();
    let cwd = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-admin"])
        .current_dir(cwd.path())
        .env_remove("HUREN_CONFIG")
        .env_remove("HUREN_PKI")
        .env_remove("HUREN_REGISTRY")
        .env_remove("HUREN_STATE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("huren serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.strip_prefix("huren is serving gRPC over mutual TLS on ") {
                return addr.trim().parse::<std::net::SocketAddr>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the gateway says where it listens");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let dot = cwd.path().join(".huren");
    let pki = dot.join("dev");
    assert!(
        dot.join("registry/registry.json").exists(),
        "dev registry created"
    );
    let signer = IssuerSigner::from_pki(&pki, "430000").expect("Hunan's issuer key");
    let now = OffsetDateTime::now_utc();
    let request = IssueRequest::new(
        ResidentId::parse("11010519491231002X").unwrap(),
        "张三",
        IssueStatus::Label("绿码".into()),
        now + time::Duration::days(1),
    );
    let payload = huren_adapters::issue(RegionCode::HUNAN, &request, &signer, now).unwrap();
    let tls = huren_cli::pki::client_tls(&pki, "checkpoint", None).unwrap();
    let mut client = RecognitionServiceClient::new(connect(addr, &tls).await.expect("connects"));
    let v = client
        .verify_code(VerifyCodeRequest {
            payload,
            verifying_region: String::new(),
            purpose: "smoke".into(),
        })
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("verification");
    assert_eq!(v.verdict(), Verdict::Pass);

    let pid = child.id().expect("running");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops after draining")
        .expect("exit status");
    assert!(status.success(), "{status:?}");
    let mut purposes = Vec::new();
    let report = huren_audit::walk(&dot.join("state/audit"), |r, _| {
        purposes.push(r.entry.purpose.clone())
    })
    .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(purposes, ["smoke"]);
}
