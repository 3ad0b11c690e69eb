//! Unary gRPC calls to one peer replica on the caller's own task: one HTTP/2 connection (the
//! `h2` crate over the pinned TLS of [`super::peers`]), opened lazily and again after it breaks.
//!
//! Why not tonic's `Channel` for the hot path: a `Channel` call hops from the caller's task to
//! the channel's buffer task and back, and hyper's client spawns a task per request that wakes
//! the caller through a oneshot: five or six task switches a call, each a futex wake-up when
//! the other worker sleeps. Here the caller's task writes its stream into the connection and the
//! connection's task wakes it once when the answer is in. Same bytes on the wire, same TLS, same
//! pinned identity; only the tasks in between are gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use tonic::{Code, Status};

/// The largest answer read, as tonic's default decoding limit.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// A TLS stream to the replica, pinned and ready for HTTP/2.
pub type Stream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// Opens a pinned TLS stream to the replica.
pub type Dial =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = std::io::Result<Stream>> + Send>> + Send + Sync>;

/// The open connection, numbered so a broken one is forgotten only by those who saw it break.
#[derive(Default)]
struct Open {
    generation: u64,
    sender: Option<SendRequest<Bytes>>,
}

/// One replica's connection for unary calls.
pub struct Unary {
    dial: Dial,
    authority: Authority,
    open: Arc<Mutex<Open>>,
    /// Held while dialling, so 64 calls that find no connection open one, not 64.
    dialling: tokio::sync::Mutex<()>,
}

impl Unary {
    pub fn new(dial: Dial, authority: Authority) -> Self {
        Self {
            dial,
            authority,
            open: Arc::default(),
            dialling: tokio::sync::Mutex::new(()),
        }
    }

    /// Calls `path` with `frame` (a gRPC length-prefixed message, see [`frame`]) and returns
    /// the answer's message bytes. `time_left` travels as `grpc-timeout`, so the replica gives up
    /// when the caller does; the caller bounds the whole call by it too.
    pub async fn call(
        &self,
        path: &'static str,
        frame: Bytes,
        time_left: Duration,
    ) -> Result<Bytes, Status> {
        let (generation, sender) = self.sender().await?;
        let broken = |e: h2::Error| {
            // The connection is gone (or going): the next call dials again.
            if e.is_io() || e.is_go_away() {
                self.forget(generation);
            }
            stream_error(e)
        };
        let mut sender = sender.ready().await.map_err(broken)?;
        let uri = Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.authority.clone())
            .path_and_query(PathAndQuery::from_static(path))
            .build()
            .map_err(|e| Status::internal(format!("request URI: {e}")))?;
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("te", HeaderValue::from_static("trailers"));
        if let Ok(v) = HeaderValue::try_from(grpc_timeout(time_left)) {
            headers.insert("grpc-timeout", v);
        }
        let (answer, mut body_out) = sender.send_request(request, false).map_err(broken)?;
        body_out.send_data(frame, true).map_err(broken)?;
        let (head, mut body) = answer.await.map_err(broken)?.into_parts();
        // A trailers-only answer: a refusal before any message.
        if let Some(status) = Status::from_header_map(&head.headers) {
            return Err(status_or_ok(status));
        }
        if head.status != StatusCode::OK {
            return Err(http_status(head.status));
        }
        let mut message = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(broken)?;
            let _ = body.flow_control().release_capacity(chunk.len());
            if message.len() + chunk.len() > MAX_ANSWER + 5 {
                return Err(Status::resource_exhausted("the peer's answer is too large"));
            }
            message.extend_from_slice(&chunk);
        }
        let trailers = body.trailers().await.map_err(broken)?;
        match trailers.as_ref().and_then(Status::from_header_map) {
            Some(status) if status.code() == Code::Ok => unframe(message.freeze()),
            Some(status) => Err(status),
            None => Err(Status::unknown(
                "the peer's answer ended without a gRPC status",
            )),
        }
    }

    /// The open connection, dialled if there is none.
    async fn sender(&self) -> Result<(u64, SendRequest<Bytes>), Status> {
        if let Some(open) = self.current() {
            return Ok(open);
        }
        let _dialling = self.dialling.lock().await;
        if let Some(open) = self.current() {
            return Ok(open);
        }
        let stream = (self.dial)()
            .await
            .map_err(|e| Status::unavailable(format!("cannot connect: {e}")))?;
        let (sender, connection) = h2::client::handshake(stream)
            .await
            .map_err(|e| Status::unavailable(format!("HTTP/2 handshake: {e}")))?;
        let generation = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            open.generation += 1;
            open.sender = Some(sender.clone());
            open.generation
        };
        let open = Arc::downgrade(&self.open);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "peer connection closed");
            }
            if let Some(open) = open.upgrade() {
                forget(&open, generation);
            }
        });
        Ok((generation, sender))
    }

    fn current(&self) -> Option<(u64, SendRequest<Bytes>)> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.sender.clone().map(|s| (open.generation, s))
    }

    fn forget(&self, generation: u64) {
        forget(&self.open, generation);
    }
}

