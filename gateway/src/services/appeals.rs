//! `huren.v1.AppealsService` (FileAppeal, GetAppeal, ListAppeals, AnswerAppeal) and its node to
//! node relay, `huren.v1.AppealsRelayService`: each call is served where the issuing region's
//! review queue lives, this node or the one the registry lists for the region.

use std::sync::Arc;
use std::time::Instant;

use huren_adapters::RegionCode;
use huren_proto::v1::appeals_relay_service_server::AppealsRelayService;
use huren_proto::v1::appeals_service_server::AppealsService;
use huren_proto::v1::{
    AnswerAppealRequest, AnswerAppealResponse, AppealOutcome, FileAppealRequest,
    FileAppealResponse, GetAppealRequest, GetAppealResponse, ListAppealsRequest,
    ListAppealsResponse, RelayAppealRequest, RelayAppealResponse, RelayedFiling,
    relay_appeal_request::Call,
};
use huren_registry::Registry;
use tonic::{Request, Response, Status};

use crate::appeals::contact::{MAX_CONTACT, contact_hash};
use crate::appeals::filing::{self, MAX_PAYLOAD};
use crate::appeals::queue::Answer;
use crate::appeals::record::{AppealState, colour_from_wire, province_of};
use crate::appeals::{AppealError, AppealRecord, Appeals, FILE_APPEAL, MAX_TEXT, decision, relay};
use crate::authz::{self, Ask};
use crate::error::Error;
use crate::federation::forward::serving_node;
use crate::federation::relayed::Relayed;
use crate::identity::Peer;
use crate::limits::Deadline;
use crate::lookup::{Buckets, Rate};
use crate::recognition::pipeline::UNIDENTIFIED;
use crate::recognition::wire;
use crate::services::start;

/// What the appeals services need: the node's [`Appeals`] (none: UNIMPLEMENTED).
#[derive(Debug, Default)]
pub struct AppealsState {
    pub appeals: Option<Arc<Appeals>>,
}

