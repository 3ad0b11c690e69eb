//! The witness's memory in the node's state directory: `witness.note`, the last checkpoint note
//! it cosigned (with its signatures), and `fork-<time>-held.note` / `fork-<time>-offered.note`,
//! the two checkpoints of a fork it refused, kept as evidence.

use std::path::{Path, PathBuf};

use super::WitnessError;
use crate::log::Checkpoint;
use crate::note::SignedNote;
use crate::store::{StoreError, atomic_write};

/// The last cosigned checkpoint note in a node's state directory.
pub const WITNESS_FILE: &str = "witness.note";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a checkpoint note: {reason}")]
    Unreadable { path: PathBuf, reason: WitnessError },
    #[error(transparent)]
    Write(#[from] StoreError),
}

/// The last checkpoint this node cosigned; `None` before it cosigned any.
pub fn load(state_dir: &Path) -> Result<Option<Checkpoint>, WitnessFileError> {
    let path = state_dir.join(WITNESS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(WitnessFileError::Read { path, source }),
    };
    let unreadable = |reason: WitnessError| WitnessFileError::Unreadable {
        path: path.clone(),
        reason,
    };
    let note = SignedNote::parse(&text).map_err(|e| unreadable(e.into()))?;
    let cp = Checkpoint::from_note_text(&note.text).map_err(|e| unreadable(e.into()))?;
    Ok(Some(cp))
}

/// Replaces `witness.note` atomically with the note just cosigned.
pub fn save(state_dir: &Path, note: &SignedNote) -> Result<(), WitnessFileError> {
    atomic_write(
        &state_dir.join(WITNESS_FILE),
        note.to_text().as_bytes(),
        false,
    )?;
    Ok(())
}

/// Keeps both checkpoints of a refused fork (as note texts: the offered one with every signature
/// it came with) beside the state; returns the two paths, held first.
pub fn keep_fork_evidence(
    state_dir: &Path,
    held: &str,
    offered: &str,
    unix_time: i64,
) -> Result<(PathBuf, PathBuf), WitnessFileError> {
    let held_path = state_dir.join(format!("fork-{unix_time}-held.note"));
    let offered_path = state_dir.join(format!("fork-{unix_time}-offered.note"));
    atomic_write(&held_path, held.as_bytes(), false)?;
    atomic_write(&offered_path, offered.as_bytes(), false)?;
    Ok((held_path, offered_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_cosigned_checkpoint_survives_a_restart_and_evidence_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let cp = Checkpoint::new("huren.test/registry", 3, &[7; 32]);
        let mut note = SignedNote::new(cp.note_text().unwrap()).unwrap();
        note.add(crate::note::NoteSignature {
            name: "w".into(),
            key_id: 1,
            signature: vec![1; 72],
        });
        save(dir.path(), &note).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(cp));
        let (h, o) = keep_fork_evidence(dir.path(), "held\n", "offered\n", 42).unwrap();
        assert_eq!(std::fs::read_to_string(h).unwrap(), "held\n");
        assert!(o.ends_with("fork-42-offered.note"));
        std::fs::write(dir.path().join(WITNESS_FILE), "junk").unwrap();
        assert!(matches!(
            load(dir.path()),
            Err(WitnessFileError::Unreadable { .. })
        ));
    }
}
