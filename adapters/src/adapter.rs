//! The [`RegionAdapter`] trait and the [`AdapterSet`] that hands a payload to exactly one adapter.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::codec::Verified;
pub use crate::lookup::{LookupQuery, StatusLookup};
use crate::model::{CodeError, ReadOutcome, RegionCode, ResidentId};
use crate::net::StatusClient;
use crate::net::list_source::ListSource;
use crate::scan::{self, ScannedUrl};
use crate::status_list::ListArchive;
use crate::trust::TrustView;

/// What a read may use: the registry view, the clock, the caller's deadline, the online client.
pub struct ReadContext<'a> {
    pub trust: &'a dyn TrustView,
    pub now: OffsetDateTime,
    /// Derived from the caller's gRPC deadline; an online lookup must answer (or degrade) by then.
    pub deadline: Instant,
    pub lookup: &'a dyn StatusLookup,
    /// The recognition agreement requires a live status from the issuing region: hybrid formats
    /// (Sichuan) then ask the status service as well as checking the signature.
    pub require_online: bool,
    /// Signatures a group or batch check already passed, with the bodies decoded for that check
    /// ([`crate::codec::batch`]); `None` decodes and checks each alone.
    pub verified: Option<&'a Verified>,
}

impl<'a> ReadContext<'a> {
    /// A context for an offline-acceptable read; set `require_online` when the agreement says.
    pub fn new(
        trust: &'a dyn TrustView,
        lookup: &'a dyn StatusLookup,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Self {
        Self {
            trust,
            now,
            deadline,
            lookup,
            require_online: false,
            verified: None,
        }
    }

    /// Asks `region`'s status service, as the registry pins it, by this read's deadline.
    pub async fn ask(
        &self,
        region: RegionCode,
        query: &LookupQuery,
    ) -> Result<ReadOutcome, CodeError> {
        let service = self.trust.status_service(region);
        let ttl = self.trust.cache_ttl(region);
        self.lookup
            .lookup(region, query, service.as_ref(), ttl, self.deadline)
            .await
    }
}

/// A background task an adapter needs while the node runs; the node spawns it and aborts it on
/// shutdown.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A task that runs `refresh` every `every` until the node aborts it, each run bounded by the
/// deadline it is handed (`every`, at most `within`). A failed run is the refresh's to log; the
/// next tick retries.
pub fn periodic<F, Fut>(every: Duration, within: Duration, mut refresh: F) -> Task
where
    F: FnMut(Instant) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::pin(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Runs until the node aborts it.
        loop {
            tick.tick().await;
            refresh(Instant::now() + every.min(within)).await;
        }
    })
}

/// What an adapter's background tasks may use.
#[derive(Clone)]
pub struct Upkeep {
    /// The node's pinned status client.
    pub status: StatusClient,
    /// The node's registry view (follows registry reloads).
    pub trust: Arc<dyn TrustView>,
    /// How often periodic refreshes run.
    pub every: Duration,
    /// The node's held status lists, which adapters of regions that publish them keep fresh.
    pub status_lists: Arc<ListArchive>,
    /// Where those lists are fetched from: the regions' own services, or in a federation the
    /// node that serves each region.
    pub lists_from: Arc<dyn ListSource>,
}

/// One region's code system.
#[async_trait::async_trait]
pub trait RegionAdapter: Send + Sync {
    fn region(&self) -> RegionCode;

    /// The distinct prefix every payload of this region starts with. Registered prefixes may not
    /// overlap: [`AdapterSet::new`] refuses a set where one is a prefix of another.
    fn prefix(&self) -> &'static str;

