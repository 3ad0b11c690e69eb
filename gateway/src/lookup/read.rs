//! The read of a person looked up by ID card: through their household province's adapter at the
//! region's own service (forwarded to the node that serves it when that is another node), judged
//! and audited like a scanned code; a region whose service offers no lookup by ID and name is
//! REVIEW `NO_LOOKUP_SERVICE`, never a guess.

use huren_adapters::{CodeError, Person, ReadContext, StatusLookup};
use time::OffsetDateTime;

use crate::error::Error;
use crate::lookup::Card;
use crate::privacy::{subject_handle, subject_ref};
use crate::recognition::engine::ReadFailure;
use crate::recognition::pipeline::UNIDENTIFIED;
use crate::recognition::{Call, Judged, Recognizer};

impl Recognizer {
    /// Looks the card's holder up at their household region, judges them under the call's
    /// rules, audits the lookup (durably) with its purpose and counts it.
    pub async fn lookup_person(&self, call: &Call, card: &Card) -> Result<Judged, Error> {
        let home = card.household.province();
        let now = OffsetDateTime::now_utc();
        let agreement = call.registry.agreement(call.verifying, home, now);
        let forwarding = self.forwarding(call);
        let lookup: &dyn StatusLookup = match &forwarding {
            Some(f) => f,
            None => &self.status,
        };
        let ctx = ReadContext::new(call.registry.as_ref(), lookup, now, call.read_deadline());
        let read = match self.adapters.for_region(home) {
            Some(adapter) => Some(adapter.read_resident(&card.id, &card.name, &ctx).await),
            None => None,
        };
        let mut judged = match read {
            Some(Err(CodeError::Unsupported(_))) | None => {
                let failure = ReadFailure::NoLookupService(card.household);
                self.judge_unread(call, home, agreement, failure, now)
            }
            Some(read) => self.judge(call, home, agreement, read, now),
        };
        judged.forwarded = forwarding.and_then(|f| f.forwarded());
        if judged.subject_ref == UNIDENTIFIED {
            // Nobody was read, but somebody was looked up: the audit keeps the same keyed
            // pseudonym of the card's number whatever the region answered, never the number.
            let card_holder = Person {
                id: Some(card.id.clone()),
                name: String::new(),
                region_handle: None,
            };
            if let Some(handle) = subject_handle(&card_holder) {
                judged.subject_ref = subject_ref(
                    &self.subject_key,
                    call.verifying,
                    call.peer.province(),
                    home,
                    &handle,
                );
            }
        }
        self.record(call, &judged).await?;
        Ok(judged)
    }
}
