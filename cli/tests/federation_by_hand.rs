//! `huren federation init`, then every process started by hand from `federation.json` exactly
//! as an operator would: the regional services' commands and `huren serve --config` per node.
//! A code is then issued and judged, and the national summary asked, with the client commands
//! the README prints beside them: at the node that serves its region, forwarded from one that
//! does not, and the summary fanned out to all four nodes.

#[allow(dead_code)] // only the command helpers are used here
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use huren::connect::connect;
use huren_cli::federation::FederationFile;
use huren_cli::federation::issue::KNOWN_AFTER;
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
                // As the README starts it: from the directory holding `fed/`, path relative.
                .arg(Path::new("fed").join(&node.config))
                .current_dir(tmp.path())
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
    // Issued as the README issues it, from the directory holding `fed/`.
    let top = tmp.path();
    let payload = issue_green(top, "330106199001010018", "王五");
    // A second resident's code, for the README's own verify below: a first read, so online.
    let readme_code = issue_green(top, "330106199001010026", "李四");
    let readme_code = readme_code.as_str();
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

    // The README's own client commands: verify at zhejiang, then the summary asked of national,
    // merged from all four nodes and complete.
    let gateway = |node: usize| format!("https://{}", file.nodes[node].listen);
    let verified = client(
        top,
        &[
            "verify",
            "--pki",
            "fed/pki",
            "--gateway",
            &gateway(1),
            "--json",
            readme_code,
        ],
    );
    assert!(verified.contains("VERDICT_PASS"), "{verified}");
    assert!(verified.contains("STATUS_SOURCE_ONLINE"), "{verified}");
    let summary = client(
        top,
        &[
            "summary",
            "--pki",
            "fed/pki",
            "--gateway",
            &gateway(0),
            "--json",
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("summary JSON");
    let mut nodes: Vec<&str> = summary["nodes"]
        .as_array()
        .map(|n| n.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        ["national", "south", "west", "zhejiang"],
        "{summary}"
    );
    assert_ne!(
        summary["partial"],
        serde_json::Value::Bool(true),
        "{summary}"
    );
    // zhejiang's two reads and south's forwarded one are all counted.
    let counted: u64 = summary["verifications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["issuingRegion"] == "330000")
        .filter_map(|v| v["count"].as_str()?.parse::<u64>().ok())
        .sum();
    assert!(counted >= 3, "{summary}");
}

/// Runs a README client command `huren args` from `dir` and returns what it printed.
fn client(dir: &Path, args: &[&str]) -> String {
    support::huren_ok(dir, args)
}

/// `huren region issue` of a green Zhejiang code, as the README runs it; the QR payload.
fn issue_green(top: &Path, id: &str, name: &str) -> String {
    // The README's line, word for word, with this resident's id and name.
    let mut args: Vec<&str> =
        "region issue --region 330000 --pki fed/pki --data fed/regions/330000 --colour GREEN"
            .split(' ')
            .collect();
    args.extend(["--id", id, "--name", name]);
    let issued = client(top, &args);
    let payload = issued.trim().to_string();
    assert!(!payload.is_empty() && !payload.contains('\n'), "{issued}");
    payload
}
