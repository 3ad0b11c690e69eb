//! The verification pipeline every service shares: payload → adapter → concept map → engine,
//! then the audit record (awaited: no answer goes out unrecorded) and the summary counters.
//!
//! A call takes one registry snapshot ([`Call`]) and judges every entry under it, so a registry
//! reload never changes the rules half-way through a batch or a manifest. What the caller may
//! see of a [`Judged`] is decided in [`crate::recognition::shaping`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_adapters::codec::{GroupVerifier, Verified};
use huren_adapters::net::StatusClient;
use huren_adapters::status_list::{ListArchive, ListStatus, StatusRef};
use huren_adapters::{
    AdapterSet, CodeError, Colour, Person, ReadContext, ReadOutcome, RegionCode, ResidentId,
    Source, signed_format,
};
use huren_audit::{AuditLog, Entry, MAX_TEXT_BYTES};
use huren_registry::{Agreement, Registry, Verdict};
use time::OffsetDateTime;

use crate::error::Error;
use crate::federation::forward::{Forwarded, ForwardingLookup};
use crate::federation::peers::Peers;
use crate::identity::Peer;
use crate::limits::Deadline;
use crate::privacy::{SubjectKey, subject_handle, subject_ref};
use crate::recognition::engine::{
    CanonicalStatus, Decision, ReadFailure, Reading, ReasonCode, decide,
};
use crate::recognition::receipt::ReceiptSigner;
use crate::registry_handle::SharedRegistry;
use crate::summary::{DecisionKey, SummaryStore};

/// Decisions recorded (and so answered), by verdict and issuing region.
pub const DECISIONS: &str = "huren_decisions_total";
/// Appends the audit log refused: each one is a call answered UNAVAILABLE.
pub const AUDIT_FAILURES: &str = "huren_audit_failures_total";

/// The subject_ref audited for a payload that names nobody readable (forged, malformed).
pub const UNIDENTIFIED: &str = "unidentified";

/// Share of the caller's deadline adapters may spend reading; the rest is for the audit sync
/// and the reply, so a slow region degrades the answer instead of timing the call out.
const READ_SHARE: f64 = 0.8;

/// Everything a node judges with; one per node, shared by the services.
pub struct Recognizer {
    pub registry: SharedRegistry,
    pub adapters: AdapterSet,
    pub status: StatusClient,
    pub audit: AuditLog,
    pub summary: Arc<SummaryStore>,
    pub subject_key: SubjectKey,
    pub receipts: ReceiptSigner,
    /// How long a call may take when the caller sets no deadline.
    pub default_deadline: Duration,
    /// The issuers' status lists this node holds (kept fresh by the adapters' upkeep); a v2
    /// code's entry is looked up here and the answer handed to the engine.
    pub status_lists: Arc<ListArchive>,
    /// Other nodes, for the online reads of regions this node does not serve; `None` reads every
    /// region locally.
    pub federation: Option<Arc<Peers>>,
    /// A random id of this running replica, made at start: a replica asking its own node id's
    /// replicas for their summary shares knows its own answer by it.
    pub instance: String,
    /// Checks the signatures of concurrent single-code calls together.
    pub group: GroupVerifier,
}

impl std::fmt::Debug for Recognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recognizer")
            .field("node_id", &self.receipts.node_id())
            .field("audit", &self.audit.dir())
            .finish_non_exhaustive()
    }
}

/// One gRPC call's fixed facts: who asks, why, under whose rules, which registry, until when.
/// Owned, so a batch can be judged on several worker threads under the same facts.
#[derive(Debug, Clone)]
pub struct Call {
    /// The caller, shared with its connection (and a batch's tasks) rather than copied.
    pub peer: Arc<Peer>,
    /// Full gRPC path, as audited, e.g. `/huren.v1.RecognitionService/VerifyCode`.
    pub method: &'static str,
    pub purpose: String,
    /// The province whose rules apply (from `authz::verifying_region`).
    pub verifying: RegionCode,
    pub registry: Arc<Registry>,
    /// The caller's deadline, less time for the audit sync and the reply: every read of the
    /// call answers (or degrades) by then. `None` when the caller set no deadline.
    pub read_by: Option<Instant>,
    /// Without a caller deadline, each read gets this long from when it starts, so the last
    /// entries of a big batch get the same chance as the first.
    pub read_budget: Duration,
    /// The signatures a batch check of this call's payloads passed (the batch engine sets it);
    /// reads find theirs there instead of checking again.
    pub verified: Option<Arc<Verified>>,
    /// A manifest's route origin (empty for other calls): a forwarded read carries it, so the
    /// serving node holds a carrier to its own-province rule too.
    pub route_origin: String,
}

