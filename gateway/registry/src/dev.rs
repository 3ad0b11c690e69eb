//! The dev registry: from a `huren certs init` PKI, a complete signed registry for the seven
//! reference regions with their real 2020 vocabularies, agreements among them, and the keys that
//! signed it (written under `REG/keys/`, mode 0600 — dev only; a real ceremony keeps keys offline).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use huren_adapters::Colour;
use huren_adapters::vocabulary::VOCABULARIES;
use huren_certs::{IssuerAlgorithm, Manifest, ManifestError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::ceremony::{PublishError, PublishKeys, publish, signed};
use crate::doc::{
    Agreement, AgreementKind, ColourRules, ConceptEntry, ConceptMap, Delegation, Document, Issuer,
    IssuerStatus, Lapse, Node, RegionDocument, Roles, Root, Rule, StatusEndpoint, Verdict,
    agreement::ANY_REGION,
};
use crate::envelope::{Envelope, KeySet};
use crate::keys::{Algorithm, KeyError, SigningKey};
use crate::registry::Registry;
use crate::store::{self, KEYS_DIR, StoreError};
use crate::x509::{self, CertProblem};

/// The id of the single dev gateway node that hosts every region and signs receipts.
pub const DEV_NODE_ID: &str = "gateway-1";

/// The regions whose reference services answer online in the demo; pass their URLs in
/// [`DevOptions::status_urls`].
pub const ONLINE_REGIONS: [&str; 3] = ["330000", "410000", "510000"];

#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Region code → base URL of its status service (e.g. `https://127.0.0.1:40123`). Regions
    /// not listed have no status service in the registry.
    pub status_urls: BTreeMap<String, String>,
    /// Lifetime of each timestamp (default one day; `huren registry publish` renews it).
    pub timestamp_lifetime: Duration,
    /// Where peers reach the dev gateway node, when known.
    pub node_url: Option<String>,
}

impl Default for DevOptions {
    fn default() -> Self {
        Self {
            status_urls: BTreeMap::new(),
            timestamp_lifetime: Duration::days(1),
            node_url: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {problem}")]
    Cert { path: PathBuf, problem: CertProblem },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("{0} already holds a registry; pass --force to replace it")]
    Exists(PathBuf),
    #[error("the dev registry has no {0}")]
    Missing(String),
}

/// Every key that signs the dev registry.
#[derive(Debug)]
pub struct DevKeys {
    /// Three root keys; the root role's threshold is two.
    pub root: Vec<SigningKey>,
    pub timestamp: SigningKey,
    pub log: SigningKey,
    /// The dev node's recognition-receipt key (Ed25519).
    pub receipt: SigningKey,
    /// Three regional witnesses; two must cosign a checkpoint.
    pub witnesses: Vec<SigningKey>,
    /// Region code → its two keys; one signature reaches the region threshold.
    pub regions: BTreeMap<String, Vec<SigningKey>>,
}

impl DevKeys {
    fn generate(regions: &[String]) -> Result<Self, KeyError> {
        let ed = || SigningKey::generate(Algorithm::Ed25519);
        let mut by_region = BTreeMap::new();
        for code in regions {
            // Sichuan's registry keys are P-256, so both algorithms are exercised everywhere.
            let alg = if code == "510000" {
                Algorithm::EcdsaP256
            } else {
                Algorithm::Ed25519
            };
            by_region.insert(
                code.clone(),
                vec![SigningKey::generate(alg)?, SigningKey::generate(alg)?],
            );
        }
        Ok(Self {
            root: vec![ed()?, ed()?, ed()?],
            timestamp: ed()?,
            log: ed()?,
            receipt: ed()?,
            witnesses: vec![ed()?, ed()?, ed()?],
            regions: by_region,
        })
    }

    /// File name (under `keys/`) → key.
    pub fn files(&self) -> Vec<(String, &SigningKey)> {
        let mut out = Vec::new();
        for (i, k) in self.root.iter().enumerate() {
            out.push((format!("root-{}.pem", i + 1), k));
        }
        out.push(("timestamp.pem".into(), &self.timestamp));
        out.push(("log.pem".into(), &self.log));
        out.push(("receipt.pem".into(), &self.receipt));
        for (i, k) in self.witnesses.iter().enumerate() {
            out.push((format!("witness-{}.pem", i + 1), k));
        }
        for (code, keys) in &self.regions {
            for (i, k) in keys.iter().enumerate() {
                out.push((format!("region-{code}-{}.pem", i + 1), k));
            }
        }
        out
    }

