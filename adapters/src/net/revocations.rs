//! Fetching a region's signed revocation list from its status service over the pinned connection.
//! The client only carries the text: the region's adapter checks the list's own signature against
//! the registry and installs it, so the channel cannot add or drop serials.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::model::RegionCode;
use crate::net::wire::REVOCATIONS_PATH;
use crate::net::{NetError, StatusClient};
use crate::trust::TrustView;

impl StatusClient {
    /// The signed revocation list `region`'s service publishes, at most `max_len` bytes, fetched
    /// by `deadline`.
    pub async fn fetch_revocation_list(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        max_len: usize,
        deadline: Instant,
    ) -> Result<String, NetError> {
        let service = trust
            .status_service(region)
            .ok_or(NetError::NoService(region))?;
        let channel = self.channel(region, &service)?;
        let call = channel.request_limited(Method::GET, REVOCATIONS_PATH, None, max_len);
        let (status, body) =
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call)
                .await
                .map_err(|_| NetError::Deadline)??;
        if status != StatusCode::OK {
            return Err(NetError::Status {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        String::from_utf8(body.to_vec()).map_err(|e| NetError::Garbage(e.to_string()))
    }
}
