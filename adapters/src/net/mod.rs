//! Outbound hygiene: the client that reaches regions' status services for the online adapters.
//!
//! [`StatusClient`] implements [`StatusLookup`]. Per region it keeps a few multiplexed HTTP/2
//! connections ([`ClientConfig::connections_per_region`]) over TLS pinned to the registry's
//! [`StatusService`] entry (chain to the region's CA and exactly the registered SPIFFE id), a
//! circuit breaker and a short-TTL cache (TTL from
//! [`TrustView::cache_ttl`]). Every call ends by the caller's deadline: a region that is down,
//! slow, answers garbage or proves the wrong identity yields [`ReadOutcome::Degraded`] saying
//! why, never a hang. Lookups are idempotent reads, so a
//! failed attempt that may not have reached a healthy server is retried, at most
//! [`ClientConfig::max_attempts`] times in all and only while the deadline leaves room.
//!
//! [`StatusClient::follow`] follows a region's change feed (see [`crate::sim`] for the
//! protocol) for the gateway's WatchManifest, and drops cached answers a change makes stale.
//! [`StatusClient::fetch_revocation_list`] fetches a region's signed revocation list over the
//! same pinned connection, for the adapter that checks and installs it;
//! [`StatusClient::fetch_status_list`] fetches an issuer's signed status lists and deltas.

pub mod appeals;
// The online-read benchmark drives the reference services, so it is built with them.
#[cfg(any(test, feature = "sim"))]
pub mod bench;
pub mod breaker;
pub mod cache;
mod conn;
pub mod error;
pub mod feed;
pub mod list_source;
pub mod revocations;
pub mod status_lists;
pub mod verify;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use crate::lookup::{LookupQuery, StatusLookup};
use crate::model::{CodeError, Degraded, NativeReading, Person, ReadOutcome, RegionCode, Source};
use crate::net::wire::{ErrorBody, LOOKUP_PATH, LookupRequest, LookupResponse};
use crate::trust::StatusService;

pub use breaker::{BreakerConfig, Health};
pub use error::NetError;
pub use feed::{Change, FeedEvent, FeedFollower, FollowFrom};

use breaker::{Admission, Breaker};
use cache::{CacheKey, StatusCache};
use conn::Channel;
pub use conn::pinned_client_config;

/// The certificate the client presents to services that ask for one (the gateway's own).
#[derive(Clone)]
pub struct ClientIdentity {
    /// Leaf first, then its CA, PEM.
    pub cert_pem: String,
    /// PKCS#8 PEM.
    pub key_pem: String,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity(<certificate and key>)")
    }
}

impl ClientIdentity {
    /// The certificate chain (leaf first) and PKCS#8 key from two PEM files.
    pub fn from_files(cert: &std::path::Path, key: &std::path::Path) -> Result<Self, NetError> {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p)
                .map_err(|e| NetError::Tls(format!("gateway identity: {}: {e}", p.display())))
        };
        Ok(Self {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        })
    }

    /// The gateway's certificate and key from a dev PKI directory (`huren certs init`).
    #[cfg(any(test, feature = "sim"))]
    pub fn from_pki_gateway(pki: &std::path::Path) -> Result<Self, NetError> {
        let manifest = huren_certs::Manifest::load(pki)
            .map_err(|e| NetError::Tls(format!("gateway identity: {e}")))?;
        Self::from_files(
            &pki.join(&manifest.gateway.cert),
            &pki.join(&manifest.gateway.key),
        )
    }
}

/// Cached answers kept across all regions unless the node's config says otherwise.
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Attempts per lookup, the first included (1 = no retry).
    pub max_attempts: u32,
    /// An attempt is not started with less time than this left before the deadline.
    pub min_attempt_time: Duration,
    pub breaker: BreakerConfig,
    /// Cached answers kept across all regions; 0: no cache, every look-up asks the region.
    pub cache_capacity: usize,
    /// Presented to services that require a client certificate.
    pub identity: Option<ClientIdentity>,
    /// The regions this node serves in a federation; `None`: every region. A region outside
    /// the set is never called from here: its data stays inside the node that serves it, and
    /// federation forwards the read there.
    pub served: Option<std::collections::BTreeSet<RegionCode>>,
    /// HTTP/2 connections kept to each region's service, requests taking them in turn (at
    /// least one).
    pub connections_per_region: usize,
}