impl AppealsState {
    pub fn new(appeals: Arc<Appeals>) -> Self {
        Self {
            appeals: Some(appeals),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppealsDesk {
    pub state: Arc<AppealsState>,
    /// Appeals filed per caller (`[limits] appeals_per_hour`, `appeal_burst`): taken at the
    /// node the caller calls, and again for a relayed filing at the node holding the queue.
    filings: Arc<Buckets>,
}

impl AppealsDesk {
    pub fn new(state: Arc<AppealsState>, rate: Rate) -> Self {
        Self {
            state,
            filings: Arc::new(Buckets::new(rate)),
        }
    }

    /// The start of a call that judges nothing: the node's appeals, the caller, the registry.
    fn begin<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
    ) -> Result<(&Arc<Appeals>, Peer, Arc<Registry>), Error> {
        let appeals = self.appeals(method)?;
        let peer = authz::peer(request)?.clone();
        Ok((appeals, peer, registry_of(appeals)?))
    }

    fn appeals(&self, method: &'static str) -> Result<&Arc<Appeals>, Error> {
        self.state.appeals.as_ref().ok_or(Error::Unimplemented {
            method,
            capability: "a node with an audit log, a registry and a state directory (huren::node)",
        })
    }
}

/// The call's deadline, less a share for the audit and the reply.
fn deadline_of<T>(request: &Request<T>, appeals: &Appeals) -> Instant {
    Deadline::of(request)
        .and_then(|d| d.share_by(0.8))
        .unwrap_or_else(|| Instant::now() + appeals.recognizer.default_deadline)
}

fn registry_of(appeals: &Appeals) -> Result<Arc<Registry>, Error> {
    appeals
        .recognizer
        .registry
        .current()
        .ok_or_else(|| Error::Unavailable("no trust registry is loaded on this node".into()))
}

fn bounded(field: &'static str, text: &str, max: usize) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if text.len() > max {
        return Err(Error::invalid(field, format!("at most {max} bytes")));
    }
    Ok(())
}

/// The issuing province an appeal id names, or NOT_FOUND.
fn region_of(appeal_id: &str) -> Result<RegionCode, Error> {
    province_of(appeal_id).ok_or_else(|| AppealError::NoSuchAppeal(appeal_id.to_string()).into())
}

/// The node serving `region`, when it is not this one.
fn elsewhere(appeals: &Appeals, registry: &Registry, region: RegionCode) -> Option<String> {
    let index = appeals.index(registry);
    serving_node(&index, appeals.node_id(), region).map(str::to_string)
}

/// Relays `call` for `caller` to node `node`, which serves the appeal's region.
async fn relay_to(
    appeals: &Appeals,
    registry: &Registry,
    node: &str,
    caller: &Peer,
    call: Call,
    deadline: Instant,
) -> Result<RelayAppealResponse, Error> {
    let relayed = RelayAppealRequest {
        caller_spiffe_id: caller.spiffe_id.clone(),
        call: Some(call),
    };
    relay::relay(forward_peers(appeals)?, registry, node, relayed, deadline).await
}

/// [`relay_to`] for a call answered with one appeal; this node's copy follows the answer.
async fn relay_one(
    appeals: &Appeals,
    registry: &Registry,
    node: &str,
    caller: &Peer,
    call: Call,
    deadline: Instant,
) -> Result<huren_proto::v1::Appeal, Error> {
    let appeal = the_appeal(relay_to(appeals, registry, node, caller, call, deadline).await?)?;
    follow_copy(appeals, &appeal)?;
    Ok(appeal)
}

/// The one appeal a relayed call answered with.
fn the_appeal(
    answer: huren_proto::v1::RelayAppealResponse,
) -> Result<huren_proto::v1::Appeal, Error> {
    answer
        .appeal
        .ok_or_else(|| Error::Unavailable("the serving node answered without the appeal".into()))
}

/// Brings this node's copy of an appeal up to the serving node's answer.
fn follow_copy(appeals: &Appeals, answer: &huren_proto::v1::Appeal) -> Result<(), Error> {
    if let Some(mut copy) = appeals.store.get(&answer.appeal_id) {
        copy.follow(answer);
        appeals.keep(copy)?;
    }
    Ok(())
}

#[tonic::async_trait]
impl AppealsService for AppealsDesk {
    async fn file_appeal(
        &self,
        request: Request<FileAppealRequest>,
    ) -> Result<Response<FileAppealResponse>, Status> {
        let req = request.get_ref();
        let ask = Ask::Verify {
            verifying_region: &req.verifying_region,
        };
        let appeals = self.appeals("FileAppeal")?;
        let start = start::begin(Some(&appeals.recognizer), &request, FILE_APPEAL, ask)?;
        self.filings.admit(&start.peer.spiffe_id, "appeals")?;
        bounded("reason", &req.reason, MAX_TEXT)?;
        bounded("contact", &req.contact, MAX_CONTACT)?;
        bounded("payload", &req.payload, MAX_PAYLOAD)?;
        let mut call = start.call("appeal")?;
        let recognizer = start.recognizer;
        let dir = recognizer.audit.dir().to_path_buf();
        let seq = req.decision_seq;
        let found = tokio::task::spawn_blocking(move || decision::find(&dir, seq))
            .await
            .map_err(|e| Error::from(AppealError::AuditUnreadable(e.to_string())))?
            .map_err(Error::from)?;
        let decided =
            decision::appealable(seq, found, &start.peer.spiffe_id).map_err(Error::from)?;
        // The code shown must be the one decided: same region, same person by this caller's key.
        // It is read as the decision read it, so a node serving the region answers the same.
        call.method = decided.method;
        let judged = recognizer.judge_payload(&call, &req.payload).await?;
        let same = judged.issuing.to_string() == decided.entry.issuing_region
            && judged.subject_ref == decided.entry.subject_ref
            && judged.subject_ref != UNIDENTIFIED;
        let person = match (&judged.person, same) {
            (Some(person), true) => person.clone(),
            _ => return Err(Error::from(AppealError::NotTheDecidedCode(seq)).into()),
        };
        let issuing = judged.issuing.province();
        let filing = RelayedFiling {
            issuing_region: issuing.to_string(),
            verifying_region: call.verifying.to_string(),
            decision_seq: seq,
            verdict: wire::verdict(decided.verdict) as i32,
            masked_name: judged.masked_name().unwrap_or_default(),
            reason: req.reason.clone(),
            contact_hash: contact_hash(&recognizer.subject_key, issuing, &req.contact),
            payload: req.payload.clone(),
            subject_ref: judged.subject_ref.clone(),
        };
        let deadline = deadline_of(&request, appeals);
        let record = match elsewhere(appeals, &call.registry, issuing) {
            None => {
                appeals
                    .file_here(
                        &start.peer,
                        &filing,
                        appeals.node_id(),
                        &person,
                        &call.registry,
                        deadline,
                    )
                    .await?
            }
            Some(node) => {
                let relayed = Call::File(filing.clone());
                let answer = relay_to(
                    appeals,
                    &call.registry,
                    &node,
                    &start.peer,
                    relayed,
                    deadline,
                )
                .await?;
                let answered = the_appeal(answer)?;
                // The serving node names the appeal; this node names the filer. An id of another
                // province's queue (or no id at all) is refused before it becomes a file name.
                if province_of(&answered.appeal_id) != Some(issuing) {
                    return Err(Error::Unavailable(format!(
                        "node {node} answered with appeal id {:?}, not one of {issuing}'s queue",
                        answered.appeal_id
                    ))
                    .into());
                }
                let mut copy = AppealRecord::copy_of(&answered, &filing);
                copy.filed_by = start.peer.spiffe_id.clone();
                appeals.keep(copy.clone())?;
                appeals
                    .audit(
                        &start.peer,
                        FILE_APPEAL,
                        &copy,
                        crate::appeals::queue::FILED,
                        &call.registry,
                    )
                    .await?;
                copy
            }
        };
        Ok(Response::new(FileAppealResponse {
            appeal: Some(record.to_wire()),
        }))
    }

