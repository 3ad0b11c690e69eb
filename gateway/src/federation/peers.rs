//! The connections to other nodes, for forwarded reads and for the national fan-out alike: one
//! mTLS channel per replica pinned to the SPIFFE id the registry lists, under the CA of its
//! province, chosen by the power of two choices on in-flight calls, retried on another replica
//! when one is UNAVAILABLE within the caller's deadline, each behind its own circuit breaker.
//!
//! The routes to every listed node are built once per registry version ([`Routes`]); a replica's
//! channel is kept across versions only while its URL, SPIFFE id and CA are unchanged, so a
//! registry that moves, renames or re-roots a node is never answered on the old channel.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use huren_adapters::codec::GroupVerifier;
use huren_adapters::net::breaker::{Admission, Breaker, BreakerConfig, State};
use huren_adapters::net::{ClientIdentity, pinned_client_config};
use huren_proto::v1::{ResolveStatusRequest, ResolveStatusResponse};
use huren_registry::Registry;
use hyper_util::rt::TokioIo;
use prost::Message as _;
use rand::Rng;
use rustls_pki_types::ServerName;
use sha2::{Digest, Sha256};
use tonic::transport::{Channel, Endpoint};

use crate::federation::index::NodeIndex;
use crate::federation::serve::RESOLVE_STATUS;
use crate::federation::statement::ListedKey;
use crate::federation::unary::{self, Dial, Unary};
use crate::metrics_catalog::{PEER_BREAKER_OPEN, PEER_BREAKER_TRIPS};

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

/// One replica of a node: its channels, the calls out on them, and its breaker.
pub struct Replica {
    node: String,
    url: String,
    channel: Channel,
    /// The same pinned replica for the forwarded read, called on the caller's task.
    unary: Unary,
    in_flight: AtomicUsize,
    breaker: Breaker,
}

impl Replica {
    /// Records a call's outcome; a circuit that opens or closes is shown, and an opening
    /// counted. Shown on change only: an open circuit stays shown open until a probe closes it.
    fn record(&self, success: bool) {
        let was_open = is_open(self.breaker.state());
        self.breaker.record(success, Instant::now());
        let open = is_open(self.breaker.state());
        if open && !was_open {
            metrics::counter!(PEER_BREAKER_TRIPS, "node" => self.node.clone(), "endpoint" => self.url.clone())
                .increment(1);
        }
        if open != was_open {
            self.gauge().set(if open { 1.0 } else { 0.0 });
        }
    }

    fn gauge(&self) -> metrics::Gauge {
        metrics::gauge!(PEER_BREAKER_OPEN, "node" => self.node.clone(), "endpoint" => self.url.clone())
    }
}

/// Open, or half-open with a probe out: not taking ordinary calls.
fn is_open(state: State) -> bool {
    !matches!(state, State::Closed { .. })
}

/// The way to one node in one registry version: its replicas, or why it cannot be reached.
pub struct Route {
    pub replicas: Vec<Arc<Replica>>,
}

/// Every listed node's route and the node lookups of one registry version.
pub struct Routes {
    pub index: Arc<NodeIndex>,
    nodes: HashMap<String, Result<Route, PeerError>>,
    /// Each node's statement key, decoded once for the version.
    keys: HashMap<String, ListedKey>,
}

impl Routes {
    /// The statement key the registry lists for `node_id`.
    pub fn key(&self, node_id: &str) -> Option<&ListedKey> {
        self.keys.get(node_id)
    }

    /// The route to `node_id`, or why there is none.
    pub fn route(&self, node_id: &str) -> Result<&Route, PeerError> {
        match self.nodes.get(node_id) {
            Some(Ok(route)) => Ok(route),
            Some(Err(e)) => Err(e.clone()),
            None => Err(PeerError::UnknownNode(node_id.to_string())),
        }
    }
}

/// What a replica's channel is pinned to: a change of any part is a new channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ReplicaKey {
    url: String,
    spiffe_id: String,
    /// SHA-256 of the CA certificate the replica must chain to.
    ca: [u8; 32],
}

