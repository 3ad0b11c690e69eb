//! The tables the client commands read (manifests, worker lists) as Excel and people write them:
//! CSV with a BOM, CRLF and quoting, UTF-8 or GBK/GB18030, or an `.xlsx` workbook's first sheet;
//! columns matched by their header in English or Chinese; every bad row reported with its line.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use calamine::Reader as _;
use huren_adapters::AdapterSet;

/// Most rows one file may hold: the API takes at most 10,000 entries per call.
pub const MAX_ROWS: usize = 10_000;

/// A column the commands know, by the names a header may give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Seat,
    Payload,
    WorkerRef,
    IdNumber,
    Name,
}

impl Column {
    const ALL: [Column; 5] = [
        Column::Seat,
        Column::Payload,
        Column::WorkerRef,
        Column::IdNumber,
        Column::Name,
    ];

    /// The English name first (as the help and messages spell it), then what people write.
    fn names(self) -> &'static [&'static str] {
        match self {
            Column::Seat => &["seat", "座位", "座位号", "座号"],
            Column::Payload => &["payload", "健康码", "code", "qr"],
            Column::WorkerRef => &["worker_ref", "工号", "编号", "worker"],
            Column::IdNumber => &["id_number", "身份证号", "身份证", "身份证号码"],
            Column::Name => &["name", "姓名"],
        }
    }

    pub fn name(self) -> &'static str {
        self.names()[0]
    }

    fn of(header: &str) -> Option<Column> {
        let header = header.trim();
        Column::ALL
            .into_iter()
            .find(|c| c.names().iter().any(|n| n.eq_ignore_ascii_case(header)))
    }
}

/// The columns one kind of row holds, in the order a file without a header gives them.
pub type Layout = &'static [Column];

/// One data row: its line in the file, the layout it matched, and its cells by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub layout: Layout,
    cells: HashMap<Column, String>,
}

impl Record {
    /// The cell of `column` (empty when the layout has no such column).
    pub fn get(&self, column: Column) -> &str {
        self.cells.get(&column).map(String::as_str).unwrap_or("")
    }
}

/// One bad row and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: neither UTF-8 nor GBK/GB18030 text")]
    Encoding { path: PathBuf },
    #[error("{path}: cannot read the workbook: {why}")]
    Workbook { path: PathBuf, why: String },
    #[error("{path}: more than {MAX_ROWS} rows; split the file")]
    TooManyRows { path: PathBuf },
    #[error("{path}: {} bad rows, nothing was sent:\n  {}", .problems.len(), list(.problems))]
    Rows {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n  ")
}

/// Reads `path` (`.xlsx` as a workbook, anything else as CSV) into records of one of `layouts`.
/// The first layout's first column is the row's key: it may not repeat.
pub fn read(path: &Path, layouts: &[Layout]) -> Result<Vec<Record>, TableError> {
    let is_xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let rows = if is_xlsx {
        workbook_rows(path)?
    } else {
        let bytes = std::fs::read(path).map_err(|source| TableError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = decode(&bytes).ok_or_else(|| TableError::Encoding {
            path: path.to_path_buf(),
        })?;
        csv_rows(&text).map_err(|problem| TableError::Rows {
            path: path.to_path_buf(),
            problems: vec![problem],
        })?
    };
    if rows.len() > MAX_ROWS + 1 {
        return Err(TableError::TooManyRows {
            path: path.to_path_buf(),
        });
    }
    let records = shape(rows, layouts).map_err(|problems| TableError::Rows {
        path: path.to_path_buf(),
        problems,
    })?;
    if records.len() > MAX_ROWS {
        return Err(TableError::TooManyRows {
            path: path.to_path_buf(),
        });
    }
    Ok(records)
}

/// UTF-8 (a BOM dropped), else GBK/GB18030, which Excel writes on Chinese Windows.
pub fn decode(bytes: &[u8]) -> Option<String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.strip_prefix('\u{feff}').unwrap_or(text).to_string()),
        Err(_) => {
            let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            (!had_errors).then(|| text.into_owned())
        }
    }
}

