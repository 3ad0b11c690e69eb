//! `huren.v1.LookupService`: LookupPerson, a person without a phone looked up by ID card.

use std::sync::Arc;

use huren_proto::v1::lookup_service_server::LookupService;
use huren_proto::v1::{LookupPersonRequest, LookupPersonResponse};
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

use crate::authz::Ask;
use crate::error::Error;
use crate::lookup::{Buckets, Card};
use crate::recognition::shaping;
use crate::services::recognition::RecognitionState;
use crate::services::start;

pub const LOOKUP_PERSON: &str = "/huren.v1.LookupService/LookupPerson";

/// The lookup service: the node's recognizer (shared with the recognition service) and every
/// caller's token bucket.
#[derive(Debug, Clone)]
pub struct Lookup {
    state: Arc<RecognitionState>,
    buckets: Arc<Buckets>,
}

impl Lookup {
    /// Lookups limited per caller by `buckets` (`[limits] lookups_per_minute`, `lookup_burst`),
    /// the same buckets the node takes forwarded lookups from, per original caller.
    pub fn new(state: Arc<RecognitionState>, buckets: Arc<Buckets>) -> Self {
        Self { state, buckets }
    }
}

#[tonic::async_trait]
impl LookupService for Lookup {
    async fn lookup_person(
        &self,
        request: Request<LookupPersonRequest>,
    ) -> Result<Response<LookupPersonResponse>, Status> {
        let req = request.get_ref();
        let ask = Ask::Lookup {
            verifying_region: &req.verifying_region,
        };
        let start = start::begin(self.state.recognizer.as_ref(), &request, LOOKUP_PERSON, ask)?;
        // The bucket before the card: a caller trying numbers spends its lookups on the misses
        // too.
        self.buckets
            .admit(&start.peer.spiffe_id, "lookups by ID card")?;
        let today = OffsetDateTime::now_utc().date();
        let card = Card::read(&req.resident_id_number, &req.name, today)
            .map_err(|e| Error::invalid(e.field(), e.to_string()))?;
        let (recognizer, call) = (start.recognizer, start.call(&req.purpose)?);
        let judged = recognizer.lookup_person(&call, &card).await?;
        Ok(Response::new(LookupPersonResponse {
            verification: Some(shaping::verification(&call, &judged)),
        }))
    }
}
