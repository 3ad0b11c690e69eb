//! Authorisation: the role × method [`Policy`] enforced by one tower layer before any handler
//! runs, and the request-content rule handlers apply once they have decoded the request.
//!
//! The layer also answers UNAUTHENTICATED for a connection whose certificate named nobody, or
//! named a `gateway` that is not a node of the current registry ([`NodeAdmission`]), and puts the
//! caller's [`Peer`] (plus tonic's `TlsConnectInfo`, so `Request::peer_certs()` works)
//! into the request extensions for handlers.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use huren_adapters::RegionCode;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::acceptor::PeerConnectInfo;
use crate::error::Error;
use crate::identity::{Peer, Role};
use crate::node_admission::NodeAdmission;
use crate::policy::{Denial, Policy};

use Role::{Carrier, Checkpoint, Province};

/// What a handler asks the request-content rule about.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// VerifyCode / VerifyCodes: `verifying_region` may be empty (the caller's own province).
    Verify { verifying_region: &'a str },
    /// LookupPerson (a person without a phone, by ID card): the same rules as VerifyCode.
    Lookup { verifying_region: &'a str },
    /// ConfirmWorkers: the destination province judges the workers.
    ConfirmWorkers { destination_region: &'a str },
    /// CheckManifest / WatchManifest: the route's destination judges every passenger; a
    /// carrier's route must start in the carrier's own province.
    Manifest {
        origin_region: &'a str,
        destination_region: &'a str,
    },
}

/// The province whose rules apply to this request, or why the caller may not ask for them.
///
/// A checkpoint asks only under its own province's rules; only a province may name another
/// verifying region; a carrier asks only for manifests, under its route's destination, for a
/// route that starts in its own province (a carrier operates from its home province; another
/// province's trains are that province's carriers' to submit). A gateway asks under no rules of
/// its own: federation forwards the original caller's identity, and that caller is the one judged
/// here. Agreements are between provinces, so the answer is a province.
pub fn verifying_region(peer: &Peer, ask: Ask<'_>) -> Result<RegionCode, Error> {
    let (method, field, named) = match ask {
        Ask::Verify { verifying_region } => ("VerifyCode", "verifying_region", verifying_region),
        Ask::Lookup { verifying_region } => ("LookupPerson", "verifying_region", verifying_region),
        Ask::ConfirmWorkers { destination_region } => {
            ("ConfirmWorkers", "destination_region", destination_region)
        }
        Ask::Manifest {
            destination_region, ..
        } => (
            "CheckManifest",
            "manifest.destination_region",
            destination_region,
        ),
    };
    let named = if named.is_empty() {
        None
    } else {
        Some(RegionCode::parse(named).map_err(|e| Error::invalid(field, e))?)
    };
    let deny =
        |reason, message: String| -> Error { Denial::new(reason, peer, method, message).into() };
    match (ask, peer.role, named) {
        (Ask::Verify { .. } | Ask::Lookup { .. }, Checkpoint, None) => Ok(peer.province()),
        (Ask::Verify { .. } | Ask::Lookup { .. }, Checkpoint, Some(r))
            if r.province() == peer.province() =>
        {
            Ok(peer.province())
        }
        (Ask::Verify { .. } | Ask::Lookup { .. }, Checkpoint, Some(r)) => Err(deny(
            "CHECKPOINT_OUTSIDE_OWN_PROVINCE",
            format!(
                "a checkpoint in {} asks only under its own province's rules ({}), not {r}; \
                 leave verifying_region empty or name {}",
                peer.region,
                peer.province(),
                peer.province()
            ),
        )),
        (Ask::Verify { .. } | Ask::Lookup { .. }, Province, r) => {
            Ok(r.unwrap_or(peer.province()).province())
        }
        (Ask::ConfirmWorkers { .. } | Ask::Manifest { .. }, _, None) => Err(Error::invalid(
            field,
            "name the destination province, e.g. 330000",
        )),
        (Ask::ConfirmWorkers { .. }, Province, Some(r)) => Ok(r.province()),
        (Ask::Manifest { origin_region, .. }, Carrier, Some(r)) => {
            starts_at_home(peer, origin_region).map_err(|why| match why {
                Some(message) => deny("CARRIER_OUTSIDE_OWN_PROVINCE", message),
                None => Error::invalid(
                    "manifest.origin_region",
                    format!(
                        "name where the route starts, a region in your own province {}",
                        peer.province()
                    ),
                ),
            })?;
            Ok(r.province())
        }
        (_, role, _) => Err(deny(
            "ROLE_NOT_ALLOWED",
            format!("role {role} may not ask {method} under any region's rules"),
        )),
    }
}

/// Whether a carrier's route starts in the carrier's own province: `Err(None)` when the origin
/// is missing or not a region code, `Err(Some(why))` when it lies in another province.
fn starts_at_home(peer: &Peer, origin: &str) -> Result<(), Option<String>> {
    let origin = RegionCode::parse(origin).map_err(|_| None)?;
    if origin.province() == peer.province() {
        return Ok(());
    }
    Err(Some(format!(
        "a carrier from {} submits only routes that start in its own province {}, not in {origin}",
        peer.region,
        peer.province()
    )))
}

/// The caller of a request, as the authorisation layer put it in the extensions.
pub fn peer<T>(request: &tonic::Request<T>) -> Result<&Peer, Error> {
    shared_peer(request).map(Arc::as_ref)
}

/// [`peer`] as the connection's shared handle, for a call that keeps the caller: cloning it
/// copies no strings.
pub fn shared_peer<T>(request: &tonic::Request<T>) -> Result<&Arc<Peer>, Error> {
    request
        .extensions()
        .get::<Arc<Peer>>()
        .ok_or(Error::Identity(
            crate::identity::IdentityError::NoCertificate,
        ))
}

/// Applies [`Policy`] to every request, after [`NodeAdmission`] for gateway callers.
#[derive(Debug, Clone)]
pub struct AuthzLayer {
    policy: Arc<Policy>,
    nodes: NodeAdmission,
}

impl AuthzLayer {
    pub fn new(policy: Policy, nodes: NodeAdmission) -> Self {
        Self {
            policy: Arc::new(policy),
            nodes,
        }
    }
}

impl<S> Layer<S> for AuthzLayer {
    type Service = Authz<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authz {
            inner,
            policy: self.policy.clone(),
            nodes: self.nodes.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Authz<S> {
    inner: S,
    policy: Arc<Policy>,
    nodes: NodeAdmission,
}

impl<S> Authz<S> {
    /// A `gateway` caller must be a node of the registry of this moment; other roles pass.
    fn admit(&self, peer: &Peer, info: &PeerConnectInfo) -> Result<(), Error> {
        let chain = info.tls.peer_certs();
        let leaf = chain.as_deref().and_then(|c| c.first()).map(|c| c.as_ref());
        self.nodes.check(peer, leaf, &info.admission).map_err(|e| {
            crate::metrics::identity_rejected(e.reason());
            Error::Identity(e)
        })
    }
}

impl<S> Service<http::Request<Body>> for Authz<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let decision = match request.extensions().get::<PeerConnectInfo>() {
            None => Err(Error::Identity(
                crate::identity::IdentityError::NoCertificate,
            )),
            Some(info) => match &info.identity {
                Err(e) => Err(Error::Identity(e.clone())),
                Ok(peer) => self
                    .admit(peer, info)
                    .and_then(|()| Ok(self.policy.check(peer, request.uri().path())?))
                    .map(|()| (peer.clone(), info.tls.clone())),
            },
        };
        match decision {
            Ok((peer, tls)) => {
                let extensions = request.extensions_mut();
                extensions.insert(peer);
                extensions.insert(tls.get_ref().clone());
                extensions.insert(tls);
                // Drive the clone that was made ready; leave a fresh clone for the next call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                inner.call(request).boxed()
            }
            Err(error) => {
                let status = tonic::Status::from(error);
                futures::future::ready(Ok(status.into_http())).boxed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::parse_spiffe_id;

    fn peer(uri: &str) -> Peer {
        parse_spiffe_id(uri, "huren.dev").unwrap()
    }

    #[test]
    fn checkpoint_stays_in_its_province() {
        let cp = peer("spiffe://huren.dev/region/330110/role/checkpoint/g");
        let own = |r| {
            verifying_region(
                &cp,
                Ask::Verify {
                    verifying_region: r,
                },
            )
        };
        assert_eq!(own("").unwrap().as_str(), "330000");
        assert_eq!(own("330100").unwrap().as_str(), "330000");
        let err = tonic::Status::from(own("510000").unwrap_err());
        assert_eq!(err.code(), tonic::Code::PermissionDenied);
        let err = tonic::Status::from(own("51").unwrap_err());
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn a_carriers_route_starts_in_its_own_province() {
        let carrier = peer("spiffe://huren.dev/region/510100/role/carrier/c");
        let ask = |origin| Ask::Manifest {
            origin_region: origin,
            destination_region: "330100",
        };
        assert_eq!(
            verifying_region(&carrier, ask("510104")).unwrap().as_str(),
            "330000"
        );
        let elsewhere = tonic::Status::from(verifying_region(&carrier, ask("330100")).unwrap_err());
        assert_eq!(elsewhere.code(), tonic::Code::PermissionDenied);
        for missing in ["", "51"] {
            let err = tonic::Status::from(verifying_region(&carrier, ask(missing)).unwrap_err());
            assert_eq!(err.code(), tonic::Code::InvalidArgument);
        }
        // A gateway is no carrier: federation forwards the carrier's own identity, judged as above.
        let gateway = peer("spiffe://huren.dev/region/330000/role/gateway/g");
        assert!(verifying_region(&gateway, ask("510000")).is_err());
    }

    #[test]
    fn only_provinces_name_other_regions_and_carriers_only_manifests() {
        let prov = peer("spiffe://huren.dev/region/510000/role/province/p");
        let r = verifying_region(
            &prov,
            Ask::Verify {
                verifying_region: "330000",
            },
        );
        assert_eq!(r.unwrap().as_str(), "330000");
        let carrier = peer("spiffe://huren.dev/region/510000/role/carrier/c");
        let m = verifying_region(
            &carrier,
            Ask::Manifest {
                origin_region: "510100",
                destination_region: "330100",
            },
        );
        assert_eq!(m.unwrap().as_str(), "330000");
        assert!(
            verifying_region(
                &carrier,
                Ask::Verify {
                    verifying_region: ""
                }
            )
            .is_err()
        );
        assert!(
            verifying_region(
                &carrier,
                Ask::Manifest {
                    origin_region: "510000",
                    destination_region: ""
                }
            )
            .is_err()
        );
        let national = peer("spiffe://huren.dev/region/000000/role/national/n");
        assert!(
            verifying_region(
                &national,
                Ask::Verify {
                    verifying_region: ""
                }
            )
            .is_err()
        );
    }
}
