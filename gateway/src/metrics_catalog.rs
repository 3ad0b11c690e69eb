//! Every metric family huren exports, with its `# HELP` text, described and declared when the
//! recorder starts so that a fresh node's `/metrics` already names what an operator can alert on.

use huren_adapters::regions::status_lists::LIST_REFRESHES;

use crate::federation::list_serve::LISTS_CARRIED;
use crate::metrics::{IDENTITY_REJECTIONS, LATENCY, REQUESTS, TLS_HANDSHAKE_FAILURES};
use crate::recognition::pipeline::{AUDIT_FAILURES, DECISIONS};
use crate::registry_expiry::EXPIRES_IN;
use crate::registry_handle::{RELOADS, VERSION};

/// Always 1; its labels say which build runs.
pub const BUILD_INFO: &str = "huren_build_info";
/// Seconds until the certificate the gateway serves with expires; negative once it has.
pub const SERVER_CERT_EXPIRES_IN: &str = "huren_tls_server_certificate_expires_in_seconds";
/// Seconds until each CA certificate the gateway trusts expires, by subject.
pub const CA_CERT_EXPIRES_IN: &str = "huren_tls_ca_certificate_expires_in_seconds";
/// 1 for a region's current health state, 0 for the others.
pub const ADAPTER_HEALTH: &str = "huren_adapter_health";
/// Status look-ups answered from the short-TTL cache.
pub const CACHE_HITS: &str = "huren_status_cache_hits_total";
/// Status look-ups the cache could not answer.
pub const CACHE_MISSES: &str = "huren_status_cache_misses_total";
/// 1 while a peer replica's circuit breaker is open (or half-open, a probe out), by node and
/// endpoint.
pub const PEER_BREAKER_OPEN: &str = "huren_peer_breaker_open";
/// Times a peer replica's circuit breaker opened, by node and endpoint.
pub const PEER_BREAKER_TRIPS: &str = "huren_peer_breaker_trips_total";
/// Reloads refused, by what was reloaded and why.
pub const RELOAD_FAILURES: &str = "huren_reload_failures_total";

/// Appeals in this node's review queues open longer than 24 h, by issuing region.
pub const APPEALS_OPEN_OVER_24H: &str = "huren_appeals_open_over_24h";

/// What a family is, for `describe_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported family.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

/// The families, in the order an operator reads them.
pub const FAMILIES: &[Family] = &[
    Family {
        name: BUILD_INFO,
        kind: Kind::Gauge,
        help: "Always 1; the version label says which huren build runs.",
    },
    Family {
        name: REQUESTS,
        kind: Kind::Counter,
        help: "gRPC calls finished, by method and status code (refusals included).",
    },
    Family {
        name: LATENCY,
        kind: Kind::Histogram,
        help: "gRPC call duration in seconds, by method.",
    },
    Family {
        name: TLS_HANDSHAKE_FAILURES,
        kind: Kind::Counter,
        help: "TLS handshakes the gateway refused or that timed out, by reason.",
    },
    Family {
        name: IDENTITY_REJECTIONS,
        kind: Kind::Counter,
        help: "Client certificates that completed TLS but name no acceptable caller, by reason.",
    },
    Family {
        name: DECISIONS,
        kind: Kind::Counter,
        help: "Decisions audited and answered, by verdict and issuing region.",
    },
    Family {
        name: AUDIT_FAILURES,
        kind: Kind::Counter,
        help: "Audit appends that failed; each one is a call answered UNAVAILABLE.",
    },
    Family {
        name: RELOADS,
        kind: Kind::Counter,
        help: "Trust registry reload attempts, by outcome (accepted, unchanged, refused).",
    },
    Family {
        name: RELOAD_FAILURES,
        kind: Kind::Counter,
        help: "Reloads refused while the last good state kept serving, by what (registry, tls) and reason.",
    },
    Family {
        name: VERSION,
        kind: Kind::Gauge,
        help: "Version of the trust registry the node serves with.",
    },
    Family {
        name: EXPIRES_IN,
        kind: Kind::Gauge,
        help: "Seconds until the held trust registry's signed timestamp expires; negative once it has.",
    },
    Family {
        name: SERVER_CERT_EXPIRES_IN,
        kind: Kind::Gauge,
        help: "Seconds until the gateway's own TLS certificate expires; negative once it has.",
    },
    Family {
        name: CA_CERT_EXPIRES_IN,
        kind: Kind::Gauge,
        help: "Seconds until each trusted CA certificate (client roots, region CAs) expires, by subject.",
    },
    Family {
        name: ADAPTER_HEALTH,
        kind: Kind::Gauge,
        help: "A region's status service as the circuit breaker sees it: 1 for its current state (healthy, degraded, down), 0 for the others.",
    },
    Family {
        name: PEER_BREAKER_OPEN,
        kind: Kind::Gauge,
        help: "1 while the circuit breaker of a peer node's replica is open or probing (its calls go to other replicas or degrade), 0 while closed; by node and endpoint.",
    },
    Family {
        name: PEER_BREAKER_TRIPS,
        kind: Kind::Counter,
        help: "Times the circuit breaker of a peer node's replica opened after repeated failures, by node and endpoint.",
    },
    Family {
        name: CACHE_HITS,
        kind: Kind::Counter,
        help: "Status look-ups answered from the short-TTL cache.",
    },
    Family {
        name: CACHE_MISSES,
        kind: Kind::Counter,
        help: "Status look-ups the short-TTL cache could not answer.",
    },
    Family {
        name: LIST_REFRESHES,
        kind: Kind::Counter,
        help: "Status list refreshes, by issuing region, source (service, or the node carrying the lists) and outcome (installed, current, unreached, not_the_list_asked, refused).",
    },
    Family {
        name: LISTS_CARRIED,
        kind: Kind::Counter,
        help: "Status lists this node carried to peers, by issuing region and answer (current, delta, whole).",
    },
    Family {
        name: APPEALS_OPEN_OVER_24H,
        kind: Kind::Gauge,
        help: "Appeals (复核) in this node's review queues still open 24 h after filing, by issuing region.",
    },
];