/// Raw rows with their line numbers; blank rows and `#` comments skipped.
pub fn csv_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    // The csv crate reads an unclosed quote to the end of the file; a person meant a field.
    if text.matches('"').count() % 2 == 1 {
        let line = text
            .lines()
            .position(|l| l.matches('"').count() % 2 == 1)
            .map_or(1, |i| i + 1);
        return Err(Problem {
            line,
            what: "a quoted field is not closed".to_string(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    // The reader's position is where the previous record ended, and its line count leaves out
    // comment lines: step over line ends and comments from there, then count lines.
    let bytes = text.as_bytes();
    let line_at = |byte: u64| {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        loop {
            match bytes.get(at) {
                Some(b'\r' | b'\n') => at += 1,
                Some(b'#') => {
                    at = bytes[at..]
                        .iter()
                        .position(|b| *b == b'\n')
                        .map_or(bytes.len(), |i| at + i + 1)
                }
                _ => break,
            }
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
    };
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Problem {
            line: e.position().map_or(i + 1, |p| line_at(p.byte())),
            what: e.to_string(),
        })?;
        let line = record.position().map_or(i + 1, |p| line_at(p.byte()));
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows.push((line, cells));
    }
    Ok(rows)
}

/// The first sheet of a workbook as raw rows; a row's line is its row number in Excel.
fn workbook_rows(path: &Path) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let workbook_error = |why: String| TableError::Workbook {
        path: path.to_path_buf(),
        why,
    };
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e: calamine::XlsxError| workbook_error(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| workbook_error("it has no sheet".to_string()))?
        .map_err(|e| workbook_error(e.to_string()))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| c.to_string().trim().to_string())
            .collect();
        let cells = trim_trailing_empty(cells);
        let blank = cells.iter().all(String::is_empty);
        if blank || cells.first().is_some_and(|c| c.starts_with('#')) {
            continue;
        }
        rows.push((first_row + i + 1, cells));
    }
    Ok(rows)
}

/// A sheet's rows are as wide as its widest; the empty cells past a row's end are not columns.
fn trim_trailing_empty(mut cells: Vec<String>) -> Vec<String> {
    while cells.last().is_some_and(String::is_empty) {
        cells.pop();
    }
    cells
}

