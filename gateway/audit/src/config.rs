//! How the log commits: the sync policy and the size limits, with their defaults.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::record::MAX_LINE_BYTES;

/// When an appended record is acknowledged. See the crate manual for what each one guarantees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Write every batch and `fdatasync` it before acknowledging any record in it. The batch is
    /// whatever queued up while the previous batch was being synced.
    #[default]
    Every,
    /// Like `Every`, but after the first record of a batch the writer waits up to this long for
    /// more before writing and syncing: fewer syncs, each caller waits at most this much longer.
    Interval(Duration),
    /// Acknowledge once the batch is written to the OS, without syncing. Survives a crash of
    /// the process, not of the machine. For benchmarks and disposable demos.
    Unsynced,
}

impl FromStr for SyncPolicy {
    type Err = String;

    /// `every`, `interval(5)` or `interval:5` (milliseconds), `unsynced`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "every" => return Ok(SyncPolicy::Every),
            "unsynced" => return Ok(SyncPolicy::Unsynced),
            _ => {}
        }
        let ms = s
            .strip_prefix("interval(")
            .and_then(|r| r.strip_suffix(')'))
            .or_else(|| s.strip_prefix("interval:"))
            .map(|n| n.trim().trim_end_matches("ms"));
        match ms.map(str::parse::<u64>) {
            Some(Ok(ms)) if (1..=10_000).contains(&ms) => {
                Ok(SyncPolicy::Interval(Duration::from_millis(ms)))
            }
            _ => Err(format!(
                "sync policy {s:?}: expected `every`, `interval(MS)` with 1..=10000 ms, or `unsynced`"
            )),
        }
    }
}

impl fmt::Display for SyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncPolicy::Every => f.write_str("every"),
            SyncPolicy::Interval(d) => write!(f, "interval({})", d.as_millis()),
            SyncPolicy::Unsynced => f.write_str("unsynced"),
        }
    }
}

/// How the log commits and how large its pieces grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub sync: SyncPolicy,
    /// A new segment starts once the current one holds at least this many bytes.
    pub segment_bytes: u64,
    /// Most records in one write + sync.
    pub max_batch_records: usize,
    /// Most bytes in one write + sync. Also the longest torn tail recovery will cut off: more
    /// damage than one batch cannot come from a crash and is reported as corruption instead.
    pub max_batch_bytes: usize,
    /// Appends under way before `append` itself waits (back-pressure).
    pub queue: usize,
    /// Callers write and sync their own batches while a write + sync takes at most this long on
    /// average (tmpfs, a flash disk with power-loss protection). A slower disk would hold a
    /// runtime worker that long each time, so its batches go to the log's own thread, until its
    /// syncs are quick again. Zero: always the thread.
    pub caller_sync_limit: Duration,
    /// After a failed write, how often the stopped writer checks whether the disk takes writes
    /// again (and then resumes in a new segment).
    pub retry_every: Duration,
    /// With a checkpoint key: a signed checkpoint after at most this many new records...
    pub checkpoint_every_records: u64,
    /// ...or this long after the last one when records were added since; and at close.
    pub checkpoint_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sync: SyncPolicy::Every,
            segment_bytes: 64 << 20,
            max_batch_records: 4096,
            max_batch_bytes: 1 << 20,
            queue: 65_536,
            caller_sync_limit: Duration::from_micros(100),
            retry_every: Duration::from_secs(1),
            checkpoint_every_records: 10_000,
            checkpoint_every: Duration::from_secs(10),
        }
    }
}

impl Config {
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_batch_bytes < 2 * MAX_LINE_BYTES {
            return Err(format!(
                "max_batch_bytes must be at least {} (two of the longest records)",
                2 * MAX_LINE_BYTES
            ));
        }
        if self.max_batch_records == 0
            || self.queue == 0
            || self.segment_bytes == 0
            || self.retry_every.is_zero()
            || self.checkpoint_every_records == 0
            || self.checkpoint_every.is_zero()
        {
            return Err(
                "max_batch_records, queue, segment_bytes, retry_every and the checkpoint \
                 intervals must be positive"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_from_their_documented_spellings() {
        assert_eq!("every".parse(), Ok(SyncPolicy::Every));
        assert_eq!("unsynced".parse(), Ok(SyncPolicy::Unsynced));
        let five = SyncPolicy::Interval(Duration::from_millis(5));
        assert_eq!("interval(5)".parse(), Ok(five));
        assert_eq!("interval:5ms".parse(), Ok(five));
        assert_eq!(five.to_string().parse(), Ok(five));
        assert!("interval(0)".parse::<SyncPolicy>().is_err());
        assert!("sometimes".parse::<SyncPolicy>().is_err());
    }
}
