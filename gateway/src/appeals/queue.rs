//! The node's appeals: filing into the review queue of a region this node serves, reading,
//! listing and answering there, each step audited; and the filing node's own copies.

use std::sync::Arc;
use std::time::Instant;

use huren_adapters::RegionCode;
use huren_adapters::net::wire::AppealAnswer;
use huren_audit::Entry;
use huren_proto::v1::RelayedFiling;
use huren_registry::Registry;
use time::OffsetDateTime;

use crate::appeals::access;
use crate::appeals::error::AppealError;
use crate::appeals::record::{AppealRecord, AppealState, new_id};
use crate::appeals::region::{self, Queued};
use crate::appeals::store::AppealStore;
use crate::error::Error;
use crate::federation::index::{IndexCache, NodeIndex};
use crate::identity::Peer;
use crate::recognition::Recognizer;
use crate::recognition::pipeline::clip_audit_text;

/// The audit verdicts of appeal steps.
pub const FILED: &str = "APPEAL_FILED";
pub const READ: &str = "APPEAL_READ";
pub const LISTED: &str = "APPEAL_LISTED";
pub const UPHELD: &str = "APPEAL_UPHELD";
pub const CORRECTED: &str = "APPEAL_CORRECTED";

/// Everything the appeals service works with: the node (audit, registry, status client, subject
/// key) and its appeal index.
#[derive(Debug)]
pub struct Appeals {
    pub recognizer: Arc<Recognizer>,
    pub store: AppealStore,
    /// Which node serves which region, for a node without federation peers (whose routes hold
    /// it otherwise): built once per registry version, not per call.
    index: IndexCache,
    /// Held from the look for an open appeal of the same decision until the new one is kept, so
    /// two filings of one decision at once cannot both open (appeals are rare: one at a time).
    filing: tokio::sync::Mutex<()>,
}

/// An answer as the issuing province gave it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub state: AppealState,
    pub colour: Option<huren_adapters::Colour>,
    pub note: String,
}

impl Appeals {
    pub fn new(recognizer: Arc<Recognizer>, store: AppealStore) -> Self {
        Self {
            recognizer,
            store,
            index: IndexCache::default(),
            filing: tokio::sync::Mutex::new(()),
        }
    }

    /// The node index of `registry`'s version: the federation routes' own, or this node's.
    pub fn index(&self, registry: &Registry) -> Arc<NodeIndex> {
        self.index
            .on_node(self.recognizer.federation.as_deref(), registry)
    }

    pub fn node_id(&self) -> &str {
        self.recognizer.receipts.node_id()
    }

    /// Puts a checked filing into the queue of `issuing` (a region this node serves): at the
    /// region's service when it runs one, and in this node's index.
    pub async fn file_here(
        &self,
        caller: &Peer,
        filing: &RelayedFiling,
        decision_node: &str,
        person: &huren_adapters::Person,
        registry: &Registry,
        deadline: Instant,
    ) -> Result<AppealRecord, Error> {
        let issuing = RegionCode::parse(&filing.issuing_region)
            .map_err(|e| Error::invalid("issuing_region", e.to_string()))?;
        let _one_at_a_time = self.filing.lock().await;
        // One open appeal per decision: a second would ask the province the same question
        // twice. Once it is answered, a new one may be filed (new facts, a second look).
        let open = self.store.list(|a| {
            a.state == AppealState::Open
                && a.decision_node == decision_node
                && a.decision_seq == filing.decision_seq
                && a.issuing_region == filing.issuing_region
        });
        if let Some(open) = open.first() {
            return Err(AppealError::AlreadyOpen {
                appeal_id: open.appeal_id.clone(),
                seq: filing.decision_seq,
            }
            .into());
        }
        let appeal_id = new_id(issuing);
        let queued = region::file(
            &self.recognizer.status,
            registry,
            issuing,
            &appeal_id,
            person,
            &filing.reason,
            deadline,
        )
        .await
        .map_err(|e| {
            Error::Unavailable(format!(
                "region {issuing}'s review queue cannot take the appeal: {e}"
            ))
        })?;
        let mut record = AppealRecord::opened(
            appeal_id,
            filing,
            &caller.spiffe_id,
            decision_node,
            OffsetDateTime::now_utc(),
        );
        if queued == Queued::NoService {
            record.correction = format!(
                "region {issuing} runs no status service: the appeal waits in node {}'s queue",
                self.node_id()
            );
        }
        self.keep(record.clone())?;
        self.audit(caller, super::FILE_APPEAL, &record, FILED, registry)
            .await?;
        Ok(record)
    }

    /// Keeps a copy of an appeal filed at another node's queue, for the filer's list here.
    pub fn keep(&self, record: AppealRecord) -> Result<(), Error> {
        self.store
            .put(record)
            .map_err(|e| AppealError::Store(e.to_string()).into())
    }

    /// One appeal of this node's queue, for the filer or the issuing province.
    pub async fn get_here(
        &self,
        caller: &Peer,
        appeal_id: &str,
        registry: &Registry,
    ) -> Result<AppealRecord, Error> {
        let record = self
            .store
            .get(appeal_id)
            .ok_or_else(|| AppealError::NoSuchAppeal(appeal_id.to_string()))?;
        access::may_read(caller, &record)?;
        self.audit(caller, super::GET_APPEAL, &record, READ, registry)
            .await?;
        Ok(record)
    }

