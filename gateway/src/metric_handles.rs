//! Metric handles registered once per label set and kept: a call then bumps an atomic instead of
//! building a labelled key (an allocation for the label list, one for a region code's text) and
//! looking it up in the recorder's registry under a lock.
//!
//! Label sets are bounded by what can reach them: methods from the policy table, gRPC code names,
//! verdicts, and region codes an adapter claimed. The process-wide recorder is installed before
//! the first handle is registered, so a handle is never a no-op kept for good.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{OnceLock, RwLock};

use huren_adapters::RegionCode;
use huren_registry::Verdict;
use metrics::{Counter, Histogram};

/// Most label sets kept per metric; past it a handle is registered per use, as before.
const MAX_KEPT: usize = 4096;

/// Handles of one metric by label set.
struct Kept<K, H> {
    handles: RwLock<HashMap<K, H>>,
}

impl<K: Eq + Hash + Copy, H: Clone> Kept<K, H> {
    fn new() -> Self {
        Self {
            handles: RwLock::new(HashMap::new()),
        }
    }

    /// The handle for `key`, registering it with `register` the first time.
    fn get(&self, key: K, register: impl FnOnce() -> H) -> H {
        if let Some(h) = self
            .handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return h.clone();
        }
        let handle = register();
        let mut handles = self.handles.write().unwrap_or_else(|p| p.into_inner());
        if handles.len() < MAX_KEPT {
            handles.insert(key, handle.clone());
        }
        handle
    }
}

/// `huren_decisions_total{verdict, issuing_region}`.
pub fn decisions(verdict: Verdict, issuing: RegionCode) -> Counter {
    static KEPT: OnceLock<Kept<(Verdict, RegionCode), Counter>> = OnceLock::new();
    kept(&KEPT).get((verdict, issuing), || {
        metrics::counter!(
            crate::recognition::pipeline::DECISIONS,
            "verdict" => verdict.as_str(),
            "issuing_region" => issuing.to_string()
        )
    })
}

/// `huren_grpc_requests_total{method, code}`.
pub fn requests(method: &'static str, code: &'static str) -> Counter {
    static KEPT: OnceLock<Kept<(&'static str, &'static str), Counter>> = OnceLock::new();
    kept(&KEPT).get(
        (method, code),
        || metrics::counter!(crate::metrics::REQUESTS, "method" => method, "code" => code),
    )
}

/// `huren_grpc_request_duration_seconds{method}`.
pub fn latency(method: &'static str) -> Histogram {
    static KEPT: OnceLock<Kept<&'static str, Histogram>> = OnceLock::new();
    kept(&KEPT).get(
        method,
        || metrics::histogram!(crate::metrics::LATENCY, "method" => method),
    )
}

/// The kept handles of one metric, after making sure the process-wide recorder is installed.
fn kept<K: Eq + Hash + Copy, H: Clone>(cell: &'static OnceLock<Kept<K, H>>) -> &'static Kept<K, H> {
    cell.get_or_init(|| {
        let _ = crate::metrics::handle();
        Kept::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_handle_counts_where_the_recorder_renders() {
        let issuing = RegionCode::parse("440000").unwrap();
        decisions(Verdict::Review, issuing).increment(1);
        decisions(Verdict::Review, issuing).increment(2);
        let text = crate::metrics::render();
        let line = text
            .lines()
            .find(|l| {
                l.starts_with(crate::recognition::pipeline::DECISIONS)
                    && l.contains("verdict=\"REVIEW\"")
                    && l.contains("issuing_region=\"440000\"")
            })
            .unwrap_or_else(|| panic!("no REVIEW line for 440000 in\n{text}"));
        let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(n >= 3, "{line}");
    }

    #[test]
    fn registering_stops_growing_past_the_cap() {
        let kept: Kept<u32, u32> = Kept::new();
        for i in 0..(MAX_KEPT as u32 + 10) {
            assert_eq!(kept.get(i, || i * 2), i * 2);
        }
        assert_eq!(kept.handles.read().unwrap().len(), MAX_KEPT);
        assert_eq!(
            kept.get(3, || 0),
            6,
            "a kept handle is reused, not registered again"
        );
    }
}
