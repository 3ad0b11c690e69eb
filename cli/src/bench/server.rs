//! The system under test on its own tokio runtime (threads named [`SERVER_THREADS`]), so its CPU
//! can be told apart from the load generator's; the clients run on the caller's runtime.

use std::net::SocketAddr;

use anyhow::Context as _;
use huren::connect::ClientTls;
use tonic::transport::Channel;

use super::cpu::SERVER_THREADS;
use crate::loopback::stack::{Dirs, Regions, Stack};

/// A running stack and the runtime it runs on.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    stack: Option<Stack>,
}

impl Server {
    /// PKI, registry, the seven reference services and a gateway, on a fresh runtime.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// [`Server::start`] with the gateway's config adjusted first.
    pub async fn start_with(
        adjust: impl FnOnce(&mut huren::config::Config) + Send + 'static,
    ) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(SERVER_THREADS)
            .enable_all()
            .build()
            .context("cannot start the server runtime")?;
        let dirs = Dirs::fresh("bench")?;
        let root = dirs.root.clone();
        let started = runtime
            .spawn(async move { Regions::start(dirs).await?.start_gateway_with(adjust).await })
            .await
            .context("the server start task failed")
            .and_then(|started| started);
        let stack = match started {
            Ok(stack) => stack,
            Err(e) => {
                let _ = std::fs::remove_dir_all(root);
                runtime.shutdown_background();
                return Err(e);
            }
        };
        Ok(Self {
            runtime,
            stack: Some(stack),
        })
    }

    /// The server runtime, for other services measured beside the gateway (the anchor).
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    pub fn stack(&self) -> anyhow::Result<&Stack> {
        self.stack.as_ref().context("the server has stopped")
    }

    /// `n` separate mutual-TLS connections as `role` (HTTP/2 multiplexes calls on each).
    pub async fn channels(
        &self,
        role: &str,
        region: Option<&str>,
        n: usize,
    ) -> anyhow::Result<Vec<Channel>> {
        let stack = self.stack()?;
        connections(stack.addr()?, &stack.tls(role, region)?, n).await
    }

    /// Stops the gateway and services and removes the temp directory.
    pub async fn stop(mut self) {
        if let Some(stack) = self.stack.take() {
            let root = stack.regions.dirs.root.clone();
            let _ = self.runtime.spawn(stack.shutdown()).await;
            let _ = std::fs::remove_dir_all(root);
        }
        self.runtime.shutdown_background();
    }
}

/// `n` (at least one) separate mutual-TLS connections to the gateway at `addr`.
pub async fn connections(
    addr: SocketAddr,
    tls: &ClientTls,
    n: usize,
) -> anyhow::Result<Vec<Channel>> {
    let mut out = Vec::with_capacity(n.max(1));
    for _ in 0..n.max(1) {
        out.push(huren::connect::connect(addr, tls).await?);
    }
    Ok(out)
}

/// Connections for `in_flight` calls: HTTP/2 allows 256 streams on one, so one per 64.
pub fn connections_for(in_flight: usize) -> usize {
    in_flight.div_ceil(64).max(1)
}
