//! `huren federation init`, then every process started by hand from `federation.json` exactly
//! as an operator would: the regional services' commands and `huren serve --config` per node.
//! A code is then judged at the node that serves its region.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use huren::connect::connect;
use huren_adapters::{Colour, RegionCode};
use huren_cli::federation::FederationFile;
use huren_cli::federation::issue::{KNOWN_AFTER, issue_code};
use huren_cli::federation::launcher::readyz;
use huren_cli::federation::layout::Ports;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{StatusSource, Verdict, VerifyCodeRequest};

/// Kills what the test started, whatever happens.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn init_then_the_printed_commands_bring_up_a_federation_that_answers() {
    huren::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fed");
    let base = Ports::free().unwrap().base.to_string();
    let init = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["federation", "init", "--out"])
        .arg(&dir)
        .args(["--base-port", &base])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let printed = String::from_utf8_lossy(&init.stdout);
    assert!(
        printed.contains(&format!(
            "huren serve --config {}/nodes/west/huren.toml",
            dir.display()
        )),
        "{printed}"
    );

    let file = FederationFile::load(&dir).unwrap();
    assert_eq!(
        file.nodes
            .iter()
            .map(|n| n.node_id.as_str())
            .collect::<Vec<_>>(),
        ["national", "zhejiang", "west", "south"]
    );
    let mut running = Processes(Vec::new());
    for region in &file.regions {
        assert_eq!(region.command[0], "huren");
        running.0.push(
            Command::new(env!("CARGO_BIN_EXE_huren"))
                .args(&region.command[1..])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for node in &file.nodes {
        running.0.push(
            Command::new(env!("CARGO_BIN_EXE_huren"))
                .args(["serve", "--config"])
                .arg(dir.join(&node.config))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let started = Instant::now();
    for node in &file.nodes {
        while !readyz(node.admin).await {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "node {} not ready",
                node.node_id
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Zhejiang's codes are online: only the node serving 330000 reads them at the source.
    let payload = issue_code(
        &dir,
        RegionCode::ZHEJIANG,
        &huren_adapters::ResidentId::parse("330106199001010018").unwrap(),
        "王五",
        Colour::Green,
    )
    .unwrap();
    tokio::time::sleep(KNOWN_AFTER).await;
    let tls = huren_cli::pki::client_tls(&dir.join("pki"), "checkpoint", Some("330110")).unwrap();
    let verify = |node: usize| {
        let (addr, tls, payload) = (file.nodes[node].listen, tls.clone(), payload.clone());
        async move {
            let mut client = RecognitionServiceClient::new(connect(addr, &tls).await.unwrap());
            client
                .verify_code(VerifyCodeRequest {
                    payload,
                    verifying_region: String::new(),
                    purpose: "federation-by-hand".into(),
                })
                .await
                .unwrap()
                .into_inner()
                .verification
                .unwrap()
        }
    };
    let at_zhejiang = verify(1).await;
    assert_eq!(at_zhejiang.verdict(), Verdict::Pass);
    assert_eq!(at_zhejiang.source(), StatusSource::Online);
    // south does not serve Zhejiang and never calls its service: it forwards the read to
    // zhejiang, the node the registry lists for 330000, and says so.
    let at_south = verify(3).await;
    assert_eq!(at_south.verdict(), Verdict::Pass);
    assert_eq!(at_south.source(), StatusSource::Forwarded);
    assert_eq!(at_south.forwarded_by, "zhejiang");
}
