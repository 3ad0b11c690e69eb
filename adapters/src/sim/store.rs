//! A reference region's per-person records: one JSON file each, replaced atomically, plus the
//! change feed derived from them.
//!
//! The records are the truth; the feed is each person's latest change, numbered by this process
//! (a fresh random epoch per start, so a follower that saw an older numbering starts over).
//! Another process (`huren region set-status`) may write records into the same directory; the
//! service picks them up with [`Store::rescan`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::ResidentId;
use crate::net::wire::ChangeEntry;
use crate::status_list::{CodeStatus, StatusBits};

/// Most records one reference service loads: a bound on start-up and rescans.
const MAX_PEOPLE: usize = 5_000_000;

/// What the region knows about one resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// Stable random handle; also the file name.
    pub handle: String,
    pub resident_id: String,
    pub name: String,
    /// The region's own status word.
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    /// Online code ids and signed codes' serials the person holds.
    pub code_ids: Vec<String>,
    /// Codes the region withdrew before they expired (Guangdong's revocation list names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
    /// The person's v2 codes: their entries in the region's status list and what the region
    /// says of each now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<ListedCode>,
    /// A synthetic test person, made through the region's test channel (the reverse-testing
    /// prober's path, `huren region issue --synthetic`: [`crate::sim::IssueInput::synthetic`]): the lookup answer says so and nodes
    /// never count them. A real resident never becomes one (see [`StoreError::RealResident`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

/// What a new code adds to a person's record, beyond its status word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewCode<'a> {
    /// The code id or signed serial the person now also holds.
    pub code_id: Option<&'a str>,
    /// A v2 code's status-list index (from [`Store::reserve_index`]).
    pub index: Option<u32>,
    /// Issued through the test channel, to a synthetic test person.
    pub synthetic: bool,
}

/// A v2 code's entry in the region's status list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedCode {
    pub index: u32,
    /// The status word the code was issued with.
    pub label: String,
    #[serde(default)]
    pub state: ListedState,
}

/// What the region's next status list says of one code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListedState {
    #[default]
    Valid,
    /// The holder's status changed: the code no longer vouches for them, for good.
    Withdrawn,
    /// The holder is pending review; the code is neither good nor withdrawn yet.
    Suspended,
}

