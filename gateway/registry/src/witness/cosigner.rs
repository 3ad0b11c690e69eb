//! This node as a witness: it cosigns a checkpoint note only when the checkpoint extends (or
//! equals) the last one it cosigned, and remembers the new one. Everything else is refused.

use super::fork::{Judgement, judge};
use super::{WitnessError, check_log_signed, witness_name};
use crate::doc::Root;
use crate::keys::SigningKey;
use crate::log::{Checkpoint, Hash};
use crate::note::{Cosignature, SignedNote, cosign};

/// A witness: its name (from its node id), its key, and the last checkpoint it cosigned.
pub struct Cosigner {
    name: String,
    key: SigningKey,
    last: Option<Checkpoint>,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cosigner({}, last {:?})", self.name, self.last)
    }
}

impl Cosigner {
    pub fn new(node_id: &str, key: SigningKey, last: Option<Checkpoint>) -> Self {
        Self {
            name: witness_name(node_id),
            key,
            last,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last checkpoint cosigned.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// The witness's whole step on an offered checkpoint note (C2SP tlog-witness
    /// add-checkpoint): the note is the log's (signed by the log keys `root` lists, under its
    /// origin), `old_size` is the size this witness last cosigned, and `proof` shows the offered
    /// checkpoint extends it. Returns the note with this witness's cosignature added.
    pub fn add_checkpoint(
        &mut self,
        root: &Root,
        text: &str,
        old_size: u64,
        proof: &[Hash],
        now: u64,
    ) -> Result<SignedNote, WitnessError> {
        let mut note = SignedNote::parse(text)?;
        let offered = Checkpoint::from_note_text(&note.text)?;
        if offered.origin != root.log_origin {
            return Err(WitnessError::ForeignLog {
                held: root.log_origin.clone(),
                offered: offered.origin,
            });
        }
        // Before anything else: a witness vouches only for what the log itself signed.
        check_log_signed(&note, root)?;
        let held = self.last.as_ref().map_or(0, |c| c.tree_size);
        if old_size != held {
            return Err(WitnessError::OldSizeMismatch {
                held,
                claimed: old_size,
            });
        }
        let sig = self.cosign(&note, proof, now)?;
        note.add(sig);
        Ok(note)
    }

    /// Cosigns `note` (already checked as log-signed) at POSIX time `now` when its checkpoint is
    /// the first seen, the last one again, or proven by `proof` to extend it.
    pub fn cosign(
        &mut self,
        note: &SignedNote,
        proof: &[Hash],
        now: u64,
    ) -> Result<Cosignature, WitnessError> {
        let offered = Checkpoint::from_note_text(&note.text)?;
        match judge(self.last.as_ref(), &offered, proof) {
            Judgement::First | Judgement::Same | Judgement::Extends => {
                let sig = cosign(note, &self.name, &self.key, now)?;
                self.last = Some(offered);
                Ok(sig)
            }
            Judgement::Older => Err(WitnessError::Older {
                held: self.last.as_ref().map_or(0, |c| c.tree_size),
                offered: offered.tree_size,
            }),
            Judgement::ForeignLog => Err(WitnessError::ForeignLog {
                held: self
                    .last
                    .as_ref()
                    .map_or_else(String::new, |c| c.origin.clone()),
                offered: offered.origin,
            }),
            Judgement::Fork(fork) => Err(WitnessError::Fork(Box::new(fork))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;
    use crate::log::{consistency_proof, leaf_hash, root_hash};
    use crate::note::{NoteVerifier, SignatureType};

    fn note_of(leaves: &[Hash]) -> SignedNote {
        let cp = Checkpoint::new(
            "huren.test/registry",
            leaves.len() as u64,
            &root_hash(leaves),
        );
        SignedNote::new(cp.note_text().unwrap()).unwrap()
    }

    #[test]
    fn cosigns_what_extends_and_refuses_forks_and_older_checkpoints() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let verifier =
            NoteVerifier::new("zhejiang", SignatureType::CosignatureV1, &key.public_key()).unwrap();
        let mut w = Cosigner::new("zhejiang", key, None);
        let all: Vec<Hash> = (0..6u8).map(|i| leaf_hash(&[i])).collect();

        let mut first = note_of(&all[..2]);
        first.add(w.cosign(&first, &[], 100).unwrap());
        assert_eq!(
            first.verify(std::slice::from_ref(&verifier)).unwrap()[0].timestamp,
            Some(100)
        );
        assert_eq!(w.last().unwrap().tree_size, 2);

        let proof = consistency_proof(2, &all).unwrap();
        assert!(w.cosign(&note_of(&all), &proof, 101).is_ok());
        assert_eq!(w.last().unwrap().tree_size, 6);
        assert!(
            w.cosign(&note_of(&all), &[], 102).is_ok(),
            "the same checkpoint again"
        );

        assert_eq!(
            w.cosign(&note_of(&all[..2]), &[], 103),
            Err(WitnessError::Older {
                held: 6,
                offered: 2
            })
        );
        let forked: Vec<Hash> = (10..16u8).map(|i| leaf_hash(&[i])).collect();
        assert!(matches!(
            w.cosign(&note_of(&forked), &[], 104),
            Err(WitnessError::Fork(_))
        ));
        assert_eq!(w.last().unwrap().root_hash, hex::encode(root_hash(&all)));

        let mut foreign = Checkpoint::from_note_text(&note_of(&all).text).unwrap();
        foreign.origin = "elsewhere/log".into();
        let foreign = SignedNote::new(foreign.note_text().unwrap()).unwrap();
        assert!(matches!(
            w.cosign(&foreign, &[], 105),
            Err(WitnessError::ForeignLog { .. })
        ));
        assert_eq!(w.name(), "zhejiang");
        // Debug names the witness and its last checkpoint, never the key.
        let shown = format!("{w:?}");
        assert!(
            shown.starts_with("Cosigner(zhejiang, last Some("),
            "{shown}"
        );
    }
}