impl Call {
    /// When a read starting now must answer (or degrade).
    pub fn read_deadline(&self) -> Instant {
        self.read_by
            .unwrap_or_else(|| Instant::now() + self.read_budget)
    }
}

/// A readable status, in the national vocabulary, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub canonical: CanonicalStatus,
    pub issuer: Option<String>,
    pub native_label: String,
}

/// One person's decision, before it is shaped for a caller. Holds the person as the adapter
/// read them (possibly with an ID number): never put it on the wire, shape it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub issuing: RegionCode,
    pub decision: Decision,
    /// `None` when the payload could not be read (forged, malformed, unknown...).
    pub status: Option<Status>,
    /// Colour and source as counted in the summary (UNKNOWN and the format's source on failure).
    pub colour: Colour,
    pub source: Source,
    /// Keyed reference to the person for the verifying region, or [`UNIDENTIFIED`].
    pub subject_ref: String,
    /// Until when the verifying region may rely on a PASS: the earlier of the code's own expiry
    /// and the agreement's maximum age from its refresh.
    pub relied_until: Option<OffsetDateTime>,
    pub judged_at: OffsetDateTime,
    /// The node that read the status from the issuing region, when this node forwarded the read.
    pub forwarded: Option<Forwarded>,
    /// The decision's audit record, once recorded: what an appeal quotes.
    pub audit_seq: Option<u64>,
    /// A synthetic test person: signed by a probe issuer the registry flags synthetic, or
    /// answered as one by the issuing region's service (directly, or in the serving node's
    /// signed statement). Audited as such, and never counted in the national summary.
    pub synthetic: bool,
    pub(crate) person: Option<Person>,
}

impl Judged {
    /// The region's stable handle for the person, used to match change-feed events.
    pub fn region_handle(&self) -> Option<&str> {
        self.person.as_ref()?.region_handle.as_deref()
    }

    /// Surname + `*`, when the code names someone.
    pub fn masked_name(&self) -> Option<String> {
        self.person
            .as_ref()
            .filter(|p| !p.name.is_empty())
            .map(|p| crate::privacy::mask_name(&p.name))
    }
}

impl Recognizer {
    /// Takes the call's registry snapshot and deadline. The caller's deadline (as the deadline
    /// layer read it) bounds the reads (the server's cap already bounds the whole call); without
    /// one, each read gets the node's default.
    pub fn call(
        &self,
        peer: &Arc<Peer>,
        deadline: Option<Deadline>,
        method: &'static str,
        purpose: &str,
        verifying: RegionCode,
    ) -> Result<Call, Error> {
        let mut call = self.call_within(peer, method, purpose, verifying)?;
        call.read_by = deadline.and_then(|d| d.share_by(READ_SHARE));
        Ok(call)
    }

    /// Like [`Recognizer::call`] for a call with no caller deadline (a stream's later rounds).
    pub fn call_within(
        &self,
        peer: &Arc<Peer>,
        method: &'static str,
        purpose: &str,
        verifying: RegionCode,
    ) -> Result<Call, Error> {
        if purpose.len() > MAX_TEXT_BYTES {
            return Err(Error::invalid(
                "purpose",
                format!("at most {MAX_TEXT_BYTES} bytes"),
            ));
        }
        let registry = self
            .registry
            .current()
            .ok_or_else(|| Error::Unavailable("no trust registry is loaded on this node".into()))?;
        Ok(Call {
            peer: Arc::clone(peer),
            method,
            purpose: purpose.to_string(),
            verifying,
            registry,
            read_by: None,
            read_budget: self.default_deadline.mul_f64(READ_SHARE),
            verified: None,
            route_origin: String::new(),
        })
    }

    /// Judges one payload, audits the decision (durably) and counts it.
    pub async fn verify(&self, call: &Call, payload: &str) -> Result<Judged, Error> {
        let mut judged = self.judge_payload(call, payload).await?;
        judged.audit_seq = Some(self.record_at(call, &judged).await?);
        Ok(judged)
    }

