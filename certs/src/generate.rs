//! Issues the dev PKI with rcgen and writes it to disk, keys with mode 0600.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

use crate::manifest::{
    ClientEntry, GatewayEntry, IssuerAlgorithm, IssuerEntry, Manifest, RegionEntry, ServiceEntry,
};
use crate::{DEV_TRUST_DOMAIN, Error};

/// The seven regions of the dev PKI: code, English name, issuer id, issuer algorithm.
const REGIONS: [(&str, &str, &str, IssuerAlgorithm); 7] = [
    ("330000", "Zhejiang", "zj-2020-01", IssuerAlgorithm::Ed25519),
    (
        "440000",
        "Guangdong",
        "gd-2020-01",
        IssuerAlgorithm::Ed25519,
    ),
    (
        "510000",
        "Sichuan",
        "sc-2020-01",
        IssuerAlgorithm::EcdsaP256,
    ),
    ("430000", "Hunan", "hn-2020-01", IssuerAlgorithm::EcdsaP256),
    ("410000", "Henan", "ha-2020-01", IssuerAlgorithm::Ed25519),
    ("420000", "Hubei", "hb-2020-01", IssuerAlgorithm::Ed25519),
    ("000000", "National", "cn-2020-01", IssuerAlgorithm::Ed25519),
];

/// Hunan's second issuer: SM2 with SM3, China's own signature standard, beside its P-256 one.
const HUNAN_SM2_ISSUER: (&str, &str) = ("430000", "hn-sm2-2026-01");

/// The probe issuer of each region whose codes are signed offline: the reverse-testing prober
/// (`huren probe`) signs its synthetic test persons with it, and the registry flags it
/// synthetic, so nodes never count those persons. Zhejiang's and Henan's codes are online code
/// ids with no signature: their services flag the test persons' records instead.
const PROBE_ISSUERS: [(&str, &str); 5] = [
    ("440000", "gd-probe-01"),
    ("510000", "sc-probe-01"),
    ("430000", "hn-probe-01"),
    ("420000", "hb-probe-01"),
    ("000000", "cn-probe-01"),
];

/// The callers of the dev PKI: role, region, name.
const CLIENTS: [(&str, &str, &str); 6] = [
    ("checkpoint", "330110", "yuhang-gate-1"),
    ("carrier", "510000", "chengdu-rail"),
    ("province", "510000", "sichuan-labour"),
    ("province", "410000", "henan-labour"),
    ("province", "330000", "zhejiang-health"),
    ("national", "000000", "coordination"),
];

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub trust_domain: String,
    /// Replace an existing PKI in the directory.
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        Self {
            trust_domain: DEV_TRUST_DOMAIN.to_string(),
            force: false,
        }
    }
}

/// What a leaf certificate should say. Tests use it to make deliberately bad certificates.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    /// Subject CN; distinct for every certificate (BoringSSL clients reject subject == issuer).
    pub common_name: String,
    pub uris: Vec<String>,
    pub dns_names: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub server_auth: bool,
    pub client_auth: bool,
    pub algorithm: IssuerAlgorithm,
    /// A code-signing issuer rather than a TLS identity.
    pub code_signing: bool,
}

impl LeafSpec {
    /// A TLS client certificate valid from yesterday for a year.
    pub fn client(common_name: &str, uri: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            common_name: common_name.to_string(),
            uris: vec![uri.to_string()],
            dns_names: Vec::new(),
            ips: Vec::new(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            server_auth: false,
            client_auth: true,
            algorithm: IssuerAlgorithm::EcdsaP256,
            code_signing: false,
        }
    }

    /// A TLS server certificate for `localhost` and 127.0.0.1.
    pub fn server(common_name: &str, uri: &str) -> Self {
        Self {
            dns_names: vec!["localhost".to_string()],
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            server_auth: true,
            client_auth: false,
            ..Self::client(common_name, uri)
        }
    }
}

/// A certificate authority that can issue leaves.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    /// A self-signed root.
    pub fn new_root(common_name: &str) -> Result<Self, Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let params = ca_params(common_name)?;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// An intermediate CA signed by `self`.
    pub fn new_intermediate(&self, common_name: &str) -> Result<Self, Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let params = ca_params(common_name)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads a CA written by [`init`], to issue more leaves from it.
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(Self {
            issuer,
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
        })
    }

    /// Issues a leaf; returns (certificate PEM, PKCS#8 key PEM).
    pub fn issue(&self, spec: &LeafSpec) -> Result<(String, String), Error> {
        let alg: &'static SignatureAlgorithm = match spec.algorithm {
            IssuerAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            IssuerAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            IssuerAlgorithm::Sm2 => {
                return crate::sm2_issuer::issue(&self.issuer, &self.key_pem, leaf_params(spec)?);
            }
        };
        let key = KeyPair::generate_for(alg)?;
        let cert = leaf_params(spec)?.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

