//! What an operator sees of a freshly started `huren serve`: a `/metrics` page scraped over a
//! real socket that names every family with its help text and type, and the gauges an operator
//! alerts on (build, certificate and registry expiry, adapter health, cache, reload failures);
//! and with `--log-format json`, logs of which every line is JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `huren serve` in a temporary directory, killed when dropped.
struct Served {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `huren --log-format FORMAT serve` with the dev setup in `dir`, on free ports, stdout and
/// stderr piped.
fn huren_serve(dir: &std::path::Path, format: &str, rust_log: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["--log-format", format, "serve", "--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("HUREN_CONFIG")
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts `huren serve` with the dev setup on free ports; returns it and the admin address
/// read from the banner.
fn serve() -> (Served, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = huren_serve(dir.path(), "human", "warn");
    let stdout = child.stdout.take().unwrap();
    let served = Served { child, _dir: dir };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("metrics: http://") {
                let addr = rest.split('/').next().unwrap_or_default().to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let admin = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the banner names the metrics address");
    (served, admin.parse().unwrap())
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

/// One family of the Prometheus text format: its help, its type and its samples' labels.
#[derive(Debug, Default)]
struct Family {
    help: Option<String>,
    kind: Option<String>,
    samples: Vec<(String, f64)>,
}

/// Parses the text format strictly enough that a malformed line fails the test.
fn parse(text: &str) -> BTreeMap<String, Family> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            families.entry(name.to_string()).or_default().help = Some(help.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            families.entry(name.to_string()).or_default().kind = Some(kind.to_string());
        } else {
            assert!(!line.starts_with('#'), "unknown comment line {line:?}");
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("value in {line:?}"));
            let name = series.split('{').next().unwrap_or_default();
            let labels = series.strip_prefix(name).unwrap_or_default().to_string();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| families.contains_key(*base))
                })
                .unwrap_or(name);
            families
                .entry(family.to_string())
                .or_default()
                .samples
                .push((labels, value));
        }
    }
    families
}

#[test]
fn a_fresh_node_exports_every_family_with_help_and_type_and_the_operator_gauges() {
    let (_served, admin) = serve();
    let families = parse(&http_get(admin, "/metrics"));
    assert!(!families.is_empty(), "a fresh node's /metrics is empty");
    for (name, family) in &families {
        assert!(name.starts_with("huren_"), "stray family {name}");
        assert!(family.help.is_some(), "{name} has no # HELP");
        assert!(family.kind.is_some(), "{name} has no # TYPE");
        assert!(!family.samples.is_empty(), "{name} has no sample");
    }
    let kind = |name: &str| {
        families
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", families.keys()))
            .kind
            .clone()
            .unwrap_or_default()
    };
    for gauge in [
        "huren_build_info",
        "huren_tls_server_certificate_expires_in_seconds",
        "huren_tls_ca_certificate_expires_in_seconds",
        "huren_registry_expires_in_seconds",
        "huren_adapter_health",
    ] {
        assert_eq!(kind(gauge), "gauge", "{gauge}");
    }
    for counter in [
        "huren_status_cache_hits_total",
        "huren_status_cache_misses_total",
        "huren_reload_failures_total",
        "huren_grpc_requests_total",
    ] {
        assert_eq!(kind(counter), "counter", "{counter}");
    }

    let samples = |name: &str| families[name].samples.clone();
    assert_eq!(samples("huren_build_info")[0].1, 1.0);
    assert!(samples("huren_build_info")[0].0.contains("version=\""));
    // The dev PKI's certificates and the dev registry are valid for a while yet.
    let server = samples("huren_tls_server_certificate_expires_in_seconds")[0].1;
    assert!(server > 86_400.0, "server certificate expires in {server}s");
    assert!(
        samples("huren_tls_ca_certificate_expires_in_seconds")
            .iter()
            .all(|(labels, left)| labels.contains("ca=\"") && *left > 86_400.0)
    );
    let registry = samples("huren_registry_expires_in_seconds")[0].1;
    assert!(registry > 3_600.0, "registry expires in {registry}s");

    // Every region's adapter is in exactly one state, and no region was called yet.
    let mut regions: BTreeMap<String, f64> = BTreeMap::new();
    for (labels, value) in samples("huren_adapter_health") {
        let region = labels
            .split("region=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        *regions.entry(region.to_string()).or_default() += value;
        if labels.contains("state=\"healthy\"") {
            assert_eq!(value, 1.0, "{labels}");
        }
    }
    assert!(
        regions.contains_key("330000") && regions.contains_key("440000"),
        "{regions:?}"
    );
    assert!(regions.values().all(|v| *v == 1.0), "{regions:?}");

    let reasons: BTreeSet<String> = samples("huren_reload_failures_total")
        .into_iter()
        .map(|(labels, _)| labels)
        .collect();
    assert!(
        reasons
            .iter()
            .any(|l| l.contains("what=\"registry\"") && l.contains("reason=\"signature\"")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|l| l.contains("what=\"tls\"")),
        "{reasons:?}"
    );
    assert_eq!(samples("huren_status_cache_hits_total")[0].1, 0.0);
}

/// Every non-empty line of `text` as JSON, or the test fails naming the line.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\nin:\n{text}"))
        })
        .collect()
}

#[test]
fn with_log_format_json_every_line_serve_logs_is_json_from_start_to_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = huren_serve(dir.path(), "json", "info");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("huren is serving") {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the serving banner is logged");
    let banner: serde_json::Value = serde_json::from_str(&banner).unwrap();
    let metrics = banner["fields"]["metrics"]
        .as_str()
        .expect("metrics address");
    let admin: SocketAddr = metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .parse()
        .unwrap();
    assert!(http_get(admin, "/metrics").contains("# HELP"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    let logged = reader.join().unwrap();
    let lines = json_lines(&logged);
    // The dev setup, the node, the banner and the shutdown are all there, as JSON.
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    for expected in ["created a dev PKI", "huren is serving", "shutting down"] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "no {expected:?} in {messages:?}"
        );
    }
    json_lines(&String::from_utf8_lossy(&output.stdout));
}

#[test]
fn with_log_format_json_a_failed_command_says_why_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["--log-format", "json", "serve", "--config", "missing.toml"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let lines = json_lines(&String::from_utf8_lossy(&output.stderr));
    let error = lines.last().expect("the failure is logged");
    assert_eq!(error["level"], "ERROR");
    assert!(
        error["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing.toml")),
        "{error}"
    );
    json_lines(&String::from_utf8_lossy(&output.stdout));
}
