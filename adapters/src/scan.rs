//! What a scanner or a paste does to a payload, undone once at the edge: surrounding whitespace
//! (a USB scanner's CR/LF, a phone's trailing space) and a code read as a URL.
//!
//! [`AdapterSet::scanned`](crate::AdapterSet::scanned) applies both before a payload is claimed;
//! each adapter says which URL forms hold its code ([`RegionAdapter::payload_in_url`]).
//!
//! [`RegionAdapter::payload_in_url`]: crate::RegionAdapter::payload_in_url

/// The payload without surrounding whitespace, CR/LF or a byte-order mark (a pasted line from a
/// file saved by Excel starts with one).
pub fn trim(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// An `http://` or `https://` URL taken apart loosely, as people paste them: scheme and host in
/// any case, query parameters in any order and percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedUrl {
    /// Lower case, without a port.
    pub host: String,
    /// From the first `/` up to the query; `/` when empty.
    pub path: String,
    query: Vec<(String, String)>,
}

impl ScannedUrl {
    /// `None` when `s` is not an http(s) URL.
    pub fn parse(s: &str) -> Option<Self> {
        let (scheme, rest) = s.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or(rest);
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, "/"),
        };
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        let query = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                Some((percent_decode(k)?, percent_decode(v)?))
            })
            .collect();
        Some(Self {
            host,
            path: percent_decode(path)?,
            query,
        })
    }

    /// The first value of query parameter `name` (names are case-sensitive, as servers read them).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this URL is at `host` (any case) and `path`.
    pub fn is_at(&self, host: &str, path: &str) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.path == path
    }
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            // Two hex digits exactly: `from_str_radix` alone would take "+5" as 5.
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_scanner_and_paste_noise() {
        assert_eq!(trim(" YKM1.a.b \r\n"), "YKM1.a.b");
        assert_eq!(trim("\u{feff}YKM1.a.b\t"), "YKM1.a.b");
        assert_eq!(trim("YKM1.a.b"), "YKM1.a.b");
    }

    #[test]
    fn takes_urls_apart_loosely() {
        let url = ScannedUrl::parse(
            "HTTP://HzGov.Huren.Dev:443/healthAct/index.html?from=x&code=A%2EB&e",
        )
        .unwrap();
        assert_eq!(url.host, "hzgov.huren.dev");
        assert!(url.is_at("hzgov.huren.dev", "/healthAct/index.html"));
        assert_eq!(url.param("code"), Some("A.B"));
        assert_eq!(url.param("e"), Some(""));
        assert_eq!(url.param("missing"), None);
        assert_eq!(ScannedUrl::parse("https://h").unwrap().path, "/");
        assert!(ScannedUrl::parse("YKM1.a.b").is_none());
        assert!(ScannedUrl::parse("ftp://h/x").is_none());
        assert!(
            ScannedUrl::parse("https://h/x?code=%G1")
                .unwrap()
                .param("code")
                .is_none()
        );
        // A sign is not a hex digit: "%+5" is a broken escape, not byte 5.
        assert!(
            ScannedUrl::parse("https://h/x?code=%+5")
                .unwrap()
                .param("code")
                .is_none()
        );
    }
}
