//! CPU time of the server's threads only: the gateway runs on its own runtime whose threads carry
//! a name prefix, and Linux reports each thread's CPU time under /proc/self/task. Client and
//! server share the machine's cores, so server CPU per call is the figure that survives noise.

use std::time::Duration;

/// Thread name prefix of the runtime the benchmarked gateway runs on.
pub const SERVER_THREADS: &str = "huren-srv";

/// Name of the audit log's own thread (`huren_audit`), not one of the server runtime's: it
/// writes batches only for a slow disk; on a quick one the callers (server threads) write them.
pub const AUDIT_THREAD: &str = "huren-audit";

/// Total CPU time of this process's threads whose name starts with `prefix`; `None` where
/// /proc is not available (not Linux).
pub fn threads_cpu(prefix: &str) -> Option<Duration> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut total = Duration::ZERO;
    // Bounded by the number of threads of this process.
    for task in tasks.flatten() {
        let dir = task.path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        total += thread_cpu(&dir).unwrap_or_default();
    }
    Some(total)
}

/// CPU time of process `pid` so far, every thread including those that ended; `None` where
/// /proc is not available or the process has ended.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    stat_cpu(&std::path::Path::new("/proc").join(pid.to_string()))
}

/// How long the live threads of process `pid` have waited, runnable, for a CPU (the second
/// field of each thread's `schedstat`); `None` where /proc is not available. On a shared machine
/// this says whether other tenants, not the benchmark, held the cores.
pub fn process_runqueue_wait(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let waited = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some(Duration::from_nanos(waited))
}

/// The calling thread's CPU time so far; `None` where /proc is not available.
pub fn this_thread_cpu() -> Option<Duration> {
    thread_cpu(std::path::Path::new("/proc/thread-self"))
}

/// One thread's CPU time: nanoseconds from `schedstat`, else clock ticks from `stat`.
fn thread_cpu(dir: &std::path::Path) -> Option<Duration> {
    if let Ok(s) = std::fs::read_to_string(dir.join("schedstat"))
        && let Some(ns) = s.split_whitespace().next().and_then(|n| n.parse().ok())
    {
        return Some(Duration::from_nanos(ns));
    }
    stat_cpu(dir)
}

/// User plus system time from a `stat` file: of the whole process for `/proc/<pid>`.
fn stat_cpu(dir: &std::path::Path) -> Option<Duration> {
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // Fields after the parenthesised name: utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed amount of work, not a wall-clock span: under load the busy thread takes longer
    /// but its CPU time is the same, and the idle thread, blocked on a channel the whole time,
    /// cannot catch up with it whatever the scheduler does.
    #[test]
    fn a_busy_named_thread_is_counted() {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let idle = std::thread::Builder::new()
            .name("cpu-test-idle".into())
            .spawn(move || {
                let _ = stop_rx.recv();
            })
            .unwrap();
        let (busy_stop_tx, busy_stop_rx) = std::sync::mpsc::channel::<()>();
        let busy = std::thread::Builder::new()
            .name("cpu-test-busy".into())
            .spawn(move || {
                let mut x = 0u64;
                for i in 0..50_000_000u64 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                let _ = done_tx.send(());
                let _ = busy_stop_rx.recv();
            })
            .unwrap();
        done_rx.recv().unwrap();
        let measured = (threads_cpu("cpu-test-busy"), threads_cpu("cpu-test-idle"));
        busy_stop_tx.send(()).unwrap();
        stop_tx.send(()).unwrap();
        busy.join().unwrap();
        idle.join().unwrap();
        if let (Some(busy), Some(idle)) = measured {
            assert!(busy > idle, "busy {busy:?}, idle {idle:?}");
            assert!(busy > Duration::ZERO);
        }
        if let Some(nobody) = threads_cpu("cpu-test-none") {
            assert_eq!(nobody, Duration::ZERO);
        }
    }
}
