//! One log format for the whole process: `--log-format human` writes plain lines, `json` writes
//! every line a command logs (notices, the serving banner, the final error) as one JSON object.

use std::sync::OnceLock;

use super::LogFormat;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Installs the tracing subscriber on stderr; `RUST_LOG` wins over `default_level`.
pub fn init(format: LogFormat, default_level: &str) {
    use tracing_subscriber::{EnvFilter, fmt};
    let _ = FORMAT.set(format);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Whether lines must be JSON.
pub fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// A line for the person at the terminal: plain on stderr, or a JSON info event that a log
/// collector reads like any other (a plain line would break a JSON-lines pipeline).
pub fn notice(line: impl std::fmt::Display) {
    if json() {
        tracing::info!("{line}");
    } else {
        eprintln!("{line}");
    }
}

/// The error a command ended with, once, in the process's log format; shown whatever
/// `RUST_LOG` filters, as the reason the command failed.
pub fn failure(line: &str) {
    if json() {
        let event = serde_json::json!({
            "timestamp": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "level": "ERROR",
            "fields": { "message": format!("huren: {line}") },
            "target": "huren",
        });
        eprintln!("{event}");
    } else {
        eprintln!("huren: {line}");
    }
}
