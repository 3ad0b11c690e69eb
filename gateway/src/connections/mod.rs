//! The node serves its own HTTP/2 connections (hyper), rather than handing them to tonic's
//! server, so that a call can be decided **while it arrives**.
//!
//! hyper calls a connection's service on the connection's own task, once for each request, as its
//! headers arrive. tonic's server turns that call into a future that first runs on the call's own
//! task, behind every task queued before it: under load, 70–110 ms after the call was sent, and
//! only then could the node take a permit or refuse. Here the call is decided there and then
//! ([`arrival`]), and a refused call is answered there too ([`inline`]), so a burst over the
//! node's limit is refused as it comes in and its callers hear so at once.
//!
//! The rest is what tonic's server did: the node's HTTP/2 settings, the connection's identity in
//! every request's extensions, an error from the pipeline answered as a gRPC status, and a
//! graceful shutdown that stops accepting, lets each connection finish its calls, and waits for
//! them.

mod arrival;
mod inline;

use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::transport::server::Connected;

use crate::acceptor::PeerStream;

pub use arrival::{Pipeline, Stack};

/// The HTTP/2 settings every connection is served with.
#[derive(Debug, Clone, Copy)]
pub struct Http2 {
    /// Streams a client may have open at once on one connection.
    pub max_concurrent_streams: u32,
    /// The largest request header block accepted.
    pub max_header_list_size: u32,
    /// How often an idle connection is pinged, and how long the answer may take.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
}

/// Serves every connection `incoming` yields through `pipeline`, until `drain` completes; then
/// stops accepting (dropping `incoming`, which closes the listener), asks every connection to
/// finish its calls and close, and returns once they have. Dropping the returned future cuts
/// every connection at once.
pub async fn serve<I>(
    incoming: I,
    pipeline: Pipeline,
    http2: Http2,
    drain: impl Future<Output = ()>,
) where
    I: Stream<Item = Result<PeerStream, io::Error>>,
{
    let pipeline = Arc::new(pipeline);
    let mut builder = Builder::new(inline::Executor).http2_only();
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(http2.max_concurrent_streams)
        .max_header_list_size(http2.max_header_list_size)
        .keep_alive_interval(http2.keepalive_interval)
        .keep_alive_timeout(http2.keepalive_timeout);
    // Every connection holds a receiver: the sender asks them all to close. The connections
    // are tasks of this one, so that when the node's drain bound cuts this task short, they are
    // cut with it.
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    {
        let mut incoming = pin!(incoming);
        let mut drain = pin!(drain);
        loop {
            let stream = tokio::select! {
                () = &mut drain => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                next = incoming.next() => match next {
                    Some(Ok(stream)) => stream,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "a connection failed before it could be served");
                        continue;
                    }
                    None => break,
                },
            };
            let service = arrival::Arrive::new(pipeline.clone(), stream.connect_info());
            connections.spawn(connection(builder.clone(), stream, service, closed.clone()));
        }
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}

/// One connection, served until it ends or the node asks it to close.
async fn connection(
    builder: Builder<inline::Executor>,
    stream: PeerStream,
    service: arrival::Arrive,
    mut closing: watch::Receiver<bool>,
) {
    let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let mut asked = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            _ = closing.changed(), if !asked => {
                asked = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
