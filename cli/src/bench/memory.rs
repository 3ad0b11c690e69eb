//! A process's resident memory from `/proc/<pid>/status` (Linux): the current `VmRSS`, the
//! high-water mark `VmHWM`, and a sampler that keeps the largest `VmRSS` seen during a run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `VmRSS` of process `pid` now, bytes; `None` off Linux or once it has ended.
pub fn rss(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:").map(|k| k * 1024)
}

/// `VmHWM`, the peak resident set of process `pid` since it started, bytes.
pub fn high_water(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:").map(|k| k * 1024)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Samples the `VmRSS` of a process every `every` until dropped; [`Sampler::peak`] is the
/// largest seen.
pub struct Sampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let peak = Arc::new(AtomicU64::new(rss(pid).unwrap_or(0)));
        let seen = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Some(now) = rss(pid) {
                    seen.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(every).await;
            }
        });
        Self { peak, task }
    }

    /// The largest `VmRSS` sampled so far, bytes (`None` off Linux).
    pub fn peak(&self) -> Option<u64> {
        Some(self.peak.load(Ordering::Relaxed)).filter(|&p| p > 0)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bytes as "123.4 MiB", or "-".
pub fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "-".to_string(),
        |b| format!("{:.1} MiB", b as f64 / 1048576.0),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process_memory() {
        let me = std::process::id();
        let rss = super::rss(me).expect("VmRSS on Linux");
        let hwm = super::high_water(me).expect("VmHWM on Linux");
        assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
        assert_eq!(super::mib(Some(3 * 1048576 / 2)), "1.5 MiB");
    }
}
