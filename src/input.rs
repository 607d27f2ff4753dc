//! Reading CMS exports: JSONL, a JSON array, a folder of `.json` files, or stdin; and turning a record
//! into an `Article` through a field mapping. Records are yielded one at a time, with where they came
//! from, so a bad one is reported by name and the rest go on.
use crate::html::html_to_text;
use crate::markdown::MarkdownOptions;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where a record came from, for error messages: `file.jsonl:12`, `file.json[3]`, `dir/a.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(pub String);

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One input record: its JSON object, or why it could not be read as one.
#[derive(Debug)]
pub struct RawRecord {
    pub origin: Origin,
    pub record: Result<Map<String, Value>, String>,
    /// A JSONL line that is not a JSON object, as given (lossy where it is not UTF-8), so that a
    /// filter can hand it back with its error instead of dropping it.
    pub unparsed: Option<String>,
    pub source: Source,
}

impl RawRecord {
    pub fn new(origin: Origin, record: Result<Map<String, Value>, String>) -> RawRecord {
        RawRecord {
            origin,
            record,
            unparsed: None,
            source: Source::default(),
        }
    }
}

/// What a record's file says about it beyond its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The body is Markdown (a `.md` file), not HTML or text.
    pub markdown: bool,
    /// A record that is a whole file (Markdown) is known by its path from the repository root: it
    /// wins over id fields, since front matter slugs repeat across a site's languages and sections.
    pub file_id: Option<String>,
}

pub type Records = Box<dyn Iterator<Item = RawRecord> + Send>;

/// Opens an input: `-` for stdin, a directory (its `.json` files, and its Markdown files at any
/// depth), or a JSONL / JSON-array / `.json` / Markdown file. Fails only when the input itself cannot
/// be opened.
pub fn open(path: &Path) -> std::io::Result<Records> {
    open_with(path, &MarkdownOptions::default())
}

/// `open`, reading Markdown files as `markdown` says.
pub fn open_with(path: &Path, markdown: &MarkdownOptions) -> std::io::Result<Records> {
    if path == Path::new("-") {
        return Ok(from_reader("stdin".to_string(), Box::new(std::io::stdin())));
    }
    if path.is_dir() {
        let files = input_files(path)?;
        let markdown = markdown.clone();
        return Ok(Box::new(
            files
                .into_iter()
                .flat_map(move |p| open_file_when_read(p, &markdown).1),
        ));
    }
    Ok(open_file_with(path, markdown)?.1)
}

/// A file of a folder, opened only when its records are asked for (a folder of 50,000 files must not
/// hold 50,000 files open or in memory). A file that cannot be opened is one error record; its layout
/// is then unknown (`None`).
pub fn open_file_when_read(
    file: FolderFile,
    markdown: &MarkdownOptions,
) -> (Option<Layout>, Records) {
    let failed = |path: &Path, error: String| {
        let raw = RawRecord::new(Origin(path.display().to_string()), Err(error));
        (None, Box::new(std::iter::once(raw)) as Records)
    };
    let path = match file {
        Ok(path) => path,
        Err((path, why)) => return failed(&path, why),
    };
    match open_file_with(&path, markdown) {
        Ok((layout, records)) => (Some(layout), records),
        Err(e) => failed(&path, e.to_string()),
    }
}

/// How a file holds its records; `--in-place` writes them back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// JSONL: one record per line.
    Lines,
    /// A JSON array of records.
    Array,
    /// One record: a `.json` file holding a single object (pretty-printed or not).
    Object,
    /// One record: a Markdown file with front matter.
    Markdown,
    /// A WordPress export (WXR, `.xml`): one record per post or page.
    Wxr,
}

/// Opens one file: a JSON array (first non-blank byte `[`), one object (a `.json` file starting
/// with `{`), a Markdown file (`.md`, `.markdown`), a WordPress export (`.xml`), or JSONL.
pub fn open_file(path: &Path) -> std::io::Result<(Layout, Records)> {
    open_file_with(path, &MarkdownOptions::default())
}

/// `open_file`, reading a Markdown file as `markdown` says.
pub fn open_file_with(
    path: &Path,
    markdown: &MarkdownOptions,
) -> std::io::Result<(Layout, Records)> {
    let layout = layout_of(path)?;
    let name = path.display().to_string();
    let records: Records = match layout {
        Layout::Lines => Box::new(JsonLines {
            name,
            reader: BufReader::with_capacity(1 << 16, Box::new(fs::File::open(path)?)),
            line: 0,
        }),
        Layout::Array => Box::new(json_array(&name, &fs::read(path)?).into_iter()),
        Layout::Object => {
            let record = match std::str::from_utf8(&fs::read(path)?) {
                Ok(t) => parse_object(t.trim_start_matches('\u{feff}')),
                Err(e) => Err(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
            };
            Box::new(std::iter::once(RawRecord::new(Origin(name), record)))
        }
        Layout::Markdown => {
            let record = crate::markdown::read_record(&fs::read(path)?, markdown);
            let mut raw = RawRecord::new(Origin(name), record);
            raw.source = Source {
                markdown: true,
                file_id: Some(path_id(path)),
            };
            Box::new(std::iter::once(raw))
        }
        Layout::Wxr => {
            let records: Vec<RawRecord> = match crate::wxr::read_posts(&name, &fs::read(path)?) {
                Ok(posts) => posts
                    .into_iter()
                    .map(|p| RawRecord::new(Origin(p.origin), p.record))
                    .collect(),
                Err(why) => vec![RawRecord::new(
                    Origin(name),
                    Err(format!("not a WordPress export (WXR): {why}")),
                )],
            };
            Box::new(records.into_iter())
        }
    };
    Ok((layout, records))
}

/// A file's path as its id: from the root of the git repository that holds it (`content/en/a.md`,
/// whatever the working directory, and whether the run was given the folder or the file); outside
/// a repository, as given, without `./`.
fn path_id(path: &Path) -> String {
    let join = |p: &Path| {
        let parts: Vec<String> = p
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/").replace("//", "/")
    };
    let Ok(full) = path.canonicalize() else {
        return join(path);
    };
    let top = full
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists());
    match top.and_then(|top| full.strip_prefix(top).ok()) {
        Some(relative) => join(relative),
        None => join(path),
    }
}

/// A Markdown article (`.md`, `.markdown`).
pub fn is_markdown(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("md") || x.eq_ignore_ascii_case("markdown"))
}

/// A WordPress export (`.xml`).
pub fn is_wxr(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("xml"))
}

/// The layout of a file, from its first non-blank byte (after a BOM) and its extension.
pub fn layout_of(path: &Path) -> std::io::Result<Layout> {
    if is_markdown(path) {
        fs::File::open(path)?;
        return Ok(Layout::Markdown);
    }
    if is_wxr(path) {
        fs::File::open(path)?;
        return Ok(Layout::Wxr);
    }
    let mut head = Vec::with_capacity(4096);
    fs::File::open(path)?.take(1 << 20).read_to_end(&mut head)?;
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&head);
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    let extension = path
        .extension()
        .map(|x| x.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let json_file = extension == "json";
    if matches!(extension.as_str(), "jsonl" | "ndjson" | "jsonlines") {
        // Named as JSONL, read as JSONL: a first line that is an array is a bad record, not a
        // different format.
        return Ok(Layout::Lines);
    }
    Ok(match first {
        Some(b'[') => Layout::Array,
        Some(_) if json_file => Layout::Object,
        _ => Layout::Lines,
    })
}

/// A file of a folder, or a path the folder holds that must not be read, with why.
pub type FolderFile = Result<PathBuf, (PathBuf, String)>;

/// The path of a folder's file, readable or not.
pub fn path_of(file: &FolderFile) -> &Path {
    match file {
        Ok(path) | Err((path, _)) => path,
    }
}

/// The files a folder stands for, in path order (stable across runs and machines): its `.json` files,
/// and its Markdown files at any depth (a static site's content tree). Hidden entries (`.git`) are
/// skipped, and so is a subfolder that cannot be read (as an error: it is reported). A symlink is
/// followed only when it stays inside the folder, and not when it points at a file read anyway; one
/// that leads out of the folder comes back as an error, so it is reported and never read or written.
pub fn input_files(dir: &Path) -> std::io::Result<Vec<FolderFile>> {
    let root = fs::canonicalize(dir)?;
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), true)];
    let mut linked = Vec::new();
    while let Some((folder, top)) = pending.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if !top => {
                out.push(Err((folder, format!("cannot read this folder: {e}"))));
                continue;
            }
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            let meta = fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                pending.push((path, false));
                continue;
            }
            let wanted = is_markdown(&path)
                || (top
                    && path
                        .extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("json")));
            if !wanted {
                continue;
            }
            if meta.file_type().is_symlink() {
                match fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&root) && target.is_file() => {
                        linked.push((path, target));
                        continue;
                    }
                    Ok(target) => {
                        let why = format!(
                            "a symlink to {}, outside {}: not followed",
                            target.display(),
                            dir.display()
                        );
                        out.push(Err((path, why)));
                        continue;
                    }
                    Err(e) => {
                        out.push(Err((path, format!("a broken symlink: {e}"))));
                        continue;
                    }
                }
            }
            out.push(Ok(path));
        }
    }
    // A link to a file the folder holds anyway is that file: read once. Other links inside the
    // folder are read, and written back through to their target.
    let own: std::collections::HashSet<PathBuf> = out
        .iter()
        .filter_map(|f| f.as_ref().ok()?.canonicalize().ok())
        .collect();
    out.extend(
        linked
            .into_iter()
            .filter(|(_, target)| !own.contains(target))
            .map(|(path, _)| Ok(path)),
    );
    out.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    Ok(out)
}

/// Records from any reader (a file, stdin, bytes in memory), told apart as `open` does.
pub fn from_reader(name: String, reader: Box<dyn Read + Send>) -> Records {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let first = match reader.fill_buf() {
        Ok(buf) => buf.iter().copied().find(|b| !b.is_ascii_whitespace()),
        Err(e) => {
            return Box::new(std::iter::once(RawRecord {
                origin: Origin(name),
                record: Err(e.to_string()),
                unparsed: None,
                source: Source::default(),
            }))
        }
    };
    if first == Some(b'[') {
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            return Box::new(std::iter::once(RawRecord {
                origin: Origin(name),
                record: Err(e.to_string()),
                unparsed: None,
                source: Source::default(),
            }));
        }
        return Box::new(json_array(&name, &bytes).into_iter());
    }
    Box::new(JsonLines {
        name,
        reader,
        line: 0,
    })
}

/// JSONL: one record per non-blank line; blank lines are skipped, everything else is a record.
struct JsonLines {
    name: String,
    reader: BufReader<Box<dyn Read + Send>>,
    line: usize,
}

impl Iterator for JsonLines {
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
                    return Some(RawRecord {
                        origin,
                        record: Err(format!("read error: {e}")),
                        unparsed: None,
                        source: Source::default(),
                    });
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
                        origin,
                        record,
                        unparsed,
                        source: Source::default(),
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
                origin,
                record,
                unparsed,
                source: Source::default(),
            });
        }
    }
}

fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "record is {}, expected a JSON object",
            kind_of(&other)
        )),
        Err(e) => Err(format!("malformed JSON: {e}")),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The elements of a JSON array, read one by one so that a truncated or broken array still gives
/// every record before the break, followed by one error naming where it broke.
fn json_array(name: &str, bytes: &[u8]) -> Vec<RawRecord> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(e) => {
            let record = Err(format!("invalid UTF-8 at byte {}", e.valid_up_to()));
            return vec![RawRecord {
                origin: Origin(name.to_string()),
                record,
                unparsed: None,
                source: Source::default(),
            }];
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
            RawRecord {
                origin,
                record,
                unparsed: None,
                source: Source::default(),
            }
        })
        .collect();
    let problem = broken.or_else(|| whole.err().map(|e| e.to_string()));
    if let Some(e) = problem {
        let n = records.len();
        records.push(RawRecord {
            origin: Origin(format!("{name}[{n}]")),
            record: Err(format!(
                "malformed JSON array after {n} records (those were read): {e}"
            )),
            unparsed: None,
            source: Source::default(),
        });
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

/// Which fields hold the id, title and body. Each is a list of dotted paths tried in order.
#[derive(Debug, Clone)]
pub struct FieldMap {
    pub id: Vec<String>,
    pub title: Vec<String>,
    pub text: Vec<String>,
}

impl Default for FieldMap {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        FieldMap {
            id: v(&["id", "guid", "slug"]),
            title: v(&["title", "headline"]),
            text: v(&["body", "text", "content", "articleBody"]),
        }
    }
}

/// Looks up a dotted path (`fields.body`); a key that itself contains dots is matched first.
pub fn lookup<'a>(record: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = record.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match record.get(head)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

/// The text an article is enriched from, with its stable identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: String,
    /// True when the record had no id and one was derived from its content.
    pub id_derived: bool,
    pub title: String,
    /// Body as clean text, paragraphs separated by blank lines.
    pub body: String,
    /// sha256 of the title and body as given (before cleaning).
    pub content_hash: String,
}

fn string_field(
    record: &Map<String, Value>,
    paths: &[String],
    what: &str,
) -> Result<Option<(String, String)>, String> {
    for path in paths {
        match lookup(record, path) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(Some((path.clone(), s.clone()))),
            Some(Value::Number(n)) if what == "id" => {
                return Ok(Some((path.clone(), n.to_string())))
            }
            Some(other) => {
                return Err(format!(
                    "{what} field '{path}' is {}, expected a string",
                    kind_of(other)
                ))
            }
        }
    }
    Ok(None)
}

fn content_hash(raw_title: &str, raw_body: &str) -> String {
    let mut h = Sha256::new();
    h.update(raw_title.as_bytes());
    h.update([0u8]);
    h.update(raw_body.as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// The record's own id, when it has a non-blank one.
fn given_id(record: &Map<String, Value>, fields: &FieldMap) -> Result<Option<String>, String> {
    Ok(string_field(record, &fields.id, "id")?
        .map(|(_, id)| id)
        .filter(|id| !id.trim().is_empty()))
}

/// A short, stable id from the content: the same article always gets the same one.
fn derived_id(content_hash: &str) -> String {
    content_hash[..7 + 16].to_string()
}

/// The id `to_article` would give the record, without cleaning its text: its own id, else its
/// file's (Markdown), else one derived from its content; `None` when it has neither a usable id nor
/// a text field.
pub fn article_id(
    record: &Map<String, Value>,
    fields: &FieldMap,
    source: &Source,
) -> Option<String> {
    if let Some(id) = &source.file_id {
        return Some(id.clone());
    }
    if let Ok(Some(id)) = given_id(record, fields) {
        return Some(id);
    }
    let (_, body) = string_field(record, &fields.text, "text").ok()??;
    let title = string_field(record, &fields.title, "title")
        .ok()
        .flatten()
        .map(|(_, t)| t)
        .unwrap_or_default();
    Some(derived_id(&content_hash(&title, &body)))
}

/// Builds the article from a record. Errors name the field and the problem.
pub fn to_article(record: &Map<String, Value>, fields: &FieldMap) -> Result<Article, String> {
    to_article_within(record, fields, usize::MAX, &Source::default())
}

/// `to_article`, refusing a body longer than `max_body_bytes` before any work is spent on it.
pub fn to_article_within(
    record: &Map<String, Value>,
    fields: &FieldMap,
    max_body_bytes: usize,
    source: &Source,
) -> Result<Article, String> {
    let (path, raw_body) = string_field(record, &fields.text, "text")?
        .ok_or_else(|| format!("no text field (looked for {})", fields.text.join(", ")))?;
    if raw_body.len() > max_body_bytes {
        return Err(format!(
            "text field '{path}' holds {} bytes, over the limit of {max_body_bytes} (--max-body-bytes)",
            raw_body.len()
        ));
    }
    let raw_title = string_field(record, &fields.title, "title")?
        .map(|(_, t)| t)
        .unwrap_or_default();
    let content_hash = content_hash(&raw_title, &raw_body);
    let (id, id_derived) = match (&source.file_id, given_id(record, fields)?) {
        (Some(id), _) => (id.clone(), false),
        (None, Some(id)) => (id, false),
        (None, None) => (derived_id(&content_hash), true),
    };
    let body = if source.markdown {
        html_to_text(&crate::markdown::to_html(&raw_body))
    } else {
        html_to_text(&raw_body)
    };
    Ok(Article {
        id,
        id_derived,
        title: html_to_text(&raw_title).replace("\n\n", " "),
        body,
        content_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn records(bytes: &[u8]) -> Vec<RawRecord> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        open(f.path()).unwrap().collect()
    }

    #[test]
    fn jsonl_reports_bad_lines_by_number_and_keeps_going() {
        let rs = records(
            b"{\"id\":1,\"body\":\"a\"}\n\n{broken\n[1,2]\n\xff\xfe\n{\"id\":2,\"body\":\"b\"}\n",
        );
        assert_eq!(rs.len(), 5);
        assert!(rs[0].record.is_ok());
        assert!(
            rs[1].origin.0.ends_with(":3")
                && rs[1]
                    .record
                    .as_ref()
                    .unwrap_err()
                    .contains("malformed JSON")
        );
        assert!(rs[2]
            .record
            .as_ref()
            .unwrap_err()
            .contains("an array, expected a JSON object"));
        assert!(
            rs[3].origin.0.ends_with(":5")
                && rs[3].record.as_ref().unwrap_err().contains("invalid UTF-8")
        );
        assert!(rs[4].record.is_ok());
    }

    #[test]
    fn json_array_and_field_order_preserved() {
        let rs = records(b" [ {\"z\":1,\"a\":2,\"body\":\"x\"}, 5 ]");
        assert_eq!(rs.len(), 2);
        let keys: Vec<_> = rs[0].record.as_ref().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "body"]);
        assert!(rs[1].origin.0.ends_with("[1]"));
    }

    #[test]
    fn dotted_paths_and_derived_ids() {
        let v: Value = serde_json::json!({"fields": {"body": "<p>Hello <b>world</b></p><p>Two</p>"}, "title": "T"});
        let map = v.as_object().unwrap();
        let fm = FieldMap {
            text: vec!["fields.body".into()],
            ..FieldMap::default()
        };
        let a = to_article(map, &fm).unwrap();
        assert_eq!(a.body, "Hello world\n\nTwo");
        assert!(a.id_derived && a.id.starts_with("sha256:"));
        assert_eq!(
            a.id,
            to_article(map, &fm).unwrap().id,
            "derived id is stable"
        );
        let err = to_article(
            &serde_json::json!({"body": 5}).as_object().unwrap().clone(),
            &FieldMap::default(),
        );
        assert!(err.unwrap_err().contains("'body' is a number"));
    }
}
