//! Test-only fault injection: makes every write of a log directory fail as a full disk would.
//!
//! Compiled in only with the `fault-injection` feature; without it the writer's check is a no-op. Tests
//! of a served node use it to stop the writer without filling a real disk.

use std::path::Path;

#[cfg(feature = "fault-injection")]
mod hook {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static FAILING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// Makes writes to the log in `dir` (the path it was opened with) fail, or succeed again.
    pub fn fail_writes(dir: &Path, fail: bool) {
        let mut failing = FAILING.lock().unwrap_or_else(|p| p.into_inner());
        failing.retain(|d| d != dir);
        if fail {
            failing.push(dir.to_path_buf());
        }
    }

    pub(crate) fn failing(dir: &Path) -> bool {
        FAILING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|d| d == dir)
    }
}

#[cfg(feature = "fault-injection")]
pub use hook::fail_writes;

/// Fails like a full disk when a test asked for it.
pub(crate) fn check(dir: &Path) -> std::io::Result<()> {
    #[cfg(feature = "fault-injection")]
    if hook::failing(dir) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "injected write failure (fault-injection)",
        ));
    }
    let _ = dir;
    Ok(())
}
