//! The shared, lockable holder of status lists a node (or an issuer's service) keeps: the current
//! list per (region, issuer, list id) for lookups, and a few recent versions of each, so it can
//! answer "give me what changed since sequence N" with a delta instead of the whole list.
//!
//! The same holder serves both sides: an issuer's reference service publishes its own lists into
//! one and serves from it; a node applies what it fetched into one and can serve the same answers
//! to a federation peer ([`ListArchive::serve`]), whose node then checks every list against the
//! issuer's key exactly as if it came from the issuer.

use std::collections::{HashMap, VecDeque};
use std::sync::RwLock;
use std::time::Duration;

use time::OffsetDateTime;

use super::delta::StatusDelta;
use super::error::{Refusal, StatusListError};
use super::header::ListHeader;
use super::signed::StatusList;
use super::store::{Applied, ListStatus, StatusLists};
use crate::model::RegionCode;
use crate::trust::TrustView;

/// Older versions kept per list: a follower that missed up to this many versions still gets a
/// delta; one further behind gets the whole list.
pub const KEPT_VERSIONS: usize = 4;

/// Which list, for the archive's bookkeeping and the wire's index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    pub region: RegionCode,
    pub issuer: String,
    pub list_id: u32,
}

impl ListKey {
    /// The list a signed header names.
    pub fn of(header: &ListHeader) -> Self {
        Self {
            region: header.region,
            issuer: header.issuer.clone(),
            list_id: header.list_id,
        }
    }
}

impl std::fmt::Display for ListKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.region, self.issuer, self.list_id)
    }
}

/// What a holder answers when asked for a list since a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// The asker already holds the current version.
    Current,
    /// A delta from the asker's version (`HRSD…`).
    Delta(Vec<u8>),
    /// The whole current list (`HRSL…`): the asker holds nothing, or a version too old.
    Whole(Vec<u8>),
}

/// Every list held, behind one lock: lookups take the read lock and do a bit test.
#[derive(Debug, Default)]
pub struct ListArchive {
    current: RwLock<StatusLists>,
    recent: RwLock<HashMap<ListKey, VecDeque<StatusList>>>,
}

impl ListArchive {
    pub fn new() -> Self {
        Self::default()
    }

    fn current(&self) -> std::sync::RwLockReadGuard<'_, StatusLists> {
        // Installs swap whole lists, so a poisoned lock still holds a consistent map.
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs a list (opened and checked by the caller, or issued by this holder's own issuer)
    /// if it moves the held state forwards; the version it replaces is kept for deltas.
    pub fn install(&self, list: StatusList, now: OffsetDateTime) -> Result<Applied, Refusal> {
        let key = ListKey::of(list.header());
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let previous = current.held(key.region, &key.issuer, key.list_id).cloned();
        let applied = current.apply(list, now)?;
        drop(current);
        if let (Applied::Installed { .. }, Some(previous)) = (applied, previous) {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            let kept = recent.entry(key).or_default();
            kept.push_back(previous);
            while kept.len() > KEPT_VERSIONS {
                kept.pop_front();
            }
        }
        Ok(applied)
    }

    /// Opens a received whole list (`HRSL…`) or delta (`HRSD…`) under the registry and installs
    /// the result. Whatever is refused leaves the held list in place.
    pub fn apply_bytes(
        &self,
        bytes: &[u8],
        trust: &dyn TrustView,
        now: OffsetDateTime,
    ) -> Result<Applied, StatusListError> {
        match self.open_bytes(bytes, trust, None)? {
            Some(list) => Ok(self.install(list, now)?),
            None => Ok(Applied::Unchanged),
        }
    }

    /// As [`ListArchive::apply_bytes`], for the answer to a request for list `asked`: bytes
    /// whose signed header names any other list (another list id, issuer or region, however
    /// genuine its signature) are refused before anything is installed.
    pub fn apply_answer(
        &self,
        asked: &ListKey,
        bytes: &[u8],
        trust: &dyn TrustView,
        now: OffsetDateTime,
    ) -> Result<Applied, StatusListError> {
        match self.open_bytes(bytes, trust, Some(asked))? {
            Some(list) => Ok(self.install(list, now)?),
            None => Ok(Applied::Unchanged),
        }
    }

    /// The list received bytes lead to (`None`: already held), checked to be `asked` if given.
    fn open_bytes(
        &self,
        bytes: &[u8],
        trust: &dyn TrustView,
        asked: Option<&ListKey>,
    ) -> Result<Option<StatusList>, StatusListError> {
        let named = |header: &ListHeader| match asked {
            Some(asked) if ListKey::of(header) != *asked => Err(Refusal::NotTheListAsked {
                asked: asked.clone(),
                answered: ListKey::of(header),
            }),
            _ => Ok(()),
        };
        if bytes.starts_with(super::delta::DELTA_MAGIC) {
            let delta = StatusDelta::open(bytes, trust)?;
            named(delta.target())?;
            // The work is done under the read lock; only the install takes the write lock.
            return self.current().list_from_opened_delta(delta);
        }
        let list = StatusList::open(bytes, trust)?;
        named(list.header())?;
        Ok(Some(list))
    }

    /// The scan-path lookup: a read lock, hash lookups and a bit test.
    pub fn status(
        &self,
        region: RegionCode,
        issuer: &str,
        list_id: u32,
        index: u32,
        now: OffsetDateTime,
        max_age: Duration,
    ) -> ListStatus {
        self.current()
            .status(region, issuer, list_id, index, now, max_age)
    }

    /// The sequence held for a list, if any.
    pub fn sequence(&self, key: &ListKey) -> Option<u64> {
        self.current()
            .held(key.region, &key.issuer, key.list_id)
            .map(|l| l.header().sequence)
    }

    /// The current list itself (a clone), if held.
    pub fn list(&self, key: &ListKey) -> Option<StatusList> {
        self.current()
            .held(key.region, &key.issuer, key.list_id)
            .cloned()
    }

    /// Every list held, with its current sequence: what a holder advertises to followers.
    pub fn index(&self) -> Vec<(ListKey, u64)> {
        let mut out: Vec<_> = self
            .current()
            .iter()
            .map(|l| (ListKey::of(l.header()), l.header().sequence))
            .collect();
        out.sort_by(|a, b| {
            (a.0.region, &a.0.issuer, a.0.list_id).cmp(&(b.0.region, &b.0.issuer, b.0.list_id))
        });
        out
    }

    /// What to send a follower that holds `since` (`None`: nothing) of list `key`; `None` when
    /// this holder has no such list.
    pub fn serve(&self, key: &ListKey, since: Option<u64>) -> Option<Served> {
        let current = self.list(key)?;
        let held = current.header().sequence;
        let Some(since) = since else {
            return Some(Served::Whole(current.to_bytes()));
        };
        if since == held {
            return Some(Served::Current);
        }
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        let base = recent
            .get(key)
            .and_then(|kept| kept.iter().find(|l| l.header().sequence == since));
        Some(
            match base.and_then(|base| StatusDelta::between(base, &current)) {
                Some(delta) => Served::Delta(delta.to_bytes()),
                None => Served::Whole(current.to_bytes()),
            },
        )
    }
}