    async fn get_appeal(
        &self,
        request: Request<GetAppealRequest>,
    ) -> Result<Response<GetAppealResponse>, Status> {
        let (appeals, peer, registry) = self.begin(&request, "GetAppeal")?;
        let id = &request.get_ref().appeal_id;
        let region = region_of(id)?;
        let appeal = match elsewhere(appeals, &registry, region) {
            None => appeals.get_here(&peer, id, &registry).await?.to_wire(),
            Some(node) => {
                let call = Call::Get(request.get_ref().clone());
                let deadline = deadline_of(&request, appeals);
                relay_one(appeals, &registry, &node, &peer, call, deadline).await?
            }
        };
        Ok(Response::new(GetAppealResponse {
            appeal: Some(appeal),
        }))
    }

    async fn list_appeals(
        &self,
        request: Request<ListAppealsRequest>,
    ) -> Result<Response<ListAppealsResponse>, Status> {
        let (appeals, peer, registry) = self.begin(&request, "ListAppeals")?;
        let req = request.get_ref();
        let state = AppealState::from_wire(req.state);
        if req.issuing_region.is_empty() {
            let mine = appeals.filed_by(&peer, state);
            appeals
                .audit_listing(&peer, None, mine.len(), &registry)
                .await?;
            return Ok(Response::new(ListAppealsResponse {
                appeals: mine.iter().map(AppealRecord::to_wire).collect(),
            }));
        }
        let region = RegionCode::parse(&req.issuing_region)
            .map_err(|e| Error::invalid("issuing_region", e.to_string()))?
            .province();
        let listed = match elsewhere(appeals, &registry, region) {
            None => appeals
                .queue_here(&peer, region, state, &registry)
                .await?
                .iter()
                .map(AppealRecord::to_wire)
                .collect(),
            Some(node) => {
                check_own_queue(&peer, region)?;
                let deadline = deadline_of(&request, appeals);
                let call = Call::List(req.clone());
                relay_to(appeals, &registry, &node, &peer, call, deadline)
                    .await?
                    .appeals
            }
        };
        Ok(Response::new(ListAppealsResponse { appeals: listed }))
    }

