//! Judging an offered checkpoint against the last one held. Pure: no keys, no files.

use crate::log::{Checkpoint, Hash, ProofError, verify_consistency};

/// Which of the two fork shapes: one size with two roots, or a larger tree that does not
/// contain the held one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForkKind {
    SameSizeDifferentRoot,
    Inconsistent(ProofError),
}

/// Two checkpoints of one log that cannot both be honest: the evidence a node keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a forked registry log: the checkpoint of size {} (root {}) offered against the one of size {} (root {}) held: {}",
    offered.tree_size, offered.root_hash, held.tree_size, held.root_hash, describe(kind)
)]
pub struct Fork {
    pub held: Checkpoint,
    pub offered: Checkpoint,
    pub kind: ForkKind,
}

fn describe(kind: &ForkKind) -> String {
    match kind {
        ForkKind::SameSizeDifferentRoot => "one size, two roots".into(),
        ForkKind::Inconsistent(reason) => format!("not consistent ({reason})"),
    }
}

/// What an offered checkpoint is to the one held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Nothing held yet: trusted on first use.
    First,
    /// The same size and root as the one held.
    Same,
    /// Larger, and the consistency proof shows the held tree is its prefix.
    Extends,
    /// Smaller than the one held: stale, never cosigned again.
    Older,
    /// Another log altogether (a different origin line): not this witness's business.
    ForeignLog,
    Fork(Fork),
}

/// Judges `offered` against `held` with `proof`, the RFC 6962 consistency proof from the held
/// size to the offered one (ignored unless the offered tree is larger).
pub fn judge(held: Option<&Checkpoint>, offered: &Checkpoint, proof: &[Hash]) -> Judgement {
    let Some(held) = held else {
        return Judgement::First;
    };
    if held.origin != offered.origin {
        return Judgement::ForeignLog;
    }
    let fork = |kind| {
        Judgement::Fork(Fork {
            held: held.clone(),
            offered: offered.clone(),
            kind,
        })
    };
    if offered.tree_size < held.tree_size {
        return Judgement::Older;
    }
    if offered.tree_size == held.tree_size {
        return if offered.root_hash == held.root_hash {
            Judgement::Same
        } else {
            fork(ForkKind::SameSizeDifferentRoot)
        };
    }
    let roots = held.root().and_then(|h| Ok((h, offered.root()?)));
    let Ok((held_root, offered_root)) = roots else {
        // A root that is not 32 hex bytes cannot lead anywhere: the proof fails to reach it.
        return fork(ForkKind::Inconsistent(ProofError::RootMismatch));
    };
    match verify_consistency(
        held.tree_size,
        &held_root,
        offered.tree_size,
        &offered_root,
        proof,
    ) {
        Ok(()) => Judgement::Extends,
        Err(reason) => fork(ForkKind::Inconsistent(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{consistency_proof, leaf_hash, root_hash};

    fn leaves(n: usize, salt: &str) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("{salt}{i}").as_bytes()))
            .collect()
    }

    fn cp(leaves: &[Hash]) -> Checkpoint {
        Checkpoint::new(
            "huren.test/registry",
            leaves.len() as u64,
            &root_hash(leaves),
        )
    }

    #[test]
    fn a_log_that_grows_extends_the_one_held() {
        let all = leaves(7, "a");
        let held = cp(&all[..3]);
        let proof = consistency_proof(3, &all).unwrap();
        assert_eq!(judge(Some(&held), &cp(&all), &proof), Judgement::Extends);
        assert_eq!(judge(None, &cp(&all), &[]), Judgement::First);
        assert_eq!(judge(Some(&held), &held.clone(), &[]), Judgement::Same);
        assert_eq!(judge(Some(&cp(&all)), &held, &[]), Judgement::Older);
    }

    #[test]
    fn one_size_with_two_roots_is_a_fork() {
        let held = cp(&leaves(4, "a"));
        let offered = cp(&leaves(4, "b"));
        let Judgement::Fork(f) = judge(Some(&held), &offered, &[]) else {
            panic!("not a fork")
        };
        assert_eq!(f.kind, ForkKind::SameSizeDifferentRoot);
        assert_eq!((f.held, f.offered), (held, offered));
    }

    #[test]
    fn a_larger_log_without_the_held_one_as_prefix_is_a_fork() {
        let held = cp(&leaves(3, "a"));
        let other = leaves(5, "b");
        let proof = consistency_proof(3, &other).unwrap();
        let Judgement::Fork(f) = judge(Some(&held), &cp(&other), &proof) else {
            panic!("not a fork")
        };
        assert_eq!(f.kind, ForkKind::Inconsistent(ProofError::RootMismatch));
        // A proof of the wrong length is no proof either.
        let all = leaves(5, "a");
        assert!(matches!(
            judge(Some(&cp(&all[..3])), &cp(&all), &[]),
            Judgement::Fork(Fork {
                kind: ForkKind::Inconsistent(_),
                ..
            })
        ));
        let mut bad = cp(&all);
        bad.root_hash = "zz".into();
        assert!(matches!(
            judge(Some(&cp(&all[..3])), &bad, &[]),
            Judgement::Fork(_)
        ));
        let mut bad_held = cp(&all[..3]);
        bad_held.root_hash = "00".into();
        let proof = consistency_proof(3, &all).unwrap();
        assert!(matches!(
            judge(Some(&bad_held), &cp(&all), &proof),
            Judgement::Fork(_)
        ));
    }

    #[test]
    fn another_origin_is_another_log() {
        let held = cp(&leaves(3, "a"));
        let mut offered = held.clone();
        offered.origin = "elsewhere/registry".into();
        assert_eq!(judge(Some(&held), &offered, &[]), Judgement::ForeignLog);
    }

    #[test]
    fn the_fork_names_both_checkpoints() {
        let held = cp(&leaves(4, "a"));
        let offered = cp(&leaves(4, "b"));
        let Judgement::Fork(f) = judge(Some(&held), &offered, &[]) else {
            panic!("not a fork")
        };
        let text = f.to_string();
        assert!(text.contains(&held.root_hash) && text.contains(&offered.root_hash));
        assert!(text.contains("one size, two roots"), "{text}");
    }
}
