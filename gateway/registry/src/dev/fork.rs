//! A forked dev registry for tests: the log key rewrites one past leaf and re-signs the
//! checkpoint and its C2SP note — a split view only a node holding the real log can tell.

use super::DevRegistry;
use crate::log::{Checkpoint, Hash, leaf_hash, root_hash};
use crate::state::SignedState;

impl DevRegistry {
    /// The current state with log entry `index` (an old, no longer current document version)
    /// rewritten, and the checkpoint and its note re-signed by the dev log key. `None` when the
    /// log has no such entry or a leaf hash is malformed.
    pub fn forked_state(&self, index: usize) -> Option<SignedState> {
        let mut state = self.registry.state().clone();
        state.log.entries.get_mut(index)?.leaf_hash = hex::encode(leaf_hash(b"a different past"));
        let leaves = state
            .log
            .entries
            .iter()
            .map(|e| hex::decode(&e.leaf_hash).ok()?.try_into().ok())
            .collect::<Option<Vec<Hash>>>()?;
        let origin = &self.registry.root().log_origin;
        let cp = Checkpoint::new(origin, leaves.len() as u64, &root_hash(&leaves));
        *state.log.checkpoints.last_mut()? = cp.sign(&self.keys.log).ok()?;
        state.log.note = crate::witness::sign_checkpoint_note(&cp, &[&self.keys.log])
            .ok()?
            .map(|n| n.to_text());
        Some(state)
    }
}
