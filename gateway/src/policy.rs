//! Who may call what: the role × method table, the [`Policy`] built from it, and the
//! [`Denial`] a refused caller gets. Data only; the authorisation layer applies it.

use std::collections::HashMap;

use crate::identity::{Peer, Role};

use Role::{Carrier, Checkpoint, Gateway, National, Province};

const EVERYONE: &[Role] = &Role::ALL;

/// Who may call what (DESIGN.md, "Who uses it"). A method missing here is refused, so a new
/// RPC is closed until someone decides who may call it.
///
/// `Gateway` is another node (admitted only if the registry lists it, see
/// [`crate::node_admission`]) and is not a superuser: it reads the registry and, once federation
/// adds them, calls the node-to-node methods. When it acts for a client, federation carries that
/// client's own identity and the client is the one authorised against this table.
pub const TABLE: &[(&str, &[Role])] = &[
    (
        "/huren.v1.RecognitionService/VerifyCode",
        &[Checkpoint, Province],
    ),
    (
        "/huren.v1.RecognitionService/VerifyCodes",
        &[Checkpoint, Province],
    ),
    ("/huren.v1.RecognitionService/ConfirmWorkers", &[Province]),
    // A person without a phone, looked up by ID card: for those who stand in front of them.
    // Not national (never per-person data), not carriers (a manifest names its passengers'
    // codes), not services.
    (
        "/huren.v1.LookupService/LookupPerson",
        &[Checkpoint, Province],
    ),
    ("/huren.v1.ManifestsService/CheckManifest", &[Carrier]),
    ("/huren.v1.ManifestsService/WatchManifest", &[Carrier]),
    (
        "/huren.v1.CoordinationService/GetNationalSummary",
        &[National],
    ),
    ("/huren.v1.CoordinationService/ListRegions", &[National]),
    // A node's own share of a national query, for the node that fans it out.
    ("/huren.v1.NodeSummaryService/GetNodeSummary", &[Gateway]),
    // Provinces witness the log, gateways sync from each other, national audits it.
    (
        "/huren.v1.RegistryService/GetRegistry",
        &[Province, National, Gateway],
    ),
    (
        "/huren.v1.RegistryService/WatchRegistry",
        &[Province, National, Gateway],
    ),
    (
        "/huren.v1.RegistryService/GetCheckpoint",
        &[Province, National, Gateway],
    ),
    (
        "/huren.v1.RegistryService/GetProofs",
        &[Province, National, Gateway],
    ),
    // Node to node only; the original caller it carries is authorised against this same table.
    ("/huren.v1.FederationService/ResolveStatus", &[Gateway]),
    // Status lists carried node to node: the issuer's signed bytes, checked by the asker.
    ("/huren.v1.FederationService/ListStatusLists", &[Gateway]),
    ("/huren.v1.FederationService/GetStatusList", &[Gateway]),
    // Node to node only: the publisher gathers the witnesses' cosignatures on a new checkpoint.
    ("/huren.v1.WitnessService/AddCheckpoint", &[Gateway]),
    // Appeals (复核): filed by whoever the decision was made for; read by the filer and the
    // issuing province, answered by the issuing province only (the handlers check which).
    (
        "/huren.v1.AppealsService/FileAppeal",
        &[Checkpoint, Province],
    ),
    (
        "/huren.v1.AppealsService/GetAppeal",
        &[Checkpoint, Province],
    ),
    (
        "/huren.v1.AppealsService/ListAppeals",
        &[Checkpoint, Province],
    ),
    ("/huren.v1.AppealsService/AnswerAppeal", &[Province]),
    // Node to node; the original caller it carries is authorised against this same table.
    ("/huren.v1.AppealsRelayService/RelayAppeal", &[Gateway]),
    ("/grpc.health.v1.Health/Check", EVERYONE),
    ("/grpc.health.v1.Health/Watch", EVERYONE),
    (
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        EVERYONE,
    ),
    (
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        EVERYONE,
    ),
];

/// The role × method table as the layer consults it; start from [`Policy::default`].
#[derive(Debug, Clone)]
pub struct Policy {
    methods: HashMap<String, Vec<Role>>,
}

impl Default for Policy {
    fn default() -> Self {
        let methods = TABLE
            .iter()
            .map(|(path, roles)| (path.to_string(), roles.to_vec()))
            .collect();
        Self { methods }
    }
}

impl Policy {
    /// Opens `path` (e.g. "/pkg.Service/Method") to `roles`; for services added outside huren.v1.
    pub fn allow(mut self, path: &str, roles: &[Role]) -> Self {
        self.methods.insert(path.to_string(), roles.to_vec());
        self
    }

    pub fn check(&self, peer: &Peer, path: &str) -> Result<(), Denial> {
        let Some(roles) = self.methods.get(path) else {
            return Err(Denial::new(
                "UNKNOWN_METHOD",
                peer,
                path,
                format!("{path} is not a method this gateway serves"),
            ));
        };
        if roles.contains(&peer.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Denial::new(
            "ROLE_NOT_ALLOWED",
            peer,
            path,
            format!(
                "role {} ({}) may not call {path}; it is open to: {}",
                peer.role,
                peer.spiffe_id,
                allowed.join(", ")
            ),
        ))
    }
}

/// A refusal of a known caller, with a stable reason for `ErrorInfo`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Denial {
    pub reason: &'static str,
    pub role: Role,
    pub method: String,
    pub message: String,
}

impl Denial {
    pub(crate) fn new(reason: &'static str, peer: &Peer, method: &str, message: String) -> Self {
        Self {
            reason,
            role: peer.role,
            method: method.to_string(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_huren_method_is_in_the_table() {
        let policy = Policy::default();
        for service in huren_proto::SERVICE_NAMES {
            assert!(
                policy
                    .methods
                    .keys()
                    .any(|p| p.starts_with(&format!("/{service}/"))),
                "{service} has no entry"
            );
        }
    }

    #[test]
    fn a_gateway_reads_the_registry_and_judges_nothing() {
        for (path, roles) in TABLE {
            // Node-to-node methods: the registry, and a node's aggregate share of a national query.
            let registry = path.starts_with("/huren.v1.RegistryService/")
                || path.starts_with("/huren.v1.NodeSummaryService/");
            let open = path.starts_with("/grpc.");
            let federation = path.starts_with("/huren.v1.FederationService/")
                || path.starts_with("/huren.v1.WitnessService/")
                || path.starts_with("/huren.v1.AppealsRelayService/");
            assert_eq!(
                roles.contains(&Gateway),
                registry || open || federation,
                "{path}: a gateway caller is not a superuser"
            );
        }
    }
}
