//! `huren console --role national`: the national dashboard. A poller asks the gateway for the
//! national summary as the national caller; the page polls the console for the charts.

pub mod charts;
pub mod history;
pub mod poller;
pub mod view;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

use super::assets;
use poller::Snapshot;

/// The page, its script and the dashboard document.
pub fn router(snapshot: Arc<RwLock<Snapshot>>) -> Router {
    Router::new()
        .route("/", get(|| async { assets::html(assets::NATIONAL_HTML) }))
        .route(
            "/national.js",
            get(|| async { assets::javascript(assets::NATIONAL_JS) }),
        )
        .route("/console.css", get(|| async { assets::css() }))
        .route("/api/dashboard", get(dashboard))
        .with_state(snapshot)
}

async fn dashboard(State(snapshot): State<Arc<RwLock<Snapshot>>>) -> Response {
    let snap = snapshot
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match view::dashboard(&snap) {
        Ok(view) => Json(view).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
