//! The witnesses the root lists (every node with a witness key) and the k-of-n check: a node
//! acts on a checkpoint only when `witness_threshold` of them have cosigned it.

use std::collections::BTreeSet;

use super::WitnessError;
use crate::doc::Root;
use crate::note::{NoteVerifier, SignatureType, SignedNote};

/// The cosigner name of node `node_id` in checkpoint notes: the node id itself, so an operator
/// reading a note sees which node vouched for it.
pub fn witness_name(node_id: &str) -> String {
    node_id.to_string()
}

/// The listed witnesses and how many must cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnesses {
    /// Node id → its `cosignature/v1` verifier.
    pub listed: Vec<(String, NoteVerifier)>,
    /// k; 0 means the root asks for no cosignatures (a registry from before federation).
    pub threshold: u32,
}

impl Witnesses {
    /// Every node of `root` with a witness key, and the root's threshold.
    pub fn of_root(root: &Root) -> Result<Self, WitnessError> {
        let mut listed = Vec::new();
        let mut keys = BTreeSet::new();
        for (id, node) in &root.nodes {
            if let Some(key) = &node.witness_key {
                // The cosignature does not sign the cosigner's name, so one key listed for two
                // nodes would let one signature be counted twice under two names.
                if !keys.insert(&key.public) {
                    return Err(WitnessError::SharedWitnessKey { node: id.clone() });
                }
                let verifier =
                    NoteVerifier::new(&witness_name(id), SignatureType::CosignatureV1, key)?;
                listed.push((id.clone(), verifier));
            }
        }
        if root.witness_threshold as usize > listed.len() {
            // No checkpoint could ever be acted on: every later version would be refused.
            return Err(WitnessError::UnreachableThreshold {
                threshold: root.witness_threshold,
                listed: listed.len(),
            });
        }
        Ok(Self {
            listed,
            threshold: root.witness_threshold,
        })
    }

    /// The node ids whose cosignature on `note` verifies. A listed witness's cosignature that
    /// does not verify refuses the note: it was altered, whatever the others say.
    pub fn cosigned_by(&self, note: &SignedNote) -> Result<BTreeSet<String>, WitnessError> {
        let mut ok = BTreeSet::new();
        for (id, verifier) in &self.listed {
            for sig in note.signatures.iter().filter(|s| verifier.names(s)) {
                verifier.check(&note.text, sig)?;
                ok.insert(id.clone());
            }
        }
        Ok(ok)
    }

    /// [`Self::cosigned_by`], refused unless at least `threshold` distinct witnesses cosigned.
    pub fn check_quorum(&self, note: &SignedNote) -> Result<BTreeSet<String>, WitnessError> {
        let ok = self.cosigned_by(note)?;
        if ok.len() < self.threshold as usize {
            return Err(WitnessError::TooFewCosignatures {
                valid: ok.len(),
                needed: self.threshold,
            });
        }
        Ok(ok)
    }
}

/// Whether a node may act on a registry whose root is `next` and whose checkpoint note is
/// `note`: k of the witnesses `next` lists cosigned it, and, when the root changed from the
/// `held` one, k of the held root's witnesses too — a new root cannot list fresh witnesses and
/// approve itself. Returns the witnesses of `next` who cosigned.
pub fn quorum_to_act(
    next: &Root,
    held: Option<&Root>,
    note: Option<&str>,
) -> Result<BTreeSet<String>, WitnessError> {
    let witnesses = Witnesses::of_root(next)?;
    let old = match held {
        Some(h) if h.version != next.version => Some(Witnesses::of_root(h)?),
        _ => None,
    };
    // No note at all reads as a note nobody cosigned.
    let note = match note {
        Some(text) => SignedNote::parse(text)?,
        None => SignedNote {
            text: String::new(),
            signatures: Vec::new(),
        },
    };
    let cosigned = witnesses.check_quorum(&note)?;
    if let Some(old) = old {
        old.check_quorum(&note)
            .map_err(|reason| WitnessError::RootChangeNotWitnessed {
                version: next.version,
                reason: Box::new(reason),
            })?;
    }
    Ok(cosigned)
}

/// The witnesses to ask to cosign a checkpoint under root `next` for a node that holds root
/// `held`: [`quorum_to_act`] wants k of `next`'s witnesses and, when the root changes, k of
/// `held`'s too, so every witness either lists. A witness listed by both roots is asked once and
/// comes with its verifier under each (a root may have replaced its key).
pub fn witnesses_to_ask(
    next: &Root,
    held: Option<&Root>,
) -> Result<Vec<(String, Vec<NoteVerifier>)>, WitnessError> {
    let mut asked: Vec<(String, Vec<NoteVerifier>)> = Vec::new();
    for root in std::iter::once(next).chain(held) {
        for (id, verifier) in Witnesses::of_root(root)?.listed {
            match asked.iter_mut().find(|(w, _)| *w == id) {
                Some((_, verifiers)) if !verifiers.contains(&verifier) => verifiers.push(verifier),
                Some(_) => {}
                None => asked.push((id, vec![verifier])),
            }
        }
    }
    Ok(asked)
}

