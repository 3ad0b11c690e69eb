//! WatchManifest: every passenger's decision first, then only the decisions that change, fed by
//! the issuing regions' change feeds, until departure; then one `departed` message and the end.
//!
//! The watch subscribes to the node's shared feeds ([`FeedHub`]) before it makes the first
//! decisions, so a change that lands between the two is never missed (at worst a passenger is
//! judged twice and nothing is sent or audited: only decisions that go out are recorded). A burst of feed events is settled for [`SETTLE`] and answered with one
//! re-verification of the passengers it may concern. Each round takes a fresh registry snapshot:
//! a watch may last up to 48 hours, longer than one registry version.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use huren_adapters::net::FeedEvent;
use huren_adapters::{RegionCode, TrustView};

use huren_proto::v1::{Passenger, WatchManifestResponse};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tonic::Status;

use crate::error::Error;
use crate::identity::Peer;
use crate::recognition::pipeline::Call;
use crate::recognition::{Recognizer, wire};
use crate::services::manifests::boarding::{self, Boarded, Outcome};
use crate::services::manifests::feeds::FeedHub;

/// How long a burst of feed events is collected before the passengers it concerns are re-judged.
pub const SETTLE: Duration = Duration::from_millis(200);

pub const WATCH_MANIFEST: &str = "/huren.v1.ManifestsService/WatchManifest";

/// One watch, owned by its task.
pub struct Watch {
    pub recognizer: Arc<Recognizer>,
    pub feeds: Arc<FeedHub>,
    pub peer: Arc<Peer>,
    pub purpose: String,
    pub verifying: RegionCode,
    /// The route's origin, carried by forwarded reads.
    pub origin: String,
    pub passengers: Vec<Passenger>,
    pub departure: OffsetDateTime,
}

type Events = BoxStream<'static, (RegionCode, FeedEvent)>;

/// What a watch keeps of a passenger between rounds: what the carrier was last told, and what a
/// feed event needs to find them again. Not the person read.
struct Standing {
    outcome: Outcome,
    issuing: Option<RegionCode>,
    handle: Option<String>,
}

impl From<&Boarded> for Standing {
    fn from(b: &Boarded) -> Self {
        Standing {
            outcome: b.outcome(),
            issuing: b.issuing(),
            handle: b.handle().map(str::to_string),
        }
    }
}

impl Watch {
    /// Runs the watch, sending into `tx`, until departure or until the client goes away.
    pub async fn run(self, tx: mpsc::Sender<Result<WatchManifestResponse, Status>>) {
        if let Err(e) = self.serve(&tx).await {
            let _ = tx.send(Err(e.into())).await;
        }
    }

