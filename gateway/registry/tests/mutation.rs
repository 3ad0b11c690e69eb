//! A registry file changed anywhere is refused with an error, never accepted as something else,
//! and never panics the loader.

mod support;

use std::sync::OnceLock;

use huren_registry::{SignedState, verify_state};
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
            // Only a change that decodes to the same state (e.g. whitespace) may pass.
            prop_assert_eq!(&parsed, state);
        }
    }

    #[test]
    fn truncation_is_refused(len in 0usize..1_000_000) {
        let (bytes, _) = original();
        let cut = &bytes[..len % bytes.len()];
        prop_assert!(SignedState::from_bytes(cut).is_err());
    }
}
