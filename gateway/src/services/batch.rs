//! The one batch engine: every entry of a batch (codes, workers, passengers, the records of a
//! manifest's decisions) on every worker thread, answers in request order.
//!
//! Reading a signed code is CPU work (a signature check); a 10,000-code batch judged on one task
//! keeps one core busy while the others idle. Entries are split into contiguous chunks, one task
//! per worker thread, each judging a bounded number at once (online lookups and audit appends
//! overlap). Small batches stay on the calling task. The tasks sit in a `JoinSet`, so a caller
//! that goes away takes its unfinished work with it.
//!
//! Each chunk first decodes its entries' payloads and checks their Ed25519 signatures together
//! (`huren_adapters::verify_signed`: a batch check costs about half of one check each, and a
//! failed batch is bisected); the reads then find their signature among those that passed, and a
//! code that is not there is checked alone and fails as it always did.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use tokio::task::JoinSet;

use huren_proto::v1::{Passenger, Worker, worker};

use crate::error::Error;
use crate::recognition::Recognizer;
use crate::recognition::pipeline::{Call, Judged};

/// An entry of a batch that may carry a signed code payload.
pub trait SignedPayload {
    fn payload(&self) -> Option<&str>;
}

impl SignedPayload for String {
    fn payload(&self) -> Option<&str> {
        Some(self)
    }
}

impl SignedPayload for Worker {
    fn payload(&self) -> Option<&str> {
        match &self.identity {
            Some(worker::Identity::Payload(p)) => Some(p),
            _ => None,
        }
    }
}

impl SignedPayload for Passenger {
    fn payload(&self) -> Option<&str> {
        Some(&self.payload)
    }
}

/// Decisions already made carry nothing left to verify.
impl SignedPayload for Judged {
    fn payload(&self) -> Option<&str> {
        None
    }
}

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
    T: SignedPayload + Send + 'static,
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

/// One chunk: its signatures checked together, then `at_once` entries in flight, in order.
async fn run<T, O, F, Fut>(
    recognizer: Arc<Recognizer>,
    call: Arc<Call>,
    items: Vec<T>,
    judge: F,
    at_once: usize,
) -> Vec<O>
where
    T: SignedPayload,
    F: Fn(Arc<Recognizer>, Arc<Call>, T) -> Fut,
    Fut: Future<Output = O>,
{
    let call = with_signatures_checked(call, &items);
    futures::stream::iter(items)
        .map(|item| judge(recognizer.clone(), call.clone(), item))
        .buffered(at_once)
        .collect()
        .await
}

/// `call`, carrying which of the entries' Ed25519 signatures a batch check passed. Unchanged when
/// fewer than two entries carry a payload: one signature is checked alone anyway.
fn with_signatures_checked<T: SignedPayload>(call: Arc<Call>, items: &[T]) -> Arc<Call> {
    if items
        .iter()
        .filter_map(SignedPayload::payload)
        .nth(1)
        .is_none()
    {
        return call;
    }
    let verified = huren_adapters::verify_signed(
        items.iter().filter_map(SignedPayload::payload),
        call.registry.as_ref(),
    );
    if verified.is_empty() {
        return call;
    }
    let mut call = Call::clone(&call);
    call.verified = Some(Arc::new(verified));
    Arc::new(call)
}
