//! The reverse-testing prober on a federation of four `huren serve` processes: a clean run
//! reports nothing, and each seeded fault is reported with its region pair or its node — an
//! agreement re-signed (ceremony CLI) without the concept map change it relies on, a node
//! serving a stale registry, a regional service answering a wrong native label.

// Only `huren_within` is used here.
#[allow(dead_code)]
mod support;

#[path = "support/federation.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use huren_adapters::RegionCode;
use huren_cli::federation::layout::{FILE, NODES_DIR, REGISTRY_DIR};
use huren_cli::federation::{Federation, FederationFile};
use huren_cli::loopback::people::People;
use huren_cli::probe::{Round, Scope, run_round};

/// A federation written to a fresh directory; `edit` changes its files before it starts.
async fn federation(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf, Federation) {
    let tmp = tempfile::tempdir().unwrap();
    let (federation, dir) = shared::start_edited(&tmp, edit).await;
    (tmp, dir, federation)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn huren(dir: &Path, args: &[&str]) -> std::process::Output {
    support::huren_within(args, dir, Stdio::piped(), Duration::from_secs(120))
}

/// Pins node `id` to the registry it starts with: it follows no other node, so it never sees a
/// later version (it still serves its own copy, and still witnesses).
fn freeze_registry_of(dir: &Path, id: &str) {
    let config = dir.join(NODES_DIR).join(id).join("huren.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let pinned: String = text
        .lines()
        .map(|line| match line.starts_with("follow = ") {
            true => "follow = []",
            false => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        text.trim_end(),
        pinned,
        "node {id}'s config follows no node"
    );
    std::fs::write(&config, pinned + "\n").unwrap();
}

/// Waits (bounded) until nodes `ids` act on the version just published at national: each
/// follower keeps what it accepted (after k witnesses cosigned it) in its own directory.
async fn wait_for_followers(dir: &Path, ids: &[&str]) {
    let version_in = |registry: &Path| {
        huren_registry::store::load_for_publisher(registry, time::OffsetDateTime::now_utc())
            .map(|r| r.version())
            .ok()
    };
    let published = version_in(&dir.join(REGISTRY_DIR)).expect("the published registry");
    let started = std::time::Instant::now();
    loop {
        let followed = ids.iter().all(|id| {
            version_in(&dir.join(NODES_DIR).join(id).join(REGISTRY_DIR))
                .is_some_and(|v| v >= published)
        });
        if followed {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nodes {ids:?} did not act on version {published} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn scope(verifying: &[RegionCode], issuing: &[RegionCode]) -> Scope {
    Scope {
        verifying: verifying.to_vec(),
        issuing: issuing.to_vec(),
    }
}

#[tokio::test]
async fn a_clean_run_reports_nothing_and_a_reworded_agreement_and_a_stale_node_are_named() {
    let (_tmp, dir, _federation) = federation(|dir| freeze_registry_of(dir, "zhejiang")).await;

    // The whole matrix, through the command line: every province's rules × every region's words.
    let out = huren(&dir, &["probe", "--federation", p(&dir), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clean: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(clean["mismatches"], serde_json::json!([]), "{stdout}");
    assert_eq!(clean["staleNodes"], serde_json::json!([]), "{stdout}");
    // 6 verifying provinces × 21 status words of the 7 regions.
    assert_eq!(clean["checks"], 126, "{stdout}");

    // Guangdong and Hubei re-sign their agreement: Hubei's grey goes home for 7 days. Hubei's
    // concept map still says 灰码 is PENDING, which no agreement rule decides.
    let reg = dir.join(REGISTRY_DIR);
    let ok = |args: &[&str]| {
        let out = huren(&dir, args);
        assert!(
            out.status.success(),
            "huren {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "registry",
        "add-agreement",
        "--reg",
        p(&reg),
        "--verifying",
        "440000",
        "--issuing",
        "420000",
        "--rule",
        "YELLOW=CENTRAL_QUARANTINE:14",
        "--rule",
        "PENDING=HOME_QUARANTINE:7",
        "--max-age-hours",
        "24",
        "--max-status-list-age-secs",
        "600",
    ]);
    for key in ["region-440000-1", "region-420000-1"] {
        let key = reg.join(format!("keys/{key}.pem"));
        ok(&["registry", "sign", "--reg", p(&reg), "--key", p(&key)]);
    }
    ok(&["registry", "publish", "--reg", p(&reg)]);
    // national gathers the witnesses' cosignatures, then west and south follow it.
    wait_for_followers(&dir, &["west", "south"]).await;

    let mut people = People::new(7);
    let round: Round = run_round(
        &dir,
        &scope(
            &[RegionCode::GUANGDONG, RegionCode::ZHEJIANG],
            &[RegionCode::HUBEI],
        ),
        &mut people,
    )
    .await
    .unwrap();
    assert_eq!(
        round.pairs(),
        vec![("440000".to_string(), "420000".to_string())],
        "{round:#?}"
    );
    let [grey] = round.mismatches.as_slice() else {
        panic!("one mismatch: {round:#?}");
    };
    assert_eq!(
        (
            grey.issued_label.as_str(),
            grey.predicted.as_str(),
            grey.got.as_str(),
            grey.node.as_str()
        ),
        ("灰码", "HOME_QUARANTINE", "REVIEW", "south")
    );

    // zhejiang still serves the registry it started with, and is named.
    let [stale] = round.stale_nodes.as_slice() else {
        panic!("one stale node: {round:#?}");
    };
    assert_eq!(stale.node, "zhejiang");
    assert_eq!(
        stale.version,
        Some(clean["registryVersion"].as_u64().unwrap())
    );
    assert!(stale.newest > clean["registryVersion"].as_u64().unwrap());
    assert_eq!(stale.serves, vec!["330000".to_string()]);

    // Once: the command fails and shows the pair and the node.
    let out = huren(
        &dir,
        &[
            "probe",
            "--federation",
            p(&dir),
            "--verifying",
            "440000",
            "--issuing",
            "420000",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("440000 Guangdong"), "{stdout}");
    assert!(stdout.contains("420000 Hubei"), "{stdout}");
    assert!(stdout.contains("stale node zhejiang"), "{stdout}");
}

#[tokio::test]
async fn a_regional_service_answering_a_wrong_label_is_caught_with_its_pairs() {
    let (_tmp, dir, _federation) = federation(|dir| {
        let path = dir.join(FILE);
        let mut file: FederationFile =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let zhejiang = file
            .regions
            .iter_mut()
            .find(|r| r.region == "330000")
            .unwrap();
        zhejiang.command.push("--wrong-label".into());
        std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    })
    .await;
    let mut people = People::new(8);
    let round = run_round(
        &dir,
        &scope(
            &[RegionCode::ZHEJIANG, RegionCode::GUANGDONG],
            &[RegionCode::ZHEJIANG, RegionCode::GUANGDONG],
        ),
        &mut people,
    )
    .await
    .unwrap();
    assert_eq!(
        round.pairs(),
        vec![
            ("330000".to_string(), "330000".to_string()),
            ("440000".to_string(), "330000".to_string()),
        ],
        "{round:#?}"
    );
    // Every word read back is another one than the person was issued with.
    for m in &round.mismatches {
        assert_ne!(m.issued_label, m.read_label, "{m:?}");
    }
    assert!(round.stale_nodes.is_empty(), "{round:#?}");
}

/// Flags Hunan's second dev issuer as its probe issuer, by the dev ceremony.
fn flag_hunan_probe_issuer(dir: &Path) {
    let reg = dir.join(REGISTRY_DIR);
    let now = time::OffsetDateTime::now_utc();
    let mut dev = huren_registry::dev::DevRegistry::open(&reg, now).unwrap();
    dev.edit_region(
        "430000",
        |doc| doc.issuers.get_mut("hn-sm2-2026-01").unwrap().synthetic = true,
        now,
    )
    .unwrap();
    huren_registry::store::save(&reg, &dev.registry).unwrap();
}

#[tokio::test]
async fn continuous_probing_serves_its_counters_and_its_synthetic_persons_are_not_counted() {
    let (_tmp, dir, federation) = federation(|_| ()).await;
    // Published while the federation runs: national gathers the cosignatures, south follows.
    flag_hunan_probe_issuer(&dir);
    wait_for_followers(&dir, &["west", "south", "zhejiang"]).await;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args([
            "probe",
            "--federation",
            p(&dir),
            "--json",
            "--every",
            "1h",
            "--rounds",
            "2",
            "--verifying",
            "430000",
            "--issuing",
            "430000",
            "--metrics",
            &addr.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // One round (3 words of Hunan under Hunan's rules) is done well within this; the second
    // waits an hour, so the counters are read between them.
    let started = std::time::Instant::now();
    let text = loop {
        let text = metrics(addr).await.unwrap_or_default();
        if text.contains("huren_probe_checks_total 3") {
            break text;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        text.contains("# TYPE huren_probe_checks_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE huren_probe_mismatches_total counter"),
        "{text}"
    );
    child.kill().await.unwrap();

    // Bounded: two rounds, one JSON line each, then it ends.
    let out = huren(
        &dir,
        &[
            "probe",
            "--federation",
            p(&dir),
            "--json",
            "--every",
            "10ms",
            "--rounds",
            "2",
            "--verifying",
            "430000",
            "--issuing",
            "430000",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    for line in stdout.lines() {
        let round: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(round["counted"], serde_json::json!([]), "{line}");
    }

    // Hunan's persons were signed by its probe issuer: south judged them, nobody counted them.
    let summary = shared::national_summary(&federation).await;
    assert_eq!(summary.decisions_issued_in("430000"), 0, "{summary:?}");
}

/// GET /metrics over plain HTTP/1.1.
async fn metrics(addr: std::net::SocketAddr) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        .await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    Ok(body)
}
