//! A registry file changed anywhere is refused with an error, never accepted as something else,
//! and never panics the loader.

mod support;

use std::sync::OnceLock;

use huren_registry::{Envelope, SignedState, verify_state};
use proptest::prelude::*;
use support::now;

fn original() -> &'static (Vec<u8>, SignedState) {
    static FIXTURE: OnceLock<(Vec<u8>, SignedState)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f = support::fixture();
        let state = f.dev.registry.state().clone();
        (state.to_bytes(), state)
    })
}

/// What the signatures cover: every envelope's type and payload, the log's entries and the
/// checkpoint note's body. The signatures themselves may differ in a state that still verifies:
/// a signature beyond the threshold that no longer reads (its key id changed, a cosignature line
/// of a key the root does not list) is ignored, as TUF's threshold rule says, and the rest still
/// reach the threshold.
fn signed_content(state: &SignedState) -> SignedState {
    fn unsigned(envelope: &mut Envelope) {
        envelope.signatures.clear();
    }
    let mut content = state.clone();
    content.roots.iter_mut().for_each(unsigned);
    content.documents.values_mut().for_each(unsigned);
    unsigned(&mut content.timestamp);
    content.log.checkpoints.iter_mut().for_each(unsigned);
    content.log.note = content
        .log
        .note
        .as_deref()
        .map(|note| note.split("\n\n").next().unwrap_or_default().to_string());
    content
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_changed_byte_is_refused_or_changes_nothing(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (bytes, state) = original();
        let mut mutated = bytes.clone();
        let i = pos.index(mutated.len());
        prop_assume!(mutated[i] != byte);
        mutated[i] = byte;
        let parsed = SignedState::from_bytes(&mutated);
        if let Ok(parsed) = parsed
            && verify_state(&parsed, None, now()).is_ok()
        {
            // Only a change that leaves every signed byte as it was (whitespace, or a surplus
            // signature made unreadable) may pass.
            prop_assert_eq!(signed_content(&parsed), signed_content(state));
        }
    }

    #[test]
    fn truncation_is_refused(len in 0usize..1_000_000) {
        let (bytes, _) = original();
        let cut = &bytes[..len % bytes.len()];
        prop_assert!(SignedState::from_bytes(cut).is_err());
    }
}