    /// Judges one of the calling province's own residents by ID and name (转码互认), audits
    /// and counts it. The ID goes only to the province's own adapter.
    pub async fn verify_resident(
        &self,
        call: &Call,
        id_number: &str,
        name: &str,
    ) -> Result<Judged, Error> {
        let id = ResidentId::parse(id_number)
            .map_err(|e| Error::invalid("workers.resident.id_number", e.to_string()))?;
        if name.trim().is_empty() {
            return Err(Error::invalid(
                "workers.resident.name",
                "the resident's name is required",
            ));
        }
        let home = call.peer.province();
        let adapter = self.adapters.for_region(home).ok_or_else(|| {
            Error::invalid(
                "workers.resident",
                format!("this node hosts no adapter for {home}; send the worker's code instead"),
            )
        })?;
        let now = OffsetDateTime::now_utc();
        let agreement = call.registry.agreement(call.verifying, home, now);
        let ctx = ReadContext::new(
            call.registry.as_ref(),
            &self.status,
            now,
            call.read_deadline(),
        );
        let read = match adapter.read_resident(&id, name, &ctx).await {
            Err(CodeError::Unsupported(why)) => {
                return Err(Error::invalid("workers.resident", why));
            }
            other => other,
        };
        let mut judged = self.judge(call, home, agreement, read, now);
        judged.audit_seq = Some(self.record_at(call, &judged).await?);
        Ok(judged)
    }

    /// Claims and reads the payload under the agreement that applies, and decides. No I/O other
    /// than the adapter's read; nothing is recorded.
    pub async fn judge_payload(&self, call: &Call, payload: &str) -> Result<Judged, Error> {
        // The one place a payload enters: a scanner's CR/LF or a pasted URL form is undone here,
        // for every service that judges codes.
        let payload = &*self.adapters.scanned(payload);
        let adapter = self
            .adapters
            .claim(payload)
            .map_err(|_| Error::PayloadNotClaimed)?;
        let issuing = adapter.region();
        let now = OffsetDateTime::now_utc();
        let agreement = call.registry.agreement(call.verifying, issuing, now);
        // Online questions for regions another node serves go to that node; signatures are still
        // checked here.
        let forwarding = self.forwarding(call);
        let lookup: &dyn huren_adapters::StatusLookup = match &forwarding {
            Some(f) => f,
            None => &self.status,
        };
        let mut ctx = ReadContext::new(call.registry.as_ref(), lookup, now, call.read_deadline());
        // Hybrid formats (Sichuan) ask the issuing region live only when the agreement says so.
        ctx.require_online = agreement.is_some_and(|a| a.online_check_required);
        ctx.verified = call.verified.as_deref();
        let read = adapter.read(payload, &ctx).await;
        let mut judged = self.judge(call, issuing, agreement, read, now);
        judged.forwarded = forwarding.and_then(|f| f.forwarded());
        Ok(judged)
    }

    /// The status lookup for the reads of `call`: forwarded for regions another node serves,
    /// local for the rest; `None` when this node reads every region itself.
    pub(crate) fn forwarding<'a>(&'a self, call: &'a Call) -> Option<ForwardingLookup<'a>> {
        self.federation
            .as_deref()
            .map(|peers| ForwardingLookup::new(&self.status, peers, call, self.receipts.node_id()))
    }