/// Every peer replica this node calls, by registry version.
pub struct Peers {
    identity: Option<ClientIdentity>,
    breaker: BreakerConfig,
    routes: Mutex<Option<Arc<Routes>>>,
    /// The replicas of the current routes, by what they are pinned to.
    replicas: Mutex<HashMap<ReplicaKey, Arc<Replica>>>,
    /// The statements of the forwarded reads in flight, checked together.
    statements: GroupVerifier,
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
            routes: Mutex::new(None),
            replicas: Mutex::new(HashMap::new()),
            statements: GroupVerifier::default(),
        }
    }

    /// Checks the Ed25519 signatures of the statements that come back to concurrent forwarded
    /// reads together ([`crate::federation::statement::verify_grouped`]).
    pub fn statement_group(&self) -> &GroupVerifier {
        &self.statements
    }

    /// The routes of `registry`'s version, built on first use of that version.
    pub fn routes(&self, registry: &Registry) -> Arc<Routes> {
        let mut held = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(routes) = held
            .as_ref()
            .filter(|r| r.index.version() == registry.version())
        {
            return routes.clone();
        }
        let routes = Arc::new(self.build(registry));
        *held = Some(routes.clone());
        routes
    }

    /// Routes to every node `registry` lists, keeping the replicas whose pinning is unchanged.
    fn build(&self, registry: &Registry) -> Routes {
        let mut cache = self.replicas.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kept = HashMap::new();
        let mut nodes = HashMap::new();
        let mut keys = HashMap::new();
        for (id, node) in registry.nodes() {
            let route = self.route(registry, id, node, &mut cache, &mut kept);
            nodes.insert(id.clone(), route);
            keys.insert(id.clone(), ListedKey::new(&node.receipt_key));
        }
        // A replica no longer listed (or pinned differently) is dropped once its calls end;
        // its breaker is no longer shown open.
        for (key, gone) in cache.drain() {
            if !kept.contains_key(&key) && is_open(gone.breaker.state()) {
                gone.gauge().set(0.0);
            }
        }
        *cache = kept;
        Routes {
            index: Arc::new(NodeIndex::build(registry)),
            nodes,
            keys,
        }
    }

    fn route(
        &self,
        registry: &Registry,
        id: &str,
        node: &huren_registry::doc::Node,
        cache: &mut HashMap<ReplicaKey, Arc<Replica>>,
        kept: &mut HashMap<ReplicaKey, Arc<Replica>>,
    ) -> Result<Route, PeerError> {
        let urls = node.replica_urls();
        if urls.is_empty() {
            return Err(PeerError::NoEndpoint(id.to_string()));
        }
        let ca = node_ca(registry, &node.spiffe_id).ok_or_else(|| PeerError::Setup {
            node: id.to_string(),
            url: urls.join(" "),
            why: format!("no region CA delegated for {}", node.spiffe_id),
        })?;
        let ca_digest: [u8; 32] = Sha256::digest(&ca).into();
        let mut replicas = Vec::with_capacity(urls.len());
        for url in urls {
            let key = ReplicaKey {
                url: url.to_string(),
                spiffe_id: node.spiffe_id.clone(),
                ca: ca_digest,
            };
            let replica = match cache.get(&key).or_else(|| kept.get(&key)) {
                Some(r) if r.node == id => r.clone(),
                _ => {
                    let (channel, unary) =
                        pinned_channels(url, &node.spiffe_id, &ca, self.identity.as_ref())
                            .map_err(|why| PeerError::Setup {
                                node: id.to_string(),
                                url: url.to_string(),
                                why,
                            })?;
                    let replica = Arc::new(Replica {
                        node: id.to_string(),
                        url: url.to_string(),
                        channel,
                        unary,
                        in_flight: AtomicUsize::new(0),
                        breaker: Breaker::new(self.breaker),
                    });
                    // Declared at 0, without overwriting what another node in this process shows.
                    replica.gauge().increment(0.0);
                    metrics::counter!(PEER_BREAKER_TRIPS, "node" => id.to_string(), "endpoint" => url.to_string())
                        .increment(0);
                    replica
                }
            };
            kept.insert(key, replica.clone());
            replicas.push(replica);
        }
        Ok(Route { replicas })
    }

    /// Asks node `node_id` (as `registry` lists it) for a status read by `deadline`.
    pub async fn resolve(
        &self,
        routes: &Routes,
        node_id: &str,
        req: ResolveStatusRequest,
        deadline: Instant,
    ) -> Result<ResolveStatusResponse, PeerError> {
        // Encoded once, whichever replicas it goes to.
        let frame = unary::frame(&req);
        self.call_on(routes, node_id, deadline, |replica, time_left| {
            let frame = frame.clone();
            async move {
                let answer = replica.unary.call(RESOLVE_STATUS, frame, time_left).await?;
                ResolveStatusResponse::decode(answer)
                    .map_err(|e| tonic::Status::internal(format!("undecodable answer: {e}")))
            }
        })
        .await
    }

    /// Makes one call to node `node_id` by `deadline`: `ask` gets a replica's channel and the
    /// time left, on a replica chosen by the power of two choices, and again on another one after
    /// an UNAVAILABLE while time is left.
    pub async fn call<T, F, Fut>(
        &self,
        routes: &Routes,
        node_id: &str,
        deadline: Instant,
        ask: F,
    ) -> Result<T, PeerError>
    where
        F: Fn(Channel, Duration) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        self.call_on(routes, node_id, deadline, |replica, time_left| {
            ask(replica.channel.clone(), time_left)
        })
        .await
    }

    /// [`Peers::call`] with the replica itself handed to `ask`.
    async fn call_on<'r, T, F, Fut>(
        &self,
        routes: &'r Routes,
        node_id: &str,
        deadline: Instant,
        ask: F,
    ) -> Result<T, PeerError>
    where
        F: Fn(&'r Replica, Duration) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let replicas = &routes.route(node_id)?.replicas;
        let mut left: Vec<usize> = (0..replicas.len()).collect();
        let mut last = String::from("every replica's circuit is open");
        let mut timed_out = false;
        while !left.is_empty() {
            let now = Instant::now();
            if deadline <= now {
                last = format!("deadline passed ({last})");
                timed_out = true;
                break;
            }
            let loads: Vec<(usize, usize)> = left
                .iter()
                .copied()
                .filter(|&i| replicas[i].breaker.admit(now) != Admission::Refused)
                .map(|i| (i, replicas[i].in_flight.load(Ordering::Relaxed)))
                .collect();
            let Some(pick) = choose(&loads, &mut rand::thread_rng()) else {
                break;
            };
            left.retain(|&i| i != pick);
            match attempt(&replicas[pick], deadline, &ask).await {
                Ok(response) => return Ok(response),
                Err(Failed::Retry(why)) => last = why,
                Err(Failed::TimedOut) => {
                    last = "no answer by the deadline".to_string();
                    timed_out = true;
                }
                Err(Failed::Refused(status)) => return Err(refused(node_id, &status)),
            }
        }
        let (node, why) = (node_id.to_string(), last);
        Err(match timed_out {
            true => PeerError::Deadline { node, why },
            false => PeerError::Unavailable { node, why },
        })
    }

    /// Makes one call to every replica of node `node_id` at once, each by `deadline`: the
    /// answers (or why none came) in the order the registry lists the replicas. A replica whose
    /// circuit is open is not asked.
    pub async fn call_each<T, F, Fut>(
        &self,
        routes: &Routes,
        node_id: &str,
        deadline: Instant,
        ask: F,
    ) -> Result<Vec<(String, Result<T, PeerError>)>, PeerError>
    where
        F: Fn(Channel, Duration) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let replicas = &routes.route(node_id)?.replicas;
        let ask = &ask;
        let asks = replicas.iter().map(|replica| async move {
            let node = node_id.to_string();
            let answer = if replica.breaker.admit(Instant::now()) == Admission::Refused {
                Err(PeerError::Unavailable {
                    node,
                    why: "its circuit is open".to_string(),
                })
            } else {
                let ask = |replica: &Replica, time_left| ask(replica.channel.clone(), time_left);
                attempt(replica, deadline, &ask).await.map_err(|f| match f {
                    Failed::Retry(why) => PeerError::Unavailable { node, why },
                    Failed::TimedOut => PeerError::Deadline {
                        node,
                        why: "no answer by the deadline".to_string(),
                    },
                    Failed::Refused(status) => refused(node_id, &status),
                })
            };
            (replica.url.clone(), answer)
        });
        Ok(futures::future::join_all(asks).await)
    }
}

