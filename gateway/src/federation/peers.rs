//! The connections to other nodes, for forwarded reads and for the national fan-out alike: one
//! mTLS channel per replica pinned to the SPIFFE id the registry lists, chosen by the power of two
//! choices on in-flight calls, retried on another replica when one is UNAVAILABLE within the
//! caller's deadline, each behind its own circuit breaker.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use huren_adapters::net::breaker::{Admission, Breaker, BreakerConfig};
use huren_adapters::net::{ClientIdentity, pinned_client_config};
use huren_proto::v1::federation_service_client::FederationServiceClient;
use huren_proto::v1::{ResolveStatusRequest, ResolveStatusResponse};
use huren_registry::Registry;
use hyper_util::rt::TokioIo;
use rand::Rng;
use rustls_pki_types::ServerName;
use tonic::transport::{Channel, Endpoint};

/// Why no replica of a node answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PeerError {
    #[error("the registry lists no node {0:?}")]
    UnknownNode(String),
    #[error("node {0} lists no endpoint to reach it on")]
    NoEndpoint(String),
    #[error("node {node}: cannot set up a connection to {url}: {why}")]
    Setup {
        node: String,
        url: String,
        why: String,
    },
    #[error("node {node} unavailable: {why}")]
    Unavailable { node: String, why: String },
    /// No replica answered before the caller's deadline.
    #[error("node {node} unavailable: {why}")]
    Deadline { node: String, why: String },
    #[error("node {node} refused the read: {status}")]
    Refused {
        node: String,
        status: String,
        code: tonic::Code,
    },
}

/// One replica of a node: its channel, the calls out on it, and its breaker.
struct Replica {
    channel: Channel,
    in_flight: AtomicUsize,
    breaker: Breaker,
}

/// Every peer replica this node has called, keyed by URL and the SPIFFE id it is pinned to (a
/// registry change of either makes a new channel).
pub struct Peers {
    identity: Option<ClientIdentity>,
    breaker: BreakerConfig,
    replicas: Mutex<HashMap<(String, String), Arc<Replica>>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").finish_non_exhaustive()
    }
}

impl Peers {
    /// Peers reached with `identity` (the node's gateway certificate) as the client certificate.
    pub fn new(identity: Option<ClientIdentity>, breaker: BreakerConfig) -> Self {
        Self {
            identity,
            breaker,
            replicas: Mutex::new(HashMap::new()),
        }
    }

