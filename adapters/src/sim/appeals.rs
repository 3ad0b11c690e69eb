//! The reference service's review queue (复核): appeals filed by the node that serves the region,
//! and the region's answers; a correction sets the person's status as `huren region set-status`
//! does, so the change feed, the status lists and the revocation list all carry it. The queue is
//! held in memory: the node's appeal index is the durable copy.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use time::OffsetDateTime;

use crate::model::{Colour, ResidentId};
use crate::net::wire::{
    APPEAL_ANSWER_PATH, APPEALS_PATH, AppealAnswer, AppealAnswered, AppealFiled, AppealFiling,
};
use crate::sim::http::{AppState, error};

/// Most appeals one service holds.
const MAX_APPEALS: usize = 100_000;

/// One appeal in the queue: whom it is about (by the region's handle) and where it stands.
#[derive(Debug, Clone, serde::Serialize)]
struct Entry {
    appeal_id: String,
    #[serde(skip)]
    handle: String,
    reason: String,
    /// `OPEN`, `UPHELD` or `CORRECTED`.
    state: String,
}

#[derive(Debug, Default)]
pub struct Queue {
    appeals: Mutex<HashMap<String, Entry>>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(APPEALS_PATH, post(file).get(show))
        .route(APPEAL_ANSWER_PATH, post(answer))
}

fn well_formed_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn file(State(state): State<AppState>, body: Bytes) -> Response {
    let filing: AppealFiling = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    if !well_formed_id(&filing.appeal_id) || filing.reason.len() > 2048 {
        return error(StatusCode::BAD_REQUEST, "bad_request", "malformed appeal");
    }
    let person = match (&filing.handle, &filing.resident_id) {
        (Some(handle), None) => state.store.by_handle(handle),
        (None, Some(id)) => match ResidentId::parse(id) {
            Ok(id) => state.store.by_resident(&id),
            Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give the person's handle or resident ID",
            );
        }
    };
    let Some(person) = person else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "the region has no record of this person",
        );
    };
    let mut appeals = state
        .appeals
        .appeals
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if appeals.len() >= MAX_APPEALS && !appeals.contains_key(&filing.appeal_id) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "queue full");
    }
    appeals.insert(
        filing.appeal_id.clone(),
        Entry {
            appeal_id: filing.appeal_id.clone(),
            handle: person.handle.clone(),
            reason: filing.reason,
            state: "OPEN".into(),
        },
    );
    axum::Json(AppealFiled {
        appeal_id: filing.appeal_id,
        handle: person.handle,
        label: person.label,
    })
    .into_response()
}

#[derive(Debug, serde::Deserialize)]
struct ShowQuery {
    id: String,
}

async fn show(State(state): State<AppState>, Query(q): Query<ShowQuery>) -> Response {
    let appeals = state
        .appeals
        .appeals
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match appeals.get(&q.id) {
        Some(entry) => axum::Json(entry.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "unknown_code", "no such appeal"),
    }
}

async fn answer(State(state): State<AppState>, body: Bytes) -> Response {
    let answer: AppealAnswer = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    let handle = {
        let appeals = state
            .appeals
            .appeals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match appeals.get(&answer.appeal_id) {
            Some(entry) => entry.handle.clone(),
            None => return error(StatusCode::NOT_FOUND, "unknown_code", "no such appeal"),
        }
    };
    let Some(person) = state.store.by_handle(&handle) else {
        return error(StatusCode::NOT_FOUND, "unknown_code", "the person is gone");
    };
    let (label, withdrawn) = match answer.outcome.as_str() {
        "UPHELD" => (person.label, 0),
        "CORRECTED" => {
            let colour = match answer.colour.as_deref().and_then(Colour::parse) {
                Some(c) if c != Colour::Unknown => c,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "a correction names GREEN, YELLOW, RED or PENDING",
                    );
                }
            };
            let id = match ResidentId::parse(&person.resident_id) {
                Ok(id) => id,
                Err(e) => {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "unavailable",
                        e.to_string(),
                    );
                }
            };
            match crate::sim::issue::set_status(
                state.region,
                &state.store,
                &id,
                colour,
                OffsetDateTime::now_utc(),
            ) {
                Ok(record) => {
                    let withdrawn = record.revoked.len() + record.listed.len();
                    (record.label, withdrawn)
                }
                Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
            }
        }
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("outcome {other:?} is not UPHELD or CORRECTED"),
            );
        }
    };
    if let Some(entry) = state
        .appeals
        .appeals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(&answer.appeal_id)
    {
        entry.state = answer.outcome.clone();
    }
    axum::Json(AppealAnswered {
        appeal_id: answer.appeal_id,
        label,
        withdrawn,
    })
    .into_response()
}
