//! Who may call as a `gateway`: only a node the current registry lists, presenting a certificate
//! issued by the CA the registry names for that node.
//!
//! A certificate that says `role/gateway` proves only that some region CA under the national root
//! signed it, and every province runs one. So the role is granted on each call against the
//! registry snapshot of that moment: a node removed from the registry loses it on its next call,
//! even on a connection opened before. The CA the registry names for a node is the region CA its
//! root delegates to the province of the node's SPIFFE id (`Delegation::ca_certificate`), the CA
//! that also anchors that province's issuers.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use huren_registry::Registry;

use crate::identity::{IdentityError, Peer, Role};
use crate::region_ca::issued_by;
use crate::registry_handle::SharedRegistry;

/// Admits gateway callers against the node's hot-reloaded registry.
#[derive(Debug, Clone, Default)]
pub struct NodeAdmission {
    registry: SharedRegistry,
}

/// One connection's last admission, remembered with the registry it was made under, so the
/// certificate's signature is checked once per connection and registry rather than per call.
#[derive(Debug, Clone, Default)]
pub struct AdmissionMemo(Arc<Mutex<Option<Admitted>>>);

#[derive(Debug)]
struct Admitted {
    /// Weak, so the memo never keeps an old registry alive; the pointer alone identifies it.
    under: Weak<Registry>,
    outcome: Result<(), IdentityError>,
}

impl NodeAdmission {
    /// Without a registry (the default) no caller is admitted as a gateway.
    pub fn new(registry: SharedRegistry) -> Self {
        Self { registry }
    }

    /// Lets every role but `gateway` through; a gateway only if [`admit_node`] says so under the
    /// registry of this moment. `leaf_der` is the caller's certificate.
    pub fn check(
        &self,
        peer: &Peer,
        leaf_der: Option<&[u8]>,
        memo: &AdmissionMemo,
    ) -> Result<(), IdentityError> {
        if peer.role != Role::Gateway {
            return Ok(());
        }
        let registry = self
            .registry
            .current()
            .ok_or(IdentityError::NoRegistryForNodes)?;
        let leaf = leaf_der.ok_or(IdentityError::NoCertificate)?;
        let mut held = memo.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(seen) = held.as_ref()
            && Weak::ptr_eq(&seen.under, &Arc::downgrade(&registry))
        {
            return seen.outcome.clone();
        }
        let outcome = admit_node(&registry, peer, leaf);
        *held = Some(Admitted {
            under: Arc::downgrade(&registry),
            outcome: outcome.clone(),
        });
        outcome
    }
}

/// Whether `peer` is a node `registry` lists, by its exact SPIFFE id, and `leaf_der` was issued
/// by the CA of the province in that id, as the registry's delegation names it.
pub fn admit_node(registry: &Registry, peer: &Peer, leaf_der: &[u8]) -> Result<(), IdentityError> {
    let node =
        registry
            .node_of(&peer.spiffe_id)
            .ok_or_else(|| IdentityError::NotARegisteredNode {
                spiffe_id: peer.spiffe_id.clone(),
            })?;
    let province = peer.region.province();
    let mismatch = || IdentityError::NodeCaMismatch {
        node: node.to_string(),
        spiffe_id: peer.spiffe_id.clone(),
        province: province.to_string(),
    };
    let ca = registry
        .root()
        .regions
        .get(province.as_str())
        .ok_or_else(mismatch)?;
    if issued_by(leaf_der, &ca.ca_certificate)? {
        Ok(())
    } else {
        Err(mismatch())
    }
}
