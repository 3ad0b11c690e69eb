//! The publisher node's registry directory watch: a newly published version that verifies but
//! lacks its witnesses' cosignatures is offered to every listed witness ([`super::gather`]); the
//! cosigned note is written back into `registry.json` (the note is not under any DSSE
//! signature, so adding cosignatures changes no signed byte), and the version is then acted on
//! through the same reload every node uses — only with k cosignatures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_registry::store::{self, STATE_FILE};
use huren_registry::witness::WitnessError;
use time::OffsetDateTime;

use super::gather::Gatherer;
use crate::registry_handle::{SharedRegistry, stamp};
use crate::registry_witness::ReloadError;

/// How soon a version still short of cosignatures is offered to the witnesses again (a
/// witness that was down may be back).
const RETRY: Duration = Duration::from_secs(2);

/// Watches `dir` every `every`; each change is reloaded, and a version refused only for want of
/// cosignatures is gathered for and reloaded again — and retried every [`RETRY`] until it has
/// them or another version is published. Ends when the task is aborted with its node.
pub fn watch(
    shared: SharedRegistry,
    dir: PathBuf,
    every: Duration,
    gatherer: Gatherer,
) -> tokio::task::JoinHandle<()> {
    let mut seen = stamp(&dir);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut retry_at: Option<Instant> = None;
        loop {
            tick.tick().await;
            let now = stamp(&dir);
            let retry = retry_at.is_some_and(|at| Instant::now() >= at);
            if now == seen && !retry {
                continue;
            }
            seen = now;
            retry_at = None;
            let (s, d) = (shared.clone(), dir.clone());
            let reloaded = tokio::task::spawn_blocking(move || s.reload_from(&d)).await;
            let Ok(Err(e)) = reloaded else { continue };
            if !wants_cosignatures(&e) {
                continue;
            }
            if let Err(why) = cosign_in_place(&shared, &dir, &gatherer).await {
                tracing::warn!(
                    dir = %dir.display(),
                    %why,
                    "could not gather the witnesses' cosignatures; serving the last good version"
                );
                retry_at = Some(Instant::now() + RETRY);
                continue;
            }
            seen = stamp(&dir);
            let (s, d) = (shared.clone(), dir.clone());
            let again = tokio::task::spawn_blocking(move || s.reload_from(&d)).await;
            if matches!(&again, Ok(Err(e)) if wants_cosignatures(e)) {
                retry_at = Some(Instant::now() + RETRY);
            }
        }
    })
}

/// A refusal that cosignatures can cure.
fn wants_cosignatures(e: &ReloadError) -> bool {
    matches!(
        e,
        ReloadError::NotWitnessed {
            reason: WitnessError::TooFewCosignatures { .. }
                | WitnessError::RootChangeNotWitnessed { .. },
            ..
        }
    )
}

/// Verifies `dir`'s registry against the one served (every rule but the witnesses'), gathers
/// the cosignatures and writes the cosigned note into `dir/registry.json`.
async fn cosign_in_place(
    shared: &SharedRegistry,
    dir: &Path,
    gatherer: &Gatherer,
) -> Result<(), String> {
    let held = shared.current().ok_or("no registry is served yet")?;
    let candidate = Arc::new(
        store::load(dir, Some(&held), OffsetDateTime::now_utc()).map_err(|e| e.to_string())?,
    );
    let note = gatherer
        .gather(&held, &candidate)
        .await
        .map_err(|e| e.to_string())?;
    let mut state = store::read_state(dir).map_err(|e| e.to_string())?;
    // Another publish in between: leave it to the next round.
    if state.log.checkpoints.last() != candidate.state().log.checkpoints.last() {
        return Err("the registry directory changed while cosignatures were gathered".into());
    }
    state.log.note = Some(note.to_text());
    store::atomic_write(&dir.join(STATE_FILE), &state.to_bytes(), false)
        .map_err(|e| e.to_string())?;
    tracing::info!(
        version = candidate.version(),
        cosignatures = note.signatures.len().saturating_sub(1),
        "gathered the witnesses' cosignatures on the new registry checkpoint"
    );
    Ok(())
}
