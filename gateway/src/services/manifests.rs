//! `huren.v1.ManifestsService`: CheckManifest and WatchManifest for charter-train carriers.

use std::sync::Arc;

use futures::stream::BoxStream;
use huren_proto::v1::manifests_service_server::ManifestsService;
use huren_proto::v1::{
    CheckManifestRequest, CheckManifestResponse, Manifest, Passenger, WatchManifestRequest,
    WatchManifestResponse,
};
use time::OffsetDateTime;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::authz::{self, Ask};
use crate::error::Error;
use crate::recognition::{Recognizer, wire};
use crate::services::batch;
use crate::services::recognition::check_batch;

pub mod boarding;
pub mod feeds;
pub mod watch;

use feeds::FeedHub;

pub const CHECK_MANIFEST: &str = "/huren.v1.ManifestsService/CheckManifest";

/// How far ahead a watched departure may be.
pub const MAX_WATCH_AHEAD: time::Duration = time::Duration::hours(48);
/// Longest train id accepted (it goes into the audit log's purpose).
const MAX_TRAIN_ID: usize = 64;

/// What the service needs: the node's [`Recognizer`] (none: the methods answer UNIMPLEMENTED)
/// and the change feeds every watch shares.
#[derive(Debug, Default)]
pub struct ManifestsState {
    pub recognizer: Option<Arc<Recognizer>>,
    pub feeds: Option<Arc<FeedHub>>,
}

impl ManifestsState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        let feeds = FeedHub::new(
            recognizer.status.clone(),
            Arc::new(recognizer.registry.clone()),
            recognizer.adapters.clone(),
        );
        Self {
            recognizer: Some(recognizer),
            feeds: Some(Arc::new(feeds)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manifests {
    pub state: Arc<ManifestsState>,
}

impl Manifests {
    pub fn new(state: Arc<ManifestsState>) -> Self {
        Self { state }
    }

    fn recognizer(&self, method: &'static str) -> Result<&Arc<Recognizer>, Error> {
        super::node(self.state.recognizer.as_ref(), method)
    }
}

fn destination(manifest: Option<&Manifest>) -> &str {
    manifest.map_or("", |m| m.destination_region.as_str())
}

/// The manifest, checked, and the purpose its decisions are audited under.
fn checked(manifest: Option<&Manifest>) -> Result<(&Manifest, String), Error> {
    let m = manifest.ok_or_else(|| Error::invalid("manifest", "the manifest is required"))?;
    check_batch("manifest.passengers", m.passengers.len())?;
    if m.train_id.is_empty() || m.train_id.len() > MAX_TRAIN_ID {
        return Err(Error::invalid(
            "manifest.train_id",
            format!("1 to {MAX_TRAIN_ID} bytes, e.g. G1234"),
        ));
    }
    let purpose = format!(
        "charter-train {} {}->{}",
        m.train_id, m.origin_region, m.destination_region
    );
    Ok((m, purpose))
}

#[tonic::async_trait]
impl ManifestsService for Manifests {
    async fn check_manifest(
        &self,
        request: Request<CheckManifestRequest>,
    ) -> Result<Response<CheckManifestResponse>, Status> {
        let peer = authz::peer(&request)?;
        let manifest = request.get_ref().manifest.as_ref();
        let verifying = authz::verifying_region(
            peer,
            Ask::Manifest {
                destination_region: destination(manifest),
            },
        )?;
        let recognizer = self.recognizer("CheckManifest")?;
        let (m, purpose) = checked(manifest)?;
        let call = recognizer.call(
            peer,
            request.metadata(),
            CHECK_MANIFEST,
            &purpose,
            verifying,
        )?;
        let train_id = m.train_id.clone();
        let passengers = request.into_inner().manifest.map(|m| m.passengers);
        let mut boarded: Vec<_> = batch::judge_all(
            recognizer,
            &call,
            passengers.unwrap_or_default(),
            |r, call, p: Passenger| async move { boarding::board(&r, &call, &p).await },
        )
        .await?
        .into_iter()
        .collect::<Result<_, _>>()?;
        boarding::record(
            recognizer,
            &call,
            &mut boarded.iter_mut().collect::<Vec<_>>(),
        )
        .await?;
        let decisions: Vec<_> = boarded.into_iter().map(|b| b.decision).collect();
        Ok(Response::new(CheckManifestResponse {
            train_id,
            totals: Some(boarding::totals(&decisions)),
            decisions,
            registry_version: call.registry.version(),
        }))
    }

    type WatchManifestStream = BoxStream<'static, Result<WatchManifestResponse, Status>>;

    async fn watch_manifest(
        &self,
        request: Request<WatchManifestRequest>,
    ) -> Result<Response<Self::WatchManifestStream>, Status> {
        let peer = authz::peer(&request)?;
        let manifest = request.get_ref().manifest.as_ref();
        let verifying = authz::verifying_region(
            peer,
            Ask::Manifest {
                destination_region: destination(manifest),
            },
        )?;
        let recognizer = self.recognizer("WatchManifest")?;
        let (m, purpose) = checked(manifest)?;
        let departure = m
            .departure_time
            .as_ref()
            .and_then(wire::from_timestamp)
            .ok_or_else(|| {
                Error::invalid("manifest.departure_time", "the departure time is required")
            })?;
        let now = OffsetDateTime::now_utc();
        if departure <= now {
            return Err(Error::invalid(
                "manifest.departure_time",
                format!("departure {departure} has passed; nothing is left to watch"),
            )
            .into());
        }
        if departure > now + MAX_WATCH_AHEAD {
            return Err(Error::invalid(
                "manifest.departure_time",
                "at most 48 hours ahead; start watching closer to departure",
            )
            .into());
        }
        let feeds = self.state.feeds.clone().ok_or(Error::Unimplemented {
            method: "WatchManifest",
            capability: "the regions' change feeds (huren::node)",
        })?;
        let watch = watch::Watch {
            recognizer: recognizer.clone(),
            feeds,
            peer: peer.clone(),
            purpose,
            verifying,
            passengers: m.passengers.clone(),
            departure,
        };
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(watch.run(tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
