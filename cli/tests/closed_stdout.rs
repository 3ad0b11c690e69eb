//! Every subcommand that prints, run with its stdout piped into a reader that has already
//! closed (`huren … | head -1` after `head` left): each must end quietly, never panic.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)] // this test uses part of the command helpers
mod support;
use support::{RESIDENT_ID, huren_within, region_issue};

use huren::recognition::receipt::{self, ReceiptBody, ReceiptSigner};
use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::Codes;
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;
use huren_registry::SigningKey;
use huren_registry::Verdict;
use huren_registry::dev::DEV_NODE_ID;
use time::OffsetDateTime;

/// How `args` ended with a closed stdout; a run still going after `bound` fails.
fn with_closed_stdout(args: &[String], dir: &Path, bound: Duration) -> (ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = huren_within(args, dir, writer.into(), bound);
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet(args: &[String], status: ExitStatus, stderr: &str) {
    assert_ne!(
        status.code(),
        Some(101),
        "huren {args:?} panicked: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "huren {args:?}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "huren {args:?}: {stderr}");
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_printing_subcommand_ends_quietly_when_its_reader_is_gone() {
    let stack = Stack::fresh("closed-stdout").await.unwrap();
    let root = stack.regions.dirs.root.clone();
    let pki = stack.pki().display().to_string();
    let reg = stack.regions.dirs.registry.display().to_string();
    let state = stack.regions.dirs.state.display().to_string();
    let gateway = format!("https://{}", stack.addr().unwrap());

    let codes = Codes::load(stack.pki()).unwrap();
    let mut people = People::new(3);
    let gd = RegionCode::GUANGDONG;
    let green = codes
        .issue(
            &stack.regions,
            gd,
            &people.resident(gd),
            Colour::Green,
            OffsetDateTime::now_utc() - time::Duration::minutes(5),
        )
        .await
        .unwrap();
    // One answered call, so the audit log has a record to show.
    let mut client = huren_proto::v1::recognition_service_client::RecognitionServiceClient::new(
        stack.channel("checkpoint", None).await.unwrap(),
    );
    client
        .verify_code(huren_proto::v1::VerifyCodeRequest {
            payload: green.clone(),
            verifying_region: String::new(),
            purpose: "closed-stdout".into(),
        })
        .await
        .unwrap();
    let henan = stack.regions.service(RegionCode::HENAN).unwrap();
    let worker = people.resident(RegionCode::HENAN);
    henan
        .store()
        .upsert(
            &worker.id,
            &worker.name,
            "低风险",
            None,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    let train = root.join("train.csv");
    std::fs::write(&train, format!("seat,payload\n01A,{green}\n")).unwrap();
    let workers = root.join("workers.csv");
    std::fs::write(
        &workers,
        format!(
            "worker_ref,id_number,name\nW1,{},{}\n",
            worker.id.expose(),
            worker.name
        ),
    )
    .unwrap();
    let receipt_file = root.join("receipt.json");
    let now = OffsetDateTime::now_utc();
    let signer = ReceiptSigner::new(
        DEV_NODE_ID,
        SigningKey::from_pem_file(&stack.regions.dirs.registry.join("keys/receipt.pem")).unwrap(),
    );
    let signed = signer
        .sign(ReceiptBody {
            subject_ref: "ab".repeat(32),
            origin_region: "410000".into(),
            destination_region: "330000".into(),
            origin_colour: Colour::Green,
            destination_verdict: Verdict::Pass,
            valid_until: now + time::Duration::hours(1),
            agreement: "national".into(),
            registry_version: 1,
            node_id: DEV_NODE_ID.into(),
            issued_at: now,
        })
        .unwrap();
    receipt::write_file(&receipt_file, &signed).unwrap();
    let departs = (now + time::Duration::minutes(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (train, workers, receipt_file) = (
        train.display().to_string(),
        workers.display().to_string(),
        receipt_file.display().to_string(),
    );
    let client = |args: &[&str]| {
        let mut v = strings(args);
        v.extend(strings(&["--gateway", &gateway, "--pki", &pki]));
        v
    };
    let manifest = |command: &str, departs: &str| {
        client(&[
            "manifest",
            command,
            &train,
            "--train",
            "D1",
            "--from",
            "510000",
            "--to",
            "330100",
            "--departs",
            departs,
        ])
    };

    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let cases: Vec<Vec<String>> = vec![
        strings(&["--help"]),
        strings(&["registry", "--help"]),
        strings(&["--version"]),
        strings(&["certs", "init", "--out", "pki2"]),
        strings(&["certs", "show", "--pki", &pki]),
        strings(&["registry", "init", "--pki", &pki, "--out", "reg2"]),
        strings(&["registry", "show", &reg]),
        strings(&["registry", "log", &reg]),
        strings(&["registry", "verify", &reg]),
        strings(&[
            "registry",
            "prove",
            "--reg",
            &reg,
            "--doc",
            "regions/510000",
        ]),
        strings(&[
            "registry",
            "keygen",
            "--out",
            &root.join("k.pem").display().to_string(),
        ]),
        region_issue(&pki),
        strings(&[
            "region",
            "set-status",
            "--region",
            "440000",
            "--id",
            RESIDENT_ID,
            "--colour",
            "RED",
        ]),
        strings(&["receipt", "verify", &receipt_file, "--registry", &reg]),
        strings(&["audit", "verify", &state]),
        strings(&["audit", "show", &state]),
        client(&["verify", &green]),
        client(&["summary"]),
        manifest("check", "2030-01-01T08:00:00+08:00"),
        manifest("watch", &departs),
        client(&[
            "workers",
            "confirm",
            &workers,
            "--to",
            "330000",
            "--role",
            "province",
            "--region",
            "410000",
            "--receipts",
            "receipts",
        ]),
        strings(&[
            "bench",
            "registry",
            "--regions",
            "2",
            "--issuers",
            "2",
            "--iterations",
            "1",
        ]),
        strings(&[
            "bench",
            "verify",
            "--duration",
            "0.2",
            "--in-flight",
            "2",
            "--codes",
            "4",
        ]),
        strings(&[
            "bench",
            "manifest",
            "--duration",
            "0.2",
            "--in-flight",
            "1",
            "--passengers",
            "4",
        ]),
        strings(&[
            "bench",
            "overload",
            "--duration",
            "0.2",
            "--codes",
            "4",
            "--callers",
            "2",
        ]),
        strings(&["demo"]),
    ];
    for args in &cases {
        let (status, stderr) = with_closed_stdout(args, &out, Duration::from_secs(120));
        assert_quiet(args, status, &stderr);
        // Ended by the closed pipe (or done, for clap's own help): a command that failed
        // before printing anything would prove nothing here.
        assert!(
            status.code() == Some(huren_cli::cli::CLOSED_STDOUT_EXIT) || status.success(),
            "huren {args:?} ended {status:?} before printing: {stderr}"
        );
    }
    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn a_serving_gateway_outlives_a_closed_stdout() {
    // The one long-running command: it must keep serving, not panic on its banner.
    let dir = tempfile::tempdir().unwrap();
    let args = strings(&["serve", "--listen", "127.0.0.1:0", "--no-admin"]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(&args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Up to the node's start-up line on stderr, then a little longer for the banner.
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    let started = Instant::now();
    let mut ended = None;
    while started.elapsed() < Duration::from_secs(15) {
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let stderr = lines.join().unwrap();
    assert!(
        ended.is_none(),
        "serve ended ({ended:?}) with its stdout closed: {stderr}"
    );
    assert!(stderr.contains("serving"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
