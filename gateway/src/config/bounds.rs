//! What a `huren.toml` may not say: limits that would stop the node from answering (or panic
//! it), and a trust domain that is not a SPIFFE name. Checked before anything binds, naming the
//! key, so a typo fails at start instead of as a node that refuses every call.

use super::{Config, ConfigError};

/// One numeric setting and the range in which it means something.
struct Bound {
    key: &'static str,
    value: u64,
    min: u64,
    max: u64,
    why: &'static str,
}

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;
/// Cached regional answers: each holds a reading (a few hundred bytes), so ten million is
/// gigabytes; past that a typo, not a plan.
const MAX_CACHED: u64 = 10_000_000;
/// Connections to one regional service: more than a few only adds TLS sessions and tasks.
const MAX_REGION_CONNECTIONS: u64 = 64;
/// Permits and handshakes are tokio semaphores; far below their own ceiling.
const MAX_PERMITS: u64 = 1_000_000;

impl Config {
    /// Refuses a limit outside its meaningful range, or a trust domain SPIFFE does not allow.
    pub fn check(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let s = &self.shutdown;
        let bounds = [
            Bound {
                key: "limits.max_message_bytes",
                value: l.max_message_bytes as u64,
                min: 1024,
                max: 1 << 30,
                why: "below 1 KiB no request fits",
            },
            Bound {
                key: "limits.max_concurrent_streams",
                value: u64::from(l.max_concurrent_streams),
                min: 1,
                max: MAX_PERMITS,
                why: "0 streams means no call can be made",
            },
            Bound {
                key: "limits.max_in_flight",
                value: l.max_in_flight as u64,
                min: 1,
                max: MAX_PERMITS,
                why: "0 calls in progress means every call is refused",
            },
            Bound {
                key: "limits.max_queue_ms",
                value: l.max_queue_ms,
                min: 1,
                max: HOUR_MS,
                why: "0 ms means every call is refused as having waited too long",
            },
            Bound {
                key: "limits.admission_wait_ms",
                value: l.admission_wait_ms,
                min: 0,
                max: 1_000,
                why: "a wait of more than a second for a permit turns refusals into timeouts",
            },
            Bound {
                key: "limits.request_timeout_cap_ms",
                value: l.request_timeout_cap_ms,
                min: 1,
                max: DAY_MS,
                why: "0 ms means every call times out",
            },
            Bound {
                key: "limits.handshake_timeout_ms",
                value: l.handshake_timeout_ms,
                min: 1,
                max: HOUR_MS,
                why: "0 ms means no TLS handshake can finish",
            },
            Bound {
                key: "limits.max_handshakes",
                value: l.max_handshakes as u64,
                min: 1,
                max: MAX_PERMITS,
                why: "0 handshakes means no connection is accepted",
            },
            Bound {
                key: "limits.http2_keepalive_interval_secs",
                value: l.http2_keepalive_interval_secs,
                min: 1,
                max: DAY_MS / 1000,
                why: "a ping every 0 s would flood every connection",
            },
            Bound {
                key: "limits.http2_keepalive_timeout_secs",
                value: l.http2_keepalive_timeout_secs,
                min: 1,
                max: DAY_MS / 1000,
                why: "0 s would drop every connection at its first ping",
            },
            Bound {
                key: "limits.tcp_keepalive_secs",
                value: l.tcp_keepalive_secs,
                min: 0,
                max: DAY_MS / 1000,
                why: "0 turns TCP keepalive off",
            },
            Bound {
                key: "limits.listen_backlog",
                value: u64::try_from(l.listen_backlog).unwrap_or(0),
                min: 1,
                max: 65_535,
                why: "the kernel's listen backlog",
            },
            Bound {
                key: "limits.max_header_list_bytes",
                value: u64::from(l.max_header_list_bytes),
                min: 1024,
                max: 1 << 24,
                why: "below 1 KiB a gRPC call's own headers do not fit",
            },
            Bound {
                key: "limits.lookups_per_minute",
                value: u64::from(l.lookups_per_minute),
                min: 1,
                max: MAX_PERMITS,
                why: "0 lookups a minute means every lookup by ID card is refused",
            },
            Bound {
                key: "limits.lookup_burst",
                value: u64::from(l.lookup_burst.unwrap_or(l.lookups_per_minute)),
                min: 1,
                max: MAX_PERMITS,
                why: "a burst of 0 means every lookup by ID card is refused",
            },
            Bound {
                key: "limits.appeals_per_hour",
                value: u64::from(l.appeals_per_hour),
                min: 1,
                max: MAX_PERMITS,
                why: "0 appeals an hour means every appeal is refused",
            },
            Bound {
                key: "limits.appeal_burst",
                value: u64::from(l.appeal_burst),
                min: 1,
                max: MAX_PERMITS,
                why: "a burst of 0 means every appeal is refused",
            },
            Bound {
                key: "shutdown.not_serving_grace_ms",
                value: s.not_serving_grace_ms,
                min: 0,
                max: HOUR_MS,
                why: "a shutdown should not wait hours before draining",
            },
            Bound {
                key: "shutdown.drain_timeout_ms",
                value: s.drain_timeout_ms,
                min: 0,
                max: HOUR_MS,
                why: "a shutdown should not wait hours for calls in flight",
            },
            Bound {
                key: "node.default_deadline_ms",
                value: self.node.default_deadline_ms,
                min: 1,
                max: DAY_MS,
                why: "0 ms means no region read can finish",
            },
            Bound {
                key: "lookup.status_cache_capacity",
                value: u64::try_from(self.lookup.status_cache_capacity).unwrap_or(u64::MAX),
                min: 0,
                max: MAX_CACHED,
                why: "each cached answer takes memory; 0 turns the cache off",
            },
            Bound {
                key: "lookup.connections_per_region",
                value: u64::try_from(self.lookup.connections_per_region).unwrap_or(u64::MAX),
                min: 1,
                max: MAX_REGION_CONNECTIONS,
                why: "no connection cannot reach a region; each is a TLS session and a task on both sides",
            },
        ];
        for b in bounds {
            if !(b.min..=b.max).contains(&b.value) {
                return Err(ConfigError::Limit {
                    key: b.key,
                    // The raw value, not the clamped one a negative backlog became.
                    value: if b.key == "limits.listen_backlog" {
                        l.listen_backlog.to_string()
                    } else {
                        b.value.to_string()
                    },
                    range: format!("{}..={}", b.min, b.max),
                    why: b.why,
                });
            }
        }
        if let Some(td) = &self.tls.trust_domain {
            crate::trust_domain::check(td).map_err(ConfigError::TrustDomain)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_key(toml_text: &str) -> Option<&'static str> {
        let config: Config = toml::from_str(toml_text).expect("parses");
        match config.check() {
            Err(ConfigError::Limit { key, .. }) => Some(key),
            Err(ConfigError::TrustDomain(_)) => Some("tls.trust_domain"),
            _ => None,
        }
    }

    #[test]
    fn nonsensical_limits_are_refused_by_name() {
        for (text, key) in [
            ("[limits]\nmax_in_flight = 0", "limits.max_in_flight"),
            (
                "[limits]\nmax_concurrent_streams = 0",
                "limits.max_concurrent_streams",
            ),
            (
                "[limits]\nmax_message_bytes = 0",
                "limits.max_message_bytes",
            ),
            (
                "[limits]\nrequest_timeout_cap_ms = 0",
                "limits.request_timeout_cap_ms",
            ),
            ("[limits]\nmax_handshakes = 0", "limits.max_handshakes"),
            (
                "[limits]\nlookups_per_minute = 0",
                "limits.lookups_per_minute",
            ),
            ("[limits]\nlookup_burst = 0", "limits.lookup_burst"),
            ("[limits]\nappeals_per_hour = 0", "limits.appeals_per_hour"),
            ("[limits]\nappeal_burst = 0", "limits.appeal_burst"),
            ("[limits]\nmax_queue_ms = 0", "limits.max_queue_ms"),
            (
                "[limits]\nadmission_wait_ms = 1001",
                "limits.admission_wait_ms",
            ),
            (
                "[limits]\nadmission_wait_ms = 18446744073709551615",
                "limits.admission_wait_ms",
            ),
            ("[limits]\nlisten_backlog = -1", "limits.listen_backlog"),
            (
                "[limits]\nmax_in_flight = 18446744073709551615",
                "limits.max_in_flight",
            ),
            (
                "[shutdown]\ndrain_timeout_ms = 99999999999",
                "shutdown.drain_timeout_ms",
            ),
            (
                "[node]\ndefault_deadline_ms = 0",
                "node.default_deadline_ms",
            ),
            (
                "[lookup]\nstatus_cache_capacity = 10000001",
                "lookup.status_cache_capacity",
            ),
            (
                "[lookup]\nconnections_per_region = 0",
                "lookup.connections_per_region",
            ),
            (
                "[lookup]\nconnections_per_region = 65",
                "lookup.connections_per_region",
            ),
            (
                "[tls]\ntrust_domain = \"Bad Domain/../x\"",
                "tls.trust_domain",
            ),
        ] {
            assert_eq!(refused_key(text), Some(key), "{text}");
        }
    }

    #[test]
    fn the_defaults_and_small_real_limits_pass() {
        assert_eq!(refused_key(""), None);
        let text = "[limits]\nmax_in_flight = 1\nmax_concurrent_streams = 1\nmax_queue_ms = 1\nadmission_wait_ms = 0\nrequest_timeout_cap_ms = 200\ntcp_keepalive_secs = 0\n[shutdown]\nnot_serving_grace_ms = 0\ndrain_timeout_ms = 0";
        assert_eq!(refused_key(text), None);
        // No cache at all is a real setting: every online read asks the region.
        assert_eq!(refused_key("[lookup]\nstatus_cache_capacity = 0"), None);
        assert_eq!(refused_key("[lookup]\nconnections_per_region = 1"), None);
        assert_eq!(refused_key("[lookup]\nconnections_per_region = 64"), None);
    }

    #[test]
    fn the_message_names_the_key_and_its_range() {
        let config: Config = toml::from_str("[limits]\nmax_in_flight = 0").expect("parses");
        let message = config.check().expect_err("refused").to_string();
        assert!(message.contains("limits.max_in_flight = 0"), "{message}");
        assert!(message.contains("1..=1000000"), "{message}");
    }
}
