//! Following a region's change feed: a task long-polls the status service and hands each change
//! to the gateway (WatchManifest), dropping cached answers the change made stale.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::model::RegionCode;
use crate::net::wire::{CHANGES_PATH, ChangesResponse};
use crate::net::{NetError, StatusClient};
use crate::trust::TrustView;

/// How long one long poll waits at the service.
const POLL_WAIT: Duration = Duration::from_secs(20);
/// Extra time the client allows beyond the service's wait before calling the poll failed.
const POLL_SLACK: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Events buffered for a slow consumer before the follower waits for it.
const BUFFER: usize = 1024;

/// One person's new status in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub region: RegionCode,
    pub seq: u64,
    /// The region's stable handle for the person (what lookups return as `region_handle`).
    pub handle: String,
    /// Every code id the person holds (online code ids and signed codes' serials).
    pub code_ids: Vec<String>,
    pub native_label: String,
    pub changed_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    Change(Change),
    /// The service restarted its numbering: every status held may have changed; the changes
    /// that follow replay each person's current status.
    Reset,
    /// The feed cannot be read right now (once per outage); the follower keeps trying.
    Unreachable(String),
    /// The feed is readable again after an outage; changes missed meanwhile follow.
    Recovered,
}

/// Where a follower starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowFrom {
    /// Every person's current status first, then changes.
    Beginning,
    /// Only changes made after the follower starts.
    Now,
}

/// A running follower. Dropping it stops the task.
pub struct FeedFollower {
    rx: mpsc::Receiver<FeedEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl FeedFollower {
    /// The next event; `None` only after the follower stopped.
    pub async fn recv(&mut self) -> Option<FeedEvent> {
        self.rx.recv().await
    }
}

impl Drop for FeedFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StatusClient {
    /// Follows `region`'s change feed at the service the registry lists (looked up again after
    /// every failure, so a registry update is picked up).
    pub fn follow(
        &self,
        region: RegionCode,
        trust: Arc<dyn TrustView>,
        from: FollowFrom,
    ) -> FeedFollower {
        let (tx, rx) = mpsc::channel(BUFFER);
        let task = tokio::spawn(follow_loop(self.clone(), region, trust, from, tx));
        FeedFollower { rx, task }
    }
}

async fn poll(
    client: &StatusClient,
    region: RegionCode,
    trust: &dyn TrustView,
    cursor: Option<&(String, u64)>,
    wait: Duration,
) -> Result<ChangesResponse, NetError> {
    let service = trust
        .status_service(region)
        .ok_or(NetError::NoService(region))?;
    let channel = client.channel(region, &service)?;
    let mut path = format!("{CHANGES_PATH}?wait_ms={}", wait.as_millis());
    if let Some((epoch, seq)) = cursor {
        path.push_str(&format!("&since={seq}&epoch={epoch}"));
    }
    let call = channel.request(Method::GET, &path, None);
    let (status, body) = tokio::time::timeout(wait + POLL_SLACK, call)
        .await
        .map_err(|_| NetError::Deadline)??;
    if status != StatusCode::OK {
        return Err(NetError::Status {
            status: status.as_u16(),
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| NetError::Garbage(e.to_string()))
}

async fn follow_loop(
    client: StatusClient,
    region: RegionCode,
    trust: Arc<dyn TrustView>,
    from: FollowFrom,
    tx: mpsc::Sender<FeedEvent>,
) {
    let mut cursor: Option<(String, u64)> = None;
    let mut skip_history = from == FollowFrom::Now;
    let mut backoff = BACKOFF_MIN;
    let mut outage = false;
    // Runs until the consumer drops the follower (every send checks).
    while !tx.is_closed() {
        let wait = if skip_history {
            Duration::ZERO
        } else {
            POLL_WAIT
        };
        match poll(&client, region, trust.as_ref(), cursor.as_ref(), wait).await {
            Ok(answer) => {
                backoff = BACKOFF_MIN;
                if outage {
                    outage = false;
                    if tx.send(FeedEvent::Recovered).await.is_err() {
                        return;
                    }
                }
                if skip_history {
                    skip_history = false;
                    cursor = Some((answer.epoch, answer.head));
                    continue;
                }
                if answer.reset {
                    client.inner.cache.invalidate_region(region);
                    if tx.send(FeedEvent::Reset).await.is_err() {
                        return;
                    }
                }
                for entry in answer.changes {
                    client
                        .inner
                        .cache
                        .invalidate(region, &entry.handle, &entry.code_ids);
                    let change = Change {
                        region,
                        seq: entry.seq,
                        handle: entry.handle,
                        code_ids: entry.code_ids,
                        native_label: entry.label,
                        changed_at: entry.changed_at,
                    };
                    if tx.send(FeedEvent::Change(change)).await.is_err() {
                        return;
                    }
                }
                cursor = Some((answer.epoch, answer.seq));
            }
            Err(e) => {
                if !outage {
                    outage = true;
                    if tx
                        .send(FeedEvent::Unreachable(e.to_string()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}