impl ListedCode {
    /// After the holder's status word became `label` (`pending`: a review state): a code that
    /// shows another word is withdrawn, for good; under review every code is suspended; a
    /// suspended code whose word the review confirmed is good again.
    fn follow(&mut self, label: &str, pending: bool) {
        self.state = match self.state {
            ListedState::Withdrawn => ListedState::Withdrawn,
            _ if pending => ListedState::Suspended,
            _ if self.label == label => ListedState::Valid,
            _ => ListedState::Withdrawn,
        };
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a person record: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the region has no record of this resident; issue a code first")]
    NoSuchResident,
    /// A synthetic code asked for an ID number the region already holds for a real resident:
    /// flagging them would hide a real person from every summary.
    #[error("this ID number belongs to a real resident; a synthetic test person needs its own")]
    RealResident,
    #[error("more than {MAX_PEOPLE} records in {0}")]
    TooMany(PathBuf),
}

struct Entry {
    record: PersonRecord,
    seq: u64,
}

#[derive(Default)]
struct State {
    seq: u64,
    people: HashMap<String, Entry>,
    by_id: HashMap<String, String>,
    by_code: HashMap<String, String>,
    /// seq → handle, one per person (their latest change).
    feed: BTreeMap<u64, String>,
    /// Status-list indices handed out (issued, or reserved for a code being signed).
    list_indices: HashSet<u32>,
    /// File stamps seen, so a rescan reads only files that changed.
    stamps: HashMap<PathBuf, (SystemTime, u64)>,
}

impl State {
    /// Records `record` as the person's latest state; a new feed entry when it differs.
    fn apply(&mut self, record: PersonRecord) -> bool {
        if let Some(old) = self.people.get(&record.handle) {
            if old.record == record {
                return false;
            }
            self.feed.remove(&old.seq);
        }
        self.seq += 1;
        let seq = self.seq;
        self.feed.insert(seq, record.handle.clone());
        self.by_id
            .insert(record.resident_id.clone(), record.handle.clone());
        for code in &record.code_ids {
            self.by_code.insert(code.clone(), record.handle.clone());
        }
        self.list_indices
            .extend(record.listed.iter().map(|l| l.index));
        self.people
            .insert(record.handle.clone(), Entry { record, seq });
        true
    }
}

/// Per-person records, in memory and (when given a directory) on disk.
pub struct Store {
    dir: Option<PathBuf>,
    epoch: String,
    state: Mutex<State>,
    /// Serialises writers so two updates of one person cannot interleave their files.
    writer: Mutex<()>,
    seq_tx: tokio::sync::watch::Sender<u64>,
}

impl Store {
    /// Opens (creating) `dir/people/` and loads every record; `None` keeps records in memory.
    pub fn open(dir: Option<&Path>) -> Result<Self, StoreError> {
        let store = Self {
            dir: dir.map(|d| d.join("people")),
            epoch: hex::encode(rand::random::<[u8; 8]>()),
            state: Mutex::new(State::default()),
            writer: Mutex::new(()),
            seq_tx: tokio::sync::watch::channel(0).0,
        };
        if let Some(people) = &store.dir {
            std::fs::create_dir_all(people).map_err(|source| StoreError::Io {
                path: people.clone(),
                source,
            })?;
            store.rescan()?;
        }
        Ok(store)
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent maps (every update is one insert
        // sequence), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn by_code(&self, code_id: &str) -> Option<PersonRecord> {
        let st = self.state();
        let handle = st.by_code.get(code_id)?;
        st.people.get(handle).map(|e| e.record.clone())
    }

    pub fn by_resident(&self, id: &ResidentId) -> Option<PersonRecord> {
        let st = self.state();
        let handle = st.by_id.get(id.expose())?;
        st.people.get(handle).map(|e| e.record.clone())
    }

    /// The resident the region knows by its own stable `handle`.
    pub fn by_handle(&self, handle: &str) -> Option<PersonRecord> {
        self.state().people.get(handle).map(|e| e.record.clone())
    }

    pub fn len(&self) -> usize {
        self.state().people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Creates or updates the resident's record: name, status word, and one more code id.
    /// `changed_at` moves only when the status word changes.
    pub fn upsert(
        &self,
        id: &ResidentId,
        name: &str,
        label: &str,
        code_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<PersonRecord, StoreError> {
        let code = NewCode {
            code_id,
            ..NewCode::default()
        };
        self.upsert_code(id, name, label, code, now)
    }

    /// [`Store::upsert`] for any new code: a v2 one with a status-list entry, or a synthetic
    /// test person's. A synthetic code for an ID the region holds as a real resident is
    /// refused; a real code for a synthetic record makes it a real resident's (the region
    /// vouches for a person, which can only add to the summary, never hide from it).
    pub fn upsert_code(
        &self,
        id: &ResidentId,
        name: &str,
        label: &str,
        code: NewCode<'_>,
        now: OffsetDateTime,
    ) -> Result<PersonRecord, StoreError> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let existing = self.by_resident(id);
        if code.synthetic && existing.as_ref().is_some_and(|r| !r.synthetic) {
            return Err(StoreError::RealResident);
        }
        let mut record = existing.unwrap_or_else(|| PersonRecord {
            handle: hex::encode(rand::random::<[u8; 12]>()),
            resident_id: id.expose().to_string(),
            name: name.to_string(),
            label: String::new(),
            changed_at: now,
            code_ids: Vec::new(),
            revoked: Vec::new(),
            listed: Vec::new(),
            synthetic: code.synthetic,
        });
        record.synthetic = code.synthetic;
        let (code_id, index) = (code.code_id, code.index);
        record.name = name.to_string();
        if record.label != label {
            record.label = label.to_string();
            record.changed_at = now;
            for code in &mut record.listed {
                code.follow(label, false);
            }
        }
        if let Some(index) = index {
            record.listed.push(ListedCode {
                index,
                label: label.to_string(),
                state: ListedState::Valid,
            });
        }
        if let Some(code) = code_id
            && !record.code_ids.iter().any(|c| c == code)
        {
            record.code_ids.push(code.to_string());
        }
        self.commit(record)
    }

    /// Changes the status word of an existing resident.
    pub fn set_label(
        &self,
        id: &ResidentId,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<PersonRecord, StoreError> {
        self.change_label(id, label, now, Change::default())
    }

    /// Puts the person under review without a new status word (regions whose vocabulary has no
    /// pending word): every v2 code they hold is suspended in the next status list.
    pub fn suspend(
        &self,
        id: &ResidentId,
        now: OffsetDateTime,
    ) -> Result<PersonRecord, StoreError> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.by_resident(id).ok_or(StoreError::NoSuchResident)?;
        for code in &mut record.listed {
            code.follow(&record.label, true);
        }
        record.changed_at = now;
        self.commit(record)
    }

    /// A status-list index no code holds yet, chosen at random (so neither the list nor a delta
    /// says when a code was issued), reserved until the code is stored; `None` when the list is full.
    pub fn reserve_index(&self, codes: u32) -> Option<u32> {
        let mut st = self.state();
        if st.list_indices.len() >= codes as usize {
            return None;
        }
        // Bounded: the list is at most full enough that one in a few draws is free.
        for _ in 0..1024 {
            let index = rand::random::<u32>() % codes;
            if st.list_indices.insert(index) {
                return Some(index);
            }
        }
        (0..codes).find(|i| st.list_indices.insert(*i))
    }

    /// The region's status list over `codes` indices as it stands now.
    pub fn status_bits(&self, codes: u32) -> StatusBits {
        let st = self.state();
        let mut bits = StatusBits::new(codes);
        for code in st.people.values().flat_map(|e| e.record.listed.iter()) {
            let status = match code.state {
                ListedState::Valid => continue,
                ListedState::Withdrawn => CodeStatus::Withdrawn,
                ListedState::Suspended => CodeStatus::Suspended,
            };
            bits.set(code.index, status);
        }
        bits
    }

    /// Changes the status word and, if it changed, revokes every code issued so far: a signed
    /// code must not keep vouching for the old status until it expires.
    pub fn set_label_revoking(
        &self,
        id: &ResidentId,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<PersonRecord, StoreError> {
        let change = Change {
            revoke: true,
            ..Change::default()
        };
        self.change_label(id, label, now, change)
    }

    /// Changes the status word, with what else the change does ([`Change`]).
    pub(crate) fn change_label(
        &self,
        id: &ResidentId,
        label: &str,
        now: OffsetDateTime,
        change: Change,
    ) -> Result<PersonRecord, StoreError> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.by_resident(id).ok_or(StoreError::NoSuchResident)?;
        if record.label != label {
            record.label = label.to_string();
            record.changed_at = now;
            for code in &mut record.listed {
                code.follow(label, change.pending);
            }
            if change.revoke {
                for code in &record.code_ids {
                    if !record.revoked.contains(code) {
                        record.revoked.push(code.clone());
                    }
                }
            }
        }
        self.commit(record)
    }

    /// Every revoked code id that is a signed code's serial, ascending.
    pub fn revoked_serials(&self) -> Vec<u64> {
        let st = self.state();
        let mut serials: Vec<u64> = st
            .people
            .values()
            .flat_map(|e| e.record.revoked.iter())
            .filter_map(|c| c.parse().ok())
            .collect();
        serials.sort_unstable();
        serials.dedup();
        serials
    }

    fn commit(&self, record: PersonRecord) -> Result<PersonRecord, StoreError> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{}.json", record.handle));
            write_atomic(&path, &record)?;
            if let Ok(meta) = std::fs::metadata(&path) {
                let stamp = (
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    meta.len(),
                );
                self.state().stamps.insert(path, stamp);
            }
        }
        let seq = {
            let mut st = self.state();
            st.apply(record.clone());
            st.seq
        };
        self.seq_tx.send_replace(seq);
        Ok(record)
    }

