//! A client's own certificate, checked before it connects: a gateway that refuses it can only say
//! "handshake failed", so the client says which file and why first.

use std::path::{Path, PathBuf};

use huren_adapters::when::rfc3339;
use time::OffsetDateTime;
use x509_parser::pem::Pem;
use x509_parser::prelude::X509Certificate;

/// Why a client certificate cannot work.
#[derive(Debug, thiserror::Error)]
pub enum OwnCertError {
    #[error("client certificate {file}: {problem}")]
    Unusable { file: PathBuf, problem: Problem },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Problem {
    #[error("not a PEM certificate ({0})")]
    Unreadable(String),
    #[error("expired at {}; ask for a new one (huren certs init makes a dev PKI)", rfc3339(.0))]
    Expired(OffsetDateTime),
    #[error("not valid before {}; check this machine's clock", rfc3339(.0))]
    NotYetValid(OffsetDateTime),
    #[error("not a client certificate: its extended key usage lacks TLS client authentication")]
    NotForClients,
    #[error("not issued under the PKI's root {0} (is it from another PKI?)")]
    Unchained(PathBuf),
}

/// What the certificate in `cert_pem` must chain to: the root (and the PKI's region CAs, which
/// may sit between it and the leaf when the file holds the leaf alone).
pub struct Anchors<'a> {
    pub root_pem: &'a str,
    pub root_file: &'a Path,
    pub intermediates_pem: Vec<String>,
}

/// Checks the first certificate of `cert_pem` (read from `file`) at `now`.
pub fn check(
    file: &Path,
    cert_pem: &str,
    anchors: &Anchors<'_>,
    now: OffsetDateTime,
) -> Result<(), OwnCertError> {
    problem(cert_pem, anchors, now).map_err(|problem| OwnCertError::Unusable {
        file: file.to_path_buf(),
        problem,
    })
}

fn problem(cert_pem: &str, anchors: &Anchors<'_>, now: OffsetDateTime) -> Result<(), Problem> {
    let chain = pems(cert_pem);
    let leaf_pem = chain
        .first()
        .ok_or_else(|| Problem::Unreadable("no CERTIFICATE block".to_string()))?;
    let leaf = leaf_pem
        .parse_x509()
        .map_err(|e| Problem::Unreadable(e.to_string()))?;
    let validity = leaf.validity();
    let (from, until) = (
        time_of(validity.not_before.timestamp()),
        time_of(validity.not_after.timestamp()),
    );
    if now > until {
        return Err(Problem::Expired(until));
    }
    if now < from {
        return Err(Problem::NotYetValid(from));
    }
    if let Ok(Some(eku)) = leaf.extended_key_usage()
        && !eku.value.client_auth
        && !eku.value.any
    {
        return Err(Problem::NotForClients);
    }
    let mut authorities = chain[1..].to_vec();
    authorities.extend(anchors.intermediates_pem.iter().flat_map(|p| pems(p)));
    let roots = pems(anchors.root_pem);
    if chains(&leaf, &authorities, &roots) {
        Ok(())
    } else {
        Err(Problem::Unchained(anchors.root_file.to_path_buf()))
    }
}

fn time_of(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn pems(text: &str) -> Vec<Pem> {
    Pem::iter_from_buffer(text.as_bytes())
        .filter_map(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .collect()
}

/// Whether `cert` leads to one of `roots` through `authorities` (a few steps at most).
fn chains(cert: &X509Certificate<'_>, authorities: &[Pem], roots: &[Pem]) -> bool {
    let signed_by = |child: &X509Certificate<'_>, parent: &Pem| {
        parent.parse_x509().is_ok_and(|p| {
            p.subject() == child.issuer() && child.verify_signature(Some(p.public_key())).is_ok()
        })
    };
    if roots.iter().any(|r| signed_by(cert, r)) {
        return true;
    }
    let mut current = cert.clone();
    for _ in 0..4 {
        let Some(parent) = authorities.iter().find(|a| signed_by(&current, a)) else {
            return false;
        };
        let Ok(parent) = parent.parse_x509() else {
            return false;
        };
        if roots.iter().any(|r| signed_by(&parent, r)) {
            return true;
        }
        current = parent;
    }
    false
}
