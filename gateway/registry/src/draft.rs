//! A document in the making: its registry name and its envelope with the signatures so far.
//! The ceremony's rules ([`crate::signers`]) judge it; [`crate::pending`] keeps it on disk.

use serde::{Deserialize, Serialize};

use crate::doc::Document;
use crate::envelope::Envelope;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDoc {
    pub name: String,
    pub envelope: Envelope,
}

impl PendingDoc {
    /// A new, unsigned pending document.
    pub fn new<T: Document>(doc: &T) -> Self {
        Self {
            name: doc.name(),
            envelope: crate::ceremony::envelope(doc),
        }
    }
}
