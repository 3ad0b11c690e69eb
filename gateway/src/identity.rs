//! Who is calling: the client leaf's one SPIFFE URI SAN, parsed once per connection into a `Peer`.
//!
//! The identity scheme is `spiffe://<trust-domain>/region/<GB/T 2260 code>/role/<role>/<name>`.
//! Only that URI names a caller; the subject CN is ignored, so a CA cannot smuggle an identity
//! through a display name.

use std::fmt;
use std::str::FromStr;

use huren_adapters::RegionCode;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// What a caller is allowed to be (DESIGN.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Checkpoint,
    Carrier,
    Province,
    National,
    Gateway,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Checkpoint,
        Role::Carrier,
        Role::Province,
        Role::National,
        Role::Gateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Checkpoint => "checkpoint",
            Role::Carrier => "carrier",
            Role::Province => "province",
            Role::National => "national",
            Role::Gateway => "gateway",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| IdentityError::UnknownRole(s.to_string()))
    }
}

/// The role in a regional status service's SPIFFE id (`…/role/service/status`): a callee, never a caller.
pub const SERVICE_ROLE: &str = "service";

/// An authenticated caller. Built once per connection; handlers read it from request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub region: RegionCode,
    pub role: Role,
    pub name: String,
    pub spiffe_id: String,
}

impl Peer {
    /// The province whose rules apply to this caller by default.
    pub fn province(&self) -> RegionCode {
        self.region.province()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spiffe_id)
    }
}

/// Why a certificate that passed the TLS chain check still names nobody.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "no client certificate was presented; connect with a certificate from `huren certs init`"
    )]
    NoCertificate,
    #[error("the client certificate cannot be parsed: {0}")]
    Unparsable(String),
    #[error(
        "the client certificate has no URI SAN; it needs exactly one: spiffe://<trust-domain>/region/<code>/role/<role>/<name>"
    )]
    NoUriSan,
    #[error(
        "the client certificate has {0} URI SANs; it must have exactly one, so that it names one caller"
    )]
    SeveralUriSans(usize),
    #[error(
        "URI SAN {0:?} is not a huren SPIFFE id: expected spiffe://<trust-domain>/region/<code>/role/<role>/<name>"
    )]
    Malformed(String),
    #[error(
        "SPIFFE id is in trust domain {found:?} but this gateway trusts {expected:?}; get a certificate from this federation's CA"
    )]
    WrongTrustDomain { found: String, expected: String },
    #[error("{0}")]
    BadRegion(String),
    #[error("unknown role {0:?}; roles are checkpoint, carrier, province, national, gateway")]
    UnknownRole(String),
    #[error("role {role} needs {need}, but the certificate names region {region}")]
    RoleRegionMismatch {
        role: Role,
        region: String,
        need: &'static str,
    },
    #[error(
        "the certificate names region {region}, but it was not issued by the CA of province {province}; get it from that province's CA"
    )]
    RegionCaMismatch { region: String, province: String },
    #[error("caller name {0:?} must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadName(String),
    #[error(
        "role service names a regional status service: it answers huren gateways and may not call \
         one; a caller needs a checkpoint, carrier, province, national or gateway certificate"
    )]
    ServiceMayNotCall,
    #[error(
        "{spiffe_id} says role gateway, but the current trust registry lists no node with that \
         SPIFFE id; only the nodes of the registry root may call as a gateway"
    )]
    NotARegisteredNode { spiffe_id: String },
    #[error(
        "no trust registry is loaded, so no certificate can be recognised as one of its gateway nodes"
    )]
    NoRegistryForNodes,
    #[error(
        "node {node} ({spiffe_id}) presented a certificate not issued by the CA the registry names \
         for it (the CA of region {province} in the root's delegations); reissue it from that CA"
    )]
    NodeCaMismatch {
        node: String,
        spiffe_id: String,
        province: String,
    },
}

impl IdentityError {
    /// A stable label for metrics and `ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            IdentityError::NoCertificate => "NO_CLIENT_CERTIFICATE",
            IdentityError::Unparsable(_) => "CERTIFICATE_UNPARSABLE",
            IdentityError::NoUriSan => "NO_URI_SAN",
            IdentityError::SeveralUriSans(_) => "SEVERAL_URI_SANS",
            IdentityError::Malformed(_) => "MALFORMED_SPIFFE_ID",
            IdentityError::WrongTrustDomain { .. } => "WRONG_TRUST_DOMAIN",
            IdentityError::BadRegion(_) => "BAD_REGION_CODE",
            IdentityError::UnknownRole(_) => "UNKNOWN_ROLE",
            IdentityError::RoleRegionMismatch { .. } => "ROLE_REGION_MISMATCH",
            IdentityError::BadName(_) => "BAD_CALLER_NAME",
            IdentityError::RegionCaMismatch { .. } => "REGION_CA_MISMATCH",
            IdentityError::ServiceMayNotCall => "SERVICE_MAY_NOT_CALL",
            IdentityError::NotARegisteredNode { .. } => "GATEWAY_NOT_A_REGISTERED_NODE",
            IdentityError::NoRegistryForNodes => "GATEWAY_NO_REGISTRY",
            IdentityError::NodeCaMismatch { .. } => "GATEWAY_CA_MISMATCH",
        }
    }
}