impl Ca {
    /// A certificate that names `point` (a 65-byte SEC1 point) as an SM2 key without checking
    /// it is one: tests use it to make a certificate whose "SM2" key lies on another curve.
    pub fn certify_as_sm2(&self, spec: &LeafSpec, point: Vec<u8>) -> Result<String, Error> {
        crate::sm2_issuer::certify(&self.issuer, &self.key_pem, leaf_params(spec)?, point)
    }
}

/// The certificate a [`LeafSpec`] describes, before a key and a CA are chosen.
fn leaf_params(spec: &LeafSpec) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::new(spec.dns_names.clone())?;
    params.distinguished_name = name(&spec.common_name);
    for uri in &spec.uris {
        params
            .subject_alt_names
            .push(SanType::URI(uri.as_str().try_into()?));
    }
    for ip in &spec.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if spec.server_auth {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    if spec.client_auth {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
    }
    if spec.code_signing {
        params.key_usages.push(KeyUsagePurpose::ContentCommitment);
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::CodeSigning);
    }
    Ok(params)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "huren dev PKI");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(common_name: &str) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    Ok(params)
}

/// The SPIFFE id of a caller: `spiffe://<domain>/region/<code>/role/<role>/<name>`.
pub fn spiffe_id(trust_domain: &str, region: &str, role: &str, name: &str) -> String {
    format!("spiffe://{trust_domain}/region/{region}/role/{role}/{name}")
}

