//! The serving node's side of a forwarded read: the original caller authorised with this node's
//! own role × method table, the read done with its pinned status client, the read audited as
//! forwarded, and the answer signed as a status statement.

use std::time::Instant;

use huren_adapters::{
    LookupQuery, ReadOutcome, RegionCode, ResidentId, Source, StatusLookup, TrustView,
};
use huren_audit::Entry;
use huren_proto::v1::{
    DegradedRead, ResolveStatusRequest, ResolveStatusResponse, resolve_status_response,
};
use huren_registry::Registry;
use time::OffsetDateTime;

use crate::authz::{self, Ask};
use crate::error::Error;
use crate::federation::index::NodeIndex;
use crate::federation::relayed::{Relayed, relayed_caller};
use crate::federation::statement::{self, StatusStatement};
use crate::identity::Peer;
use crate::privacy::{mask_name, subject_handle, subject_ref};
use crate::recognition::Recognizer;
use crate::recognition::pipeline::{UNIDENTIFIED, clip_audit_text};

/// The method this node audits forwarded reads under.
pub const RESOLVE_STATUS: &str = "/huren.v1.FederationService/ResolveStatus";

/// The audit verdicts of a forwarded read: a read gives no verdict here, the entry node judges.
const READ: &str = "STATUS_READ";
const DEGRADED: &str = "STATUS_DEGRADED";
const REFUSED: &str = "STATUS_REFUSED";

/// The longest `request_id` read: a random value, not a document.
const MAX_REQUEST_ID: usize = 64;

/// Who forwarded, and for whom, as checked here.
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// The calling node's id in the registry.
    pub node_id: String,
    /// The original caller, as this node's table authorised it.
    pub caller: Peer,
    pub verifying: RegionCode,
    pub issuing: RegionCode,
}

/// Checks a forwarded ask before any read: `node` is a listed node (the admission layer already
/// held its certificate to the registry), `issuing` is a region this node serves, and the original
/// caller may call the method it called, under the rules it asked for, by this node's own table —
/// so a caller cannot reach rules through forwarding that its own node would refuse it.
pub fn authorise(
    registry: &Registry,
    this_node: &str,
    node: &Peer,
    req: &ResolveStatusRequest,
) -> Result<Forwarding, Error> {
    authorise_indexed(&NodeIndex::build(registry), this_node, node, req)
}

/// [`authorise`] with the registry's node lookups already indexed (once per registry version).
pub fn authorise_indexed(
    index: &NodeIndex,
    this_node: &str,
    node: &Peer,
    req: &ResolveStatusRequest,
) -> Result<Forwarding, Error> {
    let Relayed { node_id, caller } =
        relayed_caller(index, node, &req.caller_spiffe_id, &req.caller_method)?;
    let issuing =
        RegionCode::parse(&req.issuing_region).map_err(|e| Error::invalid("issuing_region", e))?;
    if !index.serves(this_node, issuing.as_str()) {
        return Err(Error::invalid(
            "issuing_region",
            format!("node {this_node} does not serve region {issuing}"),
        ));
    }
    // A manifest's route origin travels with the read, so the carrier's own-province rule is
    // held here as at the entry node: a node cannot forward a route this node would refuse.
    let ask = match req.caller_method.rsplit('/').next() {
        Some("VerifyCode" | "VerifyCodes") => Ask::Verify {
            verifying_region: &req.verifying_region,
        },
        Some("LookupPerson") => Ask::Lookup {
            verifying_region: &req.verifying_region,
        },
        Some("ConfirmWorkers") => Ask::ConfirmWorkers {
            destination_region: &req.verifying_region,
        },
        Some("CheckManifest" | "WatchManifest") => Ask::Manifest {
            origin_region: &req.origin_region,
            destination_region: &req.verifying_region,
        },
        _ => {
            return Err(Error::invalid(
                "caller_method",
                format!("{} reads no status through federation", req.caller_method),
            ));
        }
    };
    let verifying = authz::verifying_region(&caller, ask)?;
    if verifying.as_str() != req.verifying_region {
        return Err(Error::invalid(
            "verifying_region",
            format!(
                "the caller asks under {verifying}, not {}",
                req.verifying_region
            ),
        ));
    }
    Ok(Forwarding {
        node_id,
        caller,
        verifying,
        issuing,
    })
}