/// Version `version` of the root among the root envelopes of a signed state (each root version
/// travels with the state), decoded; `None` when it is not there.
pub fn root_at(roots: &[crate::Envelope], version: u64) -> Option<Root> {
    roots.iter().find_map(|env| {
        crate::doc::decode::<Root>(crate::doc::ROOT, env)
            .ok()
            .filter(|r| r.version == version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Algorithm, SigningKey};
    use crate::note::{NoteError, cosign};

    fn witnesses(n: usize, k: u32) -> (Witnesses, Vec<SigningKey>) {
        let keys: Vec<SigningKey> = (0..n)
            .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
            .collect();
        let listed = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let id = format!("node-{i}");
                let v =
                    NoteVerifier::new(&id, SignatureType::CosignatureV1, &k.public_key()).unwrap();
                (id, v)
            })
            .collect();
        (
            Witnesses {
                listed,
                threshold: k,
            },
            keys,
        )
    }

    fn note() -> SignedNote {
        SignedNote::new("huren.test/registry\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap()
    }

    #[test]
    fn two_of_four_cosignatures_meet_a_threshold_of_two_and_one_does_not() {
        let (w, keys) = witnesses(4, 2);
        let mut n = note();
        n.add(cosign(&n, "node-0", &keys[0], 5).unwrap());
        assert_eq!(
            w.check_quorum(&n),
            Err(WitnessError::TooFewCosignatures {
                valid: 1,
                needed: 2
            })
        );
        n.add(cosign(&n, "node-3", &keys[3], 6).unwrap());
        let ok = w.check_quorum(&n).unwrap();
        assert_eq!(
            ok.into_iter().collect::<Vec<_>>(),
            vec!["node-0".to_string(), "node-3".to_string()]
        );
    }

    #[test]
    fn a_witness_cosigning_twice_counts_once() {
        let (w, keys) = witnesses(4, 2);
        let mut n = note();
        n.signatures
            .push(cosign(&n, "node-1", &keys[1], 5).unwrap());
        n.signatures
            .push(cosign(&n, "node-1", &keys[1], 6).unwrap());
        assert!(matches!(
            w.check_quorum(&n),
            Err(WitnessError::TooFewCosignatures { valid: 1, .. })
        ));
    }

    #[test]
    fn unlisted_cosigners_and_wrong_names_do_not_count() {
        let (w, keys) = witnesses(2, 1);
        let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut n = note();
        n.add(cosign(&n, "node-0", &stranger, 5).unwrap());
        n.add(cosign(&n, "node-9", &keys[1], 5).unwrap());
        assert!(matches!(
            w.check_quorum(&n),
            Err(WitnessError::TooFewCosignatures { valid: 0, .. })
        ));
    }

    #[test]
    fn a_listed_witness_s_broken_cosignature_refuses_the_note() {
        let (w, keys) = witnesses(3, 1);
        let mut n = note();
        n.add(cosign(&n, "node-0", &keys[0], 5).unwrap());
        let mut broken = cosign(&n, "node-1", &keys[1], 5).unwrap();
        broken.signature[20] ^= 1;
        n.add(broken);
        assert!(matches!(
            w.check_quorum(&n),
            Err(WitnessError::Note(NoteError::BadSignature { .. }))
        ));
    }

    fn root_with(version: u64, witnesses: &[(&str, &SigningKey)], k: u32) -> Root {
        let none = crate::envelope::KeySet::new([], 0);
        let nodes = witnesses
            .iter()
            .map(|(id, key)| {
                let node = crate::doc::Node {
                    receipt_key: key.public_key(),
                    audit_key: None,
                    regions: Vec::new(),
                    spiffe_id: format!("spiffe://test/{id}"),
                    url: None,
                    endpoints: Vec::new(),
                    witness_key: Some(key.public_key()),
                };
                (id.to_string(), node)
            })
            .collect();
        Root {
            version,
            expires: time::OffsetDateTime::UNIX_EPOCH,
            roles: crate::doc::Roles {
                root: none.clone(),
                timestamp: none.clone(),
                log: none.clone(),
                witnesses: none,
            },
            log_origin: "huren.test/registry".into(),
            regions: Default::default(),
            nodes,
            witness_threshold: k,
        }
    }

    fn asked(next: &Root, held: Option<&Root>) -> Vec<(String, usize)> {
        witnesses_to_ask(next, held)
            .unwrap()
            .into_iter()
            .map(|(id, verifiers)| (id, verifiers.len()))
            .collect()
    }

    #[test]
    fn a_root_change_asks_the_witnesses_of_both_roots_each_once() {
        let keys: Vec<SigningKey> = (0..5)
            .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
            .collect();
        let held = root_with(2, &[("a", &keys[0]), ("b", &keys[1]), ("c", &keys[2])], 2);
        // b's key replaced, c dropped, d added.
        let next = root_with(3, &[("a", &keys[0]), ("b", &keys[3]), ("d", &keys[4])], 2);
        assert_eq!(
            asked(&next, Some(&held)),
            vec![
                ("a".to_string(), 1),
                ("b".to_string(), 2),
                ("d".to_string(), 1),
                ("c".to_string(), 1)
            ]
        );
        assert_eq!(asked(&next, None), asked(&next, Some(&next)));
        assert_eq!(asked(&next, None).len(), 3);
        // b's cosignature counts under either key.
        let both = &witnesses_to_ask(&next, Some(&held)).unwrap()[1].1;
        let mut n = note();
        n.add(cosign(&n, "b", &keys[1], 5).unwrap());
        assert!(n.verify(both).is_ok());
        let mut n = note();
        n.add(cosign(&n, "b", &keys[3], 5).unwrap());
        assert!(n.verify(both).is_ok());
    }

    #[test]
    fn threshold_zero_asks_for_nothing() {
        let (w, _) = witnesses(0, 0);
        assert!(w.check_quorum(&note()).unwrap().is_empty());
    }
}
