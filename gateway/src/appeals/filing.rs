//! What the node holding a review queue checks of a filing another node relays to it, as the
//! entry node checked it: the verdict is one a person may appeal, the texts are bounded, and the
//! code shown (read again here) names a person of the issuing region under the masked name the
//! filing gives. The filing's `subject_ref` is the entry node's pseudonym under its own subject
//! key, which this node cannot recompute; this node keeps its own pseudonym of the person the
//! code names instead (the one its forwarded-read audit keys the person under), never the
//! relaying node's claim.

use huren_adapters::{Person, RegionCode};
use huren_proto::v1::{RelayedFiling, Verdict};

use crate::appeals::error::AppealError;
use crate::appeals::{MAX_TEXT, contact};
use crate::error::Error;
use crate::recognition::Judged;
use crate::recognition::pipeline::UNIDENTIFIED;

/// Longest code accepted in a filing, as at the entry node.
pub const MAX_PAYLOAD: usize = 8 * 1024;

/// The person to file for and the filing as this node keeps it, or why it is refused.
pub fn checked(
    filing: &RelayedFiling,
    judged: &Judged,
    issuing: RegionCode,
) -> Result<(Person, RelayedFiling), Error> {
    let seq = filing.decision_seq;
    match Verdict::try_from(filing.verdict) {
        Ok(Verdict::Pass) => return Err(AppealError::NothingToAppeal(seq).into()),
        Ok(Verdict::Unspecified) | Err(_) => {
            return Err(Error::invalid(
                "verdict",
                "the verdict of the decision appealed",
            ));
        }
        Ok(_) => {}
    }
    if filing.reason.trim().is_empty() || filing.reason.len() > MAX_TEXT {
        return Err(Error::invalid("reason", format!("1 to {MAX_TEXT} bytes")));
    }
    if filing.payload.is_empty() || filing.payload.len() > MAX_PAYLOAD {
        return Err(Error::invalid(
            "payload",
            format!("1 to {MAX_PAYLOAD} bytes"),
        ));
    }
    if !contact::is_hash(&filing.contact_hash) {
        return Err(Error::invalid(
            "contact_hash",
            "the keyed hash of the contact, never the contact",
        ));
    }
    let masked = judged.masked_name().unwrap_or_default();
    let person = match &judged.person {
        Some(person)
            if judged.issuing.province() == issuing
                && judged.subject_ref != UNIDENTIFIED
                && masked == filing.masked_name =>
        {
            person.clone()
        }
        _ => return Err(AppealError::NotTheDecidedCode(seq).into()),
    };
    let mut kept = filing.clone();
    kept.subject_ref = judged.subject_ref.clone();
    Ok((person, kept))
}
