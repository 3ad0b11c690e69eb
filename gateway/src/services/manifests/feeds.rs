//! One change-feed follower per region for the whole node, shared by every WatchManifest: a
//! thousand trains watched means one long poll per region, not a thousand.
//!
//! A region's follower starts with the first watch that needs it, from the beginning of the
//! feed (that first watch re-judges its passengers once, harmlessly), and then runs for the
//! node's life. A watch subscribes before it makes its first decisions, so any change after
//! that reaches it; a change before it has already emptied the status client's cache. A watch
//! that falls too far behind is told `Reset` and re-judges the region's passengers.
//!
//! Each change is first handed to the region's adapter ([`huren_adapters::RegionAdapter::on_status_change`]):
//! one that withdraws a changed holder's signed codes through a revocation or status list fetches it
//! before the change is passed on, so the re-judgement sees the withdrawal rather than waiting
//! for the next scheduled refresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use huren_adapters::net::{FeedEvent, FollowFrom, StatusClient};
use huren_adapters::status_list::ListArchive;
use huren_adapters::{AdapterSet, RegionCode, TrustView};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Events a slow watch may fall behind by before it is told to start over.
const LAG: usize = 4096;
/// How long a change waits for its region's adapter to catch up (a revocation list) before it
/// is passed on anyway.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(2);

/// A region's running follower and the channel it fans out on.
struct Follower {
    tx: broadcast::Sender<FeedEvent>,
    task: tokio::task::JoinHandle<()>,
}

pub struct FeedHub {
    status: StatusClient,
    trust: Arc<dyn TrustView>,
    adapters: AdapterSet,
    status_lists: Arc<ListArchive>,
    regions: Mutex<HashMap<RegionCode, Follower>>,
}

impl std::fmt::Debug for FeedHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHub").finish_non_exhaustive()
    }
}

impl Drop for FeedHub {
    fn drop(&mut self) {
        let regions = self.regions.get_mut().unwrap_or_else(|p| p.into_inner());
        for (_, follower) in regions.drain() {
            follower.task.abort();
        }
    }
}

impl FeedHub {
    pub fn new(
        status: StatusClient,
        trust: Arc<dyn TrustView>,
        adapters: AdapterSet,
        status_lists: Arc<ListArchive>,
    ) -> Self {
        Self {
            status,
            trust,
            adapters,
            status_lists,
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// `region`'s feed from now on, tagged with the region; starts its follower if none runs.
    pub fn subscribe(&self, region: RegionCode) -> BoxStream<'static, (RegionCode, FeedEvent)> {
        let region = region.province();
        let mut regions = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        let follower = regions.entry(region).or_insert_with(|| {
            let (tx, _) = broadcast::channel(LAG);
            let mut follower =
                self.status
                    .follow(region, self.trust.clone(), FollowFrom::Beginning);
            let out = tx.clone();
            let (status, trust) = (self.status.clone(), self.trust.clone());
            let lists = self.status_lists.clone();
            let adapter = self.adapters.for_region(region).cloned();
            let task = tokio::spawn(async move {
                // Runs for the node's life; `recv` ends only if the follower stops.
                while let Some(event) = follower.recv().await {
                    if let Some(adapter) = &adapter
                        && !matches!(event, FeedEvent::Unreachable(_))
                    {
                        let by = Instant::now() + CATCH_UP_WITHIN;
                        adapter
                            .on_status_change(&status, trust.as_ref(), &lists, by)
                            .await;
                    }
                    // No watch listening right now is fine: the next one judges afresh.
                    let _ = out.send(event);
                }
            });
            Follower { tx, task }
        });
        BroadcastStream::new(follower.tx.subscribe())
            .map(move |event| (region, event.unwrap_or(FeedEvent::Reset)))
            .boxed()
    }
}