    pub(crate) fn judge(
        &self,
        call: &Call,
        issuing: RegionCode,
        agreement: Option<&Agreement>,
        read: Result<ReadOutcome, CodeError>,
        now: OffsetDateTime,
    ) -> Judged {
        let seen = match read {
            Ok(outcome) => Seen::of(
                outcome,
                |native| {
                    // Hubei's green lapses from the last check-in, other regions' from the refresh.
                    let lapse_from = native.checked_in_at.unwrap_or(native.refreshed_at);
                    call.registry
                        .translate(issuing, &native.native_label, lapse_from, now)
                },
                now,
            ),
            Err(e) => {
                return self.judge_unread(call, issuing, agreement, ReadFailure::from(&e), now);
            }
        };
        let canonical = CanonicalStatus {
            colour: seen.colour,
            issuing_region: issuing,
            refreshed_at: seen.refreshed_at,
            valid_until: seen.valid_until,
            source: seen.source,
            list: self.list_status(issuing, &seen, agreement, now),
        };
        let mut decision = decide(
            &Reading::Status(canonical.clone()),
            call.verifying,
            agreement,
            call.registry.expires(),
            now,
        );
        explain_degraded(&mut decision, issuing, &seen);
        let subject_ref = person_key(issuing, &seen.subject)
            .map(|h| {
                let calling = call.peer.province();
                subject_ref(&self.subject_key, call.verifying, calling, issuing, &h)
            })
            .unwrap_or_else(|| UNIDENTIFIED.to_string());
        let relied_until = (decision.verdict == Verdict::Pass)
            .then(|| {
                let by_age = agreement.map(|a| seen.refreshed_at + a.max_code_age());
                [by_age, seen.valid_until].into_iter().flatten().min()
            })
            .flatten();
        // A probe issuer's signature, or the region's own answer: never the caller's say-so.
        let synthetic = seen.synthetic
            || seen
                .issuer_id
                .as_deref()
                .is_some_and(|id| call.registry.is_synthetic_issuer(issuing, id));
        Judged {
            issuing,
            decision,
            synthetic,
            status: Some(Status {
                canonical,
                issuer: seen.issuer_id,
                native_label: seen.native_label,
            }),
            colour: seen.colour,
            source: seen.source,
            subject_ref,
            relied_until,
            judged_at: now,
            forwarded: None,
            audit_seq: None,
            person: Some(seen.subject),
        }
    }

    /// The decision on a person or code that could not be read, and why.
    pub(crate) fn judge_unread(
        &self,
        call: &Call,
        issuing: RegionCode,
        agreement: Option<&Agreement>,
        failure: ReadFailure,
        now: OffsetDateTime,
    ) -> Judged {
        let decision = decide(
            &Reading::Failed(failure),
            call.verifying,
            agreement,
            call.registry.expires(),
            now,
        );
        // Where the failure was found: in the signature offline, or at the region.
        let source = if signed_format(issuing).is_some() {
            Source::OfflineSigned
        } else {
            Source::Online
        };
        Judged {
            issuing,
            decision,
            status: None,
            colour: Colour::Unknown,
            source,
            subject_ref: UNIDENTIFIED.to_string(),
            relied_until: None,
            judged_at: now,
            forwarded: None,
            audit_seq: None,
            synthetic: false,
            person: None,
        }
    }

    /// What the held status list says of a v2 code, under the agreement's freshness (without an
    /// agreement, any unexpired list); `None` for codes that name no list entry.
    fn list_status(
        &self,
        issuing: RegionCode,
        seen: &Seen,
        agreement: Option<&Agreement>,
        now: OffsetDateTime,
    ) -> Option<ListStatus> {
        let entry = seen.status_ref?;
        let Some(issuer) = seen.issuer_id.as_deref() else {
            return Some(ListStatus::Missing);
        };
        let max_age = agreement.map_or(Duration::MAX, Agreement::max_status_list_age);
        Some(self.status_lists.status(
            issuing.province(),
            issuer,
            entry.list_id,
            entry.index,
            now,
            max_age,
        ))
    }

    /// Appends the decision to the audit log and waits until it is durable, then counts it.
    /// An audit failure fails the call closed: a decision nobody can account for is not given.
    pub async fn record(&self, call: &Call, judged: &Judged) -> Result<(), Error> {
        self.record_at(call, judged).await.map(|_| ())
    }

    /// [`Recognizer::record`], answering the record's sequence in the audit chain: the
    /// reference an appeal of the decision quotes.
    pub async fn record_at(&self, call: &Call, judged: &Judged) -> Result<u64, Error> {
        let entry = Entry {
            time: judged.judged_at,
            caller: call.peer.spiffe_id.clone(),
            method: call.method.to_string(),
            purpose: audited_purpose(call, judged),
            issuing_region: judged.issuing.to_string(),
            subject_ref: judged.subject_ref.clone(),
            verdict: judged.decision.verdict.as_str().to_string(),
            registry_version: call.registry.version(),
        };
        let ack = self.audit.append(entry).await.map_err(|e| {
            metrics::counter!(AUDIT_FAILURES).increment(1);
            tracing::error!(error = %e, "audit append failed; refusing to answer");
            Error::AuditUnavailable(e.to_string())
        })?;
        crate::metric_handles::decisions(judged.decision.verdict, judged.issuing).increment(1);
        if judged.synthetic {
            // A prober's test person: the summary counts people, and this is nobody.
            return Ok(ack.seq);
        }
        self.summary.record_decision(DecisionKey {
            verifying: call.verifying,
            issuing: judged.issuing,
            colour: judged.colour,
            verdict: judged.decision.verdict,
            source: judged.source.into(),
        });
        Ok(ack.seq)
    }
}

