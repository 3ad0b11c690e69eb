//! One closed-loop run of Henan online reads at a node of the running federation: throughput and
//! latency, the CPU per call of every process the read touched (entry node, serving node, the
//! Henan service), and the serving node's status-cache hits and misses over the run; and the
//! national summary fanned out to every node.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, StatusSource, VerifyCodeRequest};
use tonic::transport::Channel;

use super::super::cpu;
use super::super::load::{self, Bounds, Figures};
use crate::federation::Federation;
use crate::federation::launcher::metrics;

/// Connections per node the load is spread over.
const CONNECTIONS: usize = 4;
/// The region whose codes are read: Henan, served by west.
pub const REGION: &str = "410000";
/// The verifying checkpoint: Yuhang, Zhejiang.
const CHECKPOINT_REGION: &str = "330110";

/// Where a run's calls enter and which node reads the region.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub entry: &'a str,
    pub serving: &'a str,
}

impl Route<'_> {
    pub fn forwarded(&self) -> bool {
        self.entry != self.serving
    }
}

/// A run's figures and how many of its calls did what was measured: a read that reached the
/// regional service (not DEGRADED), a summary that was whole.
pub struct Measured {
    pub figures: Figures,
    pub calls: u64,
    pub read: u64,
    pub cpu: CallCpu,
    /// The serving node's status cache over the run; `None` when its metrics were unreadable.
    pub cache: Option<CacheCounts>,
}

impl Measured {
    /// Every call was answered and read at the source: the run measured what it says.
    pub fn whole(&self) -> bool {
        self.calls > 0 && self.read == self.calls && self.figures.failed == 0
    }
}

/// CPU time per call of each process a read touched, from /proc over the run; `None` where
/// /proc is not available.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallCpu {
    pub forwarded: bool,
    /// The node that took the call.
    pub entry: Option<Duration>,
    /// The node that read the region, for a forwarded read (for a local read it is the entry).
    pub serving: Option<Duration>,
    /// The regional service's process.
    pub service: Option<Duration>,
}

impl CallCpu {
    /// The huren nodes' CPU per call: the entry's, and the serving node's when forwarded.
    pub fn nodes(&self) -> Option<Duration> {
        if self.forwarded {
            Some(self.entry? + self.serving?)
        } else {
            self.entry
        }
    }

    /// Every process's CPU per call, the regional service's included: what one machine pays.
    pub fn all(&self) -> Option<Duration> {
        Some(self.nodes()? + self.service?)
    }

    /// The busiest process's CPU per call: with each process on its own host, this one bounds
    /// the throughput.
    pub fn busiest(&self) -> Option<Duration> {
        let nodes = if self.forwarded {
            self.entry?.max(self.serving?)
        } else {
            self.entry?
        };
        Some(nodes.max(self.service?))
    }
}

/// Status-cache look-ups answered and not answered at a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl CacheCounts {
    /// The node's counters as its /metrics says them now.
    async fn read(federation: &Federation, node: &str) -> Option<Self> {
        let text = metrics(federation.node(node).ok()?.admin).await?;
        Some(Self {
            hits: counter(&text, huren::metrics_catalog::CACHE_HITS)?,
            misses: counter(&text, huren::metrics_catalog::CACHE_MISSES)?,
        })
    }

    fn since(self, before: Self) -> Self {
        Self {
            hits: self.hits.saturating_sub(before.hits),
            misses: self.misses.saturating_sub(before.misses),
        }
    }
}

/// The value of counter `name` in Prometheus text, summed over its label sets.
fn counter(text: &str, name: &str) -> Option<u64> {
    let values: Vec<f64> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let rest = match rest.chars().next()? {
                '{' => rest.split_once('}')?.1,
                ' ' => rest,
                _ => return None, // another metric whose name starts with this one
            };
            rest.split_whitespace().next()?.parse().ok()
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() as u64)
}

async fn channels(
    federation: &Federation,
    node: &str,
    role: &str,
    region: Option<&str>,
) -> anyhow::Result<Arc<Vec<Channel>>> {
    let mut out = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        out.push(federation.channel(node, role, region).await?);
    }
    Ok(Arc::new(out))
}

/// One VerifyCode of `payload` as the Yuhang checkpoint; whether it was read at the source.
async fn verify(channel: Channel, payload: String, bounds: Bounds) -> Result<bool, String> {
    let answer = RecognitionServiceClient::new(channel)
        .verify_code(bounds.request(VerifyCodeRequest {
            payload,
            verifying_region: String::new(),
            purpose: "bench-federation".into(),
        }))
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    Ok(answer
        .verification
        .is_some_and(|v| v.source() != StatusSource::Degraded))
}