    /// The prefix of the region's v2 codes, which carry a status-list reference, if it has one.
    /// It must not overlap any region's prefix either.
    fn status_prefix(&self) -> Option<&'static str> {
        None
    }

    /// Cheap and allocation-free: is this payload ours?
    fn claims(&self, payload: &str) -> bool {
        payload.starts_with(self.prefix())
            || self.status_prefix().is_some_and(|p| payload.starts_with(p))
    }

    /// The payload a URL a person scanned or pasted holds, in this region's own form, or `None`
    /// when the URL is not one of this region's. By default a signed format's code travels in a
    /// `code` query parameter of any http(s) URL (`https://<host>/hc?code=<payload>`): the code
    /// is checked on its own signature, so the wrapper needs no trust. Online regions, whose
    /// payload is itself a URL, override this to read their URL's variants.
    fn payload_in_url(&self, url: &ScannedUrl) -> Option<String> {
        url.param("code")
            .filter(|code| self.claims(code))
            .map(str::to_string)
    }

    /// Decodes and checks the payload (signature against the registry's key, and/or an online
    /// lookup) and returns the region's own status words, or [`ReadOutcome::Degraded`] when the
    /// region could not be asked in time.
    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError>;

    /// Looks up one of the region's own residents by ID and name (转码互认). Regions whose
    /// service cannot do that say so.
    async fn read_resident(
        &self,
        id: &ResidentId,
        name: &str,
        ctx: &ReadContext<'_>,
    ) -> Result<ReadOutcome, CodeError> {
        let _ = (id, name, ctx);
        Err(CodeError::Unsupported(format!(
            "region {} cannot look residents up by ID",
            self.region()
        )))
    }

    /// Background tasks the adapter needs while the node runs (Guangdong: keeping its issuer's
    /// revocation list fresh). None by default.
    fn background(&self, upkeep: &Upkeep) -> Vec<Task> {
        let _ = upkeep;
        Vec::new()
    }

    /// Whether a status change withdraws the holder's earlier codes (Guangdong revokes its signed
    /// tokens through its list), rather than the codes being checked online or re-issued.
    fn withdraws_on_change(&self) -> bool {
        false
    }

    /// Called when the region's change feed reports a status change, before anyone re-judges the
    /// holder: the adapter brings what it holds up to date by `deadline` (Guangdong fetches its
    /// revocation list, regions with status lists fetch theirs into `lists`). Never fails the
    /// change; a failure is logged and the next refresh retries.
    async fn on_status_change(
        &self,
        status: &StatusClient,
        trust: &dyn TrustView,
        lists: &ListArchive,
        deadline: Instant,
    ) {
        let _ = (status, trust, lists, deadline);
    }
}

/// Every prefix an adapter claims payloads by.
fn prefixes(adapter: &dyn RegionAdapter) -> impl Iterator<Item = &'static str> {
    std::iter::once(adapter.prefix()).chain(adapter.status_prefix())
}

/// Every configured adapter; a payload goes to the one that claims it.
#[derive(Clone)]
pub struct AdapterSet {
    adapters: Vec<Arc<dyn RegionAdapter>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("adapters for {a} and {b} could both claim a payload: prefix {pa:?} overlaps {pb:?}")]
    OverlappingPrefixes {
        a: RegionCode,
        pa: &'static str,
        b: RegionCode,
        pb: &'static str,
    },
    #[error("two adapters for region {0}")]
    DuplicateRegion(RegionCode),
}

impl AdapterSet {
    pub fn new(adapters: Vec<Arc<dyn RegionAdapter>>) -> Result<Self, ConfigError> {
        for (i, a) in adapters.iter().enumerate() {
            for b in &adapters[i + 1..] {
                if a.region() == b.region() {
                    return Err(ConfigError::DuplicateRegion(a.region()));
                }
                for pa in prefixes(a.as_ref()) {
                    for pb in prefixes(b.as_ref()) {
                        if pa.starts_with(pb) || pb.starts_with(pa) {
                            return Err(ConfigError::OverlappingPrefixes {
                                a: a.region(),
                                pa,
                                b: b.region(),
                                pb,
                            });
                        }
                    }
                }
            }
        }
        Ok(Self { adapters })
    }

    /// A payload as a scanner or a paste delivered it, made into its region's own form once, at
    /// the edge: surrounding whitespace and CR/LF trimmed, and a URL form read as the code it
    /// holds ([`RegionAdapter::payload_in_url`]). Anything else comes back trimmed, to be judged (and
    /// refused) as it is.
    pub fn scanned<'p>(&self, raw: &'p str) -> Cow<'p, str> {
        let trimmed = scan::trim(raw);
        if let Some(url) = ScannedUrl::parse(trimmed)
            && let Some(payload) = self.adapters.iter().find_map(|a| a.payload_in_url(&url))
        {
            return Cow::Owned(payload);
        }
        Cow::Borrowed(trimmed)
    }

    /// The adapter that claims the payload, or [`CodeError::NotClaimed`].
    pub fn claim(&self, payload: &str) -> Result<&Arc<dyn RegionAdapter>, CodeError> {
        self.adapters
            .iter()
            .find(|a| a.claims(payload))
            .ok_or(CodeError::NotClaimed)
    }

    pub fn for_region(&self, region: RegionCode) -> Option<&Arc<dyn RegionAdapter>> {
        self.adapters.iter().find(|a| a.region() == region)
    }

    /// Every adapter's background tasks, for the node to spawn.
    pub fn background(&self, upkeep: &Upkeep) -> Vec<Task> {
        self.adapters
            .iter()
            .flat_map(|a| a.background(upkeep))
            .collect()
    }

    pub fn regions(&self) -> impl Iterator<Item = RegionCode> + '_ {
        self.adapters.iter().map(|a| a.region())
    }
}
