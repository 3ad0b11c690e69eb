//! Assembles the gateway: the request pipeline in one readable place, the services, health and
//! reflection, the admin listener, and shutdown (NOT_SERVING, then a bounded drain).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use huren_proto::v1::appeals_relay_service_server::AppealsRelayServiceServer;
use huren_proto::v1::appeals_service_server::AppealsServiceServer;
use huren_proto::v1::coordination_service_server::CoordinationServiceServer;
use huren_proto::v1::federation_service_server::FederationServiceServer;
use huren_proto::v1::lookup_service_server::LookupServiceServer;
use huren_proto::v1::manifests_service_server::ManifestsServiceServer;
use huren_proto::v1::node_summary_service_server::NodeSummaryServiceServer;
use huren_proto::v1::recognition_service_server::RecognitionServiceServer;
use huren_proto::v1::registry_service_server::RegistryServiceServer;
use huren_proto::v1::witness_service_server::WitnessServiceServer;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{BoxError, ServiceBuilder, ServiceExt};

use crate::acceptor::{self, AcceptOptions};
use crate::authz::AuthzLayer;
use crate::config::{Config, ConfigError};
use crate::connections::{self, Pipeline, Stack};
use crate::limits::{Admission, DeadlineLayer, OversizeLayer};
use crate::metrics::MetricsLayer;
use crate::node_admission::NodeAdmission;
use crate::policy::Policy;
use crate::readiness::Readiness;
use crate::services::{
    Services, appeals, coordination, federation, lookup, manifests, node_summary, recognition,
    registry, witness,
};
use crate::tls::{self, TlsError, TlsFiles, TlsReloader};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Everything needed to start a gateway; `start` binds and returns a running [`Gateway`].
pub struct GatewayBuilder {
    config: Config,
    tls: TlsFiles,
    policy: Policy,
    services: Services,
    extra: RoutesBuilder,
}

impl GatewayBuilder {
    pub fn new(config: Config, tls: TlsFiles) -> Self {
        Self {
            config,
            tls,
            policy: Policy::default(),
            services: Services::default(),
            extra: RoutesBuilder::default(),
        }
    }

    /// TLS files taken from the config (a PKI directory or explicit files).
    pub fn from_config(config: Config) -> Result<Self, ServeError> {
        let tls = config.tls_files()?;
        Ok(Self::new(config, tls))
    }

    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    pub fn services(mut self, services: Services) -> Self {
        self.services = services;
        self
    }