/// Forgets connection `generation` if it is still the open one (a newer one stays).
fn forget(open: &Mutex<Open>, generation: u64) {
    let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
    if open.generation == generation {
        open.sender = None;
    }
}

/// A status the peer sent in headers: OK there without a message is no answer.
fn status_or_ok(status: Status) -> Status {
    if status.code() == Code::Ok {
        Status::unknown("the peer answered OK without a message")
    } else {
        status
    }
}

/// A broken stream or connection, coded as tonic codes it, so the retry rules stay the same;
/// a connection that broke or went away is UNAVAILABLE, worth trying on another replica.
fn stream_error(e: h2::Error) -> Status {
    if e.is_io() || e.is_go_away() {
        Status::unavailable(format!("the connection broke: {e}"))
    } else {
        Status::from_error(Box::new(e))
    }
}

/// An HTTP answer without a gRPC status, as gRPC maps HTTP codes.
fn http_status(status: StatusCode) -> Status {
    let code = match status {
        StatusCode::BAD_REQUEST => Code::Internal,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::Unimplemented,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
        _ => Code::Unknown,
    };
    Status::new(code, format!("the peer answered HTTP {status}"))
}

/// A message as one gRPC frame: not compressed, its length big-endian, the message.
pub fn frame(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut out = BytesMut::with_capacity(5 + len);
    out.put_u8(0);
    out.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message.encode_raw(&mut out);
    out.freeze()
}

