//! The node under test in an OS process of its own, so that a load generator offering several
//! times its capacity does not also take the node's CPU inside one process: the hidden command
//! `huren bench node` starts the loopback system, issues the codes a run will send, prints one
//! JSON line saying where to reach it, and serves until its stdin closes. The parent reads the
//! child's CPU time and memory from /proc by its pid.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use huren_adapters::{Colour, RegionCode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::server::Server;
use crate::loopback::codes::Codes;
use crate::loopback::people::People;

/// The region of the province caller that offers the load.
const CALLER_REGION: &str = "410000";

/// How the child's node is set up.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NodeOptions {
    /// The node's limits.max_in_flight [default: the node's default].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: Option<u32>,
    /// The node's limits.max_queue_ms [default: the node's default].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub max_queue_ms: Option<u64>,
    /// The node's limits.admission_wait_ms [default: the node's default].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub admission_wait_ms: Option<u64>,
    /// Distinct codes, sent round robin.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub codes: u32,
}

impl NodeOptions {
    /// The same options as flags for the child.
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--codes".to_string(), self.codes.to_string()];
        if let Some(n) = self.max_in_flight {
            args.extend(["--max-in-flight".to_string(), n.to_string()]);
        }
        if let Some(ms) = self.max_queue_ms {
            args.extend(["--max-queue-ms".to_string(), ms.to_string()]);
        }
        if let Some(ms) = self.admission_wait_ms {
            args.extend(["--admission-wait-ms".to_string(), ms.to_string()]);
        }
        args
    }

    /// The node's limits these options give.
    pub fn limits(&self) -> huren::config::Limits {
        let mut limits = huren::config::Limits::default();
        if let Some(n) = self.max_in_flight {
            limits.max_in_flight = n as usize;
        }
        if let Some(ms) = self.max_queue_ms {
            limits.max_queue_ms = ms;
        }
        if let Some(ms) = self.admission_wait_ms {
            limits.admission_wait_ms = ms;
        }
        limits
    }
}

/// What the child says once it serves.
#[derive(Debug)]
pub struct Ready {
    pub addr: SocketAddr,
    pub pki: PathBuf,
    /// Green, genuine codes of Guangdong residents, to send round robin.
    pub codes: Vec<String>,
}

impl Ready {
    fn to_line(&self) -> String {
        serde_json::json!({
            "addr": self.addr.to_string(),
            "pki": self.pki,
            "codes": self.codes,
        })
        .to_string()
    }

    fn parse(line: &str) -> anyhow::Result<Self> {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let text = |key: &str| v[key].as_str().with_context(|| format!("no {key}"));
        let codes = v["codes"]
            .as_array()
            .context("no codes")?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect::<Vec<_>>();
        anyhow::ensure!(!codes.is_empty(), "no codes");
        Ok(Self {
            addr: text("addr")?.parse()?,
            pki: PathBuf::from(text("pki")?),
            codes,
        })
    }
}

/// A running child node.
pub struct NodeProcess {
    child: Child,
    pub pid: u32,
    pub ready: Ready,
}

impl NodeProcess {
    /// Starts `huren bench node` from this very binary and waits until it serves.
    pub async fn spawn(options: &NodeOptions) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this huren binary")?;
        let mut child = Command::new(exe)
            .args(["bench", "node"])
            .args(options.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the node process")?;
        let pid = child.id().context("the node process ended at once")?;
        let stdout = child
            .stdout
            .take()
            .context("no stdout from the node process")?;
        let mut line = String::new();
        let read = tokio::time::timeout(
            Duration::from_secs(60),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        match read {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) => anyhow::bail!("the node process ended before it served"),
            Ok(Err(e)) => return Err(e).context("reading from the node process"),
            Err(_) => anyhow::bail!("the node process did not serve within 60 s"),
        }
        let ready = Ready::parse(&line).context("the node process's ready line")?;
        Ok(Self { child, pid, ready })
    }

    /// The TLS identity of the caller the benchmark plays: the province platform of Henan.
    pub fn caller_tls(&self) -> anyhow::Result<huren::connect::ClientTls> {
        Ok(crate::pki::client_tls(
            &self.ready.pki,
            "province",
            Some(CALLER_REGION),
        )?)
    }

    /// Closes the child's stdin, which stops it; kills it if it has not ended in 10 s.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let ended = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        if !matches!(ended, Ok(Ok(_))) {
            let _ = self.child.kill().await;
        }
    }
}

/// The child's side: serve until stdin closes (the parent stopped or died).
pub async fn serve(options: NodeOptions) -> anyhow::Result<()> {
    let limits = options.limits();
    let server = Server::start_with(move |config| config.limits = limits).await?;
    let result = announce(&server, options.codes as usize).await;
    if result.is_ok() {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    }
    server.stop().await;
    result
}

/// Issues the codes and prints the ready line.
async fn announce(server: &Server, codes: usize) -> anyhow::Result<()> {
    let stack = server.stack()?;
    let ready = Ready {
        addr: stack.addr()?,
        pki: stack.pki().to_path_buf(),
        codes: issue_codes(server, codes).await?,
    };
    let line = ready.to_line();
    let mut stdout = tokio::io::stdout();
    tokio::io::AsyncWriteExt::write_all(&mut stdout, format!("{line}\n").as_bytes()).await?;
    tokio::io::AsyncWriteExt::flush(&mut stdout).await?;
    Ok(())
}

/// Green, genuine codes of Guangdong residents, signed ten minutes ago.
async fn issue_codes(server: &Server, n: usize) -> anyhow::Result<Vec<String>> {
    let stack = server.stack()?;
    let codes = Codes::load(stack.pki())?;
    let mut people = People::new(11);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let mut payloads = Vec::with_capacity(n.max(1));
    for _ in 0..n.max(1) {
        let who = people.resident(RegionCode::GUANGDONG);
        payloads.push(
            codes
                .issue(
                    &stack.regions,
                    RegionCode::GUANGDONG,
                    &who,
                    Colour::Green,
                    signed_at,
                )
                .await?,
        );
    }
    Ok(payloads)
}