    /// Serves one more gRPC service behind the same pipeline; open its methods in the policy.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower_service::Service<http::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.extra.add_service(service);
        self
    }

    /// Binds the listeners and starts serving.
    pub async fn start(self) -> Result<Gateway, ServeError> {
        let GatewayBuilder {
            config,
            tls: files,
            policy,
            services,
            mut extra,
        } = self;
        // Also here, for configs built in code rather than loaded from a file.
        config.check()?;
        tls::install_crypto_provider();
        let limits = &config.limits;
        let (reloader, tls_rx) = TlsReloader::new(tls::load(&files)?);

        let listener = acceptor::bind(config.listen, limits.listen_backlog).map_err(|source| {
            ServeError::Bind {
                addr: config.listen,
                source,
            }
        })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        let accept = AcceptOptions {
            backlog: limits.listen_backlog,
            handshake_timeout: Duration::from_millis(limits.handshake_timeout_ms),
            tcp_keepalive: (limits.tcp_keepalive_secs > 0)
                .then(|| Duration::from_secs(limits.tcp_keepalive_secs)),
            max_handshakes: limits.max_handshakes,
        };
        let incoming = acceptor::incoming(listener, tls_rx, accept);

        let readiness = services.readiness.clone();
        // Gateway callers are admitted against the same registry the services judge with.
        let nodes = NodeAdmission::new(services.registry.shared.clone());
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in huren_proto::SERVICE_NAMES {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let max = limits.max_message_bytes;
        // One bucket per caller for lookups by ID card, taken by LookupPerson here and by the
        // lookups other nodes forward here for their callers: spreading lookups over several
        // entry nodes gives no more than this node's rate.
        let lookups = Arc::new(crate::lookup::Buckets::new(limits.lookup_rate()));
        let appeals_desk = appeals::AppealsDesk::new(services.appeals, limits.appeal_rate());
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(huren_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                // google.rpc error details, so grpcurl can show ErrorInfo in plain words.
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        };
        // grpcurl 1.8 only speaks v1alpha; newer tools ask v1.
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;
        extra
            .add_service(health_service.max_decoding_message_size(max))
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(
                RecognitionServiceServer::new(recognition::Recognition::new(
                    services.recognition.clone(),
                ))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            )
            .add_service(
                ManifestsServiceServer::new(manifests::Manifests::new(services.manifests))
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            )
            .add_service(
                NodeSummaryServiceServer::new(node_summary::NodeSummary::new(
                    services.coordination.clone(),
                ))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            )
            .add_service(
                CoordinationServiceServer::new(coordination::Coordination::new(
                    services.coordination,
                ))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            )
            .add_service(
                RegistryServiceServer::new(registry::RegistryDistribution::new(services.registry))
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            )
            .add_service(
                FederationServiceServer::new(federation::Federation::new(
                    services.federation,
                    lookups.clone(),
                ))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            )
            .add_service(
                WitnessServiceServer::new(witness::Witness::new(services.witness))
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            )
            .add_service(
                AppealsServiceServer::new(appeals_desk.clone())
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            )
            .add_service(
                LookupServiceServer::new(lookup::Lookup::new(services.recognition, lookups))
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            )
            .add_service(
                AppealsRelayServiceServer::new(appeals_desk)
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            );

        // The pipeline, outermost first: decide admission as the call arrives (on its
        // connection's task); then count everything, refuse strangers before any work, bound
        // time, and report oversize messages as the limit they are. A refused call still passes
        // the count and the stranger check, then gets its ready answer.
        let admission = Admission::new(limits.max_in_flight, limits.max_queue())
            .admission_wait(limits.admission_wait());
        let authz = AuthzLayer::new(policy, nodes);
        let admitted = ServiceBuilder::new()
            .layer(MetricsLayer)
            .layer(authz.clone())
            .layer(DeadlineLayer::new(limits.request_timeout_cap()))
            .layer(OversizeLayer)
            .service(extra.routes())
            .map_err(BoxError::from);
        let pipeline = Pipeline::new(admission, Stack::new(admitted), |refuse| {
            Stack::new(
                ServiceBuilder::new()
                    .layer(MetricsLayer)
                    .layer(authz)
                    .service(refuse)
                    .map_err(BoxError::from),
            )
        });
        let http2 = connections::Http2 {
            max_concurrent_streams: limits.max_concurrent_streams,
            max_header_list_size: limits.max_header_list_bytes,
            keepalive_interval: Duration::from_secs(limits.http2_keepalive_interval_secs),
            keepalive_timeout: Duration::from_secs(limits.http2_keepalive_timeout_secs),
        };

        let ready = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = watch::channel(false);
        let (admin_stop_tx, admin_stop_rx) = watch::channel(false);
        let (admin_addr, admin_task) = match config.admin_listen {
            Some(admin) => {
                let (a, t) =
                    crate::admin::spawn(admin, ready.clone(), readiness.clone(), admin_stop_rx)
                        .await
                        .map_err(|source| ServeError::Bind {
                            addr: admin,
                            source,
                        })?;
                (Some(a), Some(t))
            }
            None => (None, None),
        };

        let (drain_tx, drain_rx) = oneshot::channel::<()>();
        let serve = tokio::spawn(connections::serve(incoming, pipeline, http2, async move {
            let _ = drain_rx.await;
        }));
        ready.store(true, Ordering::Release);
        tracing::info!(%addr, admin = ?admin_addr, "huren gateway serving over mutual TLS");
        let follow = tokio::spawn(follow_readiness(readiness, health.clone()));

        let driver = tokio::spawn(drive_shutdown(Shutdown {
            stop: stop_rx,
            serve,
            drain: drain_tx,
            ready,
            health: health.clone(),
            grace: Duration::from_millis(config.shutdown.not_serving_grace_ms),
            bound: Duration::from_millis(config.shutdown.drain_timeout_ms),
            admin_stop: admin_stop_tx,
            admin_task,
            follow,
        }));
        Ok(Gateway {
            addr,
            admin_addr,
            tls: reloader,
            health,
            stop: Arc::new(stop_tx),
            driver,
        })
    }
}