    async fn answer_appeal(
        &self,
        request: Request<AnswerAppealRequest>,
    ) -> Result<Response<AnswerAppealResponse>, Status> {
        let (appeals, peer, registry) = self.begin(&request, "AnswerAppeal")?;
        let req = request.get_ref();
        let region = region_of(&req.appeal_id)?;
        let answer = answer_of(req)?;
        let deadline = deadline_of(&request, appeals);
        let appeal = match elsewhere(appeals, &registry, region) {
            None => appeals
                .answer_here(&peer, &req.appeal_id, answer, &registry, deadline)
                .await?
                .to_wire(),
            Some(node) => {
                let call = Call::Answer(req.clone());
                relay_one(appeals, &registry, &node, &peer, call, deadline).await?
            }
        };
        Ok(Response::new(AnswerAppealResponse {
            appeal: Some(appeal),
        }))
    }
}

/// Refused before relaying: only a province lists a queue, and only its own.
fn check_own_queue(peer: &Peer, region: RegionCode) -> Result<(), Error> {
    if peer.role == crate::identity::Role::Province && peer.province() == region {
        return Ok(());
    }
    Err(AppealError::NotYourQueue(region.to_string()).into())
}

/// The answer a request gives: UPHELD, or CORRECTED with the colour corrected to.
fn answer_of(req: &AnswerAppealRequest) -> Result<Answer, Error> {
    if req.note.len() > MAX_TEXT {
        return Err(Error::invalid("note", format!("at most {MAX_TEXT} bytes")));
    }
    let outcome = AppealOutcome::try_from(req.outcome).unwrap_or(AppealOutcome::Unspecified);
    let colour = huren_proto::v1::Colour::try_from(req.corrected_colour)
        .ok()
        .and_then(colour_from_wire);
    let (state, colour) = match (outcome, colour) {
        (AppealOutcome::Upheld, _) => (AppealState::Upheld, None),
        (AppealOutcome::Corrected, Some(c)) => (AppealState::Corrected, Some(c)),
        (AppealOutcome::Corrected, None) => {
            return Err(Error::invalid(
                "corrected_colour",
                "a correction names the status the person has now: GREEN, YELLOW, RED or PENDING",
            ));
        }
        (AppealOutcome::Unspecified, _) => {
            return Err(Error::invalid("outcome", "UPHELD or CORRECTED"));
        }
    };
    Ok(Answer {
        state,
        colour,
        note: req.note.clone(),
    })
}

fn forward_peers(appeals: &Appeals) -> Result<&crate::federation::peers::Peers, Error> {
    appeals
        .recognizer
        .federation
        .as_deref()
        .ok_or_else(|| Error::Unavailable("this node does not reach other nodes".into()))
}

#[tonic::async_trait]
impl AppealsRelayService for AppealsDesk {
    async fn relay_appeal(
        &self,
        request: Request<RelayAppealRequest>,
    ) -> Result<Response<RelayAppealResponse>, Status> {
        let (appeals, node, registry) = self.begin(&request, "RelayAppeal")?;
        let req = request.get_ref();
        let index = appeals.index(&registry);
        let Relayed { node_id, caller } = relay::authorise(&index, &node, req)?;
        let deadline = deadline_of(&request, appeals);
        let serves = |region: RegionCode| -> Result<(), Error> {
            match serving_node(&index, appeals.node_id(), region) {
                None => Ok(()),
                Some(_) => Err(Error::invalid(
                    "appeal_id",
                    format!("node {} does not serve region {region}", appeals.node_id()),
                )),
            }
        };
        let mut response = RelayAppealResponse::default();
        match &req.call {
            Some(Call::File(filing)) => {
                let issuing = RegionCode::parse(&filing.issuing_region)
                    .map_err(|e| Error::invalid("issuing_region", e.to_string()))?;
                serves(issuing)?;
                let ask = Ask::Verify {
                    verifying_region: &filing.verifying_region,
                };
                let verifying = authz::verifying_region(&caller, ask)?;
                let call = appeals.recognizer.call_within(
                    &Arc::new(caller.clone()),
                    FILE_APPEAL,
                    "appeal",
                    verifying,
                )?;
                // Each caller's filings are counted here too, whichever node relays them.
                self.filings.admit(&caller.spiffe_id, "appeals")?;
                // The region's service finds the person from the code itself, read here again.
                let judged = appeals
                    .recognizer
                    .judge_payload(&call, &filing.payload)
                    .await?;
                let (person, kept) = filing::checked(filing, &judged, issuing)?;
                let record = appeals
                    .file_here(&caller, &kept, &node_id, &person, &registry, deadline)
                    .await?;
                response.appeal = Some(record.to_wire());
            }
            Some(Call::Get(get)) => {
                serves(region_of(&get.appeal_id)?)?;
                let record = appeals.get_here(&caller, &get.appeal_id, &registry).await?;
                response.appeal = Some(record.to_wire());
            }
            Some(Call::List(list)) => {
                let region = RegionCode::parse(&list.issuing_region)
                    .map_err(|e| Error::invalid("issuing_region", e.to_string()))?
                    .province();
                serves(region)?;
                let state = AppealState::from_wire(list.state);
                let listed = appeals
                    .queue_here(&caller, region, state, &registry)
                    .await?;
                response.appeals = listed.iter().map(AppealRecord::to_wire).collect();
            }
            Some(Call::Answer(answer)) => {
                serves(region_of(&answer.appeal_id)?)?;
                let given = answer_of(answer)?;
                let record = appeals
                    .answer_here(&caller, &answer.appeal_id, given, &registry, deadline)
                    .await?;
                response.appeal = Some(record.to_wire());
            }
            None => return Err(Error::invalid("call", "empty").into()),
        }
        tracing::debug!(node = %node_id, caller = %caller, "relayed appeals call");
        Ok(Response::new(response))
    }
}
