//! Keeping a region's status lists fresh on a node: ask the region's service which lists it
//! publishes, fetch each as a delta since the held version (or whole), check it under the
//! registry and install it — on a timer while the node runs, and at once when the region's change
//! feed says a status changed. A refused list leaves the last good one held.

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::adapter::Task;
use crate::model::RegionCode;
use crate::net::{NetError, StatusClient};
use crate::status_list::{Applied, ListArchive, ListKey, Refusal, StatusListError};
use crate::trust::TrustView;

/// Longest a scheduled refresh may take.
const REFRESH_WITHIN: Duration = Duration::from_secs(10);

/// Why a refresh did not bring every list up to date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListRefreshError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("a status list from {region} was refused: {source}")]
    Refused {
        region: RegionCode,
        source: StatusListError,
    },
}

/// Brings every list `region`'s service publishes up to date in `lists`; how many moved forward.
/// One list's failure does not stop the others; the first failure is returned after all tried.
pub async fn refresh_status_lists(
    status: &StatusClient,
    trust: &dyn TrustView,
    lists: &ListArchive,
    region: RegionCode,
    deadline: Instant,
) -> Result<usize, ListRefreshError> {
    let index = status
        .fetch_status_list_index(region, trust, deadline)
        .await?;
    let mut moved = 0;
    let mut first_error = None;
    for entry in index {
        let key = ListKey {
            region,
            issuer: entry.issuer,
            list_id: entry.list_id,
        };
        match refresh_one(status, trust, lists, &key, deadline).await {
            Ok(true) => moved += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%region, issuer = %key.issuer, list = key.list_id, error = %e,
                    "status list not refreshed; the last good one stays held");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(moved),
    }
}

/// One list: a delta since the held version, or the whole list when none is held or the delta
/// does not fit what is held.
async fn refresh_one(
    status: &StatusClient,
    trust: &dyn TrustView,
    lists: &ListArchive,
    key: &ListKey,
    deadline: Instant,
) -> Result<bool, ListRefreshError> {
    let held = lists.sequence(key);
    let wanted = (key.issuer.as_str(), key.list_id);
    let Some(bytes) = status
        .fetch_status_list(key.region, trust, wanted, held, deadline)
        .await?
    else {
        return Ok(false);
    };
    let refused = |source| ListRefreshError::Refused {
        region: key.region,
        source,
    };
    match lists.apply_bytes(&bytes, trust, OffsetDateTime::now_utc()) {
        Ok(applied) => Ok(matches!(applied, Applied::Installed { .. })),
        Err(StatusListError::Refused(Refusal::DeltaBaseMismatch { .. })) if held.is_some() => {
            let whole = status
                .fetch_status_list(key.region, trust, wanted, None, deadline)
                .await?
                .unwrap_or_default();
            lists
                .apply_bytes(&whole, trust, OffsetDateTime::now_utc())
                .map(|a| matches!(a, Applied::Installed { .. }))
                .map_err(refused)
        }
        Err(e) => Err(refused(e)),
    }
}

/// Refreshes `region`'s lists every `every`, for as long as the task runs.
pub fn keep_fresh(
    status: StatusClient,
    trust: Arc<dyn TrustView>,
    lists: Arc<ListArchive>,
    region: RegionCode,
    every: Duration,
) -> Task {
    crate::adapter::periodic(every, REFRESH_WITHIN, move |deadline| {
        let (status, trust, lists) = (status.clone(), trust.clone(), lists.clone());
        async move {
            // Failures are logged per list in the refresh; the next tick retries.
            let _ = refresh_status_lists(&status, trust.as_ref(), &lists, region, deadline).await;
        }
    })
}
