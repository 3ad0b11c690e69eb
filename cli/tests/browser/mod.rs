//! Driving the consoles in a real Chromium through chromedriver (WebDriver), with a fake camera
//! that plays a generated QR code. Without Chromium the tests skip with a reason, except under
//! `CI=true`, where a missing browser fails them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

/// Chromium and its WebDriver, as Debian's `chromium` and `chromium-driver` install them.
pub struct Browser {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// The installed browser; `None` (after saying why) when there is none and CI is not set.
    pub fn find(test: &str) -> Option<Self> {
        let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
        let chromedriver = on_path(&["chromedriver"]);
        match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => Some(Self {
                chromium,
                chromedriver,
            }),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
                "{test}: CI=true but chromium or chromedriver is missing \
                 (apt-get install chromium chromium-driver)"
            ),
            _ => {
                eprintln!(
                    "SKIPPED {test}: no chromium and chromedriver on PATH \
                     (apt-get install chromium chromium-driver to run it)"
                );
                None
            }
        }
    }

    /// Starts chromedriver and opens a headless `width`×`height` session whose camera plays
    /// `video` (a Y4M file).
    pub async fn session(&self, video: Option<&Path>, (width, height): (u32, u32)) -> Session {
        let port = free_port();
        let driver = Command::new(&self.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-gpu".into(),
            format!("--window-size={width},{height}"),
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
        ];
        if let Some(video) = video {
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                video.display()
            ));
        }
        let caps = json!({
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": args,
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() > Duration::from_secs(30) => {
                    panic!("no WebDriver session from chromedriver: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Session {
            client,
            _driver: driver,
        }
    }
}

/// A browser session; chromedriver stops when it is dropped.
pub struct Session {
    pub client: Client,
    _driver: Child,
}

impl Session {
    /// Evaluates `script` (a function body that returns a value) in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits up to `bound` for `script` to return something other than null/false/"".
    pub async fn wait_for(&self, what: &str, script: &str, bound: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let v = self.eval(script).await;
            let empty = v.is_null() || v == false || v == "";
            if !empty {
                return v;
            }
            if started.elapsed() > bound {
                let text = self.eval("return document.body.innerText").await;
                panic!("{what}: not seen within {bound:?}; the page says:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a PNG of the window as a test artefact under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// `target/screenshots` (or under CARGO_TARGET_DIR).
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("screenshots")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A Y4M video (what Chromium's fake camera plays) of `text` as a QR code, black on white,
/// 640×480, a few identical frames; written under the test's target directory.
#[allow(dead_code)] // Only the checkpoint's test has a camera.
pub fn qr_video(text: &str, name: &str) -> PathBuf {
    let (w, h) = (640usize, 480usize);
    let code = qrcode::QrCode::new(text.as_bytes()).expect("the payload fits a QR code");
    let n = code.width();
    let scale = (h.min(w) / (n + 8)).max(1);
    let (x0, y0) = ((w - n * scale) / 2, (h - n * scale) / 2);
    let mut luma = vec![235u8; w * h];
    for y in 0..n * scale {
        for x in 0..n * scale {
            if code[(x / scale, y / scale)] == qrcode::Color::Dark {
                luma[(y0 + y) * w + x0 + x] = 16;
            }
        }
    }
    let chroma = vec![128u8; (w / 2) * (h / 2)];
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..5 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&luma);
        out.extend_from_slice(&chroma);
        out.extend_from_slice(&chroma);
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, out).unwrap();
    path
}
