//! Filing an appeal in a region's review queue and pushing the region's answer, over the same
//! pinned connection as status lookups (`POST /v1/appeals`, `POST /v1/appeals/answer`,
//! `GET /v1/appeals?id=`; see [`crate::net::wire`]).

use std::time::Instant;

use http::{Method, StatusCode};

use crate::model::RegionCode;
use crate::net::wire::{
    APPEAL_ANSWER_PATH, APPEALS_PATH, AppealAnswer, AppealAnswered, AppealFiled, AppealFiling,
    ErrorBody,
};
use crate::net::{NetError, StatusClient};
use crate::trust::TrustView;

/// Longest answer read from an appeals endpoint.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

impl StatusClient {
    /// Puts an appeal in `region`'s review queue, by `deadline`.
    pub async fn file_appeal(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        filing: &AppealFiling,
        deadline: Instant,
    ) -> Result<AppealFiled, NetError> {
        let body = serde_json::to_vec(filing).map_err(|e| NetError::Garbage(e.to_string()))?;
        self.post_json(region, trust, APPEALS_PATH, body, deadline)
            .await
    }

    /// Tells `region`'s service its answer; a correction changes the person's status there.
    pub async fn answer_appeal(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        answer: &AppealAnswer,
        deadline: Instant,
    ) -> Result<AppealAnswered, NetError> {
        let body = serde_json::to_vec(answer).map_err(|e| NetError::Garbage(e.to_string()))?;
        self.post_json(region, trust, APPEAL_ANSWER_PATH, body, deadline)
            .await
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        path: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<T, NetError> {
        let service = trust
            .status_service(region)
            .ok_or(NetError::NoService(region))?;
        let channel = self.channel(region, &service)?;
        let call = channel.request_limited(Method::POST, path, Some(body.into()), MAX_ANSWER_BYTES);
        let (status, bytes) =
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call)
                .await
                .map_err(|_| NetError::Deadline)??;
        if status == StatusCode::OK {
            return serde_json::from_slice(&bytes).map_err(|e| NetError::Garbage(e.to_string()));
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.message)
            .unwrap_or_else(|_| "no readable error body".to_string());
        Err(match status {
            StatusCode::NOT_FOUND => NetError::UnknownCode,
            StatusCode::BAD_REQUEST => NetError::BadRequest(message),
            _ => NetError::Status {
                status: status.as_u16(),
                message,
            },
        })
    }
}
