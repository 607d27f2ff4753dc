//! CSV and TSV tables (RFC 4180: quoted delimiters, quotes and line breaks; a byte order mark; `,`
//! `;` `\t` or `|` delimiters, sniffed from the header or given): a header row, then one article a
//! row, each cell a string field mapped as for JSON.
//!
//! Written back (`--in-place`, or `-o out.csv` from a CSV input) with every original byte of every
//! row kept and lede's columns appended: language, summary, keywords and topic labels and ids
//! (joined by "; "), and the whole enrichment as JSON (which a later run reads back, so unchanged
//! rows are not recomputed). A second run replaces its own columns' cells rather than adding more.
//! A row that cannot be read (ragged, not UTF-8) is named, and written back as it was.
use super::{Format, OnFailure, Origin, RawRecord, ReadOptions, Records, WriteBack};
use serde_json::{Map, Value};
use std::io::Read;

/// A delimited table format: its name and extension, and the delimiter it implies (sniffed from
/// the header when `None`; `--delimiter` wins over both).
pub struct Delimited {
    name: &'static str,
    extensions: &'static [&'static str],
    delimiter: Option<u8>,
}

/// Comma-separated tables (`.csv`; the delimiter is sniffed, so `;` tables read too).
pub static CSV: Delimited = Delimited {
    name: "csv",
    extensions: &["csv"],
    delimiter: None,
};

/// Tab-separated tables (`.tsv`).
pub static TSV: Delimited = Delimited {
    name: "tsv",
    extensions: &["tsv"],
    delimiter: Some(b'\t'),
};

impl Format for Delimited {
    fn name(&self) -> &'static str {
        self.name
    }
    fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }
    fn read_stream(
        &self,
        name: String,
        reader: Box<dyn Read + Send>,
        options: &ReadOptions,
    ) -> std::io::Result<Records> {
        read_table(name, reader, options.delimiter.or(self.delimiter), options)
    }
    fn on_failure(&self, readable: bool) -> OnFailure {
        if readable {
            OnFailure::Keep
        } else {
            OnFailure::Skip
        }
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        options: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        write_table(original, records, self.delimiter, options)
    }
    fn writes_copies(&self) -> bool {
        true
    }
}

/// One row of a table: where it lies in the bytes, and its line for messages.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// First byte of the row.
    start: usize,
    /// End of its content (before the line break).
    content_end: usize,
    /// After its line break.
    end: usize,
    /// 1-based line where the row starts.
    line: usize,
    /// The row ends inside a quoted field that is never closed.
    unterminated: bool,
}

/// Splits a table into rows as RFC 4180 reads them: a line break inside a quoted field belongs to
/// the field; a quote inside an unquoted field is a plain character.
fn split_rows(bytes: &[u8], delimiter: u8) -> Vec<Row> {
    let mut rows = Vec::new();
    let (mut start, mut line) = (0, 1);
    let mut i = 0;
    // Field states: at a field's start, inside an unquoted field, inside quotes, after a
    // closing quote.
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        AfterQuote,
    }
    let mut state = State::FieldStart;
    let mut start_line = line;
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            State::Quoted => {
                if b == b'"' {
                    state = State::AfterQuote;
                } else if b == b'\n' {
                    line += 1;
                }
            }
            State::AfterQuote if b == b'"' => state = State::Quoted,
            _ if b == b'\n' => {
                let content_end = if i > start && bytes[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                rows.push(Row {
                    start,
                    content_end,
                    end: i + 1,
                    line: start_line,
                    unterminated: false,
                });
                line += 1;
                start = i + 1;
                start_line = line;
                state = State::FieldStart;
            }
            _ if b == delimiter => state = State::FieldStart,
            State::FieldStart if b == b'"' => state = State::Quoted,
            _ => {
                if state == State::FieldStart {
                    state = State::Unquoted;
                }
            }
        }
        i += 1;
    }
    if start < bytes.len() {
        let content_end = if bytes.ends_with(b"\r") && state != State::Quoted {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        rows.push(Row {
            start,
            content_end,
            end: bytes.len(),
            line: start_line,
            unterminated: state == State::Quoted,
        });
    }
    rows
}