/// Why one replica gave no answer.
enum Failed {
    /// The replica (or the path to it) failed: another may answer.
    Retry(String),
    TimedOut,
    /// The replica answered with a refusal: another would refuse too.
    Refused(tonic::Status),
}

/// One call on one replica, counted in its in-flight figure and its breaker.
async fn attempt<'r, T, F, Fut>(
    replica: &'r Replica,
    deadline: Instant,
    ask: &F,
) -> Result<T, Failed>
where
    F: Fn(&'r Replica, Duration) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let Some(time_left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    else {
        return Err(Failed::TimedOut);
    };
    let answer = {
        // Counted down on drop too: a caller that goes away mid-call must not leave the
        // replica looking busy for good.
        let _in_flight = InFlight::enter(&replica.in_flight);
        tokio::time::timeout(time_left, ask(replica, time_left)).await
    };
    match answer {
        Ok(Ok(response)) => {
            replica.record(true);
            Ok(response)
        }
        Ok(Err(status)) if retryable(status.code()) => {
            replica.record(false);
            Err(Failed::Retry(format!(
                "{}: {}",
                status.code(),
                status.message()
            )))
        }
        Ok(Err(status)) => {
            replica.record(true);
            Err(Failed::Refused(status))
        }
        Err(_) => {
            replica.record(false);
            Err(Failed::TimedOut)
        }
    }
}

fn refused(node_id: &str, status: &tonic::Status) -> PeerError {
    PeerError::Refused {
        node: node_id.to_string(),
        status: format!("{}: {}", status.code(), status.message()),
        code: status.code(),
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

/// A lazy channel to `url` over TLS pinned to `spiffe_id` under `ca`, presenting `identity`,
/// and the unary caller dialling the same way.
fn pinned_channels(
    url: &str,
    spiffe_id: &str,
    ca: &[u8],
    identity: Option<&ClientIdentity>,
) -> Result<(Channel, Unary), String> {
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
    let dial: Dial = Arc::new(move || {
        let (tls, host, server_name) = (tls.clone(), host.clone(), server_name.clone());
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            let _ = tcp.set_nodelay(true);
            tls.connect(server_name, tcp).await
        })
    });
    let connector = {
        let dial = dial.clone();
        tower::service_fn(move |_: http::Uri| {
            let stream = dial();
            async move { Ok::<_, std::io::Error>(TokioIo::new(stream.await?)) }
        })
    };
    let channel = endpoint.connect_with_connector_lazy(connector);
    Ok((channel, Unary::new(dial, authority)))
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