    /// Loads records written by another process since the last scan; returns how many changed.
    pub fn rescan(&self) -> Result<usize, StoreError> {
        let Some(dir) = &self.dir else { return Ok(0) };
        let io = |source| StoreError::Io {
            path: dir.clone(),
            source,
        };
        let mut changed = 0;
        for (n, entry) in std::fs::read_dir(dir).map_err(io)?.enumerate() {
            if n >= MAX_PEOPLE {
                return Err(StoreError::TooMany(dir.clone()));
            }
            let entry = entry.map_err(io)?;
            let path = entry.path();
            let is_record = path.extension().is_some_and(|e| e == "json")
                && !entry.file_name().to_string_lossy().starts_with('.');
            if !is_record {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let stamp = (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            );
            if self.state().stamps.get(&path) == Some(&stamp) {
                continue;
            }
            let record = read_record(&path)?;
            let applied = {
                let mut st = self.state();
                st.stamps.insert(path, stamp);
                st.apply(record)
            };
            if applied {
                changed += 1;
            }
        }
        if changed > 0 {
            let seq = self.state().seq;
            self.seq_tx.send_replace(seq);
        }
        Ok(changed)
    }

    /// Changes after `since`, oldest first, at most `limit`; and whether more are waiting.
    pub fn changes(&self, since: u64, limit: usize) -> (Vec<ChangeEntry>, bool) {
        let st = self.state();
        let mut out = Vec::new();
        let mut more = false;
        for (seq, handle) in st.feed.range(since.saturating_add(1)..) {
            if out.len() == limit {
                more = true;
                break;
            }
            if let Some(e) = st.people.get(handle) {
                out.push(ChangeEntry {
                    seq: *seq,
                    handle: handle.clone(),
                    code_ids: e.record.code_ids.clone(),
                    label: e.record.label.clone(),
                    changed_at: e.record.changed_at,
                });
            }
        }
        (out, more)
    }

    /// The latest sequence number assigned.
    pub fn head(&self) -> u64 {
        self.state().seq
    }

    /// The latest sequence number, updated on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.seq_tx.subscribe()
    }
}

/// What a status change also does, beyond the new word.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Change {
    /// Add every code so far to the revocation list (Guangdong's v1 tokens).
    pub revoke: bool,
    /// The new word is a review state (Hubei's 灰码): suspend the v2 codes, not withdraw them.
    pub pending: bool,
}