/// The caller's purpose, and for a forwarded read which node answered and the digest of the
/// statement it signed, so the record can be matched with that node's own.
fn audited_purpose(call: &Call, judged: &Judged) -> String {
    // Said first, so clipping a long purpose never cuts it off.
    let purpose = match judged.synthetic {
        true => format!("{SYNTHETIC_MARK} {}", call.purpose),
        false => call.purpose.clone(),
    };
    let Some(f) = &judged.forwarded else {
        return clip_audit_text(purpose);
    };
    let said = match &f.statement_digest {
        Some(digest) => format!("statement sha256:{digest}"),
        None => "no statement: the node had no status to give".to_string(),
    };
    clip_audit_text(format!("{purpose} [read by node {}, {said}]", f.node_id))
}

/// How an audit record says its decision was about a synthetic test person, not counted in the
/// national summary.
pub const SYNTHETIC_MARK: &str = "[synthetic test person, not counted]";

/// Cuts free text to what the audit log takes, at a character boundary.
pub(crate) fn clip_audit_text(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// What a read gave the pipeline, whichever way it went: a status in the national vocabulary, or
/// a degraded read with no status (UNKNOWN, never asked of the concept map) and why.
struct Seen {
    colour: Colour,
    source: Source,
    native_label: String,
    issuer_id: Option<String>,
    subject: Person,
    refreshed_at: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
    /// Why the region was not reached; empty for a read.
    why: Vec<String>,
    /// No status service is listed for the region, so none was asked.
    unlisted: bool,
    /// A v2 offline code's entry in its issuer's status lists.
    status_ref: Option<StatusRef>,
    /// The issuing region's answer (or the serving node's signed statement of it) named a
    /// synthetic test person.
    synthetic: bool,
}

impl Seen {
    fn of(
        outcome: ReadOutcome,
        translate: impl FnOnce(&huren_adapters::NativeReading) -> Colour,
        now: OffsetDateTime,
    ) -> Self {
        match outcome {
            ReadOutcome::Read(native) => Self {
                colour: translate(&native),
                source: native.source,
                native_label: native.native_label,
                issuer_id: native.issuer_id,
                subject: native.subject,
                refreshed_at: native.refreshed_at,
                valid_until: native.valid_until,
                why: Vec::new(),
                unlisted: false,
                status_ref: native.status_ref,
                synthetic: native.synthetic,
            },
            ReadOutcome::Degraded(d) => Self {
                colour: Colour::Unknown,
                source: Source::Degraded,
                native_label: String::new(),
                issuer_id: d.issuer_id,
                subject: d.subject,
                refreshed_at: d.signed_at.unwrap_or(now),
                valid_until: d.valid_until,
                why: d.why,
                unlisted: d.unlisted,
                status_ref: None,
                // No answer, so no word from the region that this is nobody: counted.
                synthetic: false,
            },
        }
    }
}

/// Says on the DEGRADED reason why the region was not reached (down, slow, wrong identity...), so
/// the person at the checkpoint knows it is not the holder's fault.
/// A region with no status service listed was never asked: say that, not that it was slow.
fn explain_degraded(decision: &mut Decision, issuing: RegionCode, seen: &Seen) {
    if seen.why.is_empty() && !seen.unlisted {
        return;
    }
    for reason in decision
        .reasons
        .iter_mut()
        .filter(|r| r.code == ReasonCode::Degraded)
    {
        reason.message = if seen.unlisted {
            format!(
                "no status service listed for region {issuing} in the trust registry; its status \
                 is not known"
            )
        } else {
            format!("{} ({})", reason.message, seen.why.join("; "))
        };
    }
}

/// What a person's subject_ref is keyed on, the same whichever way they were read: the ID number
/// for regions whose signed codes carry it, the region's own handle for online-only regions
/// (their codes carry no ID, and their resident lookups return the same handle).
fn person_key(issuing: RegionCode, person: &Person) -> Option<String> {
    match &person.region_handle {
        Some(handle) if signed_format(issuing).is_none() => Some(format!("handle:{handle}")),
        _ => subject_handle(person),
    }
}
