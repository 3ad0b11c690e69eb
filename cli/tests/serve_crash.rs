//! The crash test: a real `huren serve` process under concurrent VerifyCode load is SIGKILLed;
//! afterwards `huren audit verify` passes and every decision a client received an answer for is
//! in the audit log (an answer goes out only after its record is durable).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use huren::connect::connect;
use huren_adapters::{IssueRequest, IssueStatus, IssuerSigner, RegionCode, ResidentId};
use huren_proto::v1::VerifyCodeRequest;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_registry::dev::{DevOptions, DevRegistry};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Offline-signed green codes of the four signed-only regions (no status service needed).
fn codes(pki: &Path) -> Vec<String> {
    let now = OffsetDateTime::now_utc();
    let id = ResidentId::parse("11010519491231002X").unwrap();
    [
        RegionCode::GUANGDONG,
        RegionCode::HUNAN,
        RegionCode::HUBEI,
        RegionCode::NATIONAL,
    ]
    .into_iter()
    .filter_map(|region| {
        let signer = IssuerSigner::from_pki(pki, region.as_str()).ok()?;
        let label = huren_adapters::vocabulary::vocabulary(region.as_str())?
            .label_for(huren_adapters::Colour::Green)?;
        let request = IssueRequest::new(
            id.clone(),
            "张三",
            IssueStatus::Label(label.to_string()),
            now + time::Duration::days(1),
        );
        huren_adapters::issue(region, &request, &signer, now).ok()
    })
    .collect()
}

fn huren_sync(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .output()
        .expect("huren runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_decision_survives_a_sigkill_mid_load() {
    huren::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let reg = dir.path().join("reg");
    DevRegistry::init(
        &pki,
        &reg,
        &DevOptions::default(),
        false,
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let state = dir.path().join("state");
    let payloads = codes(&pki);
    assert_eq!(payloads.len(), 4, "a code per signed region");

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-admin", "--pki"])
        .arg(&pki)
        .arg("--registry")
        .arg(&reg)
        .arg("--state")
        .arg(&state)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("huren serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
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
    // Keep reading stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let tls = huren_cli::pki::client_tls(&pki, "checkpoint", None).unwrap();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for w in 0..16 {
        let channel = connect(addr, &tls).await.expect("connects");
        let acked = acked.clone();
        let payloads = payloads.clone();
        workers.push(tokio::spawn(async move {
            let mut client = RecognitionServiceClient::new(channel);
            // Until the server dies (each task stops at its first failure), at most 100 000 calls.
            for i in 0..100_000u32 {
                let purpose = format!("crash-{w}-{i}");
                let request = VerifyCodeRequest {
                    payload: payloads[(i as usize + w) % payloads.len()].clone(),
                    verifying_region: String::new(),
                    purpose: purpose.clone(),
                };
                match client.verify_code(request).await {
                    Ok(_) => acked.lock().unwrap().push(purpose),
                    Err(_) => break,
                }
            }
        }));
    }
    // Kill once a good number of decisions are out, mid-load.
    for _ in 0..300 {
        if acked.lock().unwrap().len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().expect("SIGKILL sent");
    let _ = child.wait().await;
    for w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
    }
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(
        acked.len() >= 50,
        "load was running: {} answers",
        acked.len()
    );

    let audit = state.join("audit");
    let out = huren_sync(&["audit", "verify", &audit.display().to_string()]);
    if !out.status.success() {
        // Only a batch cut short by the kill may be torn; it held no answered decision.
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(why.contains("torn tail"), "{why}");
        let (log, report) = huren_audit::AuditLog::open(&audit, huren_audit::Config::default())
            .await
            .expect("recovers");
        assert!(report.torn.is_some());
        log.close().await.expect("closed");
        let out = huren_sync(&["audit", "verify", &audit.display().to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let mut logged = BTreeSet::new();
    let report = huren_audit::walk(&audit, |r, _| {
        logged.insert(r.entry.purpose.clone());
    })
    .unwrap();
    assert!(report.is_ok());
    let missing: Vec<_> = acked.difference(&logged).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} answered decisions are not in the audit log, e.g. {missing:?}",
        acked.difference(&logged).count()
    );
}