/// Two: at 256 lookups in flight to a service 20 ms away, one connection reached 0.75–0.84 of
/// in flight ÷ latency and two 0.86–0.89 on a 2-core machine; four did no better than two.
pub const DEFAULT_CONNECTIONS_PER_REGION: usize = 2;

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            max_attempts: 2,
            min_attempt_time: Duration::from_millis(5),
            breaker: BreakerConfig::default(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            identity: None,
            served: None,
            connections_per_region: DEFAULT_CONNECTIONS_PER_REGION,
        }
    }
}

/// One region's connection and breaker.
struct Region {
    channel: Mutex<Option<Arc<Channel>>>,
    breaker: Breaker,
}

struct Inner {
    config: ClientConfig,
    regions: Mutex<HashMap<RegionCode, Arc<Region>>>,
    cache: StatusCache,
}

/// The gateway's client for every region's status service. Cheap to clone.
#[derive(Clone)]
pub struct StatusClient {
    inner: Arc<Inner>,
}

impl StatusClient {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                cache: StatusCache::new(config.cache_capacity),
                config,
                regions: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn region(&self, region: RegionCode) -> Arc<Region> {
        let mut map = self.inner.regions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(region)
            .or_insert_with(|| {
                Arc::new(Region {
                    channel: Mutex::new(None),
                    breaker: Breaker::new(self.inner.config.breaker),
                })
            })
            .clone()
    }

    /// The channel for the registry's current entry; a changed entry (new URL, identity or CA)
    /// replaces the old channel, so a registry update takes effect on the next call.
    fn channel(
        &self,
        region: RegionCode,
        service: &StatusService,
    ) -> Result<Arc<Channel>, NetError> {
        let state = self.region(region);
        let mut slot = state.channel.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = slot.as_ref()
            && &channel.service == service
        {
            return Ok(channel.clone());
        }
        let channel = Arc::new(Channel::new(
            service.clone(),
            self.inner.config.identity.as_ref(),
            self.inner.config.connections_per_region,
        )?);
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// The region's status service as health reporting sees it. A region never called is
    /// healthy.
    pub fn health(&self, region: RegionCode) -> Health {
        let map = self.inner.regions.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&region)
            .map_or(Health::Healthy, |r| r.breaker.health())
    }

    /// Every region this client has called, with its health, for health reporting.
    pub fn health_report(&self) -> Vec<(RegionCode, Health)> {
        let map = self.inner.regions.lock().unwrap_or_else(|p| p.into_inner());
        let mut report: Vec<_> = map.iter().map(|(r, s)| (*r, s.breaker.health())).collect();
        report.sort_by_key(|(r, _)| *r);
        report
    }

    /// Cached answers currently held.
    pub fn cached(&self) -> usize {
        self.inner.cache.len()
    }

    /// How often the cache answered a look-up, and how often it could not.
    pub fn cache_counts(&self) -> cache::CacheCounts {
        self.inner.cache.counts()
    }

