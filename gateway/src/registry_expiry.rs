//! Watches the held registry's expiry while a node serves: the seconds-left gauge, a warning
//! before expiry and an error at it, and the readiness condition that makes a node frozen on an
//! expired registry answer 503 on `/readyz` and NOT_SERVING on health.
//!
//! Verdicts need no watcher: every decision hands the registry's expiry to the engine, which
//! stops passing codes at that instant. This task tells the operator and the load balancer, the
//! same way a restart would refuse the registry. A newer registry that verifies clears it.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use huren_registry::Registry;
use time::{Duration, OffsetDateTime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::registry_handle::SharedRegistry;
use huren_adapters::when::rfc3339;

/// Seconds until the held registry expires; negative once it has.
pub const EXPIRES_IN: &str = "huren_registry_expires_in_seconds";

/// What the readiness condition is called in `/readyz` and the health log.
pub const CONDITION: &str = "trust registry";

/// How often the gauge is refreshed, and so the latest an expiry reaches `/readyz`.
const TICK: StdDuration = StdDuration::from_secs(1);

/// Warn when under an hour is left, or under a tenth of the lifetime the registry had when the
/// node took it if that is shorter: a publisher that renews a short timestamp every few minutes
/// should not set off a warning on every renewal.
fn warn_within(lifetime: Duration) -> Duration {
    Duration::hours(1).min(lifetime / 10)
}

/// Starts following `registry`: the receiver holds why the node is not ready (`None` while the
/// registry is fresh). The task ends when every handle to the registry is gone.
pub fn watch_expiry(
    registry: &SharedRegistry,
) -> (watch::Receiver<Option<String>>, JoinHandle<()>) {
    let (frozen, why) = watch::channel(None);
    let task = tokio::spawn(follow(registry.subscribe(), frozen));
    (why, task)
}

async fn follow(
    mut updates: watch::Receiver<Option<Arc<Registry>>>,
    frozen: watch::Sender<Option<String>>,
) {
    loop {
        let held = updates.borrow_and_update().clone();
        if let Some(registry) = held {
            let mut expiry = Expiry::new(&registry, OffsetDateTime::now_utc());
            loop {
                let left = expiry.observe(OffsetDateTime::now_utc(), &frozen);
                // Wake at the expiry itself, not up to a tick after it.
                let nap = StdDuration::try_from(left).map_or(TICK, |l| l.min(TICK));
                tokio::select! {
                    changed = updates.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        break;
                    }
                    () = tokio::time::sleep(nap) => {}
                }
            }
        } else if updates.changed().await.is_err() {
            return;
        }
    }
}

/// One registry's expiry as the node follows it.
#[derive(Debug)]
struct Expiry {
    version: u64,
    expires: OffsetDateTime,
    warn_from: OffsetDateTime,
    warned: bool,
    expired: bool,
}

impl Expiry {
    fn new(registry: &Registry, now: OffsetDateTime) -> Self {
        let expires = registry.expires();
        Self {
            version: registry.version(),
            expires,
            warn_from: expires - warn_within(expires - now),
            warned: false,
            expired: false,
        }
    }

    /// Sets the gauge and the readiness reason, logs what changed; returns the time left.
    fn observe(&mut self, now: OffsetDateTime, frozen: &watch::Sender<Option<String>>) -> Duration {
        let left = self.expires - now;
        metrics::gauge!(EXPIRES_IN).set(left.as_seconds_f64());
        if now >= self.expires {
            if !self.expired {
                self.expired = true;
                tracing::error!(
                    version = self.version,
                    expired_at = %rfc3339(&self.expires),
                    "the trust registry has expired: no code passes (REVIEW, REGISTRY_EXPIRED) \
                     and the node reports not ready until a newer registry is published"
                );
            }
            let why = format!(
                "REGISTRY_EXPIRED: version {} expired at {}; publish a newer registry to serve again",
                self.version,
                rfc3339(&self.expires)
            );
            frozen.send_if_modified(|held| replace(held, Some(why)));
            return left;
        }
        if frozen.send_if_modified(|held| replace(held, None)) {
            tracing::info!(
                version = self.version,
                expires = %rfc3339(&self.expires),
                "a fresh trust registry is installed: codes pass again and the node is ready"
            );
        }
        if now >= self.warn_from && !self.warned {
            self.warned = true;
            tracing::warn!(
                version = self.version,
                expires = %rfc3339(&self.expires),
                seconds_left = left.whole_seconds(),
                "the trust registry expires soon; publish a newer one or this node stops passing codes"
            );
        }
        left
    }
}

/// `send_if_modified` helper: whether `held` changed.
fn replace(held: &mut Option<String>, next: Option<String>) -> bool {
    if *held == next {
        return false;
    }
    *held = next;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lived_registries_warn_late_and_long_lived_an_hour_ahead() {
        assert_eq!(warn_within(Duration::days(1)), Duration::hours(1));
        assert_eq!(warn_within(Duration::minutes(10)), Duration::minutes(1));
        assert_eq!(warn_within(Duration::hours(10)), Duration::hours(1));
    }
}
