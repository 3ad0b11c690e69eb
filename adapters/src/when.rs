//! Times as people and machines read them in messages: RFC 3339 with the offset.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2026-12-04T07:03:56Z`; the `Display` of [`OffsetDateTime`] (`2026-12-04 7:03:56.0
/// +00:00:00`) is no format anyone reads back.
pub fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn with_the_offset() {
        let t = time::macros::datetime!(2026-12-04 07:03:56 +08:00);
        assert_eq!(super::rfc3339(&t), "2026-12-04T07:03:56+08:00");
    }
}
