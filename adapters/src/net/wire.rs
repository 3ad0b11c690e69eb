//! The status-service wire protocol the [`crate::net`] client speaks: JSON over HTTPS (h2 or
//! http/1.1). Every region's status service answers it; the reference services in `sim` import it
//! from here, so the server and the client cannot drift.
//!
//! # Endpoints
//!
//! `POST /v1/status/lookup` — idempotent read; POST only so ID numbers never sit in a URL.
//!
//! ```json
//! {"code_id": "9f…32 hex", "city": "330100"}          // an online code (city optional)
//! {"resident_id": "11010519491231002X", "name": "张三"} // one of the region's residents
//! ```
//!
//! 200 → `{"region","handle","code_id","label","refreshed_at","changed_at","masked_name"}`:
//! `label` is the region's own word (绿码, 中风险, 居家观察 …), `handle` a stable random handle
//! for the person (the same for all their codes), `refreshed_at` when the service evaluated the
//! answer, `changed_at` when the status last changed, `masked_name` surname + `*`.
//! 404 `unknown_code` when the region has no such code or resident (a wrong name answers the
//! same), 400 `bad_request` for malformed input or a city outside the region, 503 `unavailable`.
//! Every error body is `{"error","message"}`.
//!
//! `GET /v1/changes?since=SEQ&epoch=EPOCH&wait_ms=N` — the change feed, a long poll held up to
//! `wait_ms` (at most 30 s) until something changes after `SEQ`. Answer:
//! `{"epoch","reset","seq","more","changes":[{"seq","handle","code_ids","label","changed_at"}]}`.
//! The feed holds each person's latest change only. Sequence numbers belong to one run of the
//! service (its `epoch`); a caller that sends another epoch gets `reset: true` and the feed from
//! the start. Resident ID numbers never appear in the feed: a follower matches changes by code
//! id, or by the handle a resident lookup returned.
//!
//! `GET /v1/health` → `{"region","people","epoch"}`.
//!
//! `GET /v1/revocations` (Guangdong) → `text/plain`: the issuer's signed revocation list
//! (`YKMRL1.…`, see [`crate::regions::guangdong::revocations`]) naming the serials of codes
//! withdrawn because their holder's status changed; signed afresh on every request.
//!
//! `POST /v1/appeals` — an appeal into the region's review queue (复核), by the node serving the
//! region: `{"appeal_id","handle"|"resident_id","reason"}` → 200 `{"appeal_id","handle","label"}`
//! (the person's current word); 404 `unknown_code` when the region knows nobody by that.
//! `POST /v1/appeals/answer` — the region's answer: `{"appeal_id","outcome","colour"}` with
//! `outcome` `UPHELD` or `CORRECTED`; a correction sets the person's status as
//! `huren region set-status` does (change feed, status lists, revocations) → 200
//! `{"appeal_id","label","withdrawn"}`. `GET /v1/appeals?id=APPEAL` → the queue's entry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `POST /v1/status/lookup`: exactly one of the two forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LookupRequest {
    /// An opaque code id from a QR payload (Zhejiang, Henan) or a signed code's serial (online
    /// checks for Sichuan and Hunan), with the scanning city's GB/T 2260 code when known.
    Code {
        code_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        city: Option<String>,
    },
    /// One of the region's own residents; the name must match the record.
    Resident { resident_id: String, name: String },
}

/// 200 answer to a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupResponse {
    pub region: String,
    /// The region's stable handle for the person: the same for every code they hold.
    pub handle: String,
    /// The code id the answer is about (the person's current one for resident lookups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// The region's own status word, e.g. "绿码" or "中风险".
    pub label: String,
    /// When the region evaluated this answer (now, for a live lookup).
    #[serde(with = "time::serde::rfc3339")]
    pub refreshed_at: OffsetDateTime,
    /// When the status last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    /// Surname + `*`.
    pub masked_name: String,
    /// The region's record is a synthetic test person (made by the region's test channel for
    /// the reverse-testing prober), not a resident. Absent, as in older answers, means a resident.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

/// `GET /v1/changes?since=SEQ&epoch=EPOCH&wait_ms=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesResponse {
    /// Changes with the service's sequence numbers; a new epoch means the numbering restarted.
    pub epoch: String,
    /// True when the caller's epoch was not this one: `changes` then starts from the beginning
    /// and the caller should treat every status it holds as possibly changed.
    pub reset: bool,
    /// The highest sequence number in `changes`, or the caller's `since` when there are none.
    pub seq: u64,
    /// The latest sequence number the service has assigned: a follower that wants only future
    /// changes starts from here.
    pub head: u64,
    /// More changes are waiting: ask again at once.
    pub more: bool,
    pub changes: Vec<ChangeEntry>,
}

/// One person's status as of one change: the feed keeps only each person's latest change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEntry {
    pub seq: u64,
    pub handle: String,
    /// Every code id the person holds (online code ids and signed codes' serials).
    pub code_ids: Vec<String>,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

/// Body of every non-200 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `unknown_code`, `bad_request`, `unavailable`.
    pub error: String,
    pub message: String,
}

/// Paths, so the server and the client cannot drift.
pub const LOOKUP_PATH: &str = "/v1/status/lookup";
pub const CHANGES_PATH: &str = "/v1/changes";
pub const HEALTH_PATH: &str = "/v1/health";
/// Guangdong only: the issuer's signed revocation list (`text/plain`, `YKMRL1.…`).
pub const REVOCATIONS_PATH: &str = "/v1/revocations";
/// The issuer's status lists the service publishes (JSON [`StatusListIndex`]).
pub const STATUS_LISTS_PATH: &str = "/v1/status-lists";
/// One status list: `?issuer=<id>&list=<list id>[&since=<sequence>]`. 200 with the signed list
/// (`HRSL…`) or, when `since` is a version the service still keeps, a delta (`HRSD…`), as
/// `application/octet-stream`; 204 when `since` is already the current version.
pub const STATUS_LIST_PATH: &str = "/v1/status-list";
/// Most lists one index names.
pub const MAX_INDEXED_LISTS: usize = 64;

/// Which status lists a service (or, later, a peer node) holds, and their current sequences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListIndex {
    pub lists: Vec<IndexedList>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedList {
    pub issuer: String,
    pub list_id: u32,
    pub sequence: u64,
}

/// Longest a change long-poll is held open.
pub const MAX_WAIT_MS: u64 = 30_000;
/// Most changes in one answer.
pub const MAX_CHANGES: usize = 1_000;

/// The review queue of a region's service (复核): filing and answering appeals.
pub const APPEALS_PATH: &str = "/v1/appeals";
pub const APPEAL_ANSWER_PATH: &str = "/v1/appeals/answer";

/// `POST /v1/appeals`: the person by the region's own handle (online codes) or resident ID
/// (signed codes, sent only to the issuing region's own service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealFiling {
    pub appeal_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
    pub reason: String,
}

/// 200 answer to a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealFiled {
    pub appeal_id: String,
    /// The region's handle for the person.
    pub handle: String,
    /// The person's status word when the appeal was filed.
    pub label: String,
}

/// `POST /v1/appeals/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealAnswer {
    pub appeal_id: String,
    /// `UPHELD` or `CORRECTED`.
    pub outcome: String,
    /// For a correction: the canonical colour the person has now (GREEN, YELLOW, RED, PENDING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

/// 200 answer to an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealAnswered {
    pub appeal_id: String,
    /// The person's status word now.
    pub label: String,
    /// v2 codes withdrawn or suspended in the issuer's next status list, and earlier codes
    /// revoked, by the correction.
    #[serde(default)]
    pub withdrawn: usize,
}
