//! The node's current verified registry: one `Arc<Registry>` behind a watch channel, replaced
//! whole when a newly published registry directory verifies against it.
//!
//! A call takes a snapshot (`current()`) and keeps it to the end, so a reload never changes a
//! registry under a call in flight and never drops one. A refused reload is logged with its
//! reason, counted in `huren_registry_reloads_total{outcome="refused"}`, and the node keeps
//! serving the last good state.
//!
//! With [`SharedRegistry::keeping_trusted_state`], every accepted registry is also recorded in
//! the node's trusted state (`STATE/trusted.json`), so a restart refuses anything older.
//!
//! A new version is acted on only when the witnesses its root asks for have cosigned its
//! checkpoint ([`crate::registry_witness`]); a forked log is counted, logged and kept as
//! evidence in the state directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use huren_adapters::{IssuerKey, RegionCode, StatusService, TrustError, TrustView};
use huren_registry::store::{self, StoreError};
use huren_registry::{Registry, SignedState};

use crate::registry_witness::{
    ReloadError, checkpoint_text, cosigned_enough, is_fork, offered_text, record_fork,
};
use time::OffsetDateTime;
use tokio::sync::watch;

pub const RELOADS: &str = "huren_registry_reloads_total";
pub const VERSION: &str = "huren_registry_version";

/// The current registry, shared by every service and adapter of a node.
#[derive(Debug, Clone)]
pub struct SharedRegistry {
    tx: Arc<watch::Sender<Option<Arc<Registry>>>>,
    /// The node's state directory, where each accepted registry is recorded as trusted.
    trusted_in: Option<Arc<PathBuf>>,
}

impl Default for SharedRegistry {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::channel(None).0),
            trusted_in: None,
        }
    }
}

impl SharedRegistry {
    pub fn new(registry: Registry) -> Self {
        let shared = Self::default();
        shared.replace(registry);
        shared
    }

