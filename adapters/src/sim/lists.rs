//! A reference region's status list publisher: the issuer's signed list of its v2 codes, built
//! from the person records, re-signed when it changed (or is a second old) and kept with its
//! recent versions in a [`ListArchive`], so a node is served a delta since what it holds.
//!
//! [`ListFault`]s let tests make the service publish what a node must refuse.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::codec::IssuerSigner;
use crate::model::RegionCode;
use crate::net::wire::{IndexedList, StatusListIndex};
use crate::sim::store::Store;
use crate::status_list::{
    Issuance, IssueError, ListArchive, ListKey, Served, StatusBits, StatusList,
};

/// The one list each reference issuer publishes.
pub const LIST_ID: u32 = 1;
/// Codes the list covers: the W3C Bitstring Status List's minimum, so a fetched list hides which
/// of many codes a node is about to check (herd privacy).
pub const LIST_CODES: u32 = 131_072;
/// How long a published list may be trusted if nothing newer arrives.
pub const LIST_LIFETIME: time::Duration = time::Duration::hours(1);
/// An unchanged list is re-signed once it is this old, so its age tells a node how current it is.
const RESIGN_AFTER: time::Duration = time::Duration::seconds(1);

/// Lists a service can be made to publish instead of its good one, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFault {
    /// Stop publishing: every follower keeps being told its list is current, and it ages.
    Frozen,
    /// The whole list cut in half.
    Truncated,
    /// The current bits signed by a key the registry does not list.
    WrongKey,
    /// A newer sequence whose lifetime ended an hour ago.
    Expired,
    /// The first list this service published, whatever was asked.
    RolledBack,
    /// Another list of the same issuer, genuinely signed with a newer sequence and every code
    /// valid, whatever was asked: the bytes verify, but they are not the list asked for.
    OtherList,
}

/// Why a list could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error("the issuer's own list was refused: {0}")]
    Refused(#[from] crate::status_list::Refusal),
    #[error("no such list")]
    NoSuchList,
}

/// One issuer's published lists.
pub struct Publisher {
    signer: Arc<IssuerSigner>,
    region: RegionCode,
    archive: ListArchive,
    /// Serialises publishing; holds the next sequence and the first list published.
    state: Mutex<PublisherState>,
}

struct PublisherState {
    next_sequence: u64,
    first: Option<StatusList>,
}

impl Publisher {
    pub fn new(region: RegionCode, signer: Arc<IssuerSigner>, now: OffsetDateTime) -> Self {
        // Milliseconds since the epoch: a restarted service (whose records persist) goes on from
        // a higher sequence than any it published before, so nodes never see it go back.
        let next_sequence = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(1);
        Self {
            signer,
            region,
            archive: ListArchive::new(),
            state: Mutex::new(PublisherState {
                next_sequence,
                first: None,
            }),
        }
    }

    fn key(&self) -> ListKey {
        ListKey {
            region: self.region,
            issuer: self.signer.issuer_id().to_string(),
            list_id: LIST_ID,
        }
    }

    /// Re-signs the list if the records changed it or it is over a second old.
    fn publish(&self, store: &Store, now: OffsetDateTime) -> Result<(), PublishError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let bits = store.status_bits(LIST_CODES);
        if let Some(held) = self.archive.list(&self.key()) {
            let h = held.header();
            if h.digest == bits.digest() && now - h.issued_at < RESIGN_AFTER {
                return Ok(());
            }
        }
        let list = self.sign(state.next_sequence, bits, now)?;
        state.next_sequence += 1;
        state.first.get_or_insert_with(|| list.clone());
        self.archive.install(list, now)?;
        Ok(())
    }

    fn sign(
        &self,
        sequence: u64,
        bits: StatusBits,
        issued_at: OffsetDateTime,
    ) -> Result<StatusList, IssueError> {
        let issuance = Issuance {
            region: self.region,
            list_id: LIST_ID,
            sequence,
            issued_at,
            expires_at: issued_at + LIST_LIFETIME,
        };
        StatusList::issue(&self.signer, &issuance, bits)
    }

    /// The lists published, after bringing them up to date (unless frozen).
    pub fn index(
        &self,
        store: &Store,
        fault: Option<ListFault>,
        now: OffsetDateTime,
    ) -> Result<StatusListIndex, PublishError> {
        if fault != Some(ListFault::Frozen) {
            self.publish(store, now)?;
        }
        let lists = self
            .archive
            .index()
            .into_iter()
            .map(|(key, sequence)| IndexedList {
                issuer: key.issuer,
                list_id: key.list_id,
                sequence,
            })
            .collect();
        Ok(StatusListIndex { lists })
    }

    /// What to send a follower holding `since` of `(issuer, list_id)`, or what the fault says.
    pub fn serve(
        &self,
        store: &Store,
        (issuer, list_id): (&str, u32),
        since: Option<u64>,
        fault: Option<ListFault>,
        now: OffsetDateTime,
    ) -> Result<Served, PublishError> {
        let key = self.key();
        if issuer != key.issuer || list_id != key.list_id {
            return Err(PublishError::NoSuchList);
        }
        if fault != Some(ListFault::Frozen) {
            self.publish(store, now)?;
        }
        let good = self.archive.list(&key).ok_or(PublishError::NoSuchList)?;
        let bad = match fault {
            None | Some(ListFault::Frozen) => {
                return self
                    .archive
                    .serve(&key, since)
                    .ok_or(PublishError::NoSuchList);
            }
            Some(ListFault::Truncated) => {
                let whole = good.to_bytes();
                whole[..whole.len() / 2].to_vec()
            }
            Some(ListFault::WrongKey) => {
                let stranger =
                    IssuerSigner::generate(self.signer.issuer_id(), self.signer.algorithm())
                        .map_err(IssueError::from)?;
                let issuance = Issuance {
                    region: self.region,
                    list_id: LIST_ID,
                    sequence: good.header().sequence + 1,
                    issued_at: now,
                    expires_at: now + LIST_LIFETIME,
                };
                StatusList::issue(&stranger, &issuance, good.bits().clone())?.to_bytes()
            }
            Some(ListFault::Expired) => {
                let at = now - LIST_LIFETIME - time::Duration::hours(1);
                let sequence = good.header().sequence + 1;
                self.sign(sequence, good.bits().clone(), at)?.to_bytes()
            }
            Some(ListFault::OtherList) => {
                let issuance = Issuance {
                    region: self.region,
                    list_id: LIST_ID + 1,
                    sequence: good.header().sequence + 1,
                    issued_at: now,
                    expires_at: now + LIST_LIFETIME,
                };
                StatusList::issue(&self.signer, &issuance, StatusBits::new(LIST_CODES))?.to_bytes()
            }
            Some(ListFault::RolledBack) => {
                let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                state.first.as_ref().unwrap_or(&good).to_bytes()
            }
        };
        Ok(Served::Whole(bad))
    }
}
