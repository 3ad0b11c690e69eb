//! SM2 issuer certificates. rcgen cannot name the SM2 curve, so the certificate is made for the
//! SM2 point labelled as a P-256 key, the curve OID is swapped for sm2p256v1 (the same length),
//! and the region CA signs the corrected to-be-signed part again.

use rcgen::{CertificateParams, Issuer, KeyPair, PublicKeyData, SignatureAlgorithm};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
use sm2::pkcs8::EncodePrivateKey as _;
use sm2::pkcs8::der::pem::LineEnding;

use crate::Error;

/// The full DER (tag, length, content) of the secp256r1 curve OID, 1.2.840.10045.3.1.7.
const P256_CURVE: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// The full DER of sm2p256v1, 1.2.156.10197.1.301 (GB/T 32918.5).
const SM2_CURVE: [u8; 10] = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
/// The full DER of ecdsa-with-SHA256, the only CA signature this path re-creates.
const ECDSA_SHA256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

/// An SM2 point that rcgen writes into the certificate as if it were a P-256 key.
struct Sm2Point(Vec<u8>);

impl PublicKeyData for Sm2Point {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// Issues an SM2 leaf under `issuer` (whose P-256 PKCS#8 key is `ca_key_pem`); returns
/// (certificate PEM, PKCS#8 key PEM).
pub(crate) fn issue(
    issuer: &Issuer<'static, KeyPair>,
    ca_key_pem: &str,
    params: CertificateParams,
) -> Result<(String, String), Error> {
    let secret = sm2::SecretKey::random(&mut rand_core::OsRng);
    let point = secret
        .public_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let cert = certify(issuer, ca_key_pem, params, point)?;
    let key = secret
        .to_pkcs8_der()
        .map_err(|e| Error::Sm2(e.to_string()))?;
    Ok((cert, pem("PRIVATE KEY", key.as_bytes())?))
}

fn pem(label: &str, der: &[u8]) -> Result<String, Error> {
    sm2::pkcs8::der::pem::encode_string(label, LineEnding::LF, der)
        .map_err(|e| Error::Sm2(e.to_string()))
}

/// A certificate PEM naming `point` (65-byte SEC1) as an SM2 key, whatever curve it is on.
pub(crate) fn certify(
    issuer: &Issuer<'static, KeyPair>,
    ca_key_pem: &str,
    params: CertificateParams,
    point: Vec<u8>,
) -> Result<String, Error> {
    let draft = params.signed_by(&Sm2Point(point), issuer)?;
    let (tbs, algorithm) = split_certificate(draft.der())?;
    if algorithm != [&[0x30, 0x0a][..], &ECDSA_SHA256].concat() {
        return Err(Error::Sm2(
            "the region CA does not sign with ECDSA P-256".into(),
        ));
    }
    let tbs = swap_curve(tbs)?;
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let signer = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ca_key.serialize_der(),
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|e| Error::Sm2(format!("region CA key: {e}")))?;
    let signature = signer
        .sign(&ring::rand::SystemRandom::new(), &tbs)
        .map_err(|_| Error::Sm2("the region CA could not sign".into()))?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(signature.as_ref());
    let mut body = tbs;
    body.extend_from_slice(algorithm);
    body.extend(tlv(0x03, &bits));
    pem("CERTIFICATE", &tlv(0x30, &body))
}

/// The to-be-signed part (whole TLV) and the signature-algorithm TLV of a DER certificate.
fn split_certificate(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (outer, _) = read_tlv(der, 0x30)?;
    let (_, after_tbs) = read_tlv(outer, 0x30)?;
    let (_, after_algorithm) = read_tlv(after_tbs, 0x30)?;
    Ok((
        &outer[..outer.len() - after_tbs.len()],
        &after_tbs[..after_tbs.len() - after_algorithm.len()],
    ))
}

/// The content of the TLV with `tag` at the start of `der`, and what follows it.
fn read_tlv(der: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let bad = || Error::Sm2("rcgen's certificate is not the DER expected".into());
    if der.first() != Some(&tag) {
        return Err(bad());
    }
    let header = header_len(der)?;
    let len = content_len(der)?;
    let content = der.get(header..header + len).ok_or_else(bad)?;
    Ok((content, &der[header + len..]))
}

/// Bytes of tag and length of the TLV at the start of `der`.
fn header_len(der: &[u8]) -> Result<usize, Error> {
    match der.get(1) {
        Some(&b) if b < 0x80 => Ok(2),
        Some(&b) if (0x81..=0x84).contains(&b) => Ok(2 + usize::from(b - 0x80)),
        _ => Err(Error::Sm2("unsupported DER length".into())),
    }
}

fn content_len(der: &[u8]) -> Result<usize, Error> {
    let first = *der
        .get(1)
        .ok_or_else(|| Error::Sm2("truncated DER".into()))?;
    if first < 0x80 {
        return Ok(usize::from(first));
    }
    let n = usize::from(first - 0x80);
    let bytes = der
        .get(2..2 + n)
        .ok_or_else(|| Error::Sm2("truncated DER".into()))?;
    Ok(bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
}

/// A DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The to-be-signed part with its one secp256r1 curve OID (the subject key's) replaced.
fn swap_curve(tbs: &[u8]) -> Result<Vec<u8>, Error> {
    let at: Vec<usize> = tbs
        .windows(P256_CURVE.len())
        .enumerate()
        .filter(|(_, w)| *w == P256_CURVE)
        .map(|(i, _)| i)
        .collect();
    let [at] = at[..] else {
        return Err(Error::Sm2(format!(
            "expected one P-256 curve OID in the certificate, found {}",
            at.len()
        )));
    };
    let mut out = tbs.to_vec();
    out[at..at + SM2_CURVE.len()].copy_from_slice(&SM2_CURVE);
    Ok(out)
}