/// The one message of a unary answer: exactly one uncompressed frame, whole.
pub fn unframe(mut body: Bytes) -> Result<Bytes, Status> {
    if body.len() < 5 {
        return Err(Status::internal("the peer's answer holds no message"));
    }
    if body[0] != 0 {
        return Err(Status::internal(
            "the peer's answer is compressed, which was not asked for",
        ));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() - 5 != len {
        return Err(Status::internal(format!(
            "the peer's answer frames {len} bytes but carries {}",
            body.len() - 5
        )));
    }
    Ok(body.split_off(5))
}

/// A `grpc-timeout` value: at most 8 digits, in the finest unit that fits (as tonic writes it).
pub fn grpc_timeout(left: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let micros = left.as_micros();
    if micros <= MAX {
        return format!("{micros}u");
    }
    let millis = left.as_millis();
    if millis <= MAX {
        return format!("{millis}m");
    }
    format!("{}S", left.as_secs().min(MAX as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
    use huren_proto::v1::{ResolveStatusRequest, ResolveStatusResponse};
    use prost::Message as _;

    #[test]
    fn a_framed_message_unframes_to_itself() {
        let sent = ResolveStatusRequest {
            issuing_region: "410000".into(),
            code_id: "c-1".into(),
            request_id: "ab".repeat(16),
            ..Default::default()
        };
        let framed = frame(&sent);
        assert_eq!(framed[0], 0);
        assert_eq!(
            u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]]) as usize,
            framed.len() - 5
        );
        let back = unframe(framed).expect("one whole frame");
        assert_eq!(ResolveStatusRequest::decode(back).expect("decodes"), sent);
        // An empty message is a frame too (a default answer).
        let empty = frame(&ResolveStatusResponse::default());
        assert_eq!(&empty[..], &[0, 0, 0, 0, 0]);
        assert_eq!(unframe(empty).expect("empty message").len(), 0);
    }

    #[test]
    fn a_short_long_or_compressed_answer_is_refused() {
        let whole = frame(&ResolveStatusRequest {
            code_id: "c-1".into(),
            ..Default::default()
        });
        assert_eq!(
            unframe(Bytes::new()).expect_err("empty").code(),
            Code::Internal
        );
        assert!(unframe(whole.slice(..4)).is_err(), "no whole header");
        assert!(
            unframe(whole.slice(..whole.len() - 1)).is_err(),
            "cut short"
        );
        let mut longer = BytesMut::from(&whole[..]);
        longer.put_u8(7);
        assert!(unframe(longer.freeze()).is_err(), "trailing bytes");
        let mut compressed = BytesMut::from(&whole[..]);
        compressed[0] = 1;
        assert!(unframe(compressed.freeze()).is_err(), "compressed");
    }

    #[test]
    fn timeouts_use_the_finest_unit_of_at_most_eight_digits() {
        assert_eq!(grpc_timeout(Duration::from_millis(500)), "500000u");
        assert_eq!(grpc_timeout(Duration::from_micros(99_999_999)), "99999999u");
        assert_eq!(grpc_timeout(Duration::from_micros(100_000_000)), "100000m");
        assert_eq!(grpc_timeout(Duration::from_millis(99_999_999)), "99999999m");
        assert_eq!(grpc_timeout(Duration::from_millis(100_000_000)), "100000S");
        assert_eq!(grpc_timeout(Duration::from_secs(u64::MAX)), "99999999S");
        assert_eq!(grpc_timeout(Duration::ZERO), "0u");
    }

    #[test]
    fn http_answers_without_a_grpc_status_map_as_grpc_maps_them() {
        assert_eq!(
            http_status(StatusCode::SERVICE_UNAVAILABLE).code(),
            Code::Unavailable
        );
        assert_eq!(
            http_status(StatusCode::TOO_MANY_REQUESTS).code(),
            Code::Unavailable
        );
        assert_eq!(
            http_status(StatusCode::BAD_GATEWAY).code(),
            Code::Unavailable
        );
        assert_eq!(
            http_status(StatusCode::GATEWAY_TIMEOUT).code(),
            Code::Unavailable
        );
        assert_eq!(http_status(StatusCode::BAD_REQUEST).code(), Code::Internal);
        assert_eq!(
            http_status(StatusCode::UNAUTHORIZED).code(),
            Code::Unauthenticated
        );
        assert_eq!(
            http_status(StatusCode::FORBIDDEN).code(),
            Code::PermissionDenied
        );
        assert_eq!(
            http_status(StatusCode::NOT_FOUND).code(),
            Code::Unimplemented
        );
        assert_eq!(http_status(StatusCode::IM_A_TEAPOT).code(), Code::Unknown);
    }

    #[test]
    fn a_reset_stream_keeps_the_code_tonic_gives_it() {
        // (A broken connection, UNAVAILABLE, has no public constructor in h2: the federation
        // tests kill a replica whose connection is up instead.)
        assert_eq!(
            stream_error(h2::Error::from(h2::Reason::REFUSED_STREAM)).code(),
            Code::Unavailable
        );
        assert_eq!(
            stream_error(h2::Error::from(h2::Reason::CANCEL)).code(),
            Code::Cancelled
        );
        assert_eq!(
            stream_error(h2::Error::from(h2::Reason::PROTOCOL_ERROR)).code(),
            Code::Internal
        );
    }

    /// The headers a trailers-only answer carries.
    fn status_headers(code: Code, message: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let _ = Status::new(code, message).add_header(&mut h);
        h
    }

    #[test]
    fn a_status_in_the_headers_is_a_refusal_and_ok_there_is_no_answer() {
        let refused = Status::from_header_map(&status_headers(Code::PermissionDenied, "no"))
            .expect("a status");
        assert_eq!(status_or_ok(refused).code(), Code::PermissionDenied);
        let ok = Status::from_header_map(&status_headers(Code::Ok, "")).expect("a status");
        assert_eq!(status_or_ok(ok).code(), Code::Unknown);
    }
}
