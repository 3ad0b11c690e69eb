//! The witness's memory in the node's state directory: `witness.note`, the last checkpoint note
//! it cosigned (with its signatures), and `fork-<time>-<digest>-held.note` /
//! `fork-<time>-<digest>-offered.note`, the two checkpoints of a fork it refused, kept as
//! evidence: once per distinct fork, and at most [`MAX_FORKS_KEPT`] forks.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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

/// How many distinct forks a node keeps evidence of. A hostile peer offered on every poll can
/// make a new fork each time; past this many the node still refuses, counts and logs each one,
/// but writes nothing more, so the evidence cannot fill the state directory's disk.
pub const MAX_FORKS_KEPT: usize = 64;

/// What [`keep_fork_evidence`] did with a refused fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForkEvidence {
    /// Both checkpoints were written: held first.
    Kept { held: PathBuf, offered: PathBuf },
    /// The same two checkpoints were kept before (a peer offering one fork on every poll).
    AlreadyKept { offered: PathBuf },
    /// [`MAX_FORKS_KEPT`] forks are kept already; nothing was written.
    Full,
}

/// Keeps both checkpoints of a refused fork (as note texts: the offered one with every signature
/// it came with) beside the state, once per distinct pair of texts and for at most
/// [`MAX_FORKS_KEPT`] forks.
pub fn keep_fork_evidence(
    state_dir: &Path,
    held: &str,
    offered: &str,
    unix_time: i64,
) -> Result<ForkEvidence, WitnessFileError> {
    let digest = fork_digest(held, offered);
    let kept = kept_forks(state_dir)?;
    let suffix = format!("-{digest}-offered.note");
    if let Some(name) = kept.iter().find(|name| name.ends_with(&suffix)) {
        return Ok(ForkEvidence::AlreadyKept {
            offered: state_dir.join(name),
        });
    }
    if kept.len() >= MAX_FORKS_KEPT {
        return Ok(ForkEvidence::Full);
    }
    let held_path = state_dir.join(format!("fork-{unix_time}-{digest}-held.note"));
    let offered_path = state_dir.join(format!("fork-{unix_time}-{digest}-offered.note"));
    atomic_write(&held_path, held.as_bytes(), false)?;
    atomic_write(&offered_path, offered.as_bytes(), false)?;
    Ok(ForkEvidence::Kept {
        held: held_path,
        offered: offered_path,
    })
}

/// Names a fork by its two texts: 16 hex digits of SHA-256 over both, length-prefixed so that
/// moving bytes from one text to the other names a different fork.
fn fork_digest(held: &str, offered: &str) -> String {
    let mut hash = Sha256::new();
    for text in [held, offered] {
        hash.update((text.len() as u64).to_be_bytes());
        hash.update(text.as_bytes());
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The names of the offered-checkpoint files of the forks kept in `state_dir`, one per fork.
fn kept_forks(state_dir: &Path) -> Result<Vec<String>, WitnessFileError> {
    let read = |source| WitnessFileError::Read {
        path: state_dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(state_dir).map_err(read)? {
        let name = entry.map_err(read)?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("fork-") && name.ends_with("-offered.note") {
            names.push(name.into_owned());
        }
    }
    Ok(names)
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
        let ForkEvidence::Kept { held, offered } =
            keep_fork_evidence(dir.path(), "held\n", "offered\n", 42).unwrap()
        else {
            panic!("the first fork is kept")
        };
        assert_eq!(std::fs::read_to_string(held).unwrap(), "held\n");
        assert_eq!(std::fs::read_to_string(&offered).unwrap(), "offered\n");
        let name = offered.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("fork-42-"), "{name}");
        std::fs::write(dir.path().join(WITNESS_FILE), "junk").unwrap();
        assert!(matches!(
            load(dir.path()),
            Err(WitnessFileError::Unreadable { .. })
        ));
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_fork_offered_on_every_poll_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = keep_fork_evidence(dir.path(), "held\n", "forked\n", 1).unwrap();
        let ForkEvidence::Kept { offered, .. } = first else {
            panic!("kept: {first:?}")
        };
        for poll in 2..10 {
            assert_eq!(
                keep_fork_evidence(dir.path(), "held\n", "forked\n", poll).unwrap(),
                ForkEvidence::AlreadyKept {
                    offered: offered.clone()
                }
            );
        }
        assert_eq!(files(dir.path()).len(), 2, "{:?}", files(dir.path()));
        // A different fork (another offered root, or the same offered against another held
        // checkpoint, or bytes moved between the two) is new evidence.
        for (held, offered) in [
            ("held\n", "forked again\n"),
            ("held later\n", "forked\n"),
            ("held\nf", "orked\n"),
        ] {
            let kept = keep_fork_evidence(dir.path(), held, offered, 20).unwrap();
            assert!(matches!(kept, ForkEvidence::Kept { .. }), "{kept:?}");
        }
        assert_eq!(files(dir.path()).len(), 8);
    }

    #[test]
    fn a_peer_minting_forks_cannot_fill_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..MAX_FORKS_KEPT {
            let kept = keep_fork_evidence(dir.path(), "held\n", &format!("fork {n}\n"), 5).unwrap();
            assert!(
                matches!(kept, ForkEvidence::Kept { .. }),
                "fork {n}: {kept:?}"
            );
        }
        let before = files(dir.path());
        assert_eq!(before.len(), 2 * MAX_FORKS_KEPT);
        assert_eq!(
            keep_fork_evidence(dir.path(), "held\n", "one fork too many\n", 6).unwrap(),
            ForkEvidence::Full
        );
        assert_eq!(files(dir.path()), before, "nothing written past the bound");
        // One already kept is still recognised as kept, not as new.
        assert!(matches!(
            keep_fork_evidence(dir.path(), "held\n", "fork 0\n", 7).unwrap(),
            ForkEvidence::AlreadyKept { .. }
        ));
    }

    #[test]
    fn other_files_in_the_state_directory_do_not_count_as_forks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fork-notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("trusted.json"), "x").unwrap();
        std::fs::write(dir.path().join("fork-1-abc-held.note"), "x").unwrap();
        assert!(kept_forks(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_memory_that_cannot_be_read_is_an_error_not_a_fresh_start() {
        // Read as "never cosigned", an unreadable witness.note would let a restarted witness
        // cosign a fork of what it cosigned before.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(WITNESS_FILE)).unwrap();
        assert!(matches!(
            load(dir.path()),
            Err(WitnessFileError::Read { .. })
        ));
    }
}
