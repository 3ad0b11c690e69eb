//! An error and its causes as one line, each cause said once.

/// `context: cause: root cause`, leaving out a cause whose words the line already holds: many
/// errors quote their source in their own message ("cannot read F: permission denied") and
/// also return it as their source, which printed every such cause twice.
pub fn chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let words = cause.to_string();
        if words.is_empty() || line.contains(&words) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&words);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read f.pem: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Quoting(io)).context("loading the PKI");
        assert_eq!(
            chain(&e),
            "loading the PKI: cannot read f.pem: no such file"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(chain(&plain), "outer: inner");
    }
}
