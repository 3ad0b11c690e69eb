//! Building, opening and republishing the dev registry: the whole signed registry from a PKI,
//! and the edits the demo and the tests make to it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use huren_adapters::vocabulary::VOCABULARIES;
use huren_certs::{IssuerAlgorithm, IssuerEntry, Manifest};
use time::{Duration, OffsetDateTime};

use super::fixtures::{agreements, concept_map};
use super::{DEV_NODE_ID, DevError, DevKeys, DevOptions};
use crate::ceremony::{PublishKeys, publish, signed};
use crate::doc::{
    Agreement, Delegation, Document, Issuer, IssuerStatus, Node, RegionDocument, Roles, Root,
    StatusEndpoint,
};
use crate::envelope::{Envelope, KeySet};
use crate::keys::{Algorithm, SigningKey};
use crate::registry::Registry;
use crate::store;
use crate::x509;

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

/// A region document's entry for a dev PKI issuer, its certificate checked against `ca`.
fn dev_issuer(pki_dir: &Path, issuer: &IssuerEntry, ca: &[u8]) -> Result<Issuer, DevError> {
    let cert_path = pki_dir.join(&issuer.cert);
    let cert = first_cert(&cert_path)?;
    let algorithm = match issuer.algorithm {
        IssuerAlgorithm::Ed25519 => Algorithm::Ed25519,
        IssuerAlgorithm::EcdsaP256 => Algorithm::EcdsaP256,
        IssuerAlgorithm::Sm2 => Algorithm::Sm2,
    };
    let facts = x509::check_issuer(&cert, ca, algorithm).map_err(|problem| DevError::Cert {
        path: cert_path.clone(),
        problem,
    })?;
    Ok(Issuer {
        algorithm,
        certificate: cert,
        not_before: facts.not_before,
        not_after: facts.not_after,
        status: IssuerStatus::Active,
        synthetic: issuer.synthetic,
    })
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
            let mut issuers = BTreeMap::new();
            for issuer in std::iter::once(&entry.issuer).chain(&entry.extra_issuers) {
                issuers.insert(issuer.id.clone(), dev_issuer(pki_dir, issuer, &ca)?);
            }
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
                audit_key: Some(keys.audit.public_key()),
                regions: codes.clone(),
                spiffe_id: manifest.gateway.spiffe_id.clone(),
                url: options.node_url.clone(),
                endpoints: Vec::new(),
                witness_key: None,
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
            witness_threshold: 0,
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
