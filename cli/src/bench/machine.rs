//! The line that says where and how a benchmark ran, printed above its figures.

/// `2026-11-28 16:45 UTC, 2 CPUs (Intel Xeon ...), release build`.
pub fn describe() -> String {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    );
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let build = if cfg!(debug_assertions) {
        "DEBUG build (use --release for real figures)"
    } else {
        "release build"
    };
    format!("{date}, {cpus} CPUs ({model}), {build}")
}

/// The machine's 1-, 5- and 15-minute load averages, as /proc/loadavg gives them: on a shared
/// machine they say how far a benchmark's figures are its own.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}
