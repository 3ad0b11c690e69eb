//! A single code's Ed25519 signature checked together with those of the other calls in flight.

use std::sync::Arc;

use huren_adapters::codec::Verified;

use crate::recognition::{Call, Recognizer};

impl Recognizer {
    /// Passes `payload`'s signature through the node's group verifier
    /// ([`huren_adapters::codec::group`]) and, when it passed, records that on `call` with the
    /// body decoded here, so the read neither checks the signature nor decodes the body again. A
    /// code it does not pass (forged, another algorithm, not decodable) is left to the read,
    /// which decodes and checks it alone and answers as it always did.
    pub async fn check_signature_grouped(&self, call: &mut Call, payload: &str) {
        let payload = self.adapters.scanned(payload);
        let Some(code) = huren_adapters::signed_code(&payload, call.registry.as_ref()) else {
            return;
        };
        // The group takes its own copy of the parts; the record keeps the code.
        if self.group.verify(code.parts().clone()).await {
            let mut passed = Verified::default();
            passed.insert_code(code);
            call.verified = Some(Arc::new(passed));
        }
    }
}
