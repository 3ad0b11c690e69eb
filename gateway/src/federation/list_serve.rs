//! The carrying node's end of status lists travelling node to node: what it holds for a region
//! (ListStatusLists) and one list since the asker's sequence (GetStatusList), as the issuer's own
//! signed bytes from [`ListArchive::serve`]. Nothing here is trusted by the asker: it checks each
//! list against the issuer's key in its own registry.

use huren_adapters::RegionCode;
use huren_adapters::status_list::{ListArchive, ListKey, Served};
use huren_proto::v1::{
    GetStatusListRequest, GetStatusListResponse, HeldStatusList, ListStatusListsRequest,
    ListStatusListsResponse, get_status_list_response,
};

use crate::error::Error;

/// Lists carried to peers, by issuing region and answer (`current`, `delta`, `whole`).
pub const LISTS_CARRIED: &str = "huren_status_lists_carried_total";

/// The lists `lists` holds for the asked region, with their sequences.
pub fn index(
    lists: &ListArchive,
    req: &ListStatusListsRequest,
) -> Result<ListStatusListsResponse, Error> {
    let region = region(&req.issuing_region)?;
    let lists = lists
        .index()
        .into_iter()
        .filter(|(key, _)| key.region == region)
        .map(|(key, sequence)| HeldStatusList {
            issuer_id: key.issuer,
            list_id: key.list_id,
            sequence,
        })
        .collect();
    Ok(ListStatusListsResponse { lists })
}

/// One held list since the asker's sequence: current, a delta, or the whole list.
pub fn list(
    lists: &ListArchive,
    req: &GetStatusListRequest,
) -> Result<GetStatusListResponse, Error> {
    let key = ListKey {
        region: region(&req.issuing_region)?,
        issuer: req.issuer_id.clone(),
        list_id: req.list_id,
    };
    let served = lists.serve(&key, req.since_sequence).ok_or_else(|| {
        Error::invalid("list_id", format!("this node holds no status list {key}"))
    })?;
    use get_status_list_response::Answer;
    let (answer, kind) = match served {
        Served::Current => (Answer::Current(true), "current"),
        Served::Delta(bytes) => (Answer::Delta(bytes), "delta"),
        Served::Whole(bytes) => (Answer::Whole(bytes), "whole"),
    };
    metrics::counter!(LISTS_CARRIED, "region" => key.region.to_string(), "answer" => kind)
        .increment(1);
    Ok(GetStatusListResponse {
        answer: Some(answer),
    })
}

fn region(code: &str) -> Result<RegionCode, Error> {
    RegionCode::parse(code).map_err(|e| Error::invalid("issuing_region", e))
}
