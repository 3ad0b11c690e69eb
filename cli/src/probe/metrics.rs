//! The prober's own metrics, in the Prometheus text format: `huren_probe_checks_total` and
//! `huren_probe_mismatches_total{verifying,issuing}`, served on `--metrics` while it runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;

use super::finding::Round;

/// Counters over every round since the prober started.
#[derive(Debug, Clone, Default)]
pub struct ProbeMetrics {
    inner: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    checks: u64,
    mismatches: BTreeMap<(String, String), u64>,
}

impl ProbeMetrics {
    /// Adds one round's checks and mismatches.
    pub fn count(&self, round: &Round) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        c.checks += round.checks;
        for m in &round.mismatches {
            *c.mismatches
                .entry((m.verifying.clone(), m.issuing.clone()))
                .or_default() += 1;
        }
    }

    /// The Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let Ok(c) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::from(
            "# HELP huren_probe_checks_total Verdicts the reverse-testing prober compared with the registry's prediction.\n\
             # TYPE huren_probe_checks_total counter\n",
        );
        out.push_str(&format!("huren_probe_checks_total {}\n", c.checks));
        out.push_str(
            "# HELP huren_probe_mismatches_total Verdicts that differ from the registry's prediction, by verifying and issuing region.\n\
             # TYPE huren_probe_mismatches_total counter\n",
        );
        for ((verifying, issuing), n) in &c.mismatches {
            out.push_str(&format!(
                "huren_probe_mismatches_total{{verifying=\"{verifying}\",issuing=\"{issuing}\"}} {n}\n"
            ));
        }
        out
    }

    /// Serves `GET /metrics` on `addr` until the process ends; the address actually bound.
    pub async fn serve(&self, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening for metrics on {addr}"))?;
        let bound = listener.local_addr()?;
        let metrics = self.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let text = metrics.render();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        );
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the prober's metrics listener stopped");
            }
        });
        Ok(bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Mismatch;

    fn mismatch(verifying: &str, issuing: &str) -> Mismatch {
        Mismatch {
            verifying: verifying.into(),
            issuing: issuing.into(),
            node: "south".into(),
            person: "王* 灰码".into(),
            issued_label: "灰码".into(),
            read_label: "灰码".into(),
            predicted: "HOME_QUARANTINE".into(),
            got: "REVIEW".into(),
            agreement: "440000-420000".into(),
        }
    }

    #[test]
    fn counts_add_up_over_rounds_with_help_and_type_lines() {
        let metrics = ProbeMetrics::default();
        let round = Round {
            checks: 21,
            mismatches: vec![mismatch("440000", "420000")],
            ..Round::default()
        };
        metrics.count(&round);
        metrics.count(&round);
        let text = metrics.render();
        assert!(
            text.contains("# TYPE huren_probe_checks_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP huren_probe_mismatches_total "),
            "{text}"
        );
        assert!(text.contains("huren_probe_checks_total 42\n"), "{text}");
        assert!(
            text.contains(
                "huren_probe_mismatches_total{verifying=\"440000\",issuing=\"420000\"} 2\n"
            ),
            "{text}"
        );
    }
}