/// Creates the dev PKI in `out` and returns its manifest.
pub fn init(out: &Path, options: &InitOptions) -> Result<Manifest, Error> {
    if out.join(Manifest::FILE).exists() && !options.force {
        return Err(Error::Exists(out.to_path_buf()));
    }
    let td = options.trust_domain.as_str();
    // Before anything is written: a bad name would be minted into every certificate.
    crate::check_trust_domain(td)?;
    let root = Ca::new_root("huren national root CA")?;
    let root_ca = PathBuf::from("root/ca.pem");
    let root_key = PathBuf::from("root/ca.key");
    write_new(out, &root_ca, &root.cert_pem, false)?;
    write_new(out, &root_key, &root.key_pem, true)?;

    let mut regions = Vec::new();
    let mut region_cas = Vec::new();
    for (code, display, issuer_id, algorithm) in REGIONS {
        let ca = root.new_intermediate(&format!("huren region {code} CA"))?;
        let dir = PathBuf::from("regions").join(code);
        let entry = RegionEntry {
            region: code.to_string(),
            name: display.to_string(),
            ca: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            issuer: IssuerEntry {
                id: issuer_id.to_string(),
                algorithm,
                cert: dir.join("issuer.pem"),
                key: dir.join("issuer.key"),
                synthetic: false,
            },
            extra_issuers: Vec::new(),
            service: ServiceEntry {
                cert: dir.join("service.pem"),
                key: dir.join("service.key"),
                spiffe_id: spiffe_id(td, code, "service", "status"),
            },
        };
        write_new(out, &entry.ca, &ca.cert_pem, false)?;
        write_new(out, &entry.ca_key, &ca.key_pem, true)?;

        let issuer_spec = LeafSpec {
            algorithm,
            client_auth: false,
            code_signing: true,
            uris: vec![format!("spiffe://{td}/region/{code}/issuer/{issuer_id}")],
            ..LeafSpec::client(&format!("huren region {code} issuer {issuer_id}"), "")
        };
        let (cert, key) = ca.issue(&issuer_spec)?;
        write_new(
            out,
            &entry.issuer.cert,
            &format!("{cert}{}", ca.cert_pem),
            false,
        )?;
        write_new(out, &entry.issuer.key, &key, true)?;
        let mut entry = entry;
        if code == HUNAN_SM2_ISSUER.0 {
            let extra = IssuerEntry {
                id: HUNAN_SM2_ISSUER.1.to_string(),
                algorithm: IssuerAlgorithm::Sm2,
                cert: dir.join("issuer-sm2.pem"),
                key: dir.join("issuer-sm2.key"),
                synthetic: false,
            };
            entry
                .extra_issuers
                .push(extra_issuer(out, &ca, &issuer_spec, (td, code), extra)?);
        }
        if let Some((_, id)) = PROBE_ISSUERS.iter().find(|(c, _)| *c == code) {
            let extra = IssuerEntry {
                id: id.to_string(),
                algorithm,
                cert: dir.join("issuer-probe.pem"),
                key: dir.join("issuer-probe.key"),
                synthetic: true,
            };
            entry
                .extra_issuers
                .push(extra_issuer(out, &ca, &issuer_spec, (td, code), extra)?);
        }

        let service_spec = LeafSpec::server(
            &format!("huren region {code} status service"),
            &entry.service.spiffe_id,
        );
        let (cert, key) = ca.issue(&service_spec)?;
        write_new(
            out,
            &entry.service.cert,
            &format!("{cert}{}", ca.cert_pem),
            false,
        )?;
        write_new(out, &entry.service.key, &key, true)?;

        regions.push(entry);
        region_cas.push((code, ca));
    }
    let ca_for = |region: &str| {
        let province = format!("{}0000", &region[..2]);
        region_cas
            .iter()
            .find(|(code, _)| *code == province)
            .map(|(_, ca)| ca)
    };

    let national =
        ca_for("000000").ok_or_else(|| crate::ManifestError::Missing("region 000000".into()))?;
    let gateway_id = spiffe_id(td, "000000", "gateway", "gateway-1");
    let gateway_spec = LeafSpec {
        client_auth: true,
        ..LeafSpec::server("huren gateway gateway-1", &gateway_id)
    };
    let (cert, key) = national.issue(&gateway_spec)?;
    let gateway = GatewayEntry {
        cert: PathBuf::from("gateway/server.pem"),
        key: PathBuf::from("gateway/server.key"),
        spiffe_id: gateway_id,
    };
    write_new(
        out,
        &gateway.cert,
        &format!("{cert}{}", national.cert_pem),
        false,
    )?;
    write_new(out, &gateway.key, &key, true)?;

    let mut clients = Vec::new();
    for (role, region, client_name) in CLIENTS {
        let ca = ca_for(region)
            .ok_or_else(|| crate::ManifestError::Missing(format!("CA for {region}")))?;
        let id = spiffe_id(td, region, role, client_name);
        let (cert, key) = ca.issue(&LeafSpec::client(
            &format!("huren {role} {region} {client_name}"),
            &id,
        ))?;
        let stem = format!("clients/{role}-{region}-{client_name}");
        let entry = ClientEntry {
            role: role.to_string(),
            region: region.to_string(),
            name: client_name.to_string(),
            spiffe_id: id,
            cert: PathBuf::from(format!("{stem}.pem")),
            key: PathBuf::from(format!("{stem}.key")),
        };
        write_new(out, &entry.cert, &format!("{cert}{}", ca.cert_pem), false)?;
        write_new(out, &entry.key, &key, true)?;
        clients.push(entry);
    }

    let manifest = Manifest {
        trust_domain: td.to_string(),
        root_ca,
        root_key,
        gateway,
        regions,
        clients,
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Write {
        path: out.join(Manifest::FILE),
        source: std::io::Error::other(e),
    })?;
    // The manifest goes last: a directory with a manifest is a complete PKI.
    write_new(out, Path::new(Manifest::FILE), &json, false)?;
    Ok(manifest)
}

/// Certifies and writes one more code-signing issuer of region `code` (trust domain `td`), shaped
/// like its main one (`main`) but for its own id and algorithm.
fn extra_issuer(
    out: &Path,
    ca: &Ca,
    main: &LeafSpec,
    (td, code): (&str, &str),
    extra: IssuerEntry,
) -> Result<IssuerEntry, Error> {
    let id = &extra.id;
    let (cert, key) = ca.issue(&LeafSpec {
        algorithm: extra.algorithm,
        uris: vec![format!("spiffe://{td}/region/{code}/issuer/{id}")],
        common_name: format!("huren region {code} issuer {id}"),
        ..main.clone()
    })?;
    write_new(out, &extra.cert, &format!("{cert}{}", ca.cert_pem), false)?;
    write_new(out, &extra.key, &key, true)?;
    Ok(extra)
}

/// Writes `dir/rel`, creating parent directories; secret files get mode 0600.
pub fn write_new(dir: &Path, rel: &Path, contents: &str, secret: bool) -> Result<(), Error> {
    use std::io::Write;
    let path = dir.join(rel);
    let fail = |source| Error::Write {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(&path).map_err(fail)?;
    #[cfg(unix)]
    if secret {
        // An existing file keeps its mode on open; tighten it explicitly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    file.write_all(contents.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}