struct Shutdown {
    stop: watch::Receiver<bool>,
    serve: JoinHandle<()>,
    drain: oneshot::Sender<()>,
    ready: Arc<AtomicBool>,
    health: HealthReporter,
    grace: Duration,
    bound: Duration,
    admin_stop: watch::Sender<bool>,
    admin_task: Option<JoinHandle<()>>,
    /// Keeps health in step with [`Readiness`]; stopped before shutdown reports NOT_SERVING.
    follow: JoinHandle<()>,
}

async fn drive_shutdown(mut s: Shutdown) {
    tokio::select! {
        _ = s.stop.wait_for(|stop| *stop) => {}
        ended = &mut s.serve => {
            tracing::error!(?ended, "gRPC server stopped on its own");
            s.follow.abort();
            s.ready.store(false, Ordering::Release);
            let _ = s.admin_stop.send(true);
            return;
        }
    }
    s.ready.store(false, Ordering::Release);
    tracing::info!("shutting down: reporting NOT_SERVING");
    // Stopped first, so it cannot report SERVING again once shutdown has begun.
    s.follow.abort();
    let _ = (&mut s.follow).await;
    set_health(&s.health, ServingStatus::NotServing).await;
    tokio::time::sleep(s.grace).await;
    tracing::info!(bound = ?s.bound, "draining calls in flight");
    let _ = s.drain.send(());
    match tokio::time::timeout(s.bound, &mut s.serve).await {
        Ok(Ok(())) => tracing::info!("drained; stopped"),
        Ok(Err(e)) => tracing::warn!(error = %e, "gRPC server task failed"),
        Err(_) => {
            tracing::warn!(bound = ?s.bound, "drain bound reached; cutting the remaining calls");
            s.serve.abort();
        }
    }
    let _ = s.admin_stop.send(true);
    if let Some(task) = s.admin_task {
        let _ = task.await;
    }
}

/// The whole server and every service: SERVING or NOT_SERVING together.
async fn set_health(health: &HealthReporter, status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in huren_proto::SERVICE_NAMES {
        health.set_service_status(name, status).await;
    }
}

/// While serving, reports NOT_SERVING for as long as a readiness condition holds (a stopped
/// audit writer, an expired registry) and SERVING again once it clears.
async fn follow_readiness(mut readiness: Readiness, health: HealthReporter) {
    loop {
        match readiness.blocked() {
            None => set_health(&health, ServingStatus::Serving).await,
            Some(why) => {
                tracing::warn!("not ready, reporting NOT_SERVING: {why}");
                set_health(&health, ServingStatus::NotServing).await;
            }
        }
        readiness.changed().await;
    }
}

/// A running gateway.
pub struct Gateway {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    tls: TlsReloader,
    health: HealthReporter,
    stop: Arc<watch::Sender<bool>>,
    driver: JoinHandle<()>,
}

/// Starts a gateway's shutdown from anywhere (a signal handler, a test).
#[derive(Debug, Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl Gateway {
    /// The gRPC address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Swaps certificates and trust roots at runtime.
    pub fn tls(&self) -> &TlsReloader {
        &self.tls
    }

    pub fn health(&self) -> &HealthReporter {
        &self.health
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.stop.clone())
    }

    /// Reports NOT_SERVING, waits the grace period, drains within the bound, and returns.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        self.wait().await;
    }

    /// Waits until the gateway has stopped (after a [`ShutdownHandle::shutdown`]).
    pub async fn wait(self) {
        if let Err(e) = self.driver.await {
            tracing::warn!(error = %e, "shutdown task failed");
        }
    }
}