    /// Asks the service once per attempt, retrying while it makes sense and the deadline allows.
    async fn ask(
        &self,
        channel: &Channel,
        body: bytes::Bytes,
        deadline: tokio::time::Instant,
    ) -> Result<LookupResponse, NetError> {
        let mut last = NetError::Deadline;
        for attempt in 0..self.inner.config.max_attempts.max(1) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if attempt > 0 && left < self.inner.config.min_attempt_time {
                break;
            }
            // A clone of `Bytes` shares the encoded query: a retry does not copy it again.
            let call = channel.request(Method::POST, LOOKUP_PATH, Some(body.clone()));
            let result = match tokio::time::timeout_at(deadline, call).await {
                Ok(Ok((status, bytes))) => parse_answer(status, &bytes),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(NetError::Deadline),
            };
            match result {
                Ok(answer) => return Ok(answer),
                Err(e) if e.retryable() => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

fn parse_answer(status: StatusCode, body: &[u8]) -> Result<LookupResponse, NetError> {
    if status == StatusCode::OK {
        return serde_json::from_slice(body).map_err(|e| NetError::Garbage(e.to_string()));
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.message)
        .unwrap_or_else(|_| "no readable error body".to_string());
    match status {
        StatusCode::NOT_FOUND => Err(NetError::UnknownCode),
        StatusCode::BAD_REQUEST => Err(NetError::BadRequest(message)),
        _ => Err(NetError::Status {
            status: status.as_u16(),
            message,
        }),
    }
}

/// Turns a well-formed answer into a reading, refusing answers that cannot be right.
fn reading(
    region: RegionCode,
    query: &LookupQuery,
    answer: LookupResponse,
) -> Result<NativeReading, NetError> {
    let answered = RegionCode::parse(&answer.region).map_err(NetError::Garbage)?;
    if answered.province() != region.province() {
        return Err(NetError::Garbage(format!(
            "answered for region {answered}, asked {region}"
        )));
    }
    let sane = |s: &str, max: usize| !s.is_empty() && s.chars().count() <= max;
    if !sane(&answer.label, 16)
        || !sane(&answer.handle, 128)
        || answer.masked_name.chars().count() > 64
    {
        return Err(NetError::Garbage(
            "label, handle or name out of bounds".into(),
        ));
    }
    let id = match query {
        LookupQuery::Resident { id, .. } => Some(id.clone()),
        LookupQuery::CodeId { .. } => None,
    };
    Ok(NativeReading {
        region,
        issuer_id: None,
        native_label: answer.label,
        subject: Person {
            id,
            name: answer.masked_name,
            region_handle: Some(answer.handle),
        },
        refreshed_at: answer.refreshed_at,
        valid_until: None,
        source: Source::Online,
        checked_in_at: None,
        status_ref: None,
        notes: Vec::new(),
        synthetic: answer.synthetic,
    })
}

/// What a lookup that could not ask the region knows: who it was about, and why.
pub fn degraded(region: RegionCode, query: &LookupQuery, why: &NetError) -> Degraded {
    let (id, handle) = match query {
        LookupQuery::Resident { id, .. } => (Some(id.clone()), None),
        LookupQuery::CodeId { code_id, .. } => (None, Some(code_id.clone())),
    };
    Degraded {
        region,
        subject: Person {
            id,
            name: String::new(),
            region_handle: handle,
        },
        issuer_id: None,
        signed_at: None,
        valid_until: None,
        why: vec![format!("region {region} status service: {why}")],
        unlisted: matches!(why, NetError::NoService(_)),
    }
}

fn request_body(query: &LookupQuery) -> Vec<u8> {
    let request = match query {
        LookupQuery::CodeId { code_id, city } => LookupRequest::Code {
            code_id: code_id.clone(),
            city: city.clone(),
        },
        LookupQuery::Resident { id, name } => LookupRequest::Resident {
            resident_id: id.expose().to_string(),
            name: name.clone(),
        },
    };
    serde_json::to_vec(&request).unwrap_or_default()
}

#[async_trait::async_trait]
impl StatusLookup for StatusClient {
    async fn lookup(
        &self,
        region: RegionCode,
        query: &LookupQuery,
        service: Option<&StatusService>,
        ttl: Duration,
        deadline: Instant,
    ) -> Result<ReadOutcome, CodeError> {
        let now = Instant::now();
        let degrade = |why: NetError| Ok(ReadOutcome::Degraded(degraded(region, query, &why)));
        if let Some(served) = &self.inner.config.served
            && !served.contains(&region)
        {
            return degrade(NetError::NotServed(region));
        }
        if now >= deadline {
            return degrade(NetError::Deadline);
        }
        let key = CacheKey::of(query);
        if let Some(hit) = self.inner.cache.get(region, &key, now) {
            return Ok(ReadOutcome::Read(hit));
        }
        let Some(service) = service else {
            return degrade(NetError::NoService(region));
        };
        let channel = match self.channel(region, service) {
            Ok(c) => c,
            Err(e) => return degrade(e),
        };
        let state = self.region(region);
        if state.breaker.admit(now) == Admission::Refused {
            return degrade(NetError::CircuitOpen);
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        let result = self
            .ask(&channel, request_body(query).into(), deadline)
            .await;
        let result = result.and_then(|answer| reading(region, query, answer));
        let answered = match &result {
            Ok(_) => true,
            Err(e) => e.is_answer(),
        };
        state.breaker.record(answered, Instant::now());
        if state.breaker.health() == Health::Down {
            channel.reset();
        }
        match result {
            Ok(reading) => {
                self.inner
                    .cache
                    .put(region, key, &reading, ttl, Instant::now());
                Ok(ReadOutcome::Read(reading))
            }
            Err(NetError::UnknownCode) => Err(CodeError::UnknownCode),
            Err(NetError::BadRequest(detail)) => Err(CodeError::Malformed { region, detail }),
            Err(e) => degrade(e),
        }
    }
}
