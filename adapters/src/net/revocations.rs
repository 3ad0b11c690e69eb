//! Fetching a region's signed revocation list from its status service over the pinned connection.
//! The client only carries the text: the region's adapter checks the list's own signature against
//! the registry and installs it, so the channel cannot add or drop serials.

use std::time::Instant;

use http::StatusCode;

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
        let (status, body) = self
            .get_bytes(region, trust, REVOCATIONS_PATH, max_len, deadline)
            .await?;
        if status != StatusCode::OK {
            return Err(NetError::Status {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        String::from_utf8(body).map_err(|e| NetError::Garbage(e.to_string()))
    }
}