/// Waits until a read at `entry` reaches the region again, after a node or the region's service
/// was restarted (connections and breakers recover on their own, within seconds).
pub async fn settle(
    federation: &Federation,
    entry: &str,
    payload: &str,
    bounds: Bounds,
) -> anyhow::Result<()> {
    const WITHIN: Duration = Duration::from_secs(30);
    let started = Instant::now();
    let channel = federation
        .channel(entry, "checkpoint", Some(CHECKPOINT_REGION))
        .await?;
    loop {
        if verify(channel.clone(), payload.to_string(), bounds).await == Ok(true) {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < WITHIN,
            "reads at {entry} did not reach Henan within {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Henan codes read at `route.entry`, closed loop, with each process's CPU per call and the
/// serving node's cache counts.
pub async fn reads(
    federation: &Federation,
    route: Route<'_>,
    payloads: Arc<Vec<String>>,
    in_flight: usize,
    bounds: Bounds,
) -> anyhow::Result<Measured> {
    let channels = channels(
        federation,
        route.entry,
        "checkpoint",
        Some(CHECKPOINT_REGION),
    )
    .await?;
    let pids = [
        federation.node_pid(route.entry),
        federation.node_pid(route.serving),
        federation.region_pid(REGION),
    ];
    let before = pids.map(|pid| pid.and_then(cpu::process_cpu));
    let cache_before = CacheCounts::read(federation, route.serving).await;
    let read = Arc::new(AtomicU64::new(0));
    let counted = read.clone();
    let figures = load::run(in_flight, bounds, 1, move |i| {
        let channel = channels[i as usize % channels.len()].clone();
        let payload = payloads[i as usize % payloads.len()].clone();
        let read = counted.clone();
        async move {
            if verify(channel, payload, bounds).await? {
                read.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await;
    let per_call = |k: usize| cpu_per_call(pids[k], before[k], figures.calls);
    let cpu = CallCpu {
        forwarded: route.forwarded(),
        entry: per_call(0),
        serving: per_call(1),
        service: per_call(2),
    };
    let cache = match (
        CacheCounts::read(federation, route.serving).await,
        cache_before,
    ) {
        (Some(after), Some(before)) => Some(after.since(before)),
        _ => None,
    };
    Ok(Measured {
        calls: figures.calls,
        read: read.load(Ordering::Relaxed),
        figures,
        cpu,
        cache,
    })
}

/// A process's CPU time over a run, divided by the calls made in it.
fn cpu_per_call(pid: Option<u32>, before: Option<Duration>, calls: u64) -> Option<Duration> {
    let spent = cpu::process_cpu(pid?)?.checked_sub(before?)?;
    u32::try_from(calls.max(1)).ok().map(|n| spent / n)
}

/// GetNationalSummary at national, one at a time: the latency of a fan-out to four nodes.
pub async fn fan_out(federation: &Federation, bounds: Bounds) -> anyhow::Result<Measured> {
    let channel = federation.channel("national", "national", None).await?;
    let whole = Arc::new(AtomicU64::new(0));
    let counted = whole.clone();
    let figures = load::run(1, bounds, 1, move |_| {
        let channel = channel.clone();
        let whole = counted.clone();
        async move {
            let answer = CoordinationServiceClient::new(channel)
                .get_national_summary(bounds.request(GetNationalSummaryRequest::default()))
                .await
                .map_err(|s| s.to_string())?
                .into_inner();
            if !answer.partial {
                whole.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await;
    Ok(Measured {
        calls: figures.calls,
        read: whole.load(Ordering::Relaxed),
        figures,
        cpu: CallCpu::default(),
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_is_read_with_or_without_labels() {
        let text = "# TYPE x counter\nx_total 7\nx_total2 100\ny{a=\"1\"} 2\ny{a=\"2\"} 3\n";
        assert_eq!(counter(text, "x_total"), Some(7));
        assert_eq!(counter(text, "y"), Some(5));
        assert_eq!(counter(text, "z"), None);
    }

    #[test]
    fn the_busiest_process_bounds_a_forwarded_read() {
        let us = Duration::from_micros;
        let forwarded = CallCpu {
            forwarded: true,
            entry: Some(us(200)),
            serving: Some(us(120)),
            service: Some(us(50)),
        };
        assert_eq!(forwarded.nodes(), Some(us(320)));
        assert_eq!(forwarded.all(), Some(us(370)));
        assert_eq!(forwarded.busiest(), Some(us(200)));
        let local = CallCpu {
            serving: Some(us(999)), // the same process as the entry: not counted twice
            ..CallCpu {
                forwarded: false,
                ..forwarded
            }
        };
        assert_eq!(local.nodes(), Some(us(200)));
        assert_eq!(local.all(), Some(us(250)));
    }
}
