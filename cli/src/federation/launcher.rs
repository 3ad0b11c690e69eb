//! Starts a federation from its `federation.json` as separate OS processes — each regional
//! service and each node is the `huren` binary itself — waits until each is ready, can SIGKILL
//! and restart a node, and stops everything when dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::transport::Channel;

use super::layout::{FederationFile, LOGS_DIR, NodeEntry, PKI_DIR};
use huren::connect::{ClientTls, connect};

/// Every process a launcher started and has not yet stopped, so that a `huren` that must end at
/// once (its stdout closed, see `cli::main`) leaves none running behind it.
static STARTED: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

fn started() -> std::sync::MutexGuard<'static, Vec<u32>> {
    STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn forget(child: &Child) {
    started().retain(|pid| *pid != child.id());
}

/// SIGKILLs every process any launcher started and has not stopped: for an exit that skips
/// destructors.
pub fn kill_everything_started() {
    for pid in started().drain(..) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// How long a process may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A running federation. Dropping it kills every process it started.
pub struct Federation {
    pub dir: PathBuf,
    pub file: FederationFile,
    binary: PathBuf,
    nodes: BTreeMap<String, Child>,
    regions: BTreeMap<String, Child>,
}

impl Federation {
    /// Starts the regional services, then the nodes, from `dir/federation.json` with `binary`
    /// (the `huren` executable), and waits until every one answers.
    pub async fn start(dir: &Path, binary: &Path) -> anyhow::Result<Self> {
        let file = FederationFile::load(dir)?;
        std::fs::create_dir_all(dir.join(LOGS_DIR))?;
        let mut federation = Self {
            dir: dir.to_path_buf(),
            file,
            binary: binary.to_path_buf(),
            nodes: BTreeMap::new(),
            regions: BTreeMap::new(),
        };
        for region in federation.file.regions.clone() {
            let Some((_, args)) = region.command.split_first() else {
                bail!("region {}: empty command", region.region);
            };
            let child = federation.spawn(&format!("region-{}", region.region), args)?;
            federation.regions.insert(region.region.clone(), child);
        }
        for node in federation.file.nodes.clone() {
            let child = federation.spawn_node(&node)?;
            federation.nodes.insert(node.node_id.clone(), child);
        }
        for region in federation.file.regions.clone() {
            federation
                .wait_listening(&format!("region-{}", region.region), region.listen)
                .await?;
        }
        for node in federation.file.nodes.clone() {
            federation.wait_ready(&node).await?;
        }
        Ok(federation)
    }

    /// Starts with the `huren` binary running this code (the demo and the benchmark).
    pub async fn start_here(dir: &Path) -> anyhow::Result<Self> {
        let binary = std::env::current_exe().context("finding the huren binary")?;
        Self::start(dir, &binary).await
    }

    pub fn node(&self, id: &str) -> anyhow::Result<&NodeEntry> {
        self.file.node(id)
    }

    /// The process id of node `id`, while it runs: for reading its CPU time.
    pub fn node_pid(&self, id: &str) -> Option<u32> {
        self.nodes.get(id).map(Child::id)
    }

    pub fn pki(&self) -> PathBuf {
        self.dir.join(PKI_DIR)
    }

    /// A mutual-TLS connection to node `id` as the PKI's client of `role` (in `region`).
    pub async fn channel(
        &self,
        id: &str,
        role: &str,
        region: Option<&str>,
    ) -> anyhow::Result<Channel> {
        let tls: ClientTls = crate::pki::client_tls(&self.pki(), role, region)?;
        Ok(connect(self.node(id)?.listen, &tls).await?)
    }

    /// SIGKILL: the node gets no chance to drain, as when its machine dies.
    pub fn kill_node(&mut self, id: &str) -> anyhow::Result<()> {
        let mut child = self
            .nodes
            .remove(id)
            .with_context(|| format!("node {id} is not running"))?;
        forget(&child);
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Starts node `id` again (after [`Self::kill_node`]) and waits until it is ready.
    pub async fn restart_node(&mut self, id: &str) -> anyhow::Result<()> {
        if self.nodes.contains_key(id) {
            bail!("node {id} is still running");
        }
        let node = self.node(id)?.clone();
        let child = self.spawn_node(&node)?;
        self.nodes.insert(id.to_string(), child);
        self.wait_ready(&node).await
    }

    /// The process id of region `code`'s service, while it runs: for reading its CPU time.
    pub fn region_pid(&self, code: &str) -> Option<u32> {
        self.regions.get(code).map(Child::id)
    }

    /// Stops region `code`'s service and starts it again with `extra` flags after its
    /// `federation.json` command (a fault such as `--latency-ms 20`, for a benchmark), and
    /// waits until it listens. Its records are on disk, so the codes it knew it knows again.
    pub async fn restart_region_with(
        &mut self,
        code: &str,
        extra: &[String],
    ) -> anyhow::Result<()> {
        let region = self
            .file
            .regions
            .iter()
            .find(|r| r.region == code)
            .with_context(|| format!("region {code} has no service in this federation"))?
            .clone();
        if let Some(mut child) = self.regions.remove(code) {
            forget(&child);
            child.kill()?;
            child.wait()?;
        }
        let Some((_, args)) = region.command.split_first() else {
            bail!("region {code}: empty command");
        };
        let args: Vec<String> = args.iter().chain(extra).cloned().collect();
        let name = format!("region-{code}");
        let child = self.spawn(&name, &args)?;
        self.regions.insert(code.to_string(), child);
        self.wait_listening(&name, region.listen).await
    }

    /// The last lines a process wrote, to explain a failure.
    pub fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.log_path(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join(LOGS_DIR).join(format!("{name}.log"))
    }

    fn spawn_node(&self, node: &NodeEntry) -> anyhow::Result<Child> {
        let config = node.config.display().to_string();
        self.spawn(
            &node.node_id,
            &["serve".to_string(), "--config".to_string(), config],
        )
    }

    fn spawn(&self, name: &str, args: &[String]) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(name))?;
        let child = Command::new(&self.binary)
            .args(args)
            .current_dir(&self.dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name} ({})", self.binary.display()))?;
        started().push(child.id());
        Ok(child)
    }

    fn exited(&mut self, name: &str) -> bool {
        let child = match name.strip_prefix("region-") {
            Some(code) => self.regions.get_mut(code),
            None => self.nodes.get_mut(name),
        };
        child.is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    async fn wait_listening(&mut self, name: &str, addr: SocketAddr) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            self.check_alive(name, started)?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_ready(&mut self, node: &NodeEntry) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if readyz(node.admin).await {
                return Ok(());
            }
            self.check_alive(&node.node_id, started)?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn check_alive(&mut self, name: &str, started: Instant) -> anyhow::Result<()> {
        if self.exited(name) {
            bail!("{name} exited while starting:\n{}", self.log_tail(name));
        }
        if started.elapsed() > READY_WITHIN {
            bail!(
                "{name} not ready after {READY_WITHIN:?}:\n{}",
                self.log_tail(name)
            );
        }
        Ok(())
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        for (_, mut child) in std::mem::take(&mut self.nodes)
            .into_iter()
            .chain(std::mem::take(&mut self.regions))
        {
            forget(&child);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether the admin listener at `admin` answers 200 on /readyz.
pub async fn readyz(admin: SocketAddr) -> bool {
    admin_get(admin, "/readyz")
        .await
        .is_some_and(|answer| answer.starts_with("HTTP/1.1 200"))
}

/// The node's `/metrics` text as its admin listener at `admin` serves it, if it answers.
pub async fn metrics(admin: SocketAddr) -> Option<String> {
    let answer = admin_get(admin, "/metrics").await?;
    Some(answer.split_once("\r\n\r\n")?.1.to_string())
}

/// `GET path` on the admin listener: the whole HTTP/1.1 answer, within a second.
async fn admin_get(admin: SocketAddr, path: &str) -> Option<String> {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(admin).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}
