//! The admin HTTP listener (loopback by default): Prometheus `/metrics`, `/healthz`, `/readyz`.
//!
//! `/healthz` is 200 while the process runs. `/readyz` is 200 only while the node can answer:
//! 503 with the reason while starting, draining, or while a [`Readiness`] condition holds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::readiness::Readiness;

#[derive(Clone)]
struct AdminState {
    ready: Arc<AtomicBool>,
    readiness: Readiness,
}

/// Starts the admin listener; it stops when `stop` turns true.
pub async fn spawn(
    addr: SocketAddr,
    ready: Arc<AtomicBool>,
    readiness: Readiness,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    // Installs the recorder, so the families declared at start are there on the first scrape.
    let _ = crate::metrics::handle();
    let state = AdminState { ready, readiness };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "admin listener failed");
        }
    });
    Ok((local, task))
}

async fn metrics() -> String {
    crate::metrics::render()
}

/// The process is up: a supervisor restarts it when this fails.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The node takes calls: not before the listener is up, not from the start of shutdown, and
/// not while a [`Readiness`] condition holds (a stopped audit writer, an expired registry); the
/// body says why.
async fn readyz(State(state): State<AdminState>) -> (StatusCode, String) {
    if !state.ready.load(Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: starting or draining\n".to_string(),
        );
    }
    match state.readiness.blocked() {
        None => (StatusCode::OK, "ready\n".to_string()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}
