//! `huren console` without a browser: the real binary refuses a missing role and a listen address
//! off loopback, answers a wedge scanner's line and a PNG camera frame as the page would post
//! them, and serves the dashboard document with its charts. Runs where Chromium is absent too.

mod console_kit;

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::forge;
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use console_kit::{Console, code};

/// One HTTP/1.1 request; the status code and the body.
async fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nX-Huren-Console: 1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// `text` as a QR code in a grey PNG, 4 pixels a module, with its quiet zone.
fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let n = code.width();
    let size = (n + 8) * 4;
    let mut grey = vec![255u8; size * size];
    for y in 0..n * 4 {
        for x in 0..n * 4 {
            if code[(x / 4, y / 4)] == qrcode::Color::Dark {
                grey[(y + 16) * size + x + 16] = 0;
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size as u32, size as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&grey)
        .unwrap();
    out
}

#[test]
fn the_console_says_whose_it_is_and_serves_only_loopback() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["console"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--role checkpoint") && err.contains("--role national"),
        "{err}"
    );
    let out = run(&["console", "--role", "carrier"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not carrier"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_console_answers_a_scanned_line_and_a_camera_frame() {
    let stack = Stack::fresh("console-cli").await.unwrap();
    let green = code(
        &stack,
        &mut People::new(7),
        RegionCode::GUANGDONG,
        Colour::Green,
    )
    .await;
    let console = Console::start("checkpoint", &stack, &[]).await;
    let addr = &console.addr;

    let (status, page) = http(addr, "GET", "/", b"").await;
    assert_eq!((status, page), (200, serde_json::Value::Null));
    // A wedge scanner's line, CR/LF and all.
    let (status, answer) = http(addr, "POST", "/api/scan", format!("{green}\r\n").as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["answer"], "PASS", "{answer}");
    assert_eq!(answer["colour"], "GREEN");
    assert_eq!(answer["issuing_region"], "440000");
    assert!(answer["name"].as_str().unwrap().ends_with('*'), "{answer}");
    let (_, answer) = http(addr, "POST", "/api/scan", forge(&green).as_bytes()).await;
    assert_eq!(
        (&answer["answer"], &answer["verdict"]),
        (&"STOP".into(), &"REJECT".into())
    );
    // A camera frame with the code, one without, and bytes that are no image.
    let (status, answer) = http(addr, "POST", "/api/frame", &qr_png(&green)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&answer["found"], &answer["answer"]),
        (&true.into(), &"PASS".into()),
        "{answer}"
    );
    let (_, answer) = http(addr, "POST", "/api/frame", &qr_png("")).await;
    assert_eq!(
        answer["found"], false,
        "an empty QR code is no scan: {answer}"
    );
    let (status, answer) = http(addr, "POST", "/api/frame", b"JFIF?").await;
    assert_eq!(status, 400, "{answer}");
    // Another web page open in the operator's browser cannot use the checkpoint's certificate.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cross_site = format!(
        "POST /api/scan HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{green}",
        green.len()
    );
    stream.write_all(cross_site.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_console_serves_charts_of_the_summary() {
    let stack = Stack::fresh("console-cli-national").await.unwrap();
    let console = Console::start("national", &stack, &["--refresh", "1s"]).await;
    let addr = &console.addr;
    let started = std::time::Instant::now();
    let view = loop {
        let (status, view) = http(addr, "GET", "/api/dashboard", b"").await;
        assert_eq!(status, 200, "{view}");
        if view["polled_at"].is_string() || started.elapsed() > Duration::from_secs(30) {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(view["error"].is_null(), "{view}");
    for chart in ["verdicts", "colours", "matrix", "routes"] {
        assert!(
            view["charts"][chart].as_str().unwrap().starts_with("<svg"),
            "{chart}"
        );
    }
    assert_eq!(view["health"].as_array().unwrap().len(), 7, "{view}");
    assert_eq!(view["decisions"], 0);
    stack.shutdown().await;
}
