//! The generic signed token: a region's layout of `|`-separated fields, armored and signed.

use time::OffsetDateTime;

use crate::adapter::ReadContext;
use crate::codec::{Armor, IssuerSigner, MAX_PAYLOAD_LEN, SignedCode, SignedParts, verify};
use crate::model::{CodeError, NativeReading, Person, RegionCode, ResidentId, Source};
use crate::status_list::StatusRef;
use crate::trust::{IssuerKey, KeyAlgorithm, TrustView};

/// How far in the future a signing time may lie before the payload is called malformed: phones'
/// and servers' clocks differ by minutes, not hours.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// Longest name a token may carry (characters): long enough for any real name, short enough for a QR.
pub const MAX_NAME_CHARS: usize = 32;

/// One field of a body; a region's layout lists them in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The issuer id as the registry names it, e.g. `gd-2020-01`.
    Issuer,
    /// Signing time, Unix seconds.
    SignedAt,
    /// The issuer's serial number of this code, decimal u64.
    Serial,
    /// The 18-character resident ID number.
    ResidentId,
    Name,
    /// The region's own status word, UTF-8.
    Label,
    /// End of validity, Unix seconds.
    ValidUntil,
    /// The holder's last check-in, Unix seconds (Hubei).
    CheckedInAt,
}

/// A region's signed format.
#[derive(Debug)]
pub struct SignedFormat {
    pub region: RegionCode,
    /// Distinct per region; the adapter set routes on it.
    pub prefix: &'static str,
    /// The prefix of the format's next version (v2), whose codes carry a status-list reference
    /// in their signed serial (`list_id << 32 | index`, see [`StatusRef`]). Same layout, so a
    /// v1 code keeps today's behaviour; `None`: the region has no status lists.
    pub status_prefix: Option<&'static str>,
    /// Between body and signature; never produced by the armor.
    pub separator: char,
    pub armor: Armor,
    pub algorithm: KeyAlgorithm,
    /// A second algorithm the region's issuers may sign with. The registry lists each issuer
    /// with one key, so the issuer a code names decides which of the two its signature is in.
    pub second_algorithm: Option<KeyAlgorithm>,
    pub layout: &'static [Field],
}

/// What a signed token says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub issuer: String,
    pub signed_at: OffsetDateTime,
    pub serial: u64,
    pub id: ResidentId,
    pub name: String,
    pub label: String,
    pub valid_until: OffsetDateTime,
    pub checked_in_at: Option<OffsetDateTime>,
    /// Where the code's status lives in its issuer's status lists: `Some` exactly for codes of
    /// the format's v2 ([`SignedFormat::status_prefix`]), whose serial is this reference.
    pub status_ref: Option<StatusRef>,
}

/// The fields as text, before the signature is checked: nothing here is trusted yet.
#[derive(Default)]
struct RawFields<'a> {
    issuer: Option<&'a str>,
    signed_at: Option<&'a str>,
    serial: Option<&'a str>,
    id: Option<&'a str>,
    name: Option<&'a str>,
    label: Option<&'a str>,
    valid_until: Option<&'a str>,
    checked_in_at: Option<&'a str>,
}

impl SignedFormat {
    fn malformed(&self, detail: impl Into<String>) -> CodeError {
        CodeError::Malformed {
            region: self.region,
            detail: detail.into(),
        }
    }

    /// May this region's issuers sign with `algorithm`?
    pub fn signs_with(&self, algorithm: KeyAlgorithm) -> bool {
        algorithm == self.algorithm || self.second_algorithm == Some(algorithm)
    }

    /// Allocation-free: does the payload start with this format's prefix (either version)?
    pub fn claims(&self, payload: &str) -> bool {
        payload.starts_with(self.prefix)
            || self.status_prefix.is_some_and(|p| payload.starts_with(p))
    }

