//! `huren.v1.ManifestsService`: CheckManifest and WatchManifest for charter-train carriers.

use std::sync::Arc;

use futures::stream::BoxStream;
use huren_proto::v1::manifests_service_server::ManifestsService;
use huren_proto::v1::{
    CheckManifestRequest, CheckManifestResponse, Manifest, WatchManifestRequest,
    WatchManifestResponse,
};
use time::OffsetDateTime;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::authz::Ask;
use crate::error::Error;
use crate::recognition::{Recognizer, wire};
use crate::services::batch::check_batch;
use crate::services::start::{self, Start};

pub mod boarding;
pub mod feeds;
pub mod watch;

use feeds::FeedHub;
use watch::WATCH_MANIFEST;

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
            recognizer.status_lists.clone(),
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

    /// The common start of both methods: a manifest is judged under its destination's rules.
    fn begin<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
        manifest: Option<&Manifest>,
    ) -> Result<Start<'_>, Error> {
        let ask = Ask::Manifest {
            origin_region: manifest.map_or("", |m| m.origin_region.as_str()),
            destination_region: destination(manifest),
        };
        start::begin(self.state.recognizer.as_ref(), request, method, ask)
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
        let manifest = request.get_ref().manifest.as_ref();
        let start = self.begin(&request, CHECK_MANIFEST, manifest)?;
        let (m, purpose) = checked(manifest)?;
        let mut call = start.call(&purpose)?;
        call.route_origin = m.origin_region.clone();
        let train_id = m.train_id.clone();
        let passengers = request.into_inner().manifest.map(|m| m.passengers);
        let boarded =
            boarding::board_all(start.recognizer, &call, passengers.unwrap_or_default()).await?;
        // Shaped for the carrier here, at the edge; sent only once recorded.
        let decisions = boarded.iter().map(|b| b.decision(&call)).collect();
        let totals = boarding::totals(boarded.iter().map(|b| b.outcome().boarding));
        boarding::record(start.recognizer, &call, boarded).await?;
        Ok(Response::new(CheckManifestResponse {
            train_id,
            totals: Some(totals),
            decisions,
            registry_version: call.registry.version(),
        }))
    }

    type WatchManifestStream = BoxStream<'static, Result<WatchManifestResponse, Status>>;

    async fn watch_manifest(
        &self,
        request: Request<WatchManifestRequest>,
    ) -> Result<Response<Self::WatchManifestStream>, Status> {
        let manifest = request.get_ref().manifest.as_ref();
        let start = self.begin(&request, WATCH_MANIFEST, manifest)?;
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
            recognizer: start.recognizer.clone(),
            feeds,
            peer: start.peer,
            purpose,
            verifying: start.verifying,
            origin: m.origin_region.clone(),
            passengers: m.passengers.clone(),
            departure,
        };
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(watch.run(tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