    /// Asks node `node_id` (as `registry` lists it) for a status read by `deadline`.
    pub async fn resolve(
        &self,
        registry: &Registry,
        node_id: &str,
        req: ResolveStatusRequest,
        deadline: Instant,
    ) -> Result<ResolveStatusResponse, PeerError> {
        self.call(registry, node_id, deadline, |channel, time_left| {
            let mut request = tonic::Request::new(req.clone());
            request.set_timeout(time_left);
            async move {
                FederationServiceClient::new(channel)
                    .resolve_status(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await
    }

    /// Makes one call to node `node_id` (as `registry` lists it) by `deadline`: `ask` gets a
    /// replica's channel and the time left, on a replica chosen by the power of two choices, and
    /// again on another one after an UNAVAILABLE while time is left.
    pub async fn call<T, F, Fut>(
        &self,
        registry: &Registry,
        node_id: &str,
        deadline: Instant,
        ask: F,
    ) -> Result<T, PeerError>
    where
        F: Fn(Channel, Duration) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let node = registry
            .nodes()
            .get(node_id)
            .ok_or_else(|| PeerError::UnknownNode(node_id.to_string()))?;
        let urls = node.replica_urls();
        if urls.is_empty() {
            return Err(PeerError::NoEndpoint(node_id.to_string()));
        }
        let ca = node_ca(registry, &node.spiffe_id).ok_or_else(|| PeerError::Setup {
            node: node_id.to_string(),
            url: urls.join(" "),
            why: format!("no region CA delegated for {}", node.spiffe_id),
        })?;
        let mut replicas = Vec::with_capacity(urls.len());
        for url in urls {
            replicas.push(self.replica(node_id, url, &node.spiffe_id, &ca)?);
        }
        let mut left: Vec<usize> = (0..replicas.len()).collect();
        let mut last = String::from("every replica's circuit is open");
        let mut timed_out = false;
        while !left.is_empty() {
            let now = Instant::now();
            let Some(time_left) = deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                last = format!("deadline passed ({last})");
                timed_out = true;
                break;
            };
            let admitted: Vec<usize> = left
                .iter()
                .copied()
                .filter(|&i| replicas[i].breaker.admit(now) != Admission::Refused)
                .collect();
            let loads: Vec<(usize, usize)> = admitted
                .iter()
                .map(|&i| (i, replicas[i].in_flight.load(Ordering::Relaxed)))
                .collect();
            let Some(pick) = choose(&loads, &mut rand::thread_rng()) else {
                break;
            };
            left.retain(|&i| i != pick);
            let replica = &replicas[pick];
            let answer = {
                // Counted down on drop too: a caller that goes away mid-call must not leave the
                // replica looking busy for good.
                let _in_flight = InFlight::enter(&replica.in_flight);
                tokio::time::timeout(time_left, ask(replica.channel.clone(), time_left)).await
            };
            match answer {
                Ok(Ok(response)) => {
                    replica.breaker.record(true, Instant::now());
                    return Ok(response);
                }
                Ok(Err(status)) if retryable(status.code()) => {
                    replica.breaker.record(false, Instant::now());
                    last = format!("{}: {}", status.code(), status.message());
                }
                Ok(Err(status)) => {
                    replica.breaker.record(true, Instant::now());
                    return Err(PeerError::Refused {
                        node: node_id.to_string(),
                        status: format!("{}: {}", status.code(), status.message()),
                        code: status.code(),
                    });
                }
                Err(_) => {
                    replica.breaker.record(false, Instant::now());
                    last = "no answer by the deadline".to_string();
                    timed_out = true;
                }
            }
        }
        let (node, why) = (node_id.to_string(), last);
        Err(match timed_out {
            true => PeerError::Deadline { node, why },
            false => PeerError::Unavailable { node, why },
        })
    }

    fn replica(
        &self,
        node_id: &str,
        url: &str,
        spiffe_id: &str,
        ca: &[u8],
    ) -> Result<Arc<Replica>, PeerError> {
        let key = (url.to_string(), spiffe_id.to_string());
        let mut held = self.replicas.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = held.get(&key) {
            return Ok(r.clone());
        }
        let setup = |why: String| PeerError::Setup {
            node: node_id.to_string(),
            url: url.to_string(),
            why,
        };
        let channel = pinned_channel(url, spiffe_id, ca, self.identity.as_ref()).map_err(setup)?;
        let replica = Arc::new(Replica {
            channel,
            in_flight: AtomicUsize::new(0),
            breaker: Breaker::new(self.breaker),
        });
        held.insert(key, replica.clone());
        Ok(replica)
    }
}

/// Codes after which another replica may answer: the replica (or the path to it) failed, not the
/// request.
fn retryable(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

/// The power of two choices: of two distinct candidates drawn at random, the one with fewer calls
/// in flight. `loads` holds (replica, in-flight) pairs.
pub fn choose(loads: &[(usize, usize)], rng: &mut impl Rng) -> Option<usize> {
    match loads {
        [] => None,
        [(only, _)] => Some(*only),
        _ => {
            let a = rng.gen_range(0..loads.len());
            let mut b = rng.gen_range(0..loads.len() - 1);
            if b >= a {
                b += 1;
            }
            let (pa, pb) = (loads[a], loads[b]);
            Some(if pb.1 < pa.1 { pb.0 } else { pa.0 })
        }
    }
}

/// The CA a node's certificate must chain to: the region CA the root delegates to the province in
/// the node's SPIFFE id, as node admission holds callers to.
fn node_ca(registry: &Registry, spiffe_id: &str) -> Option<Vec<u8>> {
    let region = spiffe_id.split("/region/").nth(1)?.split('/').next()?;
    let province = huren_adapters::RegionCode::parse(region).ok()?.province();
    registry
        .root()
        .regions
        .get(province.as_str())
        .map(|d| d.ca_certificate.clone())
}

/// A lazy channel to `url` over TLS pinned to `spiffe_id` under `ca`, presenting `identity`.
fn pinned_channel(
    url: &str,
    spiffe_id: &str,
    ca: &[u8],
    identity: Option<&ClientIdentity>,
) -> Result<Channel, String> {
    let uri: http::Uri = url.parse().map_err(|_| "not a URL".to_string())?;
    let authority = uri.authority().ok_or("no host")?.clone();
    let host = authority.host().trim_matches(['[', ']']).to_string();
    let port = authority.port_u16().unwrap_or(443);
    let server_name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let config = pinned_client_config(ca, spiffe_id, identity).map_err(|e| e.to_string())?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
    // TLS is ours (pinned), so tonic sees plain HTTP/2 on the stream it is handed.
    let endpoint =
        Endpoint::from_shared(format!("http://{authority}")).map_err(|e| e.to_string())?;
    let connector = tower::service_fn(move |_: http::Uri| {
        let (tls, host, server_name) = (tls.clone(), host.clone(), server_name.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            let _ = tcp.set_nodelay(true);
            let stream = tls.connect(server_name, tcp).await?;
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// One call counted in a replica's in-flight figure for as long as it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_choices_never_pick_the_busier_of_the_two_drawn() {
        let mut rng = rand::thread_rng();
        let loads = [(0, 9), (1, 0)];
        for _ in 0..100 {
            assert_eq!(choose(&loads, &mut rng), Some(1));
        }
        assert_eq!(choose(&[(7, 3)], &mut rng), Some(7));
        assert_eq!(choose(&[], &mut rng), None);
    }

    #[test]
    fn two_choices_spread_equal_loads() {
        let mut rng = rand::thread_rng();
        let loads = [(0, 1), (1, 1), (2, 1)];
        let mut seen = [0; 3];
        for _ in 0..300 {
            seen[choose(&loads, &mut rng).unwrap_or(0)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 30), "{seen:?}");
    }

    #[test]
    fn a_call_dropped_mid_flight_is_no_longer_counted() {
        let count = AtomicUsize::new(0);
        let call = async {
            let _in_flight = InFlight::enter(&count);
            std::future::pending::<()>().await;
        };
        let mut call = Box::pin(call);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(count.load(Ordering::Relaxed), 1);
        drop(call);
        assert_eq!(count.load(Ordering::Relaxed), 0);
    }
}
