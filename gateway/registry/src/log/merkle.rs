//! RFC 6962 Merkle tree hashing with inclusion and consistency proofs (RFC 9162 §2.1 algorithms).

use sha2::{Digest, Sha256};

use super::ProofError;

pub type Hash = [u8; 32];

/// H(0x00 ‖ d): the leaf prefix keeps a leaf from passing as an interior node.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// H(0x01 ‖ l ‖ r).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH over leaf hashes; the empty tree hashes to SHA-256 of nothing.
pub fn root_hash(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root_hash(&leaves[..k]), &root_hash(&leaves[k..]))
        }
    }
}

/// Audit path of leaf `index` in the tree of `leaves`.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    if index >= leaves.len() {
        return Err(ProofError::IndexOutOfRange {
            index: index as u64,
            size: leaves.len() as u64,
        });
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split(d.len());
        if m < k {
            path(m, &d[..k], out);
            out.push(root_hash(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root_hash(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index, leaves, &mut out);
    Ok(out)
}

/// Proof that the first `first` leaves are a prefix of `leaves`.
pub fn consistency_proof(first: usize, leaves: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    if first > leaves.len() {
        return Err(ProofError::Shrunk {
            first: first as u64,
            second: leaves.len() as u64,
        });
    }
    if first == 0 || first == leaves.len() {
        return Ok(Vec::new());
    }
    fn sub(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        if m == d.len() {
            if !complete {
                out.push(root_hash(d));
            }
            return;
        }
        let k = split(d.len());
        if m <= k {
            sub(m, &d[..k], complete, out);
            out.push(root_hash(&d[k..]));
        } else {
            sub(m - k, &d[k..], false, out);
            out.push(root_hash(&d[..k]));
        }
    }
    let mut out = Vec::new();
    sub(first, leaves, true, &mut out);
    Ok(out)
}

/// Checks that `leaf` sits at `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree (`first`, `first_root`) is a prefix of (`second`, `second_root`).
pub fn verify_consistency(
    first: u64,
    first_root: &Hash,
    second: u64,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::Shrunk { first, second });
    }
    if first == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((start, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fnode, mut snode) = (first - 1, second - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Level by level, a lone last node moving up unchanged: a different route to RFC 6962's MTH.
    fn naive_root(leaves: &[Hash]) -> Hash {
        if leaves.is_empty() {
            return Sha256::digest([]).into();
        }
        let mut level = leaves.to_vec();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [single] => *single,
                    _ => unreachable!(),
                })
                .collect();
        }
        level[0]
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn known_answer_for_the_empty_tree() {
        assert_eq!(
            hex::encode(root_hash(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    proptest! {
        #[test]
        fn root_matches_the_naive_recomputation(n in 0usize..300) {
            let l = leaves(n);
            prop_assert_eq!(root_hash(&l), naive_root(&l));
        }

        #[test]
        fn every_inclusion_proof_verifies_and_a_tampered_leaf_does_not(n in 1usize..200, seed in any::<usize>()) {
            let l = leaves(n);
            let i = seed % n;
            let root = naive_root(&l);
            let proof = inclusion_proof(i, &l).unwrap();
            prop_assert!(verify_inclusion(&l[i], i as u64, n as u64, &proof, &root).is_ok());
            let forged = leaf_hash(b"tampered");
            prop_assert_eq!(
                verify_inclusion(&forged, i as u64, n as u64, &proof, &root),
                Err(ProofError::RootMismatch)
            );
            if n > 1 {
                let other = (i + 1) % n;
                prop_assert!(verify_inclusion(&l[i], other as u64, n as u64, &proof, &root).is_err());
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_a_fork_does_not(n in 1usize..200, seed in any::<usize>()) {
            let l = leaves(n);
            let m = seed % (n + 1);
            let proof = consistency_proof(m, &l).unwrap();
            let first_root = naive_root(&l[..m]);
            prop_assert!(verify_consistency(m as u64, &first_root, n as u64, &naive_root(&l), &proof).is_ok());
            if m > 0 {
                // A forked history: the same size, one leaf rewritten.
                let mut fork = l.clone();
                fork[m - 1] = leaf_hash(b"fork");
                let fork_root = naive_root(&fork[..m]);
                prop_assert!(verify_consistency(m as u64, &fork_root, n as u64, &naive_root(&l), &proof).is_err());
            }
        }
    }
}