fn read_record(path: &Path) -> Result<PersonRecord, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a temporary file, fsyncs it, renames it over `path` and fsyncs the directory: a reader
/// sees the old record or the new one, never half of one, and the new one survives a crash.
fn write_atomic(path: &Path, record: &PersonRecord) -> Result<(), StoreError> {
    use std::io::Write;
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(record).map_err(|e| io(std::io::Error::other(e)))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{}.tmp", name.unwrap_or_default()));
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(&json).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ResidentId {
        ResidentId::parse("11010519491231002X").unwrap()
    }

    #[test]
    fn a_record_survives_reopening_and_a_status_change_is_one_feed_entry() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let store = Store::open(Some(dir.path())).unwrap();
        let rec = store
            .upsert(&id(), "张三", "绿码", Some("c1"), now)
            .unwrap();
        store.set_label(&id(), "红码", now).unwrap();
        let (changes, more) = store.changes(0, 10);
        assert_eq!(changes.len(), 1, "only the latest change per person");
        assert!(!more);
        assert_eq!(changes[0].label, "红码");

        let reopened = Store::open(Some(dir.path())).unwrap();
        assert_ne!(reopened.epoch(), store.epoch());
        let again = reopened.by_code("c1").unwrap();
        assert_eq!(again.handle, rec.handle);
        assert_eq!(again.label, "红码");
    }

    #[test]
    fn another_writer_is_picked_up_by_a_rescan() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let server = Store::open(Some(dir.path())).unwrap();
        server
            .upsert(&id(), "张三", "绿码", Some("c1"), now)
            .unwrap();
        let (_, _) = server.changes(0, 10);
        let cli = Store::open(Some(dir.path())).unwrap();
        cli.set_label(&id(), "黄码", now).unwrap();
        assert_eq!(server.rescan().unwrap(), 1);
        assert_eq!(server.by_code("c1").unwrap().label, "黄码");
        assert_eq!(server.rescan().unwrap(), 0, "nothing new the second time");
    }

    #[test]
    fn a_real_resident_cannot_be_made_synthetic_but_a_test_person_can_become_real() {
        let now = OffsetDateTime::now_utc();
        let store = Store::open(None).unwrap();
        store
            .upsert(&id(), "张三", "绿码", Some("c1"), now)
            .unwrap();
        let test_code = NewCode {
            code_id: Some("c2"),
            synthetic: true,
            ..NewCode::default()
        };
        let err = store.upsert_code(&id(), "张三", "绿码", test_code, now);
        assert!(matches!(err, Err(StoreError::RealResident)), "{err:?}");
        let kept = store.by_code("c1").unwrap();
        assert!(!kept.synthetic && store.by_code("c2").is_none());

        let other = ResidentId::parse("510104199001011230").unwrap();
        let made = store
            .upsert_code(&other, "李四", "绿码", test_code, now)
            .unwrap();
        assert!(made.synthetic);
        let real = store
            .upsert(&other, "李四", "绿码", Some("c3"), now)
            .unwrap();
        assert!(!real.synthetic, "a real code makes the record a resident's");
    }

    #[test]
    fn set_status_of_an_unknown_resident_is_refused() {
        let store = Store::open(None).unwrap();
        let err = store.set_label(&id(), "红码", OffsetDateTime::now_utc());
        assert!(matches!(err, Err(StoreError::NoSuchResident)));
    }
}
