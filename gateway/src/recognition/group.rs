//! A single code's Ed25519 signature checked together with those of the other calls in flight.

use std::sync::Arc;

use huren_adapters::codec::Verified;

use crate::recognition::{Call, Recognizer};

impl Recognizer {
    /// Passes `payload`'s signature through the node's group verifier
    /// ([`huren_adapters::codec::group`]) and, when it passed, records that on `call`, so the read
    /// does not check it again. A code it does not pass (forged, another algorithm, not decodable)
    /// is left to the read, which checks it alone and answers as it always did.
    pub async fn check_signature_grouped(&self, call: &mut Call, payload: &str) {
        let payload = self.adapters.scanned(payload);
        let Some(parts) = huren_adapters::signed_parts(&payload, call.registry.as_ref()) else {
            return;
        };
        // Recorded before the parts move into the group (the record copies what it needs).
        let mut passed = Verified::default();
        passed.insert(&parts);
        if self.group.verify(parts).await {
            call.verified = Some(Arc::new(passed));
        }
    }
}