/// Reasons a registry reload is refused, the `reason` label of [`RELOAD_FAILURES`].
pub const REGISTRY_RELOAD_REASONS: &[&str] = &[
    "unreadable",
    "document",
    "root",
    "signature",
    "freshness",
    "log",
    "other",
];

/// Reasons a TLS reload is refused, the `reason` label of [`RELOAD_FAILURES`].
pub const TLS_RELOAD_REASONS: &[&str] =
    &["unreadable", "no_certificate", "roots", "region_ca", "key"];

/// Gives every family its help text; the recorder must already be installed.
pub fn describe() {
    for family in FAMILIES {
        match family.kind {
            Kind::Counter => metrics::describe_counter!(family.name, family.help),
            Kind::Gauge => metrics::describe_gauge!(family.name, family.help),
            Kind::Histogram => metrics::describe_histogram!(family.name, family.help),
        }
    }
}

/// Creates the series whose labels are known before any call, at their starting values: a
/// counter an operator alerts on must exist at 0 before its first increment, or `rate()` and
/// `absent()` cannot tell "none yet" from "not exported".
pub fn declare() {
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for (method, _) in crate::policy::TABLE {
        metrics::counter!(REQUESTS, "method" => *method, "code" => "OK").increment(0);
    }
    for reason in REGISTRY_RELOAD_REASONS {
        metrics::counter!(RELOAD_FAILURES, "what" => "registry", "reason" => *reason).increment(0);
    }
    for reason in TLS_RELOAD_REASONS {
        metrics::counter!(RELOAD_FAILURES, "what" => "tls", "reason" => *reason).increment(0);
    }
    for outcome in ["accepted", "unchanged", "refused"] {
        metrics::counter!(RELOADS, "outcome" => outcome).increment(0);
    }
    metrics::counter!(AUDIT_FAILURES).increment(0);
    metrics::counter!(CACHE_HITS).increment(0);
    metrics::counter!(CACHE_MISSES).increment(0);
}

/// One registry reload refused for `reason`.
pub fn registry_reload_failed(reason: &'static str) {
    metrics::counter!(RELOAD_FAILURES, "what" => "registry", "reason" => reason).increment(1);
}

/// One TLS reload refused for `reason`.
pub fn tls_reload_failed(reason: &'static str) {
    metrics::counter!(RELOAD_FAILURES, "what" => "tls", "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_named_once_with_a_help_text() {
        let mut names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
        assert!(
            FAMILIES
                .iter()
                .all(|f| f.name.starts_with("huren_") && !f.help.is_empty())
        );
    }
}
