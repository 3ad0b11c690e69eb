//! The entry node's side of a read it does not serve: the status lookup goes to the node the
//! registry lists for the issuing region, and its signed statement comes back as the region's own
//! words, checked against that node's listed key. Offline signatures are still checked here, for
//! every region; only the question to the regional service travels.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use huren_adapters::net::StatusClient;
use huren_adapters::{
    CodeError, Degraded, LookupQuery, NativeReading, Person, ReadOutcome, RegionCode, Source,
    StatusLookup, StatusService,
};
use huren_proto::v1::{ResolveStatusRequest, resolve_status_response};
use time::OffsetDateTime;

use crate::federation::index::NodeIndex;
use crate::federation::peers::{Peers, Routes};
use crate::federation::statement::{self, Asked};
use crate::recognition::Call;
use crate::recognition::wire::from_envelope;

/// Which node answered a forwarded read, and the digest of the statement it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    pub node_id: String,
    /// `None` when the node had no status to give (the region was not reached, or refused the
    /// code).
    pub statement_digest: Option<String>,
}

/// The node the registry lists for `region`, when it is not `this_node` and `this_node` does
/// not serve it; `None` means the read is local.
pub fn serving_node<'i>(
    index: &'i NodeIndex,
    this_node: &str,
    region: RegionCode,
) -> Option<&'i str> {
    if !index.is_listed(this_node) || index.serves(this_node, region.as_str()) {
        return None;
    }
    index
        .serving(region.as_str())
        .iter()
        .find(|id| id.as_str() != this_node)
        .map(String::as_str)
}

/// A status lookup for one read of one call: local for the regions this node serves, forwarded
/// for the others. Remembers who answered, for the audit and the caller's `forwarded_by`.
pub struct ForwardingLookup<'a> {
    pub local: &'a StatusClient,
    pub peers: &'a Peers,
    pub call: &'a Call,
    pub this_node: &'a str,
    answered: Mutex<Option<Forwarded>>,
}

impl<'a> ForwardingLookup<'a> {
    pub fn new(
        local: &'a StatusClient,
        peers: &'a Peers,
        call: &'a Call,
        this_node: &'a str,
    ) -> Self {
        Self {
            local,
            peers,
            call,
            this_node,
            answered: Mutex::new(None),
        }
    }

    /// Who answered, if the read was forwarded.
    pub fn forwarded(&self) -> Option<Forwarded> {
        self.answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn forward(
        &self,
        routes: &Routes,
        node_id: &str,
        region: RegionCode,
        query: &LookupQuery,
        deadline: Instant,
    ) -> Result<ReadOutcome, CodeError> {
        let mut request = ResolveStatusRequest {
            issuing_region: region.to_string(),
            verifying_region: self.call.verifying.to_string(),
            caller_spiffe_id: self.call.peer.spiffe_id.clone(),
            caller_method: self.call.method.to_string(),
            purpose: self.call.purpose.clone(),
            request_id: fresh_request_id(),
            origin_region: self.call.route_origin.clone(),
            ..Default::default()
        };
        // Who the code names without the region: its code id, or nobody yet for a resident.
        let code_id = match query {
            LookupQuery::CodeId { code_id, city } => {
                request.code_id = code_id.clone();
                request.city = city.clone().unwrap_or_default();
                code_id.as_str()
            }
            LookupQuery::Resident { id, name } => {
                request.resident_id_number = id.expose().to_string();
                request.resident_name = name.clone();
                ""
            }
        };
        // Computed before the request moves: the statement must answer exactly this.
        let sent = statement::request_digest(&request);
        let unreached = |why: String| degraded(region, code_id, vec![why], false);
        let answer = match self.peers.resolve(routes, node_id, request, deadline).await {
            Ok(answer) => answer,
            Err(e) => return Ok(unreached(e.to_string())),
        };
        let remember = |digest: Option<String>| {
            *self.answered.lock().unwrap_or_else(PoisonError::into_inner) = Some(Forwarded {
                node_id: node_id.to_string(),
                statement_digest: digest,
            });
        };
        Ok(match answer.outcome {
            Some(resolve_status_response::Outcome::Refused(r)) => {
                remember(None);
                return Err(crate::federation::refusal::from_wire(&r, region, node_id));
            }
            Some(resolve_status_response::Outcome::Statement(env)) => {
                let asked = Asked {
                    node_id,
                    region: region.as_str(),
                    caller: &self.call.peer.spiffe_id,
                    verifying_region: self.call.verifying.as_str(),
                    request: &sent,
                };
                let now = OffsetDateTime::now_utc();
                let env = from_envelope(&env);
                let group = self.peers.statement_group();
                match statement::verify_grouped(&env, routes.key(node_id), &asked, now, group).await
                {
                    Ok(checked) => {
                        remember(Some(checked.digest));
                        let s = checked.statement;
                        ReadOutcome::Read(NativeReading {
                            region,
                            issuer_id: s.issuer_id,
                            native_label: s.native_label,
                            subject: Person {
                                id: None,
                                name: s.masked_name,
                                region_handle: Some(s.subject),
                            },
                            refreshed_at: s.refreshed_at,
                            valid_until: s.valid_until,
                            // An online reading: the serving node read the status itself, so no
                            // status list stands behind it.
                            status_ref: None,
                            source: if s.cached {
                                Source::Cached
                            } else {
                                Source::Online
                            },
                            checked_in_at: s.checked_in_at,
                            notes: vec![format!("read by node {node_id}")],
                            // Trusted because node_id's key signed it, for this very ask.
                            synthetic: s.synthetic,
                        })
                    }
                    Err(e) => {
                        tracing::warn!(node = node_id, error = %e, "status statement refused");
                        unreached(format!("node {node_id}'s statement is refused: {e}"))
                    }
                }
            }
            Some(resolve_status_response::Outcome::Degraded(d)) => {
                remember(None);
                let mut why: Vec<String> = d.why;
                why.push(format!("as node {node_id} reported"));
                degraded(region, code_id, why, d.unlisted)
            }
            None => unreached(format!("node {node_id} sent an empty answer")),
        })
    }
}

/// 128 random bits in hex: no two forwarded calls share a request id, so no statement answers
/// two calls.
fn fresh_request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A forwarded read with no status: who the code names (its code id) and why.
fn degraded(region: RegionCode, code_id: &str, why: Vec<String>, unlisted: bool) -> ReadOutcome {
    ReadOutcome::Degraded(Degraded {
        region,
        subject: Person {
            id: None,
            name: String::new(),
            region_handle: (!code_id.is_empty()).then(|| code_id.to_string()),
        },
        issuer_id: None,
        signed_at: None,
        valid_until: None,
        why,
        unlisted,
    })
}

#[tonic::async_trait]
impl StatusLookup for ForwardingLookup<'_> {
    async fn lookup(
        &self,
        region: RegionCode,
        query: &LookupQuery,
        service: Option<&StatusService>,
        ttl: Duration,
        deadline: Instant,
    ) -> Result<ReadOutcome, CodeError> {
        let routes = self.peers.routes(&self.call.registry);
        let Some(node_id) = serving_node(&routes.index, self.this_node, region) else {
            return self
                .local
                .lookup(region, query, service, ttl, deadline)
                .await;
        };
        // A resident's ID number goes only to the node serving the person's own province.
        self.forward(&routes, node_id, region, query, deadline)
            .await
    }
}
