//! The SPIFFE trust-domain name rule, checked before any identity is minted in it.
//!
//! SPIFFE (spiffe-id.md §2.1): lower-case letters, digits, dots, dashes and underscores; no
//! scheme, port, user info or path; at most 255 characters. The gateway checks the same rule
//! where it reads a trust domain from its config (`huren::trust_domain`); the dev PKI does not
//! depend on the gateway, so each side states it.

/// Why a trust-domain name is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustDomainError {
    #[error("the trust domain is empty")]
    Empty,
    #[error("the trust domain is {0} characters long; SPIFFE allows at most 255")]
    TooLong(usize),
    #[error(
        "the trust domain {name:?} holds {found:?}; SPIFFE allows only lower-case letters, digits, '.', '-' and '_' (no scheme, port or path)"
    )]
    BadCharacter { name: String, found: char },
}

/// Checks `name` against the SPIFFE trust-domain rule.
pub fn check_trust_domain(name: &str) -> Result<(), TrustDomainError> {
    if name.is_empty() {
        return Err(TrustDomainError::Empty);
    }
    if name.len() > 255 {
        return Err(TrustDomainError::TooLong(name.len()));
    }
    match name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '-' | '_'))
    {
        Some(found) => Err(TrustDomainError::BadCharacter {
            name: name.to_string(),
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_names_pass_and_paths_ports_schemes_and_capitals_do_not() {
        for good in ["huren.dev", "example-org_2.gov.cn", "a"] {
            assert_eq!(check_trust_domain(good), Ok(()), "{good}");
        }
        for bad in [
            "Bad Domain/../x",
            "HUREN.dev",
            "huren.dev:443",
            "spiffe://huren.dev",
            "user@huren.dev",
            "huren.dev/x",
        ] {
            assert!(
                matches!(
                    check_trust_domain(bad),
                    Err(TrustDomainError::BadCharacter { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(check_trust_domain(""), Err(TrustDomainError::Empty));
        assert_eq!(
            check_trust_domain(&"a".repeat(256)),
            Err(TrustDomainError::TooLong(256))
        );
        assert_eq!(check_trust_domain(&"a".repeat(255)), Ok(()));
    }
}