    pub fn save(&self, reg_dir: &Path) -> Result<(), DevError> {
        for (file, key) in self.files() {
            let path = reg_dir.join(KEYS_DIR).join(&file);
            let pem = key.to_pem().map_err(|source| DevError::Key {
                path: path.clone(),
                source,
            })?;
            store::atomic_write(&path, pem.as_bytes(), true)?;
        }
        Ok(())
    }

    /// Reads the keys `save` wrote, for the regions `root` delegates.
    pub fn load(reg_dir: &Path, root: &Root) -> Result<Self, DevError> {
        let dir = reg_dir.join(KEYS_DIR);
        let read = |file: &str| -> Result<SigningKey, DevError> { read_key(&dir.join(file)) };
        let mut regions = BTreeMap::new();
        for code in root.regions.keys() {
            regions.insert(
                code.clone(),
                vec![
                    read(&format!("region-{code}-1.pem"))?,
                    read(&format!("region-{code}-2.pem"))?,
                ],
            );
        }
        Ok(Self {
            root: vec![
                read("root-1.pem")?,
                read("root-2.pem")?,
                read("root-3.pem")?,
            ],
            timestamp: read("timestamp.pem")?,
            log: read("log.pem")?,
            receipt: read("receipt.pem")?,
            witnesses: vec![
                read("witness-1.pem")?,
                read("witness-2.pem")?,
                read("witness-3.pem")?,
            ],
            regions,
        })
    }

