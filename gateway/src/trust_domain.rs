//! Whether a configured trust domain is a SPIFFE trust-domain name: lower-case letters, digits,
//! '.', '-' and '_', at most 255 characters, so no scheme, port, user info or path can ride in
//! it. (The dev PKI, which the gateway must not depend on, checks the same before minting.)

/// Why `name` is not a trust domain, in words for the operator.
pub fn check(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if name.is_empty() || name.len() > 255 {
        return Err(format!(
            "{name:?} is {} characters long; a SPIFFE trust domain has 1 to 255",
            name.len()
        ));
    }
    match name.chars().find(|&c| !allowed(c)) {
        Some(c) => Err(format!(
            "{name:?} holds {c:?}; a SPIFFE trust domain is lower-case letters, digits, '.', '-' and '_' only"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_with_paths_ports_or_capitals_are_refused() {
        assert!(super::check("huren.dev").is_ok());
        assert!(super::check("gov-cn_2.example").is_ok());
        for bad in ["", "Bad Domain/../x", "huren.dev:8443", "HUREN.dev", "a/b"] {
            assert!(super::check(bad).is_err(), "{bad}");
        }
        assert!(super::check(&"x".repeat(256)).is_err());
    }
}
