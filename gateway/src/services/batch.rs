//! The one batch engine: every entry of a batch (codes, workers, passengers, the records of a
//! manifest's decisions) on every worker thread, answers in request order.
//!
//! Reading a signed code is CPU work (a signature check); a 10,000-code batch judged on one task
//! keeps one core busy while the others idle. Entries are split into contiguous chunks, one task
//! per worker thread, each judging a bounded number at once (online lookups and audit appends
//! overlap). Small batches stay on the calling task. The tasks sit in a `JoinSet`, so a caller
//! that goes away takes its unfinished work with it.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use tokio::task::JoinSet;

use crate::error::Error;
use crate::recognition::Recognizer;
use crate::recognition::pipeline::Call;

/// Most entries (payloads, workers, passengers) in one batch call.
pub const MAX_BATCH: usize = 10_000;
/// Entries of one batch judged at once: enough to keep online regions and the audit log's
/// group commit busy, few enough that one batch cannot take every connection to a region.
pub const BATCH_CONCURRENCY: usize = 64;
/// Entries below which a batch is not worth splitting.
const MIN_CHUNK: usize = 256;

/// Refuses an empty or oversized batch before any work.
pub fn check_batch(field: &'static str, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Err(Error::invalid(field, "the batch is empty"));
    }
    if len > MAX_BATCH {
        return Err(Error::invalid(
            field,
            format!("{len} entries; at most {MAX_BATCH} per call, split the batch"),
        ));
    }
    Ok(())
}

/// `judge(recognizer, call, item)` for every item, the results in the items' order.
pub async fn judge_all<T, O, F, Fut>(
    recognizer: &Arc<Recognizer>,
    call: &Call,
    items: Vec<T>,
    judge: F,
) -> Result<Vec<O>, Error>
where
    T: Send + 'static,
    O: Send + 'static,
    F: Fn(Arc<Recognizer>, Arc<Call>, T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = O> + Send + 'static,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = threads.min(items.len().div_ceil(MIN_CHUNK)).max(1);
    let per_chunk = (BATCH_CONCURRENCY / chunks).max(1);
    let call = Arc::new(call.clone());
    if chunks == 1 {
        return Ok(run(recognizer.clone(), call, items, judge, per_chunk).await);
    }
    let size = items.len().div_ceil(chunks);
    let mut rest = items.into_iter();
    let mut set = JoinSet::new();
    for index in 0..chunks {
        let chunk: Vec<T> = rest.by_ref().take(size).collect();
        let (r, c, j) = (recognizer.clone(), call.clone(), judge.clone());
        set.spawn(async move { (index, run(r, c, chunk, j, per_chunk).await) });
    }
    let mut parts: Vec<Option<Vec<O>>> = (0..chunks).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, out) = joined.map_err(|e| {
            tracing::error!(error = %e, "a batch task failed");
            Error::Unavailable("a batch task failed; retry the call".into())
        })?;
        if let Some(slot) = parts.get_mut(index) {
            *slot = Some(out);
        }
    }
    Ok(parts.into_iter().flatten().flatten().collect())
}

/// One chunk, `at_once` entries in flight, in order.
async fn run<T, O, F, Fut>(
    recognizer: Arc<Recognizer>,
    call: Arc<Call>,
    items: Vec<T>,
    judge: F,
    at_once: usize,
) -> Vec<O>
where
    F: Fn(Arc<Recognizer>, Arc<Call>, T) -> Fut,
    Fut: Future<Output = O>,
{
    futures::stream::iter(items)
        .map(|item| judge(recognizer.clone(), call.clone(), item))
        .buffered(at_once)
        .collect()
        .await
}
