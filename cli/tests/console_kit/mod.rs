//! What the console tests share: the real `huren console` started against a loopback stack, and
//! a fresh green code to show it. Each test file uses a part of it.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::Codes;
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A green code of `region` for a new resident, signed two minutes ago.
pub async fn code(
    stack: &Stack,
    people: &mut People,
    region: RegionCode,
    colour: Colour,
) -> String {
    let codes = Codes::load(stack.pki()).unwrap();
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(2);
    codes
        .issue(
            &stack.regions,
            region,
            &people.resident(region),
            colour,
            signed_at,
        )
        .await
        .unwrap()
}

/// A running `huren console`, stopped when dropped.
pub struct Console {
    pub url: String,
    /// `127.0.0.1:PORT`, for plain HTTP requests.
    pub addr: String,
    _child: Child,
}

impl Console {
    /// Runs the real binary against `stack`'s gateway and reads the URL it prints.
    pub async fn start(role: &str, stack: &Stack, extra: &[&str]) -> Self {
        let gateway = format!("https://{}", stack.addr().unwrap());
        let mut child = Command::new(env!("CARGO_BIN_EXE_huren"))
            .args(["console", "--role", role, "--listen", "127.0.0.1:0"])
            .args(["--gateway", &gateway, "--pki"])
            .arg(stack.pki())
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("huren console starts");
        let stdout = child.stdout.take().unwrap();
        let line = tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .expect("huren console prints its URL within 30 s")
        .unwrap()
        .expect("huren console printed a line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Self {
            url,
            addr,
            _child: child,
        }
    }
}