/// Raw rows → records: a header row (any column name known) says where each column is; without
/// one, the columns are in a layout's order, chosen by how many a row has. Every bad row is
/// reported, not only the first.
pub fn shape(
    rows: Vec<(usize, Vec<String>)>,
    layouts: &[Layout],
) -> Result<Vec<Record>, Vec<Problem>> {
    let expected = || {
        layouts
            .iter()
            .map(|l| names(l))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let mut problems = Vec::new();
    let mut rows = rows.into_iter().peekable();
    let header = match rows.peek() {
        Some((line, cells)) if cells.iter().any(|c| Column::of(c).is_some()) => {
            let line = *line;
            let columns: Vec<Option<Column>> = cells.iter().map(|c| Column::of(c)).collect();
            for (cell, column) in cells.iter().zip(&columns) {
                if column.is_none() && !cell.is_empty() {
                    problems.push(Problem {
                        line,
                        what: format!("unknown column {cell:?}; expected {}", expected()),
                    });
                }
            }
            let present = |l: &&Layout| l.iter().all(|c| columns.contains(&Some(*c)));
            match layouts.iter().find(present) {
                Some(layout) => Some((*layout, columns)),
                None => {
                    problems.push(Problem {
                        line,
                        what: format!("the header names no {}", expected()),
                    });
                    return Err(problems);
                }
            }
        }
        _ => None,
    };
    if header.is_some() {
        rows.next();
    }
    let mut records = Vec::new();
    for (line, cells) in rows {
        let record = match &header {
            Some((layout, columns)) => {
                let cells = columns
                    .iter()
                    .zip(cells)
                    .filter_map(|(column, cell)| column.map(|c| (c, cell)))
                    .filter(|(c, _)| layout.contains(c))
                    .collect();
                Record {
                    line,
                    layout,
                    cells,
                }
            }
            None => match layouts.iter().find(|l| l.len() == cells.len()) {
                Some(layout) => Record {
                    line,
                    layout,
                    cells: layout.iter().copied().zip(cells).collect(),
                },
                None => {
                    problems.push(Problem {
                        line,
                        what: format!("{} columns; expected {}", cells.len(), expected()),
                    });
                    continue;
                }
            },
        };
        records.push(record);
    }
    check(&records, &mut problems);
    problems.sort_by_key(|p| p.line);
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

fn names(layout: &[Column]) -> String {
    let names: Vec<&str> = layout.iter().map(|c| c.name()).collect();
    names.join(",")
}

/// Empty cells, repeated keys (a seat or worker twice), and a key that holds a health code,
/// which means the columns are swapped.
fn check(records: &[Record], problems: &mut Vec<Problem>) {
    let adapters = huren_adapters::default_adapters().ok();
    let mut seen: HashMap<(Column, &str), usize> = HashMap::new();
    for record in records {
        for column in record.layout {
            if record.get(*column).is_empty() {
                problems.push(Problem {
                    line: record.line,
                    what: format!("no {}", column.name()),
                });
            }
        }
        let Some(key) = record.layout.first().copied() else {
            continue;
        };
        let value = record.get(key);
        if value.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert((key, value), record.line) {
            problems.push(Problem {
                line: record.line,
                what: format!("{} {value} repeats line {first}", key.name()),
            });
            seen.insert((key, value), first);
        }
        if adapters
            .as_ref()
            .is_some_and(|set| looks_like_a_code(set, value))
        {
            problems.push(Problem {
                line: record.line,
                what: format!(
                    "the {} holds a health code: are the columns swapped? (expected {})",
                    key.name(),
                    names(record.layout)
                ),
            });
        }
    }
}

fn looks_like_a_code(set: &AdapterSet, value: &str) -> bool {
    set.claim(&set.scanned(value)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &[Layout] = &[&[Column::Seat, Column::Payload]];
    const WORKERS: &[Layout] = &[
        &[Column::WorkerRef, Column::Payload],
        &[Column::WorkerRef, Column::IdNumber, Column::Name],
    ];

    fn parse(text: &str, layouts: &[Layout]) -> Result<Vec<Record>, Vec<Problem>> {
        shape(csv_rows(text).map_err(|p| vec![p])?, layouts)
    }

    #[test]
    fn header_comments_and_quotes() {
        let text = "seat,payload\n# car 1\n01A, YKM1.abc.def \n\n\"02,B\",\"https://x/?a=1&b=\"\"2\"\"\"\n";
        let rows = parse(text, MANIFEST).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].get(Column::Seat), rows[0].get(Column::Payload)),
            ("01A", "YKM1.abc.def")
        );
        assert_eq!(rows[0].line, 3);
        assert_eq!(
            (rows[1].get(Column::Seat), rows[1].get(Column::Payload)),
            ("02,B", "https://x/?a=1&b=\"2\"")
        );
        assert!(parse("a,\"b\n", MANIFEST).is_err());
    }

    #[test]
    fn a_bom_crlf_and_a_chinese_header_in_any_column_order() {
        let text = "\u{feff}健康码,座位\r\nYKM1.a.b,01A\r\nYKM1.c.d,01B\r\n";
        let rows = parse(&decode(text.as_bytes()).unwrap(), MANIFEST).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].get(Column::Seat), "01B");
        assert_eq!(rows[1].get(Column::Payload), "YKM1.c.d");
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn gbk_text_is_decoded() {
        let (gbk, _, _) =
            encoding_rs::GBK.encode("工号,身份证号,姓名\nW1,110101199003078515,张三\n");
        assert!(std::str::from_utf8(&gbk).is_err());
        let rows = parse(&decode(&gbk).unwrap(), WORKERS).unwrap();
        assert_eq!(rows[0].get(Column::Name), "张三");
        assert_eq!(rows[0].layout, WORKERS[1]);
        assert!(decode(&[0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = "seat,payload\n01A,YKM1.a.b\n01B\n01A,YKM1.c.d\n,YKM1.e.f\n";
        let problems = parse(text, MANIFEST).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{problems:?}");
        assert!(
            problems[1].what.contains("seat 01A repeats line 2"),
            "{problems:?}"
        );
        assert!(problems[2].what.contains("no seat"), "{problems:?}");
    }

    #[test]
    fn swapped_columns_get_a_hint() {
        let code = "https://yushiban.huren.dev/jkm/q?code=0123456789abcdef0123456789abcdef";
        let problems = parse(&format!("{code},01A\n"), MANIFEST).unwrap_err();
        assert!(problems[0].what.contains("columns swapped"), "{problems:?}");
    }

    #[test]
    fn workers_without_a_header_by_column_count() {
        let rows = parse("W1,YKM1.a.b\nW2,110101199003078515,Li\n", WORKERS).unwrap();
        assert_eq!(rows[0].layout, WORKERS[0]);
        assert_eq!(rows[1].get(Column::IdNumber), "110101199003078515");
    }
}
