//! Signed recognition receipts as files, one per worker, in the format `huren receipt verify`
//! reads: written by `huren workers confirm --receipts` and by the demo.

use std::path::Path;

use anyhow::Context as _;
use huren::recognition::{receipt, wire};

/// Writes each receipt as `DIR/<worker_ref>.json` in the format `huren receipt verify` reads
/// (JSON of the signed envelope); returns how many.
pub fn write_receipts(
    dir: &Path,
    response: &huren_proto::v1::ConfirmWorkersResponse,
) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut n = 0;
    for c in &response.confirmations {
        let Some(envelope) = c.receipt.as_ref().and_then(|r| r.envelope.as_ref()) else {
            continue;
        };
        let name: String = c
            .worker_ref
            .chars()
            .map(|ch| {
                if ch.is_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.json"));
        receipt::write_file(&path, &wire::from_envelope(envelope))?;
        n += 1;
    }
    Ok(n)
}
