//! The small CSV files the client commands read: comma-separated, `"quoted, fields"` allowed,
//! an optional header row, `#` comments and blank lines ignored.

use std::path::Path;

use anyhow::{Context as _, bail};

/// Most rows one file may hold: the API takes at most 10,000 entries per call.
pub const MAX_ROWS: usize = 10_000;

/// One data row with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Reads `path`; a first row whose first field is `header_first` (any case) is skipped.
pub fn read(path: &Path, header_first: &str) -> anyhow::Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text, header_first).with_context(|| format!("in {}", path.display()))
}

pub fn parse(text: &str, header_first: &str) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = split(trimmed).with_context(|| format!("line {line_no}"))?;
        let is_header = rows.is_empty()
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case(header_first));
        if is_header {
            continue;
        }
        if rows.len() == MAX_ROWS {
            bail!("more than {MAX_ROWS} rows; split the file");
        }
        rows.push(Row {
            line: line_no,
            fields,
        });
    }
    Ok(rows)
}

fn split(line: &str) -> anyhow::Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field).trim().to_string()),
            (false, c) => field.push(c),
        }
    }
    if quoted {
        bail!("a quoted field is not closed");
    }
    fields.push(field.trim().to_string());
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_quotes() {
        let text = "seat,payload\n# car 1\n01A, YKM1.abc.def \n\n\"02,B\",\"https://x/?a=1&b=\"\"2\"\"\"\n";
        let rows = parse(text, "seat").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields, vec!["01A", "YKM1.abc.def"]);
        assert_eq!(rows[0].line, 3);
        assert_eq!(rows[1].fields, vec!["02,B", "https://x/?a=1&b=\"2\""]);
        assert!(parse("a,\"b\n", "seat").is_err());
    }
}