/// Reads the status, audits the read as forwarded and answers with a signed statement (or why
/// the region could not be asked by `deadline`).
pub async fn resolve(
    recognizer: &Recognizer,
    registry: &Registry,
    fwd: &Forwarding,
    req: &ResolveStatusRequest,
    deadline: Instant,
) -> Result<ResolveStatusResponse, Error> {
    // The statement answers this request only, by its digest; without a per-call id a genuine
    // statement could answer the same ask again later.
    if req.request_id.is_empty() || req.request_id.len() > MAX_REQUEST_ID {
        return Err(Error::invalid(
            "request_id",
            format!("a fresh value per call, 1 to {MAX_REQUEST_ID} bytes"),
        ));
    }
    let query = if req.resident_id_number.is_empty() {
        LookupQuery::CodeId {
            code_id: req.code_id.clone(),
            city: (!req.city.is_empty()).then(|| req.city.clone()),
        }
    } else {
        LookupQuery::Resident {
            id: ResidentId::parse(&req.resident_id_number)
                .map_err(|e| Error::invalid("resident_id_number", e.to_string()))?,
            name: req.resident_name.clone(),
        }
    };
    let service = registry.status_service(fwd.issuing);
    let ttl = registry.cache_ttl(fwd.issuing);
    let read = recognizer
        .status
        .lookup(fwd.issuing, &query, service.as_ref(), ttl, deadline)
        .await;
    let now = OffsetDateTime::now_utc();
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            let entry = forwarded_entry(registry, fwd, req, now, UNIDENTIFIED, REFUSED);
            append(recognizer, entry).await?;
            return Ok(ResolveStatusResponse {
                outcome: Some(resolve_status_response::Outcome::Refused(
                    crate::federation::refusal::to_wire(&e),
                )),
            });
        }
    };
    // Keyed on the ID when the region gave one, else on the code id, as a local read keys it.
    let person = match &read {
        ReadOutcome::Read(native) => &native.subject,
        ReadOutcome::Degraded(d) => &d.subject,
    };
    let handle = subject_handle(person).unwrap_or_else(|| format!("handle:{}", req.code_id));
    let pseudonym = subject_ref(
        &recognizer.subject_key,
        fwd.verifying,
        fwd.caller.province(),
        fwd.issuing,
        &handle,
    );
    let (outcome, verdict) = match read {
        ReadOutcome::Read(native) => {
            let statement = StatusStatement {
                node_id: recognizer.receipts.node_id().to_string(),
                region: fwd.issuing.to_string(),
                native_label: native.native_label,
                masked_name: if native.subject.name.is_empty() {
                    "*".to_string()
                } else {
                    mask_name(&native.subject.name)
                },
                subject: pseudonym.clone(),
                issuer_id: native.issuer_id,
                refreshed_at: native.refreshed_at,
                valid_until: native.valid_until,
                checked_in_at: native.checked_in_at,
                cached: native.source == Source::Cached,
                synthetic: native.synthetic,
                read_at: now,
                expires: now + ttl.max(std::time::Duration::from_secs(1)),
                caller: fwd.caller.spiffe_id.clone(),
                verifying_region: fwd.verifying.to_string(),
                request: statement::request_digest(req),
            };
            let env = statement::sign(&statement, recognizer.receipts.key())
                .map_err(|e| Error::Unavailable(format!("cannot sign the statement: {e}")))?;
            (
                resolve_status_response::Outcome::Statement(crate::recognition::wire::envelope(
                    &env,
                )),
                READ,
            )
        }
        ReadOutcome::Degraded(d) => (
            resolve_status_response::Outcome::Degraded(DegradedRead {
                why: d.why,
                unlisted: d.unlisted,
            }),
            DEGRADED,
        ),
    };
    let entry = forwarded_entry(registry, fwd, req, now, &pseudonym, verdict);
    append(recognizer, entry).await?;
    Ok(ResolveStatusResponse {
        outcome: Some(outcome),
    })
}

/// The record of a forwarded read: the original caller, and which node forwarded for it.
fn forwarded_entry(
    registry: &Registry,
    fwd: &Forwarding,
    req: &ResolveStatusRequest,
    now: OffsetDateTime,
    subject_ref: &str,
    verdict: &str,
) -> Entry {
    Entry {
        time: now,
        caller: fwd.caller.spiffe_id.clone(),
        method: RESOLVE_STATUS.to_string(),
        purpose: clip_audit_text(format!(
            "forwarded by node {} for caller {}: {}",
            fwd.node_id, fwd.caller.spiffe_id, req.purpose
        )),
        issuing_region: fwd.issuing.to_string(),
        subject_ref: subject_ref.to_string(),
        verdict: verdict.to_string(),
        registry_version: registry.version(),
    }
}

/// Appends and waits until durable: a read nobody can account for is not answered.
async fn append(recognizer: &Recognizer, entry: Entry) -> Result<(), Error> {
    recognizer
        .audit
        .append(entry)
        .await
        .map(|_| ())
        .map_err(|e| Error::AuditUnavailable(e.to_string()))
}