/// Reads the caller from a DER leaf certificate (the chain was already checked by rustls).
pub fn peer_from_der(der: &[u8], trust_domain: &str) -> Result<Peer, IdentityError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let uris: Vec<&str> = san
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::URI(uri) => Some(*uri),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    match uris.as_slice() {
        [] => Err(IdentityError::NoUriSan),
        [uri] => parse_spiffe_id(uri, trust_domain),
        several => Err(IdentityError::SeveralUriSans(several.len())),
    }
}

/// Parses `spiffe://<td>/region/<code>/role/<role>/<name>`.
pub fn parse_spiffe_id(uri: &str, trust_domain: &str) -> Result<Peer, IdentityError> {
    let malformed = || IdentityError::Malformed(uri.to_string());
    let rest = uri.strip_prefix("spiffe://").ok_or_else(malformed)?;
    if rest.contains(['?', '#']) {
        return Err(malformed());
    }
    let (domain, path) = rest.split_once('/').ok_or_else(malformed)?;
    // SPIFFE trust domains are lower case; compare exactly so "HUREN.dev" is not a second name.
    if domain != trust_domain {
        return Err(IdentityError::WrongTrustDomain {
            found: domain.to_string(),
            expected: trust_domain.to_string(),
        });
    }
    let segments: Vec<&str> = path.split('/').collect();
    let ["region", code, "role", role, name] = segments.as_slice() else {
        return Err(malformed());
    };
    let region = RegionCode::parse(code).map_err(IdentityError::BadRegion)?;
    // Regional status services hold certificates from the same CAs; say why they are refused
    // rather than call their role unknown.
    if *role == SERVICE_ROLE {
        return Err(IdentityError::ServiceMayNotCall);
    }
    let role: Role = role.parse()?;
    check_role_region(role, region)?;
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !name_ok {
        return Err(IdentityError::BadName(name.to_string()));
    }
    Ok(Peer {
        region,
        role,
        name: name.to_string(),
        spiffe_id: uri.to_string(),
    })
}

/// A province speaks for a whole province and national for the country: the region must say so.
fn check_role_region(role: Role, region: RegionCode) -> Result<(), IdentityError> {
    let need = match role {
        Role::Province if region.province() != region || region == RegionCode::NATIONAL => {
            "a province-level region (two digits then 0000)"
        }
        Role::National if region != RegionCode::NATIONAL => "region 000000",
        _ => return Ok(()),
    };
    Err(IdentityError::RoleRegionMismatch {
        role,
        region: region.to_string(),
        need,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TD: &str = "huren.dev";

    #[test]
    fn parses_a_checkpoint() {
        let peer = parse_spiffe_id(
            "spiffe://huren.dev/region/330110/role/checkpoint/gate-1",
            TD,
        )
        .unwrap();
        assert_eq!(peer.role, Role::Checkpoint);
        assert_eq!(peer.region.as_str(), "330110");
        assert_eq!(peer.province().as_str(), "330000");
        assert_eq!(peer.name, "gate-1");
    }

    #[test]
    fn refuses_what_names_nobody() {
        let cases = [
            (
                "spiffe://other.dev/region/330110/role/checkpoint/g",
                "WRONG_TRUST_DOMAIN",
            ),
            (
                "spiffe://huren.dev/region/33011/role/checkpoint/g",
                "BAD_REGION_CODE",
            ),
            (
                "spiffe://huren.dev/region/330110/role/mayor/g",
                "UNKNOWN_ROLE",
            ),
            (
                "spiffe://huren.dev/region/330110/role/checkpoint",
                "MALFORMED_SPIFFE_ID",
            ),
            (
                "spiffe://huren.dev/region/330110/role/checkpoint/g/x",
                "MALFORMED_SPIFFE_ID",
            ),
            (
                "https://huren.dev/region/330110/role/checkpoint/g",
                "MALFORMED_SPIFFE_ID",
            ),
            (
                "spiffe://huren.dev/region/330110/role/checkpoint/g?x=1",
                "MALFORMED_SPIFFE_ID",
            ),
            (
                "spiffe://huren.dev/region/330110/role/checkpoint/a b",
                "BAD_CALLER_NAME",
            ),
            (
                "spiffe://huren.dev/region/330100/role/province/p",
                "ROLE_REGION_MISMATCH",
            ),
            (
                "spiffe://huren.dev/region/330000/role/national/n",
                "ROLE_REGION_MISMATCH",
            ),
            (
                "spiffe://huren.dev/region/330000/role/service/status",
                "SERVICE_MAY_NOT_CALL",
            ),
        ];
        for (uri, reason) in cases {
            let err = parse_spiffe_id(uri, TD).unwrap_err();
            assert_eq!(err.reason(), reason, "{uri}: {err}");
        }
    }

    proptest::proptest! {
        // The parsers face whatever a certificate holds: they may refuse, never panic.
        #[test]
        fn any_uri_is_parsed_or_refused(uri in "\\PC{0,80}", tail in "[a-z0-9/]{0,40}") {
            let _ = parse_spiffe_id(&uri, TD);
            let _ = parse_spiffe_id(&format!("spiffe://huren.dev/{tail}"), TD);
        }

        #[test]
        fn any_der_is_parsed_or_refused(der in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = peer_from_der(&der, TD);
        }
    }
}
