//! JSON inputs: JSONL (one record a line), a JSON array of records, or a `.json` file holding one
//! record; and writing enriched records back in the file's own shape (its indent, its final newline).
use super::{kind_of, Format, Origin, Probe, RawRecord, Records, WriteBack};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The extensions that name a file as JSONL whatever its first byte.
const JSONL_EXTENSIONS: [&str; 3] = ["jsonl", "ndjson", "jsonlines"];

/// JSONL: one record per line (`.jsonl`, `.ndjson`, `.jsonlines`, or a file without an extension).
pub struct JsonLines;

/// A `.json` file: a JSON array of records (first non-blank byte `[`), or one record (an object,
/// pretty-printed or not).
pub struct Json;

/// Whether a JSON text is an array: its first byte that is not whitespace, after a byte order
/// mark, is `[`.
fn holds_array(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// The records to write back (JSON files are never written with a record skipped).
fn present(records: &[Option<Value>]) -> Vec<Value> {
    records.iter().flatten().cloned().collect()
}

/// The three JSON shapes, for writing back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Lines,
    Array,
    Object,
}

impl Format for JsonLines {
    fn name(&self) -> &'static str {
        "jsonl"
    }
    fn claims(&self, probe: &mut Probe) -> std::io::Result<bool> {
        // Named as JSONL: read as JSONL, so that a first line that is an array is a bad record, not
        // a different format. Without an extension, or an empty `.json`: JSONL (nothing else
        // claimed it).
        Ok(JSONL_EXTENSIONS.contains(&probe.extension())
            || probe.extension().is_empty()
            || (probe.extension() == "json" && probe.first_byte()?.is_none()))
    }
    fn extensions(&self) -> &'static [&'static str] {
        &JSONL_EXTENSIONS
    }
    fn read_stream(
        &self,
        name: String,
        reader: Box<dyn Read + Send>,
        _options: &super::ReadOptions,
    ) -> std::io::Result<Records> {
        Ok(Box::new(JsonLinesReader {
            name,
            reader: BufReader::with_capacity(1 << 16, reader),
            line: 0,
        }))
    }
    fn count(&self, path: &Path) -> Option<u64> {
        // Streamed: the file may be far larger than memory should hold.
        let mut reader = BufReader::new(fs::File::open(path).ok()?);
        let (mut lines, mut line) = (0u64, Vec::new());
        while reader.read_until(b'\n', &mut line).ok()? > 0 {
            lines += u64::from(line.iter().any(|b| !b.is_ascii_whitespace()));
            line.clear();
        }
        Some(lines)
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        _: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        Ok(Some(render(Shape::Lines, &present(records), original)))
    }
}

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn claims(&self, probe: &mut Probe) -> std::io::Result<bool> {
        // A file without an extension is JSON when it starts as an array, else JSONL.
        Ok(match probe.extension() {
            "json" => probe.first_byte()?.is_some(),
            "" => probe.first_byte()? == Some(b'['),
            _ => false,
        })
    }
    fn folder_depth(&self) -> super::FolderDepth {
        super::FolderDepth::Top
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["json"]
    }
    fn read(&self, path: &Path, _options: &super::ReadOptions) -> std::io::Result<Records> {
        let name = path.display().to_string();
        let bytes = fs::read(path)?;
        if holds_array(&bytes) {
            return Ok(Box::new(json_array(&name, &bytes).into_iter()));
        }
        let record = match std::str::from_utf8(&bytes) {
            Ok(t) => parse_object(t.trim_start_matches('\u{feff}')),
            Err(e) => Err(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
        };
        Ok(Box::new(std::iter::once(RawRecord::new(
            Origin(name),
            record,
        ))))
    }
    fn read_stream(
        &self,
        name: String,
        reader: Box<dyn Read + Send>,
        _options: &super::ReadOptions,
    ) -> std::io::Result<Records> {
        Ok(from_reader(name, reader))
    }
    fn count(&self, path: &Path) -> Option<u64> {
        // An array would have to be parsed whole to count.
        (super::Probe::new(path).first_byte().ok()? != Some(b'[')).then_some(1)
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        _: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        let shape = if holds_array(original) {
            Shape::Array
        } else {
            Shape::Object
        };
        Ok(Some(render(shape, &present(records), original)))
    }
}

/// Records from any reader (a file, stdin, bytes in memory), told apart as `open` does.
pub fn from_reader(name: String, reader: Box<dyn Read + Send>) -> Records {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let first = match reader.fill_buf() {
        Ok(buf) => buf.iter().copied().find(|b| !b.is_ascii_whitespace()),
        Err(e) => {
            return Box::new(std::iter::once(RawRecord::new(
                Origin(name),
                Err(e.to_string()),
            )))
        }
    };
    if first == Some(b'[') {
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            return Box::new(std::iter::once(RawRecord::new(
                Origin(name),
                Err(e.to_string()),
            )));
        }
        return Box::new(json_array(&name, &bytes).into_iter());
    }
    Box::new(JsonLinesReader {
        name,
        reader,
        line: 0,
    })
}

/// JSONL: one record per non-blank line; blank lines are skipped, everything else is a record.
struct JsonLinesReader {
    name: String,
    reader: BufReader<Box<dyn Read + Send>>,
    line: usize,
}

