//! The reference service's HTTP routes: status lookups, the change feed, health, and the
//! injected faults that sit in front of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use time::OffsetDateTime;

use crate::model::{RegionCode, ResidentId};
use crate::net::wire::{
    CHANGES_PATH, ChangesResponse, ErrorBody, HEALTH_PATH, LOOKUP_PATH, LookupRequest,
    LookupResponse, MAX_CHANGES, MAX_WAIT_MS, REVOCATIONS_PATH, STATUS_LIST_PATH,
    STATUS_LISTS_PATH,
};
use crate::sim::Faults;
use crate::sim::delay_line::DelayLine;
use crate::sim::lists::PublishError;
use crate::sim::store::{PersonRecord, Store};
use crate::status_list::Served;

/// Largest request body the service reads.
const MAX_BODY: usize = 4 * 1024;

/// Requests the service has answered, by route (faulty answers included).
#[derive(Debug, Default)]
pub struct Stats {
    pub lookups: AtomicU64,
    pub changes: AtomicU64,
    /// TLS connections the service has served (handshake done, caller accepted).
    pub connections: AtomicU64,
    /// How long each lookup took from its arrival to its answer, the added latency included.
    pub lookup_times: crate::sim::delay::AddedLatency,
}

#[derive(Clone)]
pub struct AppState {
    pub region: RegionCode,
    pub store: Arc<Store>,
    pub faults: Arc<Mutex<Faults>>,
    pub stats: Arc<Stats>,
    /// The region's issuer, for regions that publish a signed revocation list.
    pub signer: Option<Arc<crate::codec::IssuerSigner>>,
    /// The issuer's status lists, for regions whose codes have a v2 with a status reference.
    pub lists: Option<Arc<crate::sim::lists::Publisher>>,
    /// The region's review queue (复核).
    pub appeals: Arc<crate::sim::appeals::Queue>,
    /// The latency fault's clock, started the first time the fault is set.
    pub delay: Arc<std::sync::OnceLock<Option<DelayLine>>>,
}

impl AppState {
    /// Holds until `at`, never earlier: on the delay line, or on tokio's timer (late by up to a
    /// millisecond and more under load) if its thread cannot start.
    async fn hold_until(&self, at: Instant) {
        let line = self.delay.get_or_init(|| match DelayLine::start() {
            Ok(line) => Some(line),
            Err(e) => {
                tracing::warn!(error = %e, "no thread for the latency fault; using tokio's timer");
                None
            }
        });
        match line {
            Some(line) => line.until(at).await,
            None => tokio::time::sleep_until(at.into()).await,
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(LOOKUP_PATH, post(lookup))
        .route(CHANGES_PATH, get(changes))
        .route(HEALTH_PATH, get(health))
        .route(REVOCATIONS_PATH, get(revocations))
        .route(STATUS_LISTS_PATH, get(status_list_index))
        .route(STATUS_LIST_PATH, get(status_list))
        .merge(crate::sim::appeals::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        error: code.to_string(),
        message: message.into(),
    };
    (status, axum::Json(body)).into_response()
}

/// Applies the configured faults: the added latency, counted from the request's arrival (so
/// the time the request took to reach its handler is not added on top), then maybe an error or
/// a garbage body.
async fn inject(state: &AppState, arrived: Instant) -> Option<Response> {
    let faults = state.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if !faults.latency.is_zero() {
        state.hold_until(arrived + faults.latency).await;
    }
    if faults.error_rate > 0.0 && rand::random::<f64>() < faults.error_rate {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected fault: the status service is overloaded",
        ));
    }
    if faults.garbage_bodies {
        let mut body = b"\x00\xffnot json {{".to_vec();
        body.extend(rand::random::<[u8; 32]>());
        return Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
        );
    }
    None
}

async fn lookup(State(state): State<AppState>, body: Bytes) -> Response {
    let arrived = Instant::now();
    state.stats.lookups.fetch_add(1, Ordering::Relaxed);
    let answer = lookup_answer(&state, arrived, body).await;
    state.stats.lookup_times.record_since(arrived);
    answer
}

async fn lookup_answer(state: &AppState, arrived: Instant, body: Bytes) -> Response {
    if let Some(fault) = inject(state, arrived).await {
        return fault;
    }
    let request: LookupRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    let found = match &request {
        LookupRequest::Code { code_id, city } => {
            if code_id.is_empty()
                || code_id.len() > 128
                || !code_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return error(StatusCode::BAD_REQUEST, "bad_request", "malformed code id");
            }
            if let Some(city) = city {
                match RegionCode::parse(city) {
                    Ok(c)
                        if state.region == RegionCode::NATIONAL || c.province() == state.region => {
                    }
                    Ok(c) => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "bad_request",
                            format!("city {c} is not in region {}", state.region),
                        );
                    }
                    Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e),
                }
            }
            state
                .store
                .by_code(code_id)
                .map(|r| (r, Some(code_id.clone())))
        }
        LookupRequest::Resident { resident_id, name } => {
            let id = match ResidentId::parse(resident_id) {
                Ok(id) => id,
                Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
            };
            // A wrong name answers like an unknown resident: no oracle for ID numbers.
            state
                .store
                .by_resident(&id)
                .filter(|r| &r.name == name)
                .map(|r| {
                    let current = r.code_ids.last().cloned();
                    (r, current)
                })
        }
    };
    match found {
        Some((record, code_id)) => axum::Json(answer(state, record, code_id)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "the region has no record of this code",
        ),
    }
}

