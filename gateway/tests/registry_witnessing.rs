//! A node and the registry's witnesses: with a root asking for 2 of 4 cosignatures, a newly
//! published version is not acted on with fewer and is with two; a forked log is refused, the
//! last good version served, the fork counted and both checkpoints kept in the state directory.

use huren::registry_handle::SharedRegistry;
use huren::registry_witness::{FORKS, ReloadError, is_fork};
use huren_registry::ceremony::envelope;
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::doc::{Document, Node};
use huren_registry::note::SignedNote;
use huren_registry::witness::{Cosigner, WitnessError};
use huren_registry::{Algorithm, SigningKey, store};

const WITNESSES: [&str; 4] = ["national", "zhejiang", "west", "south"];

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A dev registry whose root lists four witness nodes and asks for two cosignatures.
fn witnessed() -> (tempfile::TempDir, DevRegistry, Vec<Cosigner>) {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let reg = dir.path().join("reg");
    let mut dev = DevRegistry::init(&pki, &reg, &DevOptions::default(), false, now()).unwrap();
    let mut root = dev.registry.root().clone();
    let template = root.nodes.values().next().unwrap().clone();
    let mut cosigners = Vec::new();
    for id in WITNESSES {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        root.nodes.insert(
            id.to_string(),
            Node {
                witness_key: Some(key.public_key()),
                // Each node its own identity: a root listing one SPIFFE id twice is refused.
                spiffe_id: format!("spiffe://huren.dev/region/000000/role/gateway/{id}"),
                ..template.clone()
            },
        );
        cosigners.push(Cosigner::new(id, key, None));
    }
    root.witness_threshold = 2;
    root.version += 1;
    dev.publish(vec![(root.name(), envelope(&root))], now())
        .unwrap();
    dev.save(&reg).unwrap();
    (dir, dev, cosigners)
}

/// Adds the cosignatures of `by` to the checkpoint note of the registry in `reg`.
fn cosign_on_disk(reg: &std::path::Path, by: &mut [Cosigner]) {
    let mut state = store::read_state(reg).unwrap();
    let mut note = SignedNote::parse(state.log.note.as_deref().unwrap()).unwrap();
    for w in by {
        // Each witness starts here with this checkpoint: trust on first use.
        let sig = w.cosign(&note, &[], 1_000).unwrap();
        note.add(sig);
    }
    state.log.note = Some(note.to_text());
    std::fs::write(reg.join(store::STATE_FILE), state.to_bytes()).unwrap();
}