impl Iterator for JsonLinesReader {
    type Item = RawRecord;
    fn next(&mut self) -> Option<RawRecord> {
        loop {
            let mut buf = Vec::new();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.line += 1;
                    let origin = Origin(format!("{}:{}", self.name, self.line));
                    return Some(RawRecord::new(origin, Err(format!("read error: {e}"))));
                }
            }
            self.line += 1;
            let origin = Origin(format!("{}:{}", self.name, self.line));
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t,
                Err(e) => {
                    let record = Err(format!(
                        "invalid UTF-8 at byte {} of the line",
                        e.valid_up_to()
                    ));
                    let unparsed = Some(String::from_utf8_lossy(&buf).trim_end().to_string());
                    return Some(RawRecord {
                        unparsed,
                        ..RawRecord::new(origin, record)
                    });
                }
            };
            let text = text
                .trim_start_matches('\u{feff}')
                .trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            // The origin names the line; serde's "line 1" inside it would only confuse.
            let record =
                parse_object(text).map_err(|e| e.replace(" at line 1 column ", " at column "));
            let unparsed = record.is_err().then(|| text.to_string());
            return Some(RawRecord {
                unparsed,
                ..RawRecord::new(origin, record)
            });
        }
    }
}

pub(crate) fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "record is {}, expected a JSON object",
            kind_of(&other)
        )),
        Err(e) => Err(format!("malformed JSON: {e}")),
    }
}

/// The elements of a JSON array, read one by one so that a truncated or broken array still gives
/// every record before the break, followed by one error naming where it broke.
fn json_array(name: &str, bytes: &[u8]) -> Vec<RawRecord> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(e) => {
            let record = Err(format!("invalid UTF-8 at byte {}", e.valid_up_to()));
            return vec![RawRecord::new(Origin(name.to_string()), record)];
        }
    };
    let mut items = Vec::new();
    let mut broken = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let whole = serde::Deserializer::deserialize_seq(
        &mut de,
        Elements {
            items: &mut items,
            broken: &mut broken,
        },
    )
    .and_then(|_| de.end());
    let mut records: Vec<RawRecord> = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let origin = Origin(format!("{name}[{i}]"));
            let record = match v {
                Value::Object(map) => Ok(map),
                other => Err(format!(
                    "record is {}, expected a JSON object",
                    kind_of(&other)
                )),
            };
            RawRecord::new(origin, record)
        })
        .collect();
    let problem = broken.or_else(|| whole.err().map(|e| e.to_string()));
    if let Some(e) = problem {
        let n = records.len();
        records.push(RawRecord::new(
            Origin(format!("{name}[{n}]")),
            Err(format!(
                "malformed JSON array after {n} records (those were read): {e}"
            )),
        ));
    }
    records
}

/// Collects array elements until the end or the first error.
struct Elements<'a> {
    items: &'a mut Vec<Value>,
    broken: &'a mut Option<String>,
}

impl<'de> serde::de::Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of records")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            match seq.next_element::<Value>() {
                Ok(Some(v)) => self.items.push(v),
                Ok(None) => return Ok(()),
                Err(e) => {
                    *self.broken = Some(e.to_string());
                    return Ok(());
                }
            }
        }
    }
}

/// Renders records the way their file held them: JSONL lines, or an array / a single object,
/// pretty-printed with the file's own indent when it was pretty-printed, with its final newline.
fn render(layout: Shape, values: &[Value], original: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if layout == Shape::Lines {
        for v in values {
            serde_json::to_writer(&mut out, v).expect("JSON values serialise");
            out.push(b'\n');
        }
        return out;
    }
    let single = Value::Array(values.to_vec());
    let value = match layout {
        Shape::Object if values.len() == 1 => &values[0],
        _ => &single,
    };
    match indent_of(original) {
        Some(indent) => {
            let formatter = serde_json::ser::PrettyFormatter::with_indent(&indent);
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            value.serialize(&mut ser).expect("JSON values serialise");
        }
        None => serde_json::to_writer(&mut out, value).expect("JSON values serialise"),
    }
    if original.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// The indent of a pretty-printed JSON text (the leading whitespace of its first indented line), or
/// `None` when it is on one line.
fn indent_of(text: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(text);
    let mut lines = text.trim().lines().skip(1);
    lines.find_map(|l| {
        let indent: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
        (!indent.is_empty()).then(|| indent.into_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_go_back_in_their_file_layout_and_indent() {
        let v = vec![serde_json::json!({"id": "a", "n": 1})];
        assert_eq!(render(Shape::Lines, &v, b""), b"{\"id\":\"a\",\"n\":1}\n");
        assert_eq!(
            render(Shape::Object, &v, b"{\n    \"id\": \"a\"\n}\n"),
            b"{\n    \"id\": \"a\",\n    \"n\": 1\n}\n"
        );
        assert_eq!(
            render(Shape::Object, &v, b"{\"id\":\"a\"}"),
            b"{\"id\":\"a\",\"n\":1}"
        );
        assert_eq!(
            render(Shape::Array, &v, b"[\n\t{\"id\": \"a\"}\n]"),
            b"[\n\t{\n\t\t\"id\": \"a\",\n\t\t\"n\": 1\n\t}\n]"
        );
    }
}
