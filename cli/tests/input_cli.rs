//! Input as real scanners, phones and Excel make it, through the real binary against a live
//! gateway: each test is a failure a newcomer saw (issue 13, "What went wrong").

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::{Codes, forge};
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;

struct Run {
    ok: bool,
    out: String,
    err: String,
}

/// The binary against `stack`, `stdin` fed to it.
async fn huren(args: &[&str], stdin: &[u8], stack: &Stack) -> Run {
    let gateway = format!("https://{}", stack.addr().unwrap());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .args(["--gateway", &gateway, "--pki"])
        .arg(stack.pki())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut pipe, stdin)
        .await
        .unwrap();
    drop(pipe);
    let output = child.wait_with_output().await.unwrap();
    Run {
        ok: output.status.success(),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const TRAIN: [&str; 8] = [
    "--train",
    "D1",
    "--from",
    "510000",
    "--to",
    "330100",
    "--departs",
    "2030-01-01T08:00:00+08:00",
];

async fn manifest(file: &Path, extra: &[&str], stack: &Stack) -> Run {
    let file = file.display().to_string();
    let mut args = vec!["manifest", "check", file.as_str()];
    args.extend(TRAIN);
    args.extend(extra);
    huren(&args, b"", stack).await
}

/// A one-sheet workbook with inline strings, as Excel saves one (without styles).
fn xlsx(path: &Path, rows: &[[&str; 2]]) {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let col = ["A", "B"][c];
            sheet.push_str(&format!(
                r#"<c r="{col}{}" t="inlineStr"><is><t>{cell}</t></is></c>"#,
                r + 1
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="乘客" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in parts {
        zip.start_file(name, stored).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanners_pastes_and_excel_files_are_read_as_people_mean_them() {
    let stack = Stack::fresh("input-cli").await.unwrap();
    let root = stack.regions.dirs.root.clone();
    let codes = Codes::load(stack.pki()).unwrap();
    let mut people = People::new(7);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let mut issue = async |region: RegionCode| {
        let who = people.resident(region);
        codes
            .issue(&stack.regions, region, &who, Colour::Green, signed_at)
            .await
            .unwrap()
    };
    let green = issue(RegionCode::GUANGDONG).await;
    let other = issue(RegionCode::HUNAN).await;
    let zhejiang = issue(RegionCode::ZHEJIANG).await;

    // A phone's trailing space and a USB scanner's CR/LF: judged, not REJECT MALFORMED.
    for scanned in [format!("{green} "), format!("{green}\r\n")] {
        let run = huren(&["verify", &scanned], b"", &stack).await;
        assert!(run.ok, "{}{}", run.out, run.err);
        assert!(
            run.out.contains("verdict      PASS"),
            "{scanned:?}: {}",
            run.out
        );
    }
    // Zhejiang's URL as people paste it: http, the host in capitals, a messenger's parameter.
    let pasted = zhejiang
        .replace("https://hzgov.huren.dev", "http://HZGOV.huren.dev")
        .replace(
            "?stateCouncilBarCode=",
            "?from=singlemessage&stateCouncilBarCode=",
        );
    let run = huren(&["verify", &pasted], b"", &stack).await;
    assert!(
        run.out.contains("verdict      PASS"),
        "{}{}",
        run.out,
        run.err
    );
    // A signed code inside a URL.
    let wrapped = format!("https://hc.example.cn/hc?code={green}");
    let run = huren(&["verify", &wrapped], b"", &stack).await;
    assert!(
        run.out.contains("verdict      PASS"),
        "{}{}",
        run.out,
        run.err
    );

    // `verify -`: one payload per line from stdin, as a scanner types them; --fail-on for scripts.
    let typed = format!("{green}\r\n{}\r\n\r\n{other}\r\n", forge(&green));
    let run = huren(&["verify", "-", "--json"], typed.as_bytes(), &stack).await;
    assert!(run.ok, "{}{}", run.out, run.err);
    let verdicts: Vec<String> = run
        .out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["verdict"].to_string())
        .collect();
    assert_eq!(
        verdicts,
        ["\"VERDICT_PASS\"", "\"VERDICT_REJECT\"", "\"VERDICT_PASS\""],
        "{}",
        run.out
    );
    let run = huren(
        &["verify", "-", "--fail-on", "reject"],
        typed.as_bytes(),
        &stack,
    )
    .await;
    assert!(!run.ok);
    assert!(run.out.contains("verdict      REJECT"), "{}", run.out);
    assert!(
        run.err.contains("--fail-on reject: 1 of 3 answers matched"),
        "{}",
        run.err
    );
    let run = huren(
        &["verify", &green, "--fail-on", "deny,review,reject"],
        b"",
        &stack,
    )
    .await;
    assert!(run.ok, "{}{}", run.out, run.err);

    // Excel's CSV: a BOM, CRLF, a Chinese header with the columns the other way round.
    let file = root.join("bom.csv");
    std::fs::write(
        &file,
        format!("\u{feff}健康码,座位\r\n{green},01A\r\n{other},01B\r\n"),
    )
    .unwrap();
    let run = manifest(&file, &[], &stack).await;
    assert!(run.ok, "{}{}", run.out, run.err);
    assert!(run.out.contains("2 passengers, 2 BOARD"), "{}", run.out);
    // The same in GBK, Excel's default on Chinese Windows.
    let text = format!("座位,健康码\r\n01A,{green}\r\n01B,{other}\r\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    std::fs::write(&file, &gbk).unwrap();
    let run = manifest(&file, &[], &stack).await;
    assert!(
        run.out.contains("2 passengers, 2 BOARD"),
        "{}{}",
        run.out,
        run.err
    );
    // An .xlsx workbook.
    let book = root.join("train.xlsx");
    xlsx(
        &book,
        &[["座位", "健康码"], ["01A", &green], ["01B", &other]],
    );
    let run = manifest(&book, &[], &stack).await;
    assert!(
        run.out.contains("2 passengers, 2 BOARD"),
        "{}{}",
        run.out,
        run.err
    );
    // --fail-on deny fails a manifest with a passenger not boarding.
    std::fs::write(&file, format!("seat,payload\n01A,{}\n", forge(&green))).unwrap();
    let run = manifest(&file, &["--fail-on", "deny"], &stack).await;
    assert!(!run.ok);
    assert!(run.out.contains("1 DENY"), "{}", run.out);

    // Duplicate seats, a short row and swapped columns: every bad row, with its line; nothing sent.
    std::fs::write(
        &file,
        format!("seat,payload\n01A,{green}\n01A,{other}\n01C\n{green},01D\n"),
    )
    .unwrap();
    let run = manifest(&file, &[], &stack).await;
    assert!(!run.ok);
    assert!(
        run.err.contains("line 3: seat 01A repeats line 2"),
        "{}",
        run.err
    );
    assert!(run.err.contains("line 4: no payload"), "{}", run.err);
    assert!(
        run.err
            .contains("line 5: the seat holds a health code: are the columns swapped?"),
        "{}",
        run.err
    );

    // Workers: no silent Sichuan when --region is missing.
    let workers = root.join("workers.csv");
    std::fs::write(&workers, format!("\u{feff}工号,健康码\r\nW1,{green}\r\n")).unwrap();
    let workers = workers.display().to_string();
    let run = huren(
        &["workers", "confirm", &workers, "--to", "330000"],
        b"",
        &stack,
    )
    .await;
    assert!(!run.ok);
    assert!(run.err.contains("give --region CODE"), "{}", run.err);
    // Each cause is said once (a missing PKI printed its "No such file" twice).
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["verify", &green, "--pki"])
        .arg(root.join("no-pki"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");

    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(root);
}