    async fn serve(
        &self,
        tx: &mpsc::Sender<Result<WatchManifestResponse, Status>>,
    ) -> Result<(), Error> {
        let claimed: Vec<Option<RegionCode>> = self
            .passengers
            .iter()
            .map(|p| {
                self.recognizer
                    .adapters
                    .claim(&self.recognizer.adapters.scanned(&p.payload))
                    .ok()
                    .map(|a| a.region())
            })
            .collect();
        let mut events = self.follow(&claimed);
        let r = &self.recognizer;
        let (decisions, mut state) = {
            let call = self.call()?;
            let all = boarding::board_all(r, &call, self.passengers.clone()).await?;
            let decisions = all.iter().map(|b| b.decision(&call)).collect();
            let state: Vec<Standing> = all.iter().map(Standing::from).collect();
            boarding::record(r, &call, all).await?;
            (decisions, state)
        };
        let first = self.message(decisions, &state);
        if tx.send(Ok(first)).await.is_err() {
            return Ok(());
        }
        let left = (self.departure - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        let departs =
            tokio::time::Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO);
        // Ends at departure (at most 48 h away) or when the client goes away.
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(departs) => {
                    let mut last = self.message(Vec::new(), &state);
                    last.departed = true;
                    let _ = tx.send(Ok(last)).await;
                    return Ok(());
                }
                _ = tx.closed() => return Ok(()),
                event = events.next() => event,
            };
            let Some(event) = event else {
                // No feed to follow (or every follower stopped): only departure is left.
                events = futures::stream::pending().boxed();
                continue;
            };
            let mut affected = BTreeSet::new();
            concerns(&state, event, &mut affected);
            let settle = tokio::time::sleep(SETTLE);
            tokio::pin!(settle);
            loop {
                tokio::select! {
                    _ = &mut settle => break,
                    Some(more) = events.next() => concerns(&state, more, &mut affected),
                }
            }
            if affected.is_empty() {
                continue;
            }
            let indices: Vec<usize> = affected.into_iter().collect();
            let call = self.call()?;
            let again = indices
                .iter()
                .map(|&i| self.passengers[i].clone())
                .collect();
            let fresh = boarding::board_all(r, &call, again).await?;
            // Only what changed goes out, so only that is audited and counted.
            let changed: Vec<(usize, Boarded)> = indices
                .into_iter()
                .zip(fresh)
                .filter(|(i, b)| state[*i].outcome != b.outcome())
                .collect();
            if changed.is_empty() {
                continue;
            }
            let changes = changed.iter().map(|(_, b)| b.decision(&call)).collect();
            for (i, b) in &changed {
                state[*i] = Standing::from(b);
            }
            boarding::record(r, &call, changed.into_iter().map(|(_, b)| b).collect()).await?;
            if tx.send(Ok(self.message(changes, &state))).await.is_err() {
                return Ok(());
            }
        }
    }

    /// A round's call: the registry of the moment, the node's default time per read.
    fn call(&self) -> Result<Call, Error> {
        let mut call = self.recognizer.call_within(
            &self.peer,
            WATCH_MANIFEST,
            &self.purpose,
            self.verifying,
        )?;
        call.route_origin = self.origin.clone();
        Ok(call)
    }

    fn message(
        &self,
        changes: Vec<huren_proto::v1::PassengerDecision>,
        state: &[Standing],
    ) -> WatchManifestResponse {
        WatchManifestResponse {
            changes,
            totals: Some(boarding::totals(state.iter().map(|s| s.outcome.boarding))),
            event_time: Some(wire::timestamp(OffsetDateTime::now_utc())),
            departed: false,
        }
    }

    /// The node's feed of every issuing region that has a status service, merged into one.
    fn follow(&self, claimed: &[Option<RegionCode>]) -> Events {
        let registry = self.recognizer.registry.current();
        let regions: BTreeSet<RegionCode> = claimed
            .iter()
            .flatten()
            .map(|c| c.province())
            .filter(|c| {
                registry
                    .as_ref()
                    .is_some_and(|r| r.status_service(*c).is_some())
            })
            .collect();
        if regions.is_empty() {
            return futures::stream::pending().boxed();
        }
        futures::stream::select_all(regions.into_iter().map(|r| self.feeds.subscribe(r))).boxed()
    }
}

/// Adds the passengers a feed event may concern: the person it names (by the region's handle),
/// everyone of the region whose handle is not known, and everyone of the region after a reset
/// or an outage.
fn concerns(
    state: &[Standing],
    (region, event): (RegionCode, FeedEvent),
    out: &mut BTreeSet<usize>,
) {
    let of_region = |b: &Standing| b.issuing.is_some_and(|i| i.province() == region.province());
    for (i, b) in state.iter().enumerate().filter(|(_, b)| of_region(b)) {
        let hit = match &event {
            FeedEvent::Change(c) => b.handle.as_deref().is_none_or(|h| h == c.handle),
            FeedEvent::Reset | FeedEvent::Recovered => true,
            FeedEvent::Unreachable(_) => false,
        };
        if hit {
            out.insert(i);
        }
    }
}