    /// The review queue of `region` (a province this node serves), for that province.
    pub async fn queue_here(
        &self,
        caller: &Peer,
        region: RegionCode,
        state: Option<AppealState>,
        registry: &Registry,
    ) -> Result<Vec<AppealRecord>, Error> {
        if caller.role != crate::identity::Role::Province || caller.province() != region {
            return Err(AppealError::NotYourQueue(region.to_string()).into());
        }
        let listed = self
            .store
            .list(|a| a.issuing_province() == Some(region) && state.is_none_or(|s| a.state == s));
        self.audit_listing(caller, Some(region), listed.len(), registry)
            .await?;
        Ok(listed)
    }

    /// Audits a listing: of `region`'s queue, or (`None`) of the caller's own appeals. Names no
    /// appeal and no person, only how many.
    pub async fn audit_listing(
        &self,
        caller: &Peer,
        region: Option<RegionCode>,
        count: usize,
        registry: &Registry,
    ) -> Result<(), Error> {
        let (issuing, purpose) = match region {
            Some(r) => (r, format!("review queue of {r}: {count} appeals")),
            None => (
                caller.province(),
                format!("appeals filed by the caller: {count}"),
            ),
        };
        let entry = Entry {
            time: OffsetDateTime::now_utc(),
            caller: caller.spiffe_id.clone(),
            method: super::LIST_APPEALS.to_string(),
            purpose,
            issuing_region: issuing.to_string(),
            subject_ref: "appeals".to_string(),
            verdict: LISTED.to_string(),
            registry_version: registry.version(),
        };
        self.append(entry).await
    }

    /// The issuing province's answer: kept, pushed to the region's service, audited.
    pub async fn answer_here(
        &self,
        caller: &Peer,
        appeal_id: &str,
        answer: Answer,
        registry: &Registry,
        deadline: Instant,
    ) -> Result<AppealRecord, Error> {
        let mut record = self
            .store
            .get(appeal_id)
            .ok_or_else(|| AppealError::NoSuchAppeal(appeal_id.to_string()))?;
        access::may_answer(caller, &record)?;
        if record.state != AppealState::Open {
            return Err(AppealError::AlreadyAnswered(appeal_id.to_string()).into());
        }
        let issuing = RegionCode::parse(&record.issuing_region)
            .map_err(|e| Error::invalid("appeal_id", e.to_string()))?;
        let pushed = AppealAnswer {
            appeal_id: appeal_id.to_string(),
            outcome: answer.state.as_str().to_string(),
            colour: answer.colour.map(|c| c.as_str().to_string()),
        };
        let correction = region::answer(
            &self.recognizer.status,
            registry,
            issuing,
            &pushed,
            deadline,
        )
        .await
        .map_err(|e| {
            Error::Unavailable(format!(
                "region {issuing}'s service cannot take the answer: {e}"
            ))
        })?;
        record.state = answer.state;
        record.answered_at = Some(OffsetDateTime::now_utc());
        record.answered_by = caller.spiffe_id.clone();
        record.corrected_colour = answer.colour.map(|c| c.as_str().to_string());
        record.note = answer.note;
        record.correction = correction;
        self.keep(record.clone())?;
        let verdict = match answer.state {
            AppealState::Corrected => CORRECTED,
            _ => UPHELD,
        };
        self.audit(caller, super::ANSWER_APPEAL, &record, verdict, registry)
            .await?;
        Ok(record)
    }

    /// Appeals filed by `caller` that this node holds (its own queue's and copies of others').
    pub fn filed_by(&self, caller: &Peer, state: Option<AppealState>) -> Vec<AppealRecord> {
        self.store
            .list(|a| a.filed_by == caller.spiffe_id && state.is_none_or(|s| a.state == s))
    }

    /// Open appeals of regions this node serves filed longer ago than `age`, by issuing region.
    pub fn open_longer_than(
        &self,
        registry: &Registry,
        age: time::Duration,
        now: OffsetDateTime,
    ) -> std::collections::BTreeMap<String, u64> {
        let served = registry.nodes().get(self.node_id()).cloned();
        let mut counts = std::collections::BTreeMap::new();
        for a in self.store.list(|a| a.state == AppealState::Open) {
            let ours = served.as_ref().is_none_or(|n| n.serves(&a.issuing_region));
            if ours && now - a.filed_at > age {
                *counts.entry(a.issuing_region.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Appends one step of `record` and waits until durable.
    pub async fn audit(
        &self,
        caller: &Peer,
        method: &str,
        record: &AppealRecord,
        verdict: &str,
        registry: &Registry,
    ) -> Result<(), Error> {
        let entry = Entry {
            time: OffsetDateTime::now_utc(),
            caller: caller.spiffe_id.clone(),
            method: method.to_string(),
            purpose: clip_audit_text(format!(
                "appeal {} of decision {}#{} ({})",
                record.appeal_id, record.decision_node, record.decision_seq, record.verdict
            )),
            issuing_region: record.issuing_region.clone(),
            subject_ref: if record.subject_ref.is_empty() {
                record.appeal_id.clone()
            } else {
                record.subject_ref.clone()
            },
            verdict: verdict.to_string(),
            registry_version: registry.version(),
        };
        self.append(entry).await
    }

    async fn append(&self, entry: Entry) -> Result<(), Error> {
        self.recognizer
            .audit
            .append(entry)
            .await
            .map(|_| ())
            .map_err(|e| Error::AuditUnavailable(e.to_string()))
    }
}
