//! Where a node fetches one region's status lists from: the region's own service (on the node
//! that serves the region) or, in a federation, the node that serves it. A source only carries
//! bytes; the receiving [`crate::status_list::ListArchive`] checks every list against the
//! issuer's key in its own registry, so no source needs trust.

use std::time::Instant;

use crate::model::RegionCode;
use crate::net::wire::IndexedList;
use crate::net::{NetError, StatusClient};
use crate::status_list::ListKey;
use crate::trust::TrustView;

/// Why a source gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListFetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    /// The node that carries the region's lists did not answer, or refused.
    #[error("{0}")]
    Carrier(String),
}

/// A place that publishes or carries status lists.
#[async_trait::async_trait]
pub trait ListSource: Send + Sync {
    /// Who is asked for `region`'s lists, for logs and the refresh metric: `service`, or
    /// `node <id>` when another node carries them.
    fn name(&self, region: RegionCode) -> String;

    /// The lists held for `region`, with their sequences.
    async fn index(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        deadline: Instant,
    ) -> Result<Vec<IndexedList>, ListFetchError>;

    /// List `key` since the held `since` (`None`: whole): the signed bytes, or `None` when
    /// `since` is current.
    async fn fetch(
        &self,
        key: &ListKey,
        trust: &dyn TrustView,
        since: Option<u64>,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, ListFetchError>;
}

/// The region's own status service, over the pinned connection.
#[async_trait::async_trait]
impl ListSource for StatusClient {
    fn name(&self, _region: RegionCode) -> String {
        "service".to_string()
    }

    async fn index(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        deadline: Instant,
    ) -> Result<Vec<IndexedList>, ListFetchError> {
        Ok(self
            .fetch_status_list_index(region, trust, deadline)
            .await?)
    }

    async fn fetch(
        &self,
        key: &ListKey,
        trust: &dyn TrustView,
        since: Option<u64>,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, ListFetchError> {
        let wanted = (key.issuer.as_str(), key.list_id);
        Ok(self
            .fetch_status_list(key.region, trust, wanted, since, deadline)
            .await?)
    }
}