    /// The payload after its prefix, and whether it is a v2 code (one with a status reference).
    fn strip<'p>(&self, payload: &'p str) -> Option<(&'p str, bool)> {
        if let Some(rest) = payload.strip_prefix(self.prefix) {
            return Some((rest, false));
        }
        let rest = payload.strip_prefix(self.status_prefix?)?;
        Some((rest, true))
    }

    /// Signs `claims` into a payload. Refuses values the wire cannot carry unambiguously.
    pub fn encode(&self, claims: &Claims, signer: &IssuerSigner) -> Result<String, CodeError> {
        if !self.signs_with(signer.algorithm()) {
            return Err(CodeError::Unsupported(format!(
                "region {} signs with {:?}, the signer holds a {:?} key",
                self.region,
                self.algorithm,
                signer.algorithm()
            )));
        }
        check_text(self, "issuer id", &claims.issuer, 64)?;
        check_text(self, "name", &claims.name, MAX_NAME_CHARS)?;
        check_text(self, "status label", &claims.label, 16)?;
        if claims.valid_until < claims.signed_at {
            return Err(self.malformed("valid-until lies before the signing time"));
        }
        if claims.checked_in_at.is_some_and(|c| c > claims.signed_at) {
            return Err(self.malformed("check-in lies after the signing time"));
        }
        let (prefix, serial) = match claims.status_ref {
            None => (self.prefix, claims.serial),
            Some(r) => {
                let prefix = self.status_prefix.ok_or_else(|| {
                    CodeError::Unsupported(format!("region {} has no status lists", self.region))
                })?;
                if StatusRef::from_serial(r.to_serial()) != Some(r) {
                    return Err(self.malformed("status index past what one list holds"));
                }
                (prefix, r.to_serial())
            }
        };
        let mut body = String::with_capacity(128);
        for (i, field) in self.layout.iter().enumerate() {
            if i > 0 {
                body.push('|');
            }
            match field {
                Field::Issuer => body.push_str(&claims.issuer),
                Field::SignedAt => body.push_str(&claims.signed_at.unix_timestamp().to_string()),
                Field::Serial => body.push_str(&serial.to_string()),
                Field::ResidentId => body.push_str(claims.id.expose()),
                Field::Name => body.push_str(&claims.name),
                Field::Label => body.push_str(&claims.label),
                Field::ValidUntil => {
                    body.push_str(&claims.valid_until.unix_timestamp().to_string())
                }
                Field::CheckedInAt => {
                    let at = claims.checked_in_at.unwrap_or(claims.signed_at);
                    body.push_str(&at.unix_timestamp().to_string())
                }
            }
        }
        let mut payload = String::with_capacity(256);
        payload.push_str(prefix);
        payload.push_str(&self.armor.encode(body.as_bytes()));
        let signature = signer
            .sign(payload.as_bytes())
            .map_err(|e| CodeError::Unsupported(format!("issuer cannot sign: {e}")))?;
        payload.push(self.separator);
        payload.push_str(&self.armor.encode(&signature));
        Ok(payload)
    }

    /// Splits a payload into the text its signature covers, the armored body and signature, and
    /// whether it is a v2 code.
    fn split<'p>(&self, payload: &'p str) -> Result<Split<'p>, CodeError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(self.malformed("payload longer than any QR code holds"));
        }
        let (rest, listed) = self
            .strip(payload)
            .ok_or_else(|| self.malformed("wrong prefix"))?;
        let (body_text, sig_text) = rest
            .split_once(self.separator)
            .ok_or_else(|| self.malformed("no signature"))?;
        let signed = &payload[..payload.len() - rest.len() + body_text.len()];
        Ok((signed, body_text, sig_text, listed))
    }

    /// [`SignedFormat::split`], with the body and signature decoded from their armor.
    fn decode<'p>(&self, payload: &'p str) -> Result<Decoded<'p>, CodeError> {
        let (signed, body_text, sig_text, listed) = self.split(payload)?;
        let body = self
            .armor
            .decode(body_text)
            .ok_or_else(|| self.malformed("body is not valid armor"))?;
        let signature = self
            .armor
            .decode(sig_text)
            .ok_or_else(|| self.malformed("signature is not valid armor"))?;
        Ok((signed, body, signature, listed))
    }

    /// The issuer a body names, its signing time and the registry's key for it then.
    fn signer<'b>(
        &self,
        raw: &RawFields<'b>,
        trust: &dyn TrustView,
    ) -> Result<(&'b str, OffsetDateTime, IssuerKey), CodeError> {
        let issuer = raw.issuer.ok_or_else(|| self.malformed("no issuer"))?;
        let signed_at = self.time(raw.signed_at, "signing time")?;
        let key = trust.issuer_key(self.region, issuer, signed_at)?;
        Ok((issuer, signed_at, key))
    }

    /// What an Ed25519 payload's signature covers, for a group or batch check, with the body it
    /// decodes to; `None` for anything else (another algorithm, a payload that would fail before
    /// its signature is looked at), which is then read and checked alone.
    pub fn signed_code(&self, payload: &str, trust: &dyn TrustView) -> Option<SignedCode> {
        if self.algorithm != KeyAlgorithm::Ed25519 || !self.claims(payload) {
            return None;
        }
        let (signed, body, signature, _) = self.decode(payload).ok()?;
        let body = String::from_utf8(body).ok()?;
        let (_, _, key) = self.signer(&self.split_fields(&body).ok()?, trust).ok()?;
        if key.algorithm != KeyAlgorithm::Ed25519 {
            return None;
        }
        let parts = SignedParts {
            public_key: key.public_key.as_slice().try_into().ok()?,
            message: signed.as_bytes().to_vec(),
            signature: signature.as_slice().try_into().ok()?,
        };
        Some(SignedCode {
            region: self.region,
            parts,
            body,
        })
    }

    /// Decodes, checks the signature against the registry's key for the issuer at the signing
    /// time (or finds it among those a group or batch check passed, whose body is then taken as
    /// decoded there: the same signed text decodes to the same body), then checks the fields and
    /// the validity window.
    pub fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<Claims, CodeError> {
        let (signed, body_text, sig_text, listed) = self.split(payload)?;
        let signature = self.armor.decode(sig_text);
        let known = match (&signature, ctx.verified) {
            (Some(s), Some(v)) => v.body(self.region, signed.as_bytes(), s),
            _ => None,
        };
        // Refusals in the order a lone read makes them: body armor, signature armor, UTF-8.
        let decoded = match known {
            Some(_) => Vec::new(),
            None => self
                .armor
                .decode(body_text)
                .ok_or_else(|| self.malformed("body is not valid armor"))?,
        };
        let signature = signature.ok_or_else(|| self.malformed("signature is not valid armor"))?;
        let body = match known {
            Some(body) => body,
            None => {
                std::str::from_utf8(&decoded).map_err(|_| self.malformed("body is not UTF-8"))?
            }
        };
        let raw = self.split_fields(body)?;
        let (issuer, signed_at, key) = self.signer(&raw, ctx.trust)?;
        let batched = self.algorithm == KeyAlgorithm::Ed25519
            && key.algorithm == KeyAlgorithm::Ed25519
            && ctx
                .verified
                .is_some_and(|v| v.holds(&key.public_key, signed.as_bytes(), &signature));
        // The registry's key names the algorithm, within the two this format allows.
        let expected = if self.signs_with(key.algorithm) {
            key.algorithm
        } else {
            self.algorithm
        };
        if !batched && !verify::verify(&key, expected, signed.as_bytes(), &signature) {
            return Err(CodeError::BadSignature {
                issuer: issuer.to_string(),
            });
        }

        // Signed by a listed issuer from here on; still checked, since issuers have bugs too.
        let id = ResidentId::parse(raw.id.ok_or_else(|| self.malformed("no resident ID"))?)?;
        let name = raw.name.ok_or_else(|| self.malformed("no name"))?;
        let label = raw.label.ok_or_else(|| self.malformed("no status label"))?;
        let valid_until = self.time(raw.valid_until, "valid-until")?;
        let serial = raw
            .serial
            .filter(|s| is_decimal(s))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| self.malformed("serial is not a decimal number"))?;
        let status_ref =
            match listed {
                false => None,
                true => Some(StatusRef::from_serial(serial).ok_or_else(|| {
                    self.malformed("a v2 code's serial holds no status-list index")
                })?),
            };
        let checked_in_at = match raw.checked_in_at {
            Some(_) => Some(self.time(raw.checked_in_at, "check-in time")?),
            None => None,
        };
        if name.is_empty() || label.is_empty() {
            return Err(self.malformed("empty name or status label"));
        }
        if signed_at > ctx.now + MAX_CLOCK_SKEW {
            return Err(self.malformed("signed in the future"));
        }
        if valid_until < signed_at || checked_in_at.is_some_and(|c| c > signed_at) {
            return Err(self.malformed("timestamps out of order"));
        }
        if ctx.now > valid_until {
            return Err(CodeError::Expired(valid_until));
        }
        Ok(Claims {
            issuer: issuer.to_string(),
            signed_at,
            serial,
            id,
            name: name.to_string(),
            label: label.to_string(),
            valid_until,
            checked_in_at,
            status_ref,
        })
    }

    /// What an offline-signed read reports: the region's own words and the signed facts.
    pub fn reading(&self, claims: Claims) -> NativeReading {
        NativeReading {
            region: self.region,
            issuer_id: Some(claims.issuer),
            native_label: claims.label,
            subject: Person {
                id: Some(claims.id),
                name: claims.name,
                region_handle: None,
            },
            refreshed_at: claims.signed_at,
            valid_until: Some(claims.valid_until),
            source: Source::OfflineSigned,
            checked_in_at: claims.checked_in_at,
            status_ref: claims.status_ref,
            notes: Vec::new(),
            // The registry's issuer flag marks a probe issuer's codes; the payload cannot.
            synthetic: false,
        }
    }

    fn split_fields<'a>(&self, body: &'a str) -> Result<RawFields<'a>, CodeError> {
        let mut raw = RawFields::default();
        let mut values = body.split('|');
        for field in self.layout {
            let value = values
                .next()
                .ok_or_else(|| self.malformed("too few fields"))?;
            let slot = match field {
                Field::Issuer => &mut raw.issuer,
                Field::SignedAt => &mut raw.signed_at,
                Field::Serial => &mut raw.serial,
                Field::ResidentId => &mut raw.id,
                Field::Name => &mut raw.name,
                Field::Label => &mut raw.label,
                Field::ValidUntil => &mut raw.valid_until,
                Field::CheckedInAt => &mut raw.checked_in_at,
            };
            *slot = Some(value);
        }
        if values.next().is_some() {
            return Err(self.malformed("too many fields"));
        }
        Ok(raw)
    }

    fn time(&self, text: Option<&str>, what: &str) -> Result<OffsetDateTime, CodeError> {
        text.filter(|s| is_decimal(s) && s.len() <= 12)
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
            .ok_or_else(|| self.malformed(format!("{what} is not a Unix time")))
    }
}

/// The signed text, the body, the signature, and whether the code is a v2 (status-listed) one.
type Decoded<'p> = (&'p str, Vec<u8>, Vec<u8>, bool);

/// As [`Decoded`], with the body and the signature still in their armor.
type Split<'p> = (&'p str, &'p str, &'p str, bool);

/// Digits only: `str::parse` would also take a leading `+`.
fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_text(
    format: &SignedFormat,
    what: &str,
    value: &str,
    max_chars: usize,
) -> Result<(), CodeError> {
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(format.malformed(format!("{what} must have 1 to {max_chars} characters")));
    }
    if value.chars().any(|c| c == '|' || c.is_control()) {
        return Err(format.malformed(format!("{what} may not contain '|' or control characters")));
    }
    Ok(())
}