    /// The keys a dev publish signs `name` with: two root keys for the root and national
    /// agreements, the first key of each region involved otherwise.
    pub fn signers_for(&self, name: &str, env: &Envelope) -> Result<Vec<&SigningKey>, DevError> {
        let first = |code: &str| {
            self.regions
                .get(code)
                .and_then(|k| k.first())
                .ok_or_else(|| DevError::Missing(format!("key of region {code}")))
        };
        if let Some(code) = name.strip_prefix(crate::doc::REGION_PREFIX) {
            return Ok(vec![first(code)?]);
        }
        if name.starts_with(crate::doc::AGREEMENT_PREFIX) {
            let a: Agreement = crate::verify::decode(name, env).map_err(PublishError::Refused)?;
            if a.kind == AgreementKind::Bilateral {
                return Ok(vec![first(&a.verifying)?, first(&a.issuing)?]);
            }
        }
        Ok(self.root.iter().take(2).collect())
    }
}

/// Reads one PKCS#8 PEM private key file.
pub fn read_key(path: &Path) -> Result<SigningKey, DevError> {
    let pem = std::fs::read_to_string(path).map_err(|source| DevError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    SigningKey::from_pem(&pem).map_err(|source| DevError::Key {
        path: path.to_path_buf(),
        source,
    })
}

/// A dev registry and the keys that sign it: build, save, edit and republish.
#[derive(Debug)]
pub struct DevRegistry {
    pub registry: Registry,
    pub keys: DevKeys,
    pub options: DevOptions,
}

fn first_cert(path: &Path) -> Result<Vec<u8>, DevError> {
    let pem = std::fs::read(path).map_err(|source| DevError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    x509::pem_to_der(&pem)
        .map_err(|problem| DevError::Cert {
            path: path.to_path_buf(),
            problem,
        })?
        .into_iter()
        .next()
        .ok_or_else(|| DevError::Missing(format!("certificate in {}", path.display())))
}

/// Green → PASS, yellow → 7 days at home, red → 14 days centralised, pending/unknown → REVIEW.
pub fn default_rules() -> ColourRules {
    ColourRules {
        green: Rule::new(Verdict::Pass, 0),
        yellow: Rule::new(Verdict::HomeQuarantine, 7),
        red: Rule::new(Verdict::CentralQuarantine, 14),
        pending: Rule::new(Verdict::Review, 0),
        unknown: Rule::new(Verdict::Review, 0),
    }
}

/// The concept map of `region` from the shared vocabulary table; Hubei's green lapses to YELLOW
/// three days after the last refresh.
pub fn concept_map(region: &str) -> ConceptMap {
    let mut map = ConceptMap::default();
    if let Some(v) = VOCABULARIES.iter().find(|v| v.region == region) {
        for (label, colour) in v.labels {
            let lapse = (region == "420000" && *colour == Colour::Green).then_some(Lapse {
                after_secs: 3 * 86_400,
                to: Colour::Yellow,
            });
            map.labels.insert(
                label.to_string(),
                ConceptEntry {
                    colour: *colour,
                    lapse,
                },
            );
        }
    }
    map
}

/// The dev agreements: a national default among all regions and two bilateral ones that differ.
pub fn agreements(now: OffsetDateTime) -> Vec<Agreement> {
    let base = Agreement {
        id: "national".into(),
        version: 1,
        expires: now + Duration::days(365),
        kind: AgreementKind::National,
        verifying: ANY_REGION.into(),
        issuing: ANY_REGION.into(),
        rules: default_rules(),
        max_code_age_secs: 72 * 3600,
        online_check_required: false,
        effective_from: datetime!(2020-02-01 00:00 UTC),
        effective_until: None,
    };
    // Zhejiang accepts Sichuan's green only when refreshed within 24 h, checked online.
    let zj_sc = Agreement {
        id: "330000-510000".into(),
        kind: AgreementKind::Bilateral,
        verifying: "330000".into(),
        issuing: "510000".into(),
        max_code_age_secs: 24 * 3600,
        online_check_required: true,
        ..base.clone()
    };
    // Guangdong sends Hubei's yellow to central quarantine and wants a code from today.
    let mut gd_hb = Agreement {
        id: "440000-420000".into(),
        kind: AgreementKind::Bilateral,
        verifying: "440000".into(),
        issuing: "420000".into(),
        max_code_age_secs: 24 * 3600,
        ..base.clone()
    };
    gd_hb
        .rules
        .set(Colour::Yellow, Rule::new(Verdict::CentralQuarantine, 14));
    vec![base, zj_sc, gd_hb]
}

impl DevRegistry {
    /// Builds and signs the whole dev registry from the PKI in `pki_dir`.
    pub fn build(
        pki_dir: &Path,
        options: &DevOptions,
        now: OffsetDateTime,
    ) -> Result<Self, DevError> {
        let now = crate::canonical::whole_seconds(now);
        let manifest = Manifest::load(pki_dir)?;
        let codes: Vec<String> = manifest.regions.iter().map(|r| r.region.clone()).collect();
        let keys = DevKeys::generate(&codes).map_err(|source| DevError::Key {
            path: pki_dir.to_path_buf(),
            source,
        })?;
        let year = now + Duration::days(365);
        let mut delegations = BTreeMap::new();
        let mut region_docs = Vec::new();
        for entry in &manifest.regions {
            let ca = first_cert(&pki_dir.join(&entry.ca))?;
            let region_keys = keys
                .regions
                .get(&entry.region)
                .ok_or_else(|| DevError::Missing(format!("keys of {}", entry.region)))?;
            delegations.insert(
                entry.region.clone(),
                Delegation {
                    name: entry.name.clone(),
                    keys: KeySet::new(region_keys.iter().map(|k| k.public_key()), 1),
                    ca_certificate: ca.clone(),
                    expires: year,
                },
            );
            let cert_path = pki_dir.join(&entry.issuer.cert);
            let cert = first_cert(&cert_path)?;
            let algorithm = match entry.issuer.algorithm {
                IssuerAlgorithm::Ed25519 => Algorithm::Ed25519,
                IssuerAlgorithm::EcdsaP256 => Algorithm::EcdsaP256,
            };
            let facts =
                x509::check_issuer(&cert, &ca, algorithm).map_err(|problem| DevError::Cert {
                    path: cert_path.clone(),
                    problem,
                })?;
            let mut issuers = BTreeMap::new();
            issuers.insert(
                entry.issuer.id.clone(),
                Issuer {
                    algorithm,
                    certificate: cert,
                    not_before: facts.not_before,
                    not_after: facts.not_after,
                    status: IssuerStatus::Active,
                },
            );
            let system = VOCABULARIES
                .iter()
                .find(|v| v.region == entry.region)
                .map(|v| v.system.to_string())
                .unwrap_or_else(|| entry.name.clone());
            region_docs.push(RegionDocument {
                region: entry.region.clone(),
                version: 1,
                expires: now + Duration::days(90),
                system,
                issuers,
                revocations: Vec::new(),
                status_service: options
                    .status_urls
                    .get(&entry.region)
                    .map(|url| StatusEndpoint {
                        url: url.clone(),
                        spiffe_id: entry.service.spiffe_id.clone(),
                    }),
                concept_map: concept_map(&entry.region),
                cache_ttl_secs: 30,
            });
        }
        let mut nodes = BTreeMap::new();
        nodes.insert(
            DEV_NODE_ID.to_string(),
            Node {
                receipt_key: keys.receipt.public_key(),
                regions: codes.clone(),
                spiffe_id: manifest.gateway.spiffe_id.clone(),
                url: options.node_url.clone(),
            },
        );
        let root = Root {
            version: 1,
            expires: year,
            roles: Roles {
                root: KeySet::new(keys.root.iter().map(|k| k.public_key()), 2),
                timestamp: KeySet::new([keys.timestamp.public_key()], 1),
                log: KeySet::new([keys.log.public_key()], 1),
                witnesses: KeySet::new(keys.witnesses.iter().map(|k| k.public_key()), 2),
            },
            log_origin: format!("{}/registry", manifest.trust_domain),
            regions: delegations,
            nodes,
        };
        let key_err = |source| DevError::Key {
            path: pki_dir.to_path_buf(),
            source,
        };
        let mut changes = vec![(
            root.name(),
            signed(&root, &keys.root.iter().take(2).collect::<Vec<_>>()).map_err(key_err)?,
        )];
        for doc in &region_docs {
            let env = crate::ceremony::envelope(doc);
            let signers = keys.signers_for(&doc.name(), &env)?;
            changes.push((doc.name(), signed(doc, &signers).map_err(key_err)?));
        }
        for a in agreements(now) {
            let env = crate::ceremony::envelope(&a);
            let signers = keys.signers_for(&a.name(), &env)?;
            changes.push((a.name(), signed(&a, &signers).map_err(key_err)?));
        }
        let registry = {
            let pk = publish_keys(&keys, options);
            publish(None, changes, &pk.as_keys(), now)?
        };
        Ok(Self {
            registry,
            keys,
            options: options.clone(),
        })
    }

    /// Builds the dev registry and writes it (keys and `registry.json`) to `out`.
    pub fn init(
        pki_dir: &Path,
        out: &Path,
        options: &DevOptions,
        force: bool,
        now: OffsetDateTime,
    ) -> Result<Self, DevError> {
        if out.join(store::STATE_FILE).exists() && !force {
            return Err(DevError::Exists(out.to_path_buf()));
        }
        let dev = Self::build(pki_dir, options, now)?;
        dev.save(out)?;
        Ok(dev)
    }

    /// Opens a dev registry directory written by [`Self::init`] (verifying it, an expired
    /// timestamp aside) with its keys.
    pub fn open(reg_dir: &Path, now: OffsetDateTime) -> Result<Self, DevError> {
        let registry = store::load_for_publisher(reg_dir, now)?;
        let keys = DevKeys::load(reg_dir, registry.root())?;
        Ok(Self {
            registry,
            keys,
            options: DevOptions::default(),
        })
    }

    /// Keys first, then the registry, each atomically.
    pub fn save(&self, reg_dir: &Path) -> Result<(), DevError> {
        self.keys.save(reg_dir)?;
        store::save(reg_dir, &self.registry)?;
        Ok(())
    }

    /// Signs `docs` (name, unsigned or partly signed envelope) with the dev keys and publishes them.
    pub fn publish(
        &mut self,
        docs: Vec<(String, Envelope)>,
        now: OffsetDateTime,
    ) -> Result<&Registry, DevError> {
        let mut changes = Vec::new();
        for (name, mut env) in docs {
            for k in self.keys.signers_for(&name, &env)? {
                env.sign(k).map_err(|source| DevError::Key {
                    path: PathBuf::from(&name),
                    source,
                })?;
            }
            changes.push((name, env));
        }
        let pk = publish_keys(&self.keys, &self.options);
        self.registry = publish(Some(&self.registry), changes, &pk.as_keys(), now)?;
        Ok(&self.registry)
    }

    /// Changes one region's document (version bumped for you) and publishes it.
    pub fn edit_region(
        &mut self,
        region: &str,
        edit: impl FnOnce(&mut RegionDocument),
        now: OffsetDateTime,
    ) -> Result<&Registry, DevError> {
        let code = huren_adapters::RegionCode::parse(region).map_err(DevError::Missing)?;
        let mut doc = self
            .registry
            .region(code)
            .map(|r| r.document.clone())
            .ok_or_else(|| DevError::Missing(format!("region {region}")))?;
        edit(&mut doc);
        doc.version += 1;
        self.publish(vec![(doc.name(), crate::ceremony::envelope(&doc))], now)
    }

    /// Adds or replaces an agreement (its version is set past the current one) and publishes it.
    pub fn put_agreement(
        &mut self,
        mut agreement: Agreement,
        now: OffsetDateTime,
    ) -> Result<&Registry, DevError> {
        agreement.version = self
            .registry
            .agreements()
            .find(|a| a.id == agreement.id)
            .map_or(1, |a| a.version + 1);
        self.publish(
            vec![(agreement.name(), crate::ceremony::envelope(&agreement))],
            now,
        )
    }

    /// Points regions at their status services (the demo learns its ports at run time).
    pub fn set_status_urls(
        &mut self,
        urls: &BTreeMap<String, String>,
        spiffe_ids: &BTreeMap<String, String>,
        now: OffsetDateTime,
    ) -> Result<&Registry, DevError> {
        let mut docs = Vec::new();
        for (code, url) in urls {
            let rc = huren_adapters::RegionCode::parse(code).map_err(DevError::Missing)?;
            let mut doc = self
                .registry
                .region(rc)
                .map(|r| r.document.clone())
                .ok_or_else(|| DevError::Missing(format!("region {code}")))?;
            let spiffe_id = spiffe_ids
                .get(code)
                .cloned()
                .or_else(|| doc.status_service.as_ref().map(|s| s.spiffe_id.clone()))
                .ok_or_else(|| {
                    DevError::Missing(format!("SPIFFE id of {code}'s status service"))
                })?;
            doc.status_service = Some(StatusEndpoint {
                url: url.clone(),
                spiffe_id,
            });
            doc.version += 1;
            docs.push((doc.name(), crate::ceremony::envelope(&doc)));
        }
        self.publish(docs, now)
    }

    /// Renews the timestamp of the dev registry in `reg_dir` when it has expired or expires
    /// within an hour (a dev registry left for a day would otherwise refuse to load); whether it did.
    pub fn renew_if_stale(reg_dir: &Path, now: OffsetDateTime) -> Result<bool, DevError> {
        let mut dev = Self::open(reg_dir, now)?;
        if dev.registry.timestamp().expires > now + Duration::hours(1) {
            return Ok(false);
        }
        dev.refresh(now)?;
        store::save(reg_dir, &dev.registry)?;
        Ok(true)
    }

    /// A new timestamp and checkpoint, nothing else: keeps a dev registry from freezing.
    pub fn refresh(&mut self, now: OffsetDateTime) -> Result<&Registry, DevError> {
        self.publish(Vec::new(), now)
    }
}

/// Owned references for [`PublishKeys`].
struct DevPublishKeys<'a> {
    timestamp: Vec<&'a SigningKey>,
    log: Vec<&'a SigningKey>,
    witnesses: Vec<&'a SigningKey>,
    lifetime: Duration,
}

impl<'a> DevPublishKeys<'a> {
    fn as_keys(&'a self) -> PublishKeys<'a> {
        PublishKeys {
            timestamp: &self.timestamp,
            log: &self.log,
            witnesses: &self.witnesses,
            timestamp_lifetime: self.lifetime,
        }
    }
}

fn publish_keys<'a>(keys: &'a DevKeys, options: &DevOptions) -> DevPublishKeys<'a> {
    DevPublishKeys {
        timestamp: vec![&keys.timestamp],
        log: vec![&keys.log],
        witnesses: keys.witnesses.iter().take(2).collect(),
        lifetime: options.timestamp_lifetime,
    }
}