/// The byte offset, within a row's content, of the start of field `index` (the byte after the
/// delimiter before it); `None` when the row has fewer fields.
fn field_offset(content: &[u8], delimiter: u8, index: usize) -> Option<usize> {
    if index == 0 {
        return Some(0);
    }
    let mut quoted = false;
    let mut at_start = true;
    let mut seen = 0;
    for (i, &b) in content.iter().enumerate() {
        if quoted {
            if b == b'"' {
                quoted = false;
            }
            continue;
        }
        if b == delimiter {
            seen += 1;
            if seen == index {
                return Some(i + 1);
            }
            at_start = true;
            continue;
        }
        if b == b'"' && at_start {
            quoted = true;
        }
        at_start = false;
    }
    None
}

/// The cells of one row's content.
fn fields(content: &[u8], delimiter: u8) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(content);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                String::from_utf8(cell.to_vec()).map_err(|e| {
                    format!(
                        "cell {} is not UTF-8 (invalid byte at offset {}); convert the file to UTF-8",
                        i + 1,
                        e.utf8_error().valid_up_to()
                    )
                })
            })
            .collect(),
        Ok(false) => Ok(vec![String::new()]),
        Err(e) => Err(format!("unreadable row: {e}")),
    }
}

/// The delimiter of a table: the one of `,` `;` `\t` `|` found most often outside quotes in its
/// header line (a comma when none is).
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut best = (0, b',');
    for candidate in [b',', b';', b'\t', b'|'] {
        let mut count = 0;
        let mut quoted = false;
        for &b in header {
            if b == b'"' {
                quoted = !quoted;
            } else if b == candidate && !quoted {
                count += 1;
            }
        }
        if count > best.0 {
            best = (count, candidate);
        }
    }
    best.1
}

/// A table parsed into its header and rows.
struct Table<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    header: Vec<String>,
    header_row: Row,
    rows: Vec<Row>,
}

impl<'a> Table<'a> {
    fn parse(bytes: &'a [u8], delimiter: Option<u8>) -> Result<Table<'a>, String> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(first_line));
        let mut rows = split_rows(bytes, delimiter)
            .into_iter()
            .filter(|r| r.content_end > r.start || r.unterminated);
        let header_row = rows
            .next()
            .ok_or_else(|| "empty table: no header row".to_string())?;
        if header_row.unterminated {
            return Err(format!(
                "line {}: a quoted header field is never closed",
                header_row.line
            ));
        }
        let header = fields(&bytes[header_row.start..header_row.content_end], delimiter)
            .map_err(|e| format!("header row: {e}"))?;
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
            return Err(format!(
                "the header names column {dup:?} twice: rename one, so that no cell is lost"
            ));
        }
        Ok(Table {
            bytes,
            delimiter,
            header,
            header_row,
            rows: rows.collect(),
        })
    }

    fn content(&self, row: &Row) -> &'a [u8] {
        &self.bytes[row.start..row.content_end]
    }

    /// A row as a record, or why it cannot be one.
    fn record(&self, row: &Row, output_key: &str) -> Result<Map<String, Value>, String> {
        if row.unterminated {
            return Err(format!(
                "a quoted field opened on line {} is never closed: the rest of the file is in it",
                row.line
            ));
        }
        let cells = fields(self.content(row), self.delimiter)?;
        if cells.len() != self.header.len() {
            return Err(format!(
                "the row has {} fields, the header has {} (written back as it is, not enriched)",
                cells.len(),
                self.header.len()
            ));
        }
        let mut record = Map::new();
        for (name, cell) in self.header.iter().zip(cells) {
            // lede's own column from an earlier run: its enrichment, so the row is not redone.
            let value = match serde_json::from_str::<Value>(&cell) {
                Ok(v @ Value::Object(_)) if name == output_key => v,
                _ => Value::String(cell),
            };
            record.insert(name.clone(), value);
        }
        Ok(record)
    }
}

