//! A closed-loop load generator: N calls in flight, each issued again as soon as it returns,
//! until the duration or the request budget runs out; latencies in an HDR histogram and the
//! server threads' CPU over the same window.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::cpu::{AUDIT_THREAD, SERVER_THREADS, process_cpu, threads_cpu};

/// When a run stops: whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub duration: Duration,
    /// Calls started in all (0: no budget).
    pub requests: u64,
}

impl Bounds {
    /// The longest one call may take: a run ends at most this long after its duration.
    pub fn call_timeout(&self) -> Duration {
        self.duration + Duration::from_secs(10)
    }

    /// `message` as a request whose grpc-timeout is [`Bounds::call_timeout`], so the server
    /// also gives up on it.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.call_timeout());
        request
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Figures {
    pub calls: u64,
    pub failed: u64,
    /// Items per call (codes in a batch, passengers in a manifest); 1 for plain calls.
    pub items_per_call: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// Server threads' CPU over the run.
    pub server_cpu: Option<Duration>,
    /// The audit log's own thread's CPU over the run (not a server thread; it writes batches
    /// only for a slow disk).
    pub audit_cpu: Option<Duration>,
    /// Every thread of the process (load generator, server, audit thread) over the run: beside
    /// the elapsed time, how many cores the run kept busy.
    pub process_cpu: Option<Duration>,
    /// Heap allocations of the whole process (client and server) over the run; only with the
    /// counting allocator ([`super::allocs`]).
    pub allocations: Option<u64>,
    /// The first failure, to say why.
    pub first_error: Option<String>,
}

impl Figures {
    pub fn calls_per_sec(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn items_per_sec(&self) -> f64 {
        self.calls_per_sec() * self.items_per_call as f64
    }

    /// Server CPU per item, µs.
    pub fn cpu_us_per_item(&self) -> Option<f64> {
        self.per_item_us(self.server_cpu)
    }

    /// The audit thread's CPU per item, µs.
    pub fn audit_us_per_item(&self) -> Option<f64> {
        self.per_item_us(self.audit_cpu)
    }

    /// The whole process's CPU per item (client, server, audit thread), µs.
    pub fn process_us_per_item(&self) -> Option<f64> {
        self.per_item_us(self.process_cpu)
    }

    /// Cores the process kept busy on average over the run: below the machine's cores (and
    /// with nothing else running) the calls spent part of their time waiting, not computing.
    pub fn cores_busy(&self) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        self.process_cpu
            .filter(|_| secs > 0.0)
            .map(|cpu| cpu.as_secs_f64() / secs)
    }

    fn per_item_us(&self, cpu: Option<Duration>) -> Option<f64> {
        let items = (self.calls * self.items_per_call) as f64;
        cpu.filter(|_| items > 0.0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / items)
    }

    /// Heap allocations per item, client and server together.
    pub fn allocs_per_item(&self) -> Option<f64> {
        let items = (self.calls * self.items_per_call) as f64;
        self.allocations
            .filter(|_| items > 0.0)
            .map(|n| n as f64 / items)
    }
}

/// Runs `call(i)` with `in_flight` calls outstanding until `bounds` end. `call` returns
/// `Err(why)` for a failed call.
pub async fn run<F, Fut>(in_flight: usize, bounds: Bounds, items_per_call: u64, call: F) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let call = Arc::new(call);
    let started = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + bounds.duration;
    let call_timeout = bounds.call_timeout();
    let cpu_start = threads_cpu(SERVER_THREADS);
    let audit_start = threads_cpu(AUDIT_THREAD);
    // The process's own count, which keeps the CPU of threads that ended (an idle blocking-pool
    // thread leaves after a while), in clock ticks: 10 ms in the seconds of a run.
    let process_start = process_cpu(std::process::id());
    let allocs_start = super::allocs::so_far();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(in_flight);
    for _ in 0..in_flight.max(1) {
        let call = call.clone();
        let started = started.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).ok();
            let (mut ok, mut failed, mut first_error) = (0u64, 0u64, None);
            // Each pass makes one call; bounded by the deadline and the request budget.
            while Instant::now() < deadline {
                let i = started.fetch_add(1, Ordering::Relaxed);
                if bounds.requests > 0 && i >= bounds.requests {
                    break;
                }
                let t = Instant::now();
                let outcome = tokio::time::timeout(call_timeout, call(i))
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {call_timeout:?}")));
                match outcome {
                    Ok(()) => {
                        ok += 1;
                        if let Some(h) = hist.as_mut() {
                            let _ = h.record(t.elapsed().as_micros().max(1) as u64);
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (hist, ok, failed, first_error)
        }));
    }
    let mut merged = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).ok();
    let (mut calls, mut failed, mut first_error) = (0, 0, None);
    for task in tasks {
        if let Ok((hist, ok, f, e)) = task.await {
            if let (Some(m), Some(h)) = (merged.as_mut(), hist.as_ref()) {
                let _ = m.add(h);
            }
            calls += ok;
            failed += f;
            if first_error.is_none() {
                first_error = e;
            }
        }
    }
    let elapsed = start.elapsed();
    let server_cpu = spent(cpu_start, threads_cpu(SERVER_THREADS));
    let audit_cpu = spent(audit_start, threads_cpu(AUDIT_THREAD));
    let whole = spent(process_start, process_cpu(std::process::id()));
    let allocations = match (allocs_start, super::allocs::so_far()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let q = |q: f64| Duration::from_micros(merged.as_ref().map_or(0, |h| h.value_at_quantile(q)));
    Figures {
        calls,
        failed,
        items_per_call,
        elapsed,
        p50: q(0.5),
        p99: q(0.99),
        server_cpu,
        audit_cpu,
        process_cpu: whole,
        allocations,
        first_error,
    }
}

/// What a counter that read `start` before a run and `end` after it moved by; `None` when either
/// read is missing.
fn spent(start: Option<Duration>, end: Option<Duration>) -> Option<Duration> {
    Some(end?.saturating_sub(start?))
}