fn answer(state: &AppState, record: PersonRecord, code_id: Option<String>) -> LookupResponse {
    let masked_name = match record.name.chars().next() {
        Some(first) => format!("{first}*"),
        None => "*".to_string(),
    };
    let wrong_label = state.faults.lock().is_ok_and(|f| f.wrong_label);
    let label = match wrong_label {
        true => crate::sim::issue::wrong_label(state.region, &record.label),
        false => record.label,
    };
    LookupResponse {
        region: state.region.to_string(),
        handle: record.handle,
        code_id,
        label,
        refreshed_at: OffsetDateTime::now_utc(),
        changed_at: record.changed_at,
        masked_name,
        synthetic: record.synthetic,
    }
}

#[derive(Debug, serde::Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    since: u64,
    epoch: Option<String>,
    #[serde(default)]
    wait_ms: u64,
}

async fn changes(State(state): State<AppState>, Query(q): Query<ChangesQuery>) -> Response {
    state.stats.changes.fetch_add(1, Ordering::Relaxed);
    if let Some(fault) = inject(&state, Instant::now()).await {
        return fault;
    }
    let reset = q.epoch.as_deref().is_some_and(|e| e != state.store.epoch());
    let since = if reset { 0 } else { q.since };
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(MAX_WAIT_MS));
    let mut seq_rx = state.store.subscribe();
    let mut last_pass = false;
    // Bounded: every pass either answers or waits for a change until the deadline.
    loop {
        seq_rx.borrow_and_update();
        let (changes, more) = state.store.changes(since, MAX_CHANGES);
        let done = !changes.is_empty() || reset || last_pass;
        if done {
            let seq = changes.last().map_or(since, |c| c.seq);
            return axum::Json(ChangesResponse {
                epoch: state.store.epoch().to_string(),
                reset,
                seq,
                head: state.store.head(),
                more,
                changes,
            })
            .into_response();
        }
        // A change wakes us for another look; the deadline (or a closed feed) means one last look.
        match tokio::time::timeout_at(deadline, seq_rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => last_pass = true,
        }
    }
}

async fn health(State(state): State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "region": state.region.to_string(),
        "people": state.store.len(),
        "epoch": state.store.epoch(),
    }))
    .into_response()
}

/// The issuer's revocation list as of now, signed on every request (lists are small and a
/// fresh signing time tells the gateway how current its copy is).
async fn revocations(State(state): State<AppState>) -> Response {
    if let Some(fault) = inject(&state, Instant::now()).await {
        return fault;
    }
    let Some(signer) = &state.signer else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_code",
            format!("region {} publishes no revocation list", state.region),
        );
    };
    let serials = state.store.revoked_serials();
    match crate::regions::guangdong::revocations::sign_revocation_list(
        signer,
        &serials,
        OffsetDateTime::now_utc(),
    ) {
        Ok(list) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            list,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unavailable",
            e.to_string(),
        ),
    }
}

/// Which status lists the issuer publishes, each brought up to date first.
async fn status_list_index(State(state): State<AppState>) -> Response {
    if let Some(fault) = inject(&state, Instant::now()).await {
        return fault;
    }
    let Some(lists) = &state.lists else {
        return no_lists(&state);
    };
    match lists.index(&state.store, list_fault(&state), OffsetDateTime::now_utc()) {
        Ok(index) => axum::Json(index).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unavailable",
            e.to_string(),
        ),
    }
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    issuer: String,
    list: u32,
    since: Option<u64>,
}

/// One status list, whole or as a delta since the asker's version; 204 when that is current.
async fn status_list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    if let Some(fault) = inject(&state, Instant::now()).await {
        return fault;
    }
    let Some(lists) = &state.lists else {
        return no_lists(&state);
    };
    let served = lists.serve(
        &state.store,
        (&q.issuer, q.list),
        q.since,
        list_fault(&state),
        OffsetDateTime::now_utc(),
    );
    let bytes = |body: Vec<u8>| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            body,
        )
            .into_response()
    };
    match served {
        Ok(Served::Current) => StatusCode::NO_CONTENT.into_response(),
        Ok(Served::Delta(body) | Served::Whole(body)) => bytes(body),
        Err(PublishError::NoSuchList) => error(
            StatusCode::NOT_FOUND,
            "unknown_code",
            format!("no status list {} of issuer {}", q.list, q.issuer),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unavailable",
            e.to_string(),
        ),
    }
}

fn list_fault(state: &AppState) -> Option<crate::sim::ListFault> {
    state.faults.lock().ok().and_then(|f| f.status_lists)
}

fn no_lists(state: &AppState) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "unknown_code",
        format!("region {} publishes no status lists", state.region),
    )
}
