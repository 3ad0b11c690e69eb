//! The follow task: wakes on a WatchRegistry push from a followed node or after a bounded
//! poll, asks the followed nodes in order for the delta since the version held (past any that
//! has nothing newer, cannot be reached or offers a version refused), rebuilds and
//! offers it to the node's registry (every check a local publish meets, witnesses included),
//! and keeps an accepted version in the node's own registry directory for the next start. On
//! any failure the node keeps serving the last good version, counts it and logs it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_proto::v1::{GetRegistryRequest, GetRegistryResponse, WatchRegistryRequest};
use huren_registry::Registry;
use tokio_stream::StreamExt as _;

use super::delta::rebuild;
use crate::federation::peers::Peers;
use crate::registry_handle::SharedRegistry;

/// Failed pulls from a followed node, by node and reason.
pub const FOLLOW_FAILURES: &str = "huren_registry_follow_failures_total";

/// How long one pull from one node may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(3);

/// What one pull from a followed node came to, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pulled {
    /// A newer version, verified and now served.
    Accepted,
    /// The node serves nothing newer than the version held.
    NothingNewer,
}

/// What a node follows, and how.
#[derive(Debug, Clone)]
pub struct Follow {
    /// This node's id (never followed: it would ask itself).
    pub node_id: String,
    /// Node ids to pull from, in order; the first that gives a newer version this node accepts
    /// wins.
    pub nodes: Vec<String>,
    /// The poll behind WatchRegistry.
    pub every: Duration,
    /// Where an accepted version is kept for the next start.
    pub registry_dir: PathBuf,
    pub peers: Arc<Peers>,
}

impl Follow {
    /// Starts following; the task ends when every clone of `shared` is dropped.
    pub fn spawn(self, shared: SharedRegistry) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut watch: Option<tonic::Streaming<huren_proto::v1::WatchRegistryResponse>> = None;
            loop {
                self.pull_any(&shared).await;
                if watch.is_none() {
                    watch = self.open_watch(&shared).await;
                }
                let woken = async {
                    match watch.as_mut() {
                        Some(stream) => stream.next().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    item = woken => {
                        // A closed or failed stream is reopened after the next pull.
                        if !matches!(item, Some(Ok(_))) {
                            watch = None;
                        }
                    }
                    () = tokio::time::sleep(self.every) => {}
                }
            }
        })
    }

    fn followed(&self) -> impl Iterator<Item = &String> {
        self.nodes.iter().filter(|n| **n != self.node_id)
    }

    /// Pulls from the followed nodes in order until one gives a newer version that is accepted:
    /// a node with nothing newer (stale, or serving an older version), one that cannot be
    /// reached and one whose version is refused each leave the next to be asked, so no one
    /// followed node can hold this node back.
    async fn pull_any(&self, shared: &SharedRegistry) {
        for node in self.followed() {
            match self.pull(shared, node).await {
                Ok(Pulled::Accepted) => return,
                Ok(Pulled::NothingNewer) => {}
                Err(why) => {
                    metrics::counter!(FOLLOW_FAILURES, "node" => node.clone()).increment(1);
                    tracing::warn!(
                        from = %node,
                        %why,
                        serving = shared.current().map(|r| r.version()),
                        "could not follow the registry from this node; serving the last good version"
                    );
                }
            }
        }
    }

    /// One pull from `node`: the delta since the version held, rebuilt and offered; a delta
    /// that does not rebuild into an acceptable state is retried once as the whole state.
    async fn pull(&self, shared: &SharedRegistry, node: &str) -> Result<Pulled, String> {
        let held = shared
            .current()
            .ok_or("no registry is held to follow from")?;
        let delta = self
            .get(&held, node, held.version(), held.checkpoint().tree_size)
            .await?;
        if delta.version <= held.version() {
            return Ok(Pulled::NothingNewer);
        }
        let first = self.offer(shared, &held, node, &delta).await;
        let accepted = match first {
            Ok(a) => a,
            Err(why) => {
                tracing::info!(from = %node, %why, "the delta did not apply; asking for the whole state");
                let whole = self.get(&held, node, 0, 0).await?;
                self.offer(shared, &held, node, &whole).await?
            }
        };
        let dir = self.registry_dir.clone();
        let kept =
            tokio::task::spawn_blocking(move || huren_registry::store::save(&dir, &accepted))
                .await
                .map_err(|e| e.to_string())?;
        if let Err(e) = kept {
            // Served already; only the next start reads an older file (and catches up again).
            tracing::error!(reason = %e, "could not keep the followed registry in the registry directory");
        }
        Ok(Pulled::Accepted)
    }

    async fn offer(
        &self,
        shared: &SharedRegistry,
        held: &Registry,
        node: &str,
        response: &GetRegistryResponse,
    ) -> Result<Arc<Registry>, String> {
        let state = rebuild(held, response).map_err(|e| e.to_string())?;
        let (shared, from) = (shared.clone(), format!("node {node}"));
        // Verification is CPU work: keep it off the reactor.
        tokio::task::spawn_blocking(move || shared.offer(&state, &from))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    async fn get(
        &self,
        held: &Registry,
        node: &str,
        since_version: u64,
        since_tree_size: u64,
    ) -> Result<GetRegistryResponse, String> {
        let deadline = Instant::now() + PULL_TIMEOUT;
        let request = GetRegistryRequest {
            since_version,
            since_tree_size,
        };
        let routes = self.peers.routes(held);
        self.peers
            .call(&routes, node, deadline, |channel, left| {
                let mut request = tonic::Request::new(request);
                request.set_timeout(left);
                async move {
                    RegistryServiceClient::new(channel)
                        .get_registry(request)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await
            .map_err(|e| e.to_string())
    }

    /// A WatchRegistry stream from the first followed node that opens one; `None` when none does
    /// (the poll then wakes the task).
    async fn open_watch(
        &self,
        shared: &SharedRegistry,
    ) -> Option<tonic::Streaming<huren_proto::v1::WatchRegistryResponse>> {
        let held = shared.current()?;
        let routes = self.peers.routes(&held);
        for node in self.followed() {
            let deadline = Instant::now() + PULL_TIMEOUT;
            let since_version = held.version();
            let opened = self
                .peers
                .call(&routes, node, deadline, |channel, _| async move {
                    RegistryServiceClient::new(channel)
                        .watch_registry(WatchRegistryRequest { since_version })
                        .await
                        .map(tonic::Response::into_inner)
                })
                .await;
            if let Ok(stream) = opened {
                return Some(stream);
            }
        }
        None
    }
}