    /// Loads and verifies `dir` (trusting its first root on first use).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self::new(store::load(
            dir,
            None,
            OffsetDateTime::now_utc(),
        )?))
    }

    /// Records every registry accepted from now on in `state_dir`'s trusted state.
    pub fn keeping_trusted_state(mut self, state_dir: PathBuf) -> Self {
        self.trusted_in = Some(Arc::new(state_dir));
        self
    }

    /// A snapshot of the current registry; `None` before one is loaded.
    pub fn current(&self) -> Option<Arc<Registry>> {
        self.tx.borrow().clone()
    }

    /// Wakes on every accepted registry.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Registry>>> {
        self.tx.subscribe()
    }

    /// Installs an already verified registry.
    pub fn replace(&self, registry: Registry) -> Arc<Registry> {
        let next = Arc::new(registry);
        metrics::gauge!(VERSION).set(next.version() as f64);
        self.tx.send_replace(Some(next.clone()));
        next
    }

    /// Re-reads `dir` and installs it if it verifies against the current registry (no rollback,
    /// root chain forward, log consistent) and k listed witnesses cosigned its checkpoint.
    /// Refused: the current registry stays.
    pub fn reload_from(&self, dir: &Path) -> Result<Arc<Registry>, ReloadError> {
        let state = store::read_state(dir);
        let from = dir.display().to_string();
        match state {
            Ok(state) => self.offer(&state, &from),
            Err(e) => Err(self.refused(ReloadError::Store(e), None, &from)),
        }
    }

    /// Installs `state` (read from a directory, or followed from node `from`) if it verifies
    /// against the current registry and k listed witnesses cosigned its checkpoint. Refused: the
    /// current registry stays, and the refusal is counted and logged.
    pub fn offer(&self, state: &SignedState, from: &str) -> Result<Arc<Registry>, ReloadError> {
        let held = self.current();
        let loaded =
            huren_registry::verify_state(state, held.as_deref(), OffsetDateTime::now_utc())
                .map_err(|source| {
                    ReloadError::Store(StoreError::Refused {
                        path: PathBuf::from(from),
                        source,
                    })
                })
                .and_then(|next| {
                    cosigned_enough(&next, held.as_deref().map(|h| h.root())).map(|()| next)
                });
        match loaded {
            Ok(next) => {
                if held
                    .as_ref()
                    .is_some_and(|h| h.version() == next.version() && h.state() == next.state())
                {
                    metrics::counter!(RELOADS, "outcome" => "unchanged").increment(1);
                    return Ok(held.unwrap_or_else(|| Arc::new(next)));
                }
                metrics::counter!(RELOADS, "outcome" => "accepted").increment(1);
                self.record_trusted(&next);
                let installed = self.replace(next);
                tracing::info!(
                    version = installed.version(),
                    from,
                    "trust registry reloaded"
                );
                Ok(installed)
            }
            Err(e) => Err(self.refused(e, Some(state), from)),
        }
    }

    /// Counts, logs (and for a fork keeps the evidence of) a refused registry.
    fn refused(&self, e: ReloadError, offered: Option<&SignedState>, from: &str) -> ReloadError {
        let held = self.current();
        metrics::counter!(RELOADS, "outcome" => "refused").increment(1);
        crate::metrics_catalog::registry_reload_failed(refusal_reason(&e));
        if e.verify_error().is_some_and(is_fork) {
            let held_text = held.as_deref().map(checkpoint_text).unwrap_or_default();
            let state_dir = self.trusted_in.as_deref().map(PathBuf::as_path);
            record_fork(state_dir, &held_text, &offered_text(offered), from, &e);
        }
        tracing::warn!(
            from,
            reason = %e,
            serving = held.as_ref().map(|h| h.version()),
            "refused a registry update; serving the last good state"
        );
        e
    }

    /// Writes `accepted` as the trusted state. A failed write is logged, not fatal: the
    /// registry verified against the held one, and the trusted state only lags behind.
    fn record_trusted(&self, accepted: &Registry) {
        let Some(state_dir) = &self.trusted_in else {
            return;
        };
        let trusted = huren_registry::trusted::TrustedState::of(accepted);
        if let Err(e) = huren_registry::trusted::file::save(state_dir, &trusted) {
            tracing::error!(
                reason = %e,
                version = accepted.version(),
                "could not record the accepted registry as trusted; a restart compares against an older trusted state"
            );
        }
    }

    /// Polls `dir/registry.json` every `every` and reloads when it changes. The task ends when
    /// every `SharedRegistry` clone is dropped.
    pub fn watch_dir(&self, dir: PathBuf, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.tx);
        let trusted_in = self.trusted_in.clone();
        // Taken now, not when the task first runs, so a publish in between is not missed.
        let mut seen = stamp(&dir);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(tx) = weak.upgrade() else { return };
                let now = stamp(&dir);
                if now != seen {
                    seen = now;
                    let shared = SharedRegistry {
                        tx,
                        trusted_in: trusted_in.clone(),
                    };
                    let d = dir.clone();
                    // Verification is CPU work: keep it off the reactor.
                    let _ = tokio::task::spawn_blocking(move || shared.reload_from(&d)).await;
                }
            }
        })
    }
}

/// What changes when `registry.json` is replaced by rename.
pub(crate) fn stamp(dir: &Path) -> Option<(SystemTime, u64, u64)> {
    let meta = std::fs::metadata(dir.join(store::STATE_FILE)).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

/// Adapters see the registry of the moment through the narrow trait they own.
impl TrustView for SharedRegistry {
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        match self.current() {
            Some(r) => r.issuer_key(region, issuer, signed_at),
            None => Err(TrustError::UnknownRegion(region)),
        }
    }

    fn status_list_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        match self.current() {
            Some(r) => r.status_list_key(region, issuer, signed_at),
            None => Err(TrustError::UnknownRegion(region)),
        }
    }

    fn status_service(&self, region: RegionCode) -> Option<StatusService> {
        self.current()?.status_service(region)
    }

    fn cache_ttl(&self, region: RegionCode) -> Duration {
        self.current()
            .map(|r| r.cache_ttl(region))
            .unwrap_or(Duration::ZERO)
    }
}

/// The `reason` label of a refused registry reload: the kind of rule the new state broke.
fn refusal_reason(error: &ReloadError) -> &'static str {
    use huren_registry::VerifyError;
    if let ReloadError::NotWitnessed { .. } = error {
        return "not_witnessed";
    }
    match error.verify_error() {
        None => "unreadable",
        Some(VerifyError::Document(_)) => "document",
        Some(VerifyError::Root(_)) => "root",
        Some(VerifyError::Signature(_)) => "signature",
        Some(VerifyError::Freshness(_)) => "freshness",
        Some(VerifyError::Log(_)) => "log",
        // A kind added later is still a refusal an operator must see.
        Some(_) => "other",
    }
}
