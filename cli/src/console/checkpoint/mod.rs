//! `huren console --role checkpoint`: the scanning page. The page posts a keyboard-wedge
//! scanner's line, a camera frame or an ID card's number and name; the console reads the QR code
//! (or looks the person up), asks the gateway with the checkpoint's certificate, and answers PASS
//! or STOP for the page to show.

pub mod answer;
pub mod frame;
pub mod lookup;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use huren_proto::v1::VerifyCodeRequest;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use super::assets;
use crate::cli::client::CallerArgs;
use crate::report::status;

/// A code held up to the camera is in every frame: within this time the same payload gets the
/// answer already given, so one person is verified (and audited, and counted) once.
const SAME_CODE_FOR: Duration = Duration::from_secs(10);

/// A PNG camera frame: 1920×1080 RGBA is 8 MB before compression.
const MAX_FRAME_BYTES: usize = 12 * 1024 * 1024;

/// What the page's requests need: the connection to the gateway as this checkpoint.
pub struct Checkpoint {
    channel: Channel,
    caller: CallerArgs,
    purpose: String,
    recent: Mutex<Option<Recent>>,
}

struct Recent {
    payload: String,
    at: Instant,
    answer: Value,
}

impl Checkpoint {
    pub fn new(channel: Channel, caller: CallerArgs, purpose: String) -> Self {
        Self {
            channel,
            caller,
            purpose,
            recent: Mutex::new(None),
        }
    }

    /// Asks the gateway to judge `payload` under the checkpoint's own region's rules.
    async fn verify(&self, payload: String) -> Value {
        let mut client = RecognitionServiceClient::new(self.channel.clone());
        let request = self.caller.request(VerifyCodeRequest {
            payload,
            verifying_region: String::new(),
            purpose: self.purpose.clone(),
        });
        match client.verify_code(request).await {
            Ok(response) => match response.into_inner().verification {
                Some(v) => answer::of_verification(&v),
                None => answer::of_failure("the gateway answered without a verification"),
            },
            Err(s) => answer::of_failure(&status::describe(&s)),
        }
    }

    /// [`Checkpoint::verify`], unless the camera saw the same code a moment ago.
    async fn verify_seen(&self, payload: String) -> Value {
        let remembered = self.lock_recent().as_ref().and_then(|r| {
            (r.payload == payload && r.at.elapsed() < SAME_CODE_FOR).then(|| r.answer.clone())
        });
        if let Some(answer) = remembered {
            return answer;
        }
        let answer = self.verify(payload.clone()).await;
        *self.lock_recent() = Some(Recent {
            payload,
            at: Instant::now(),
            answer: answer.clone(),
        });
        answer
    }

    fn lock_recent(&self) -> std::sync::MutexGuard<'_, Option<Recent>> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The page and its three calls.
pub fn router(checkpoint: Arc<Checkpoint>) -> Router {
    Router::new()
        .route("/", get(|| async { assets::html(assets::CHECKPOINT_HTML) }))
        .route(
            "/checkpoint.js",
            get(|| async { assets::javascript(assets::CHECKPOINT_JS) }),
        )
        .route("/console.css", get(|| async { assets::css() }))
        .route("/api/scan", post(scan))
        .route("/api/lookup", post(lookup::lookup))
        .route(
            "/api/frame",
            post(frame).layer(DefaultBodyLimit::max(MAX_FRAME_BYTES)),
        )
        .with_state(checkpoint)
}

/// A line a keyboard-wedge scanner typed (or staff pasted): always a deliberate scan.
async fn scan(State(checkpoint): State<Arc<Checkpoint>>, body: String) -> Response {
    // The gateway trims a scanner's CR/LF itself; an empty line is no scan at all.
    if body.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "empty scan"})),
        )
            .into_response();
    }
    Json(checkpoint.verify(body).await).into_response()
}

/// A camera frame: `{"found": false}` until a QR code is in view.
async fn frame(State(checkpoint): State<Arc<Checkpoint>>, body: Bytes) -> Response {
    // Decoding is CPU work of tens of milliseconds: off the async workers.
    let decoded = tokio::task::spawn_blocking(move || frame::qr_payloads(&body)).await;
    let payloads = match decoded {
        Ok(Ok(payloads)) => payloads,
        Ok(Err(e)) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.to_string()})),
            )
                .into_response();
        }
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": format!("the frame decoder stopped: {e}")})),
            )
                .into_response();
        }
    };
    let Some(payload) = payloads.into_iter().next() else {
        return Json(json!({"found": false})).into_response();
    };
    let mut answer = checkpoint.verify_seen(payload).await;
    answer["found"] = Value::Bool(true);
    Json(answer).into_response()
}
