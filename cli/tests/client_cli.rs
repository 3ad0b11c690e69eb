//! The thin client commands as an operator runs them against a live gateway: the real binary,
//! a table for people, JSON for machines, and a refusal that names its gRPC code and reason.

use std::path::Path;

use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::{Codes, forge};
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;

async fn huren(args: &[&str], stack: &Stack) -> (bool, String, String) {
    let gateway = format!("https://{}", stack.addr().unwrap());
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .args(["--gateway", &gateway, "--pki"])
        .arg(stack.pki())
        .env("RUST_LOG", "warn")
        // China Standard Time as a POSIX rule (no tz database needed): the local zone tables
        // show times in.
        .env("TZ", "CST-8")
        .env_remove("HUREN_LANG")
        .env_remove("HUREN_UTC")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_manifest_workers_and_summary_from_the_command_line() {
    let stack = Stack::fresh("client-cli").await.unwrap();
    let root = stack.regions.dirs.root.clone();
    let codes = Codes::load(stack.pki()).unwrap();
    let mut people = People::new(1);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let gd = RegionCode::GUANGDONG;
    let green = codes
        .issue(
            &stack.regions,
            gd,
            &people.resident(gd),
            Colour::Green,
            signed_at,
        )
        .await
        .unwrap();

    // One scan as the default caller, the Yuhang checkpoint.
    let (ok, out, err) = huren(&["verify", &green], &stack).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("verdict      PASS"), "{out}");
    assert!(out.contains("GREEN (绿码)"), "{out}");
    assert!(out.contains("rules of     330000 Zhejiang"), "{out}");
    // Times in RFC 3339 with their offset, in the local zone unless --utc; not
    // `2026-12-04 7:03:56.0 +00:00:00`.
    let valid_until = |out: &str| {
        out.lines()
            .find(|l| l.contains("valid until") || l.contains("有效期至"))
            .map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    let local = valid_until(&out);
    assert!(local.ends_with("+08:00"), "{out}");
    assert!(
        time::OffsetDateTime::parse(&local, &time::format_description::well_known::Rfc3339).is_ok(),
        "{local}"
    );
    let (ok, out, err) = huren(&["verify", "--utc", &green], &stack).await;
    assert!(ok, "{out}{err}");
    assert!(valid_until(&out).ends_with('Z'), "{out}");
    // Labels in Chinese with --lang zh; the answer's words stay the API's.
    let (ok, out, err) = huren(&["--lang", "zh", "verify", &green], &stack).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("结论") && out.contains("PASS"), "{out}");
    assert!(valid_until(&out).ends_with("+08:00"), "{out}");
    let (ok, out, _) = huren(&["verify", "--json", &forge(&green)], &stack).await;
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["verdict"], "VERDICT_REJECT");
    // The proto3 JSON mapping, as grpcurl prints it: lowerCamel names, full enum value names,
    // and an absent field left out, never a "-" placeholder.
    assert!(json.get("verifying_region").is_none(), "{json}");
    assert!(!out.contains("\"-\""), "{out}");
    let (ok, out, _) = huren(&["verify", "--json", &green], &stack).await;
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["status"]["colour"], "COLOUR_GREEN", "{json}");
    assert_eq!(json["verifyingRegion"], "330000", "{json}");
    let expires = json["status"]["expireTime"].as_str().unwrap_or_default();
    assert!(
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{json}"
    );

    // A manifest from a CSV file, as the carrier.
    let csv = write(
        &root.join("train.csv"),
        &format!("seat,payload\n01A,{green}\n01B,{}\n", forge(&green)),
    );
    let (ok, out, err) = huren(
        &[
            "manifest",
            "check",
            &csv,
            "--train",
            "D1",
            "--from",
            "510000",
            "--to",
            "330100",
            "--departs",
            "2030-01-01T08:00:00+08:00",
        ],
        &stack,
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("train D1: 2 passengers, 1 BOARD, 1 DENY, 0 REVIEW"),
        "{out}"
    );
    assert!(out.contains("01B   DENY      REJECT"), "{out}");

    // The same manifest followed until a departure two seconds ahead: the stream ends itself.
    let departs = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (ok, out, err) = huren(
        &[
            "manifest",
            "watch",
            &csv,
            "--train",
            "D1",
            "--from",
            "510000",
            "--to",
            "330100",
            "--departs",
            &departs,
        ],
        &stack,
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("initial 2: 1 BOARD, 1 DENY, 0 REVIEW"),
        "{out}"
    );
    assert!(out.contains("departed: watch ended"), "{out}");

    // Workers by ID number and name, as Henan's labour office, receipts to a directory.
    let henan = stack.regions.service(RegionCode::HENAN).unwrap();
    let who = people.resident(RegionCode::HENAN);
    henan
        .store()
        .upsert(
            &who.id,
            &who.name,
            "低风险",
            None,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    let csv = write(
        &root.join("workers.csv"),
        &format!(
            "worker_ref,id_number,name\nW1,{},{}\n",
            who.id.expose(),
            who.name
        ),
    );
    let receipts = root.join("receipts");
    let (ok, out, err) = huren(
        &[
            "workers",
            "confirm",
            &csv,
            "--to",
            "330000",
            "--role",
            "province",
            "--region",
            "410000",
            "--receipts",
            &receipts.display().to_string(),
        ],
        &stack,
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1 confirmed, 0 not confirmed, 0 errors"),
        "{out}"
    );
    assert!(receipts.join("W1.json").exists());
    assert!(
        !out.contains(who.id.expose()),
        "an ID number was printed: {out}"
    );

    // The national summary counts what was asked, as the national office.
    let (ok, out, err) = huren(&["summary", "--since", "15m"], &stack).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("330000      440000"), "{out}");
    assert!(out.contains("410000       330000          1"), "{out}");
    // Fourteen days back, in proto3 JSON: the window is said in RFC 3339, enums in full.
    let (ok, out, err) = huren(&["summary", "--since", "14d", "--json"], &stack).await;
    assert!(ok, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let start = json["startTime"].as_str().unwrap_or_default();
    let end = json["endTime"].as_str().unwrap_or_default();
    let (start, end) = (
        time::OffsetDateTime::parse(start, rfc3339).unwrap(),
        time::OffsetDateTime::parse(end, rfc3339).unwrap(),
    );
    assert!(end - start > time::Duration::days(13), "{json}");
    let rows = json["verifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!rows.is_empty(), "{json}");
    assert!(
        rows.iter().all(|r| r["verdict"]
            .as_str()
            .is_some_and(|v| v.starts_with("VERDICT_"))),
        "{json}"
    );

    // Asked by the wrong role: non-zero exit, the code and the reason in plain words.
    let (ok, _, err) = huren(&["summary", "--role", "checkpoint"], &stack).await;
    assert!(!ok);
    assert!(
        err.contains("GetNationalSummary: PERMISSION_DENIED (ROLE_NOT_ALLOWED)"),
        "{err}"
    );

    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_by_id_card_from_the_command_line() {
    let stack = Stack::fresh("client-cli-lookup").await.unwrap();
    let codes = Codes::load(stack.pki()).unwrap();
    let mut people = People::new(2);
    let henan = RegionCode::HENAN;
    let elder = people.resident(henan);
    let now = time::OffsetDateTime::now_utc();
    codes
        .issue(&stack.regions, henan, &elder, Colour::Green, now)
        .await
        .unwrap();
    let id = elder.id.expose();

    let (ok, out, err) = huren(&["lookup", "--id", id, "--name", &elder.name], &stack).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("verdict      PASS"), "{out}");
    assert!(!out.contains(id) && !err.contains(id), "{out}{err}");
    let (ok, out, err) = huren(
        &["lookup", "--id", id, "--name", &elder.name, "--json"],
        &stack,
    )
    .await;
    assert!(ok, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["verdict"], "VERDICT_PASS", "{out}");

    // A misread check digit: refused, saying what to do, without echoing the number.
    let mut misread = id[..17].to_string();
    misread.push(if id.ends_with('1') { '2' } else { '1' });
    let (ok, out, err) = huren(&["lookup", "--id", &misread, "--name", "王"], &stack).await;
    assert!(!ok, "{out}");
    assert!(err.contains("INVALID_ARGUMENT"), "{err}");
    assert!(err.contains("check digit"), "{err}");
    assert!(!err.contains(&misread), "{err}");

    // A Hubei household has no lookup service: REVIEW, and --fail-on review says so.
    let hubei = people.resident(RegionCode::HUBEI);
    let (ok, out, err) = huren(
        &[
            "lookup",
            "--id",
            hubei.id.expose(),
            "--name",
            &hubei.name,
            "--fail-on",
            "review",
        ],
        &stack,
    )
    .await;
    assert!(!ok, "{out}{err}");
    assert!(out.contains("NO_LOOKUP_SERVICE"), "{out}");
    stack.shutdown().await;
}