#[test]
fn a_new_version_is_acted_on_only_with_k_cosignatures() {
    let (dir, mut dev, mut cosigners) = witnessed();
    let reg = dir.path().join("reg");
    let shared = SharedRegistry::open(&reg).unwrap();
    let v = shared.current().unwrap().version();

    dev.refresh(now()).unwrap();
    dev.save(&reg).unwrap();
    let err = shared.reload_from(&reg).unwrap_err();
    assert!(
        matches!(
            err,
            ReloadError::NotWitnessed {
                reason: WitnessError::TooFewCosignatures {
                    valid: 0,
                    needed: 2
                },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(shared.current().unwrap().version(), v);

    cosign_on_disk(&reg, &mut cosigners[1..2]);
    let err = shared.reload_from(&reg).unwrap_err();
    assert!(
        err.to_string().contains("1 of the listed witnesses"),
        "{err}"
    );
    assert_eq!(shared.current().unwrap().version(), v);

    cosign_on_disk(&reg, &mut cosigners[3..4]);
    assert_eq!(shared.reload_from(&reg).unwrap().version(), v + 1);
}

#[test]
fn a_forked_log_is_refused_counted_and_kept_as_evidence() {
    let (dir, dev, mut cosigners) = witnessed();
    let reg = dir.path().join("reg");
    let state_dir = dir.path().join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let metrics = huren::metrics::handle();
    let shared = SharedRegistry::open(&reg)
        .unwrap()
        .keeping_trusted_state(state_dir.clone());
    let v = shared.current().unwrap().version();

    // The log key rewrites history at the same size, and two witnesses are fooled into
    // cosigning it (they had never seen the log): a node that holds the real one refuses it.
    // Entry 0 is root v1, no longer current.
    let mut state = dev.forked_state(0).unwrap();
    let mut note = SignedNote::parse(state.log.note.as_deref().unwrap()).unwrap();
    for w in &mut cosigners[..2] {
        let sig = w.cosign(&note, &[], 1_000).unwrap();
        note.add(sig);
    }
    state.log.note = Some(note.to_text());
    std::fs::write(reg.join(store::STATE_FILE), state.to_bytes()).unwrap();

    let err = shared.reload_from(&reg).unwrap_err();
    assert!(err.verify_error().is_some_and(is_fork), "{err}");
    assert_eq!(shared.current().unwrap().version(), v);
    assert!(metrics.render().contains(FORKS), "no {FORKS} counted");
    let evidence: Vec<String> = std::fs::read_dir(&state_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fork-"))
        .collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    let offered = evidence
        .iter()
        .find(|n| n.ends_with("-offered.note"))
        .unwrap();
    let kept = std::fs::read_to_string(state_dir.join(offered)).unwrap();
    assert_eq!(kept, note.to_text());
}

/// A node's config on `reg` and `state`, with no registry directory watch.
fn unpolled(reg: &std::path::Path, state: &std::path::Path) -> huren::node::NodeConfig {
    let mut config = huren::node::NodeConfig::new(reg, state);
    config.registry_poll = None;
    config
}

/// Why a node on `config` does not start (it must not).
async fn refused_start(config: &huren::node::NodeConfig) -> huren::node::NodeError {
    huren::node::Node::assemble(config.clone())
        .await
        .map(|_| ())
        .expect_err("the node must not start")
}

#[tokio::test]
async fn a_node_does_not_start_on_a_version_without_k_cosignatures() {
    use huren::node::{Node, NodeError};
    let (dir, _dev, mut cosigners) = witnessed();
    let reg = dir.path().join("reg");
    let config = unpolled(&reg, &dir.path().join("state"));
    let refused = refused_start(&config).await;
    assert!(
        matches!(refused, NodeError::NotWitnessed { .. }),
        "{refused}"
    );
    cosign_on_disk(&reg, &mut cosigners[..2]);
    Node::assemble(config)
        .await
        .expect("two cosignatures of the two needed");
}

/// Attack: whoever writes the registry directory replaces the trusted root's witnesses with
/// four of its own and cosigns with two of them. With every root carried, the node asks the
/// replaced root's witnesses and refuses; with the trusted root stripped from the state's roots
/// (the last root alone still verifies as a first root), it must refuse too, not skip the ask.
#[tokio::test]
async fn a_node_does_not_start_on_a_state_that_strips_the_trusted_root() {
    use huren::node::NodeError;
    use huren_registry::trusted::{TrustedState, file as trusted_file};
    let (dir, mut dev, mut cosigners) = witnessed();
    let reg = dir.path().join("reg");
    let state_dir = dir.path().join("state");
    cosign_on_disk(&reg, &mut cosigners[..2]);
    let trusted = SharedRegistry::open(&reg).unwrap().current().unwrap();
    let trusted_root = trusted.root().version;
    // What a node that started on the genuine version keeps.
    trusted_file::save(&state_dir, &TrustedState::of(&trusted)).unwrap();

    let mut root = dev.registry.root().clone();
    let mut theirs = Vec::new();
    for id in WITNESSES {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        root.nodes.get_mut(id).unwrap().witness_key = Some(key.public_key());
        theirs.push(Cosigner::new(id, key, None));
    }
    root.version += 1;
    dev.publish(vec![(root.name(), envelope(&root))], now())
        .unwrap();
    dev.save(&reg).unwrap();
    cosign_on_disk(&reg, &mut theirs[..2]);

    let config = unpolled(&reg, &state_dir);
    let refused = refused_start(&config).await;
    assert!(
        matches!(
            &refused,
            NodeError::NotWitnessed { source, .. }
                if matches!(**source, ReloadError::NotWitnessed {
                    reason: WitnessError::RootChangeNotWitnessed { .. }, ..
                })
        ),
        "{refused}"
    );

    let mut state = store::read_state(&reg).unwrap();
    let last = state.roots.pop().unwrap();
    state.roots = vec![last];
    std::fs::write(reg.join(store::STATE_FILE), state.to_bytes()).unwrap();
    let refused = refused_start(&config).await;
    assert!(
        matches!(
            refused,
            NodeError::TrustedRootMissing { trusted, offered, .. }
                if trusted == trusted_root && offered == trusted_root + 1
        ),
        "{refused}"
    );
    let said = refused.to_string();
    assert!(
        said.contains(&format!("does not carry root version {trusted_root}")),
        "the refusal says which root is missing: {said}"
    );
}
