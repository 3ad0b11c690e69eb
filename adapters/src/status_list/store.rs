//! The lists a node holds, one per (issuing region, issuer, list id): installed only forwards,
//! never expired, and looked up on the scan path with a bit test.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::bits::CodeStatus;
use super::delta::StatusDelta;
use super::error::{Refusal, StatusListError};
use super::signed::StatusList;
use crate::codec::token::MAX_CLOCK_SKEW;
use crate::model::RegionCode;
use crate::trust::TrustView;

/// What the held lists say about one code, for the verifying region's rules to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListStatus {
    Valid,
    /// REJECT (`REVOKED_CODE`).
    Withdrawn,
    /// REVIEW: pending review at the issuer.
    Suspended,
    /// REVIEW (`STATUS_LIST_STALE`): the held list is older than the agreement's
    /// `max_status_list_age`, or expired.
    Stale,
    /// REVIEW (`STATUS_LIST_STALE`): no list is held for that issuer and list id, or the held
    /// list does not reach the code's index (it was issued after the list).
    Missing,
}

/// What an accepted list or delta did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The list is now held at this sequence.
    Installed { sequence: u64 },
    /// The same list was already held (a peer served it again).
    Unchanged,
}

type Lists = HashMap<u32, StatusList>;

/// Every status list a node holds.
#[derive(Debug, Default)]
pub struct StatusLists {
    // Nested so a lookup borrows the issuer as `&str`: no key is built on the scan path.
    by_issuer: HashMap<RegionCode, HashMap<String, Lists>>,
}

impl StatusLists {
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs `list` if it moves the held state forwards and is still in force at `now`.
    pub fn apply(&mut self, list: StatusList, now: OffsetDateTime) -> Result<Applied, Refusal> {
        let h = list.header();
        if now >= h.expires_at {
            return Err(Refusal::Expired(h.expires_at));
        }
        if h.issued_at > now + MAX_CLOCK_SKEW {
            return Err(Refusal::IssuedInFuture(h.issued_at));
        }
        if let Some(held) = self.held(h.region, &h.issuer, h.list_id) {
            let held = held.header();
            if h.sequence < held.sequence {
                return Err(Refusal::Rollback {
                    held: held.sequence,
                    offered: h.sequence,
                });
            }
            if h.sequence == held.sequence {
                return if h == held {
                    Ok(Applied::Unchanged)
                } else {
                    Err(Refusal::Equivocation {
                        sequence: h.sequence,
                    })
                };
            }
        }
        let (region, issuer, list_id, sequence) =
            (h.region, h.issuer.clone(), h.list_id, h.sequence);
        self.by_issuer
            .entry(region)
            .or_default()
            .entry(issuer)
            .or_default()
            .insert(list_id, list);
        Ok(Applied::Installed { sequence })
    }

    /// Opens a whole list received from an issuer or a peer and applies it.
    pub fn apply_bytes(
        &mut self,
        bytes: &[u8],
        trust: &dyn TrustView,
        now: OffsetDateTime,
    ) -> Result<Applied, StatusListError> {
        let list = StatusList::open(bytes, trust)?;
        Ok(self.apply(list, now)?)
    }

    /// Opens a delta, applies it to the held list it starts from, and installs the result.
    /// A node that holds another version asks for the whole list instead.
    pub fn apply_delta_bytes(
        &mut self,
        bytes: &[u8],
        trust: &dyn TrustView,
        now: OffsetDateTime,
    ) -> Result<Applied, StatusListError> {
        match self.list_from_delta(bytes, trust)? {
            Some(next) => Ok(self.apply(next, now)?),
            None => Ok(Applied::Unchanged),
        }
    }

    /// The list a delta leads to from the held one (`None`: already held), computed with shared
    /// access only, so a node behind a lock can do the work under a read lock and take the write
    /// lock just for [`StatusLists::apply`].
    pub fn list_from_delta(
        &self,
        bytes: &[u8],
        trust: &dyn TrustView,
    ) -> Result<Option<StatusList>, StatusListError> {
        self.list_from_opened_delta(StatusDelta::open(bytes, trust)?)
    }

    /// As [`StatusLists::list_from_delta`], for a delta already opened under the registry.
    pub fn list_from_opened_delta(
        &self,
        delta: StatusDelta,
    ) -> Result<Option<StatusList>, StatusListError> {
        let t = delta.target();
        let Some(base) = self.held(t.region, &t.issuer, t.list_id) else {
            return Err(Refusal::DeltaBaseMismatch {
                from: delta.from_sequence(),
                held: None,
            }
            .into());
        };
        let held = base.header();
        if held == t {
            return Ok(None);
        }
        if held.sequence > t.sequence {
            return Err(Refusal::Rollback {
                held: held.sequence,
                offered: t.sequence,
            }
            .into());
        }
        Ok(Some(delta.apply(base)?))
    }

    pub fn held(&self, region: RegionCode, issuer: &str, list_id: u32) -> Option<&StatusList> {
        self.by_issuer.get(&region)?.get(issuer)?.get(&list_id)
    }

    /// The status of code `index` in `issuer`'s list `list_id`, if the held list is in force at
    /// `now` and no older than `max_age`. Hash lookups and a bit test: no allocation, no I/O.
    pub fn status(
        &self,
        region: RegionCode,
        issuer: &str,
        list_id: u32,
        index: u32,
        now: OffsetDateTime,
        max_age: Duration,
    ) -> ListStatus {
        let Some(list) = self.held(region, issuer, list_id) else {
            return ListStatus::Missing;
        };
        let h = list.header();
        let now_s = now.unix_timestamp();
        let age = now_s.saturating_sub(h.issued_at.unix_timestamp());
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        if now_s >= h.expires_at.unix_timestamp() || age > max_age {
            return ListStatus::Stale;
        }
        match list.bits().get(index) {
            None => ListStatus::Missing,
            Some(CodeStatus::Valid) => ListStatus::Valid,
            Some(CodeStatus::Withdrawn) => ListStatus::Withdrawn,
            Some(CodeStatus::Suspended) => ListStatus::Suspended,
        }
    }

    /// Lists held, for metrics and for serving peers.
    pub fn iter(&self) -> impl Iterator<Item = &StatusList> {
        self.by_issuer
            .values()
            .flat_map(|m| m.values())
            .flat_map(|m| m.values())
    }
}
