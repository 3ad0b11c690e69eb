//! Keeping a region's status lists fresh on a node: ask the region's [`ListSource`] (its own
//! service, or the node that carries its lists) which lists it holds, fetch each as a delta since
//! the held version (or whole), check it under the registry and install it — on a timer while the
//! node runs, and at once when the region's change feed says a status changed. A refused list
//! leaves the last good one held.

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::adapter::Task;
use crate::model::RegionCode;
use crate::net::list_source::{ListFetchError, ListSource};
use crate::status_list::{Applied, ListArchive, ListKey, Refusal, StatusListError};
use crate::trust::TrustView;

/// Longest a scheduled refresh may take.
const REFRESH_WITHIN: Duration = Duration::from_secs(10);

/// Refreshes of one list, by region, source (`service` or `node <id>`) and outcome:
/// `installed`, `current`, `unreached`, `not_the_list_asked` or `refused`.
pub const LIST_REFRESHES: &str = "huren_status_list_refreshes_total";

/// Why a refresh did not bring every list up to date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListRefreshError {
    #[error("{from}: {source}")]
    Unreached {
        from: String,
        source: ListFetchError,
    },
    #[error("a status list of {region} from {from} was refused: {source}")]
    Refused {
        region: RegionCode,
        from: String,
        source: StatusListError,
    },
}

impl ListRefreshError {
    /// The metric's outcome label.
    fn outcome(&self) -> &'static str {
        match self {
            Self::Unreached { .. } => "unreached",
            Self::Refused {
                source: StatusListError::Refused(Refusal::NotTheListAsked { .. }),
                ..
            } => "not_the_list_asked",
            Self::Refused { .. } => "refused",
        }
    }
}

/// Brings every list `source` holds for `region` up to date in `lists`; how many moved forward.
/// One list's failure does not stop the others; the first failure is returned after all tried.
pub async fn refresh_status_lists(
    source: &dyn ListSource,
    trust: &dyn TrustView,
    lists: &ListArchive,
    region: RegionCode,
    deadline: Instant,
) -> Result<usize, ListRefreshError> {
    let from = source.name(region);
    let index = match source.index(region, trust, deadline).await {
        Ok(index) => index,
        Err(e) => {
            count(region, &from, "unreached");
            tracing::warn!(%region, from = %from, error = %e, "status lists not refreshed");
            return Err(ListRefreshError::Unreached { from, source: e });
        }
    };
    let mut moved = 0;
    let mut first_error = None;
    for entry in index {
        let key = ListKey {
            region,
            issuer: entry.issuer,
            list_id: entry.list_id,
        };
        let outcome = refresh_one(source, &from, trust, lists, &key, deadline).await;
        count(
            region,
            &from,
            match &outcome {
                Ok(true) => "installed",
                Ok(false) => "current",
                Err(e) => e.outcome(),
            },
        );
        match outcome {
            Ok(true) => moved += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%region, list = %key, from = %from, error = %e,
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

fn count(region: RegionCode, from: &str, outcome: &'static str) {
    metrics::counter!(LIST_REFRESHES, "region" => region.to_string(), "source" => from.to_string(), "outcome" => outcome)
        .increment(1);
}

/// One list: a delta since the held version, or the whole list when none is held or the delta
/// does not fit what is held. Bytes naming another list than `key` are refused.
async fn refresh_one(
    source: &dyn ListSource,
    from: &str,
    trust: &dyn TrustView,
    lists: &ListArchive,
    key: &ListKey,
    deadline: Instant,
) -> Result<bool, ListRefreshError> {
    let unreached = |source| ListRefreshError::Unreached {
        from: from.to_string(),
        source,
    };
    let refused = |source| ListRefreshError::Refused {
        region: key.region,
        from: from.to_string(),
        source,
    };
    let held = lists.sequence(key);
    let Some(bytes) = source
        .fetch(key, trust, held, deadline)
        .await
        .map_err(unreached)?
    else {
        return Ok(false);
    };
    match lists.apply_answer(key, &bytes, trust, OffsetDateTime::now_utc()) {
        Ok(applied) => Ok(matches!(applied, Applied::Installed { .. })),
        Err(StatusListError::Refused(Refusal::DeltaBaseMismatch { .. })) if held.is_some() => {
            let whole = source
                .fetch(key, trust, None, deadline)
                .await
                .map_err(unreached)?
                .unwrap_or_default();
            lists
                .apply_answer(key, &whole, trust, OffsetDateTime::now_utc())
                .map(|a| matches!(a, Applied::Installed { .. }))
                .map_err(refused)
        }
        Err(e) => Err(refused(e)),
    }
}

/// Refreshes `region`'s lists from `source` every `every`, for as long as the task runs.
pub fn keep_fresh(
    source: Arc<dyn ListSource>,
    trust: Arc<dyn TrustView>,
    lists: Arc<ListArchive>,
    region: RegionCode,
    every: Duration,
) -> Task {
    crate::adapter::periodic(every, REFRESH_WITHIN, move |deadline| {
        let (source, trust, lists) = (source.clone(), trust.clone(), lists.clone());
        async move {
            // Failures are logged per list in the refresh; the next tick retries.
            let _ = refresh_status_lists(source.as_ref(), trust.as_ref(), &lists, region, deadline)
                .await;
        }
    })
}