/// Reads a whole table (a table is read into memory: its rows are written back in one piece).
fn read_table(
    name: String,
    mut reader: Box<dyn Read + Send>,
    delimiter: Option<u8>,
    options: &ReadOptions,
) -> std::io::Result<Records> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let output_key = options.markdown.keys.provenance.clone();
    let table = match Table::parse(&bytes, delimiter) {
        Ok(table) => table,
        Err(why) => {
            let raw = RawRecord::new(Origin(name), Err(why));
            return Ok(Box::new(std::iter::once(raw)));
        }
    };
    let records: Vec<RawRecord> = table
        .rows
        .iter()
        .map(|row| {
            RawRecord::new(
                Origin(format!("{name}:{}", row.line)),
                table.record(row, &output_key),
            )
        })
        .collect();
    Ok(Box::new(records.into_iter()))
}

/// The names of lede's columns under `key`, in the order they are appended.
fn lede_columns(key: &str) -> [String; 6] {
    [
        format!("{key}_language"),
        format!("{key}_summary"),
        format!("{key}_keywords"),
        format!("{key}_topics"),
        format!("{key}_topic_ids"),
        key.to_string(),
    ]
}

/// lede's cells for one record's enrichment (empty when it has none).
fn lede_cells(enrichment: Option<&Value>) -> [String; 6] {
    let Some(e) = enrichment.filter(|e| e.get("error").is_none()) else {
        return Default::default();
    };
    let join = |items: &Value, field: &str| {
        items
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i[field].as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    [
        e["language"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        e["summary"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        join(&e["keywords"], "text"),
        join(&e["topics"], "label"),
        join(&e["topics"], "id"),
        serde_json::to_string(e).expect("JSON values serialise"),
    ]
}

/// Cells joined into row text, quoted where needed.
fn row_text(cells: &[String], delimiter: u8) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(cells).expect("writes to memory");
    let mut out = writer.into_inner().expect("writes to memory");
    out.pop();
    out
}

/// The table with lede's columns appended (or, from an earlier run, their cells replaced).
fn write_table(
    original: &[u8],
    records: &[Option<Value>],
    delimiter: Option<u8>,
    options: &mut WriteBack,
) -> Result<Option<Vec<u8>>, String> {
    let table = Table::parse(original, delimiter)?;
    if table.rows.len() != records.len() {
        return Err(format!(
            "the table has {} rows now, {} when it was read: it changed during the run",
            table.rows.len(),
            records.len()
        ));
    }
    let key = options.output_key;
    let ours = lede_columns(key);
    // Where lede's columns start: after the original ones, which must all come first.
    let first_ours = table.header.iter().position(|h| ours.contains(h));
    let kept_columns = match first_ours {
        None => table.header.len(),
        Some(i) if table.header[i..] == ours[..] => i,
        Some(_) => {
            return Err(format!(
            "lede's columns ({}) must be the table's last columns, in that order, to be updated",
            ours.join(", ")
        ))
        }
    };
    let bom = original.len() - table.bytes.len();
    let mut out = original[..bom].to_vec();
    let cut = |row: &Row| -> usize {
        let content = table.content(row);
        match field_offset(content, table.delimiter, kept_columns) {
            // The delimiter before lede's first cell goes too.
            Some(offset) if kept_columns < table.header.len() => row.start + offset - 1,
            _ => row.content_end,
        }
    };
    let mut at = 0;
    let mut write_row = |out: &mut Vec<u8>, row: &Row, cells: Option<[String; 6]>| {
        out.extend_from_slice(&table.bytes[at..row.start]);
        match cells {
            Some(cells) => {
                out.extend_from_slice(&table.bytes[row.start..cut(row)]);
                out.push(table.delimiter);
                out.extend_from_slice(&row_text(&cells, table.delimiter));
                out.extend_from_slice(&table.bytes[row.content_end..row.end]);
            }
            None => out.extend_from_slice(&table.bytes[row.start..row.end]),
        }
        at = row.end;
    };
    write_row(&mut out, &table.header_row, Some(ours.clone()));
    for (row, record) in table.rows.iter().zip(records) {
        let cells = record.as_ref().map(|r| lede_cells(r.get(key)));
        write_row(&mut out, row, cells);
    }
    out.extend_from_slice(&table.bytes[at..]);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back(original: &str, records: &[Option<Value>]) -> String {
        let markdown = crate::formats::markdown::MarkdownOptions::default();
        let mut options = WriteBack {
            markdown: &markdown,
            output_key: "lede",
            kept: Vec::new(),
        };
        let bytes = write_table(original.as_bytes(), records, None, &mut options)
            .unwrap()
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn enriched(text: &str) -> Value {
        serde_json::json!({"lede": {"language": {"code": "en"}, "summary": {"text": text},
            "keywords": [{"text": "a"}, {"text": "b, c"}], "topics": [{"id": "t1", "label": "T"}]}})
    }

    #[test]
    fn rows_split_as_rfc_4180_reads_them() {
        let text = b"id,body\r\n1,\"two\r\nlines, \"\"quoted\"\"\"\r\n2,5\" screen\r\n";
        let rows = split_rows(text, b',');
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].line, 2);
        assert_eq!(rows[2].line, 4);
        let cells = fields(&text[rows[1].start..rows[1].content_end], b',').unwrap();
        assert_eq!(cells, ["1", "two\r\nlines, \"quoted\""]);
        let cells = fields(&text[rows[2].start..rows[2].content_end], b',').unwrap();
        assert_eq!(cells, ["2", "5\" screen"]);
        let rows = split_rows(b"id,body\n1,\"never closed\n2,x\n", b',');
        assert!(rows.last().unwrap().unterminated);
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"id;title;\"a,b\""), b';');
        assert_eq!(sniff_delimiter(b"id\ttitle"), b'\t');
        assert_eq!(sniff_delimiter(b"id,title"), b',');
    }

    #[test]
    fn write_back_keeps_every_byte_and_appends_then_replaces_its_columns() {
        let original = "id;body\r\n1;\"x; y\"\r\n\r\n2;ragged;row\r\n3;z";
        let once = back(
            original,
            &[Some(enriched("Sum; one")), None, Some(enriched("Two"))],
        );
        let lines: Vec<&str> = once.split("\r\n").collect();
        assert!(lines[0].starts_with(
            "id;body;lede_language;lede_summary;lede_keywords;lede_topics;lede_topic_ids;lede"
        ));
        assert!(lines[1].starts_with("1;\"x; y\";en;\"Sum; one\";\"a; b, c\";T;t1;"));
        assert_eq!(lines[2], "", "blank lines stay");
        assert_eq!(lines[3], "2;ragged;row", "a ragged row is kept as it was");
        assert!(lines[4].starts_with("3;z;en;Two;"));
        // A second run replaces its own cells.
        let twice = back(&once, &[Some(enriched("New")), None, Some(enriched("Two"))]);
        let lines: Vec<&str> = twice.split("\r\n").collect();
        assert!(lines[0].ends_with(";lede") && lines[0].matches("lede_language").count() == 1);
        assert!(lines[1].starts_with("1;\"x; y\";en;New;"));
        assert_eq!(lines[3], "2;ragged;row");
    }

    #[test]
    fn a_table_that_names_a_column_twice_is_refused() {
        assert!(Table::parse(b"id,body,id\n1,x,2\n", None)
            .err()
            .unwrap()
            .contains("twice"));
    }
}
