//! The log's own thread: it writes batches when callers should not (a slow disk, the
//! `interval` policy), signs checkpoints, retries a stopped writer, and closes the log.

use std::sync::{Weak, mpsc};
use std::time::Instant;

use crate::batch::Head;
use crate::config::Config;
use crate::disk::Disk;
use crate::error::AppendError;
use crate::signing::Anchoring;
use crate::writer::{Job, Shared, Who};

/// Starts the thread. It ends once the log is closed or every handle is dropped.
pub(crate) fn spawn(
    shared: Weak<Shared>,
    jobs: mpsc::Receiver<Job>,
    cfg: Config,
    anchoring: Option<Anchoring>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("huren-audit".into())
        .spawn(move || run(shared, jobs, cfg, anchoring))?;
    Ok(())
}

fn run(
    shared: Weak<Shared>,
    jobs: mpsc::Receiver<Job>,
    cfg: Config,
    mut anchoring: Option<Anchoring>,
) {
    // When to try again whether a stopped writer's disk takes writes.
    let mut retry_at: Option<Instant> = None;
    loop {
        let records = match shared.upgrade() {
            Some(s) => s.acknowledged(),
            None => 0,
        };
        let checkpoint_at = anchoring.as_ref().and_then(|a| a.due_at(records, &cfg));
        let wake_at = [retry_at, checkpoint_at].into_iter().flatten().min();
        let job = match wake_at {
            None => jobs
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(at) => jobs.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match job {
            Ok(Job::Lead) => {
                if let Some(s) = shared.upgrade() {
                    s.lead(Who::Thread);
                }
            }
            Ok(Job::Checkpoint) => {
                if let (Some(a), Some(s)) = (anchoring.as_mut(), shared.upgrade()) {
                    let durable = s.to_anchor();
                    a.checkpoint(durable.next_seq - 1, durable.prev);
                }
            }
            // The timer above is set from the new count.
            Ok(Job::Added) => {}
            Ok(Job::Stopped) => retry_at = Some(Instant::now() + cfg.retry_every),
            Ok(Job::Close(tx)) => {
                let result = match shared.upgrade() {
                    Some(s) => {
                        let (disk, durable, failed) = s.close();
                        finish(disk, durable, failed, anchoring.as_mut())
                    }
                    None => Err(AppendError::Closed),
                };
                let _ = tx.send(result);
                return;
            }
            Ok(Job::Last(disk, durable)) => {
                let _ = finish(Some(disk), durable, None, anchoring.as_mut());
                return;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let Some(s) = shared.upgrade() else { continue };
                if retry_at.is_some_and(|at| at <= Instant::now()) {
                    retry_at = match s.resume() {
                        true => None,
                        false => Some(Instant::now() + cfg.retry_every),
                    };
                }
                if let Some(a) = anchoring.as_mut().filter(|a| a.is_due(records, &cfg)) {
                    let durable = s.to_anchor();
                    a.checkpoint(durable.next_seq - 1, durable.prev);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// At close: the whole acknowledged chain is anchored, and an unsynced log is synced once.
fn finish(
    disk: Option<Disk>,
    durable: Head,
    failed: Option<String>,
    anchoring: Option<&mut Anchoring>,
) -> Result<(), AppendError> {
    if let Some(a) = anchoring {
        a.checkpoint(durable.next_seq - 1, durable.prev);
    }
    match (disk, failed) {
        (Some(d), None) => d
            .file
            .sync_data()
            .map_err(|e| AppendError::Failed(e.to_string())),
        (_, why) => Err(AppendError::Failed(why.unwrap_or_default())),
    }
}
