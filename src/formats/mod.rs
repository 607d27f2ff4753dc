//! Reading CMS exports: JSONL, a JSON array, a folder of `.json` files, or stdin; and turning a record
//! into an `Article` through a field mapping. Records are yielded one at a time, with where they came
//! from, so a bad one is reported by name and the rest go on.

pub mod csv;
pub mod feed;
pub mod html;
pub mod json;
pub mod jsonld;
pub mod markdown;
pub mod page;
pub mod parquet;
pub mod text;
pub mod wxr;
use crate::formats::html::html_to_text;
use crate::formats::markdown::MarkdownOptions;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
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
    /// Where it came from.
    pub origin: Origin,
    /// The record's fields, or why it could not be read as a JSON object.
    pub record: Result<Map<String, Value>, String>,
    /// A JSONL line that is not a JSON object, as given (lossy where it is not UTF-8), so that a
    /// filter can hand it back with its error instead of dropping it.
    pub unparsed: Option<String>,
    /// What its file says about it.
    pub source: Source,
    /// Set when the reader found no article here (an index or listing page of a site mirror): the
    /// record is passed over and counted under this reason, not enriched and not an error.
    pub skip: Option<String>,
}

impl RawRecord {
    /// A record with no unparsed text and the default [`Source`].
    pub fn new(origin: Origin, record: Result<Map<String, Value>, String>) -> RawRecord {
        RawRecord {
            origin,
            record,
            unparsed: None,
            source: Source::default(),
            skip: None,
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
    /// The record's 0-based row in its table (Parquet), for writing the table back.
    pub row: Option<u64>,
}

/// A format's records, yielded one at a time.
pub type Records = Box<dyn Iterator<Item = RawRecord> + Send>;

/// One kind of input file: how lede recognises it, reads its records, and writes them back
/// (`--in-place`). A new format is one file implementing this and one line in [`FORMATS`].
pub trait Format: Send + Sync {
    /// Short name, for messages (`jsonl`, `markdown`, `wxr`, ...).
    fn name(&self) -> &'static str;
    /// Whether this format reads the file: from its extension, and where needed its first bytes.
    /// By default, a file with one of [`Format::extensions`].
    fn claims(&self, probe: &mut Probe) -> std::io::Result<bool> {
        Ok(self.extensions().contains(&probe.extension()))
    }
    /// The extensions a folder's files of this format have (lower case); none when a folder's files
    /// are never read as this format.
    fn extensions(&self) -> &'static [&'static str] {
        &[]
    }
    /// How deep in a folder files of this format are read.
    fn folder_depth(&self) -> FolderDepth {
        FolderDepth::Never
    }
    /// Reads the file's records, one at a time where the format allows.
    fn read(&self, path: &Path, options: &ReadOptions) -> std::io::Result<Records> {
        let file = fs::File::open(path)?;
        self.read_stream(path.display().to_string(), Box::new(file), options)
    }
    /// Reads records from a stream (stdin with `--format-in`), named `name` in messages.
    fn read_stream(
        &self,
        name: String,
        _reader: Box<dyn Read + Send>,
        _options: &ReadOptions,
    ) -> std::io::Result<Records> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "{name}: {} input cannot be read from a stream; give a file",
                self.name()
            ),
        ))
    }
    /// How many records the file holds, when that is quick to know (for a progress bar's total).
    fn count(&self, _path: &Path) -> Option<u64> {
        None
    }
    /// What `--in-place` does with a record that could not be read or enriched (`readable`: it was
    /// read, so it has a value to write back, with its error in it).
    fn on_failure(&self, readable: bool) -> OnFailure {
        if readable {
            OnFailure::Keep
        } else {
            OnFailure::Refuse
        }
    }
    /// The file's new bytes, holding `records` in the file's order (each with its enrichment;
    /// `None` for a record skipped by [`OnFailure::Skip`], whose part of the file stays as it was);
    /// `None` when nothing in it changes; `Err` when it cannot be written back as it is (reported,
    /// not written).
    /// By default the format has no place for an enrichment: `--in-place` is refused per file.
    fn write_back(
        &self,
        _original: &[u8],
        _records: &[Option<Value>],
        _options: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        Err(format!(
            "{} input has no place for an enrichment: write it with -o FILE instead of --in-place",
            self.name()
        ))
    }
    /// Whether `-o FILE` with this format's extension writes an enriched copy of an input of the
    /// same format (a WordPress export, a CSV table) instead of JSONL.
    fn writes_copies(&self) -> bool {
        false
    }
}

/// Every format lede reads, in the order they are asked to claim a file: the first that claims it
/// reads it.
pub static FORMATS: &[&dyn Format] = &[
    &markdown::Markdown,
    &wxr::Wxr,
    &feed::Feed,
    &json::Json,
    &json::JsonLines,
    &text::Text,
    &csv::CSV,
    &csv::TSV,
    &page::Html,
    &parquet::Parquet,
];

/// The format `--format-in` names.
pub fn format_named(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// The names `--format-in` takes.
pub fn format_names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name()).collect()
}

/// A file being told apart: its extension, and its first bytes read only when a format asks.
pub struct Probe<'a> {
    path: &'a Path,
    extension: String,
    head: Option<Vec<u8>>,
}

impl<'a> Probe<'a> {
    /// A probe of `path` (nothing read yet).
    pub fn new(path: &'a Path) -> Probe<'a> {
        Probe {
            path,
            extension: extension_of(path),
            head: None,
        }
    }

    /// The file's extension, lower case (empty when it has none).
    pub fn extension(&self) -> &str {
        &self.extension
    }

    /// The file's first bytes (up to 1 MiB), after a byte order mark.
    pub fn head(&mut self) -> std::io::Result<&[u8]> {
        if self.head.is_none() {
            let mut head = Vec::with_capacity(4096);
            fs::File::open(self.path)?
                .take(1 << 20)
                .read_to_end(&mut head)?;
            self.head = Some(head);
        }
        let head = self.head.as_deref().unwrap_or_default();
        Ok(head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head))
    }

    /// The file's first byte that is not whitespace, after a byte order mark.
    pub fn first_byte(&mut self) -> std::io::Result<Option<u8>> {
        Ok(self
            .head()?
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace()))
    }
}

/// How deep in a folder a format's files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderDepth {
    /// Not read from folders.
    Never,
    /// Only the folder's own files.
    Top,
    /// At any depth (a static site's content tree).
    Any,
}

/// What write-back does with a record that could not be read or enriched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Write the record back as read, its error in its enrichment.
    Keep,
    /// Leave that record's part of the file as it is and write the others.
    Skip,
    /// Leave the whole file as it is (writing it would lose the record).
    Refuse,
}

/// How records are read, beyond their bytes.
#[derive(Clone, Default)]
pub struct ReadOptions {
    /// Which front matter keys of a Markdown file are lede's.
    pub markdown: MarkdownOptions,
    /// Read every input as this format (`--format-in`), whatever its name.
    pub format: Option<&'static dyn Format>,
    /// The field delimiter of CSV input; sniffed when `None`.
    pub delimiter: Option<u8>,
    /// Where records keep their text (a table without such a column is refused whole).
    pub fields: FieldMap,
}

impl From<&MarkdownOptions> for ReadOptions {
    fn from(markdown: &MarkdownOptions) -> Self {
        ReadOptions {
            markdown: markdown.clone(),
            ..ReadOptions::default()
        }
    }
}

/// What writing back needs beyond the records, and what it found to report.
pub struct WriteBack<'a> {
    /// Which front matter keys lede writes, and whether an editor's values may be replaced.
    pub markdown: &'a MarkdownOptions,
    /// Where each record holds its enrichment.
    pub output_key: &'a str,
    /// Keys whose editor's value was kept in place of lede's.
    pub kept: Vec<String>,
}

/// A file's format: the first of [`FORMATS`] that claims it. A file no format claims is an error
/// that lists what lede reads.
pub fn format_of(path: &Path) -> std::io::Result<&'static dyn Format> {
    let mut probe = Probe::new(path);
    // The file must be readable, whatever decides its format.
    fs::File::open(path)?;
    for format in FORMATS {
        if format.claims(&mut probe)? {
            return Ok(*format);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        unknown_format(probe.extension()),
    ))
}

/// The message for a file of an extension no format reads.
fn unknown_format(extension: &str) -> String {
    let mut known: Vec<String> = FORMATS
        .iter()
        .flat_map(|f| f.extensions().iter().map(|x| format!(".{x}")))
        .collect();
    known.sort();
    known.dedup();
    format!(
        "unknown input format '.{extension}': lede reads {} (or give --format-in {})",
        known.join(" "),
        format_names().join("|")
    )
}

/// Opens an input: `-` for stdin, a directory (its files of the formats read from folders), or a
/// file of any format in [`FORMATS`]. Fails only when the input itself cannot be opened.
pub fn open(path: &Path) -> std::io::Result<Records> {
    open_with(path, &ReadOptions::default())
}

/// `open`, reading as `options` say.
pub fn open_with(path: &Path, options: &ReadOptions) -> std::io::Result<Records> {
    if path == Path::new("-") {
        let stdin = Box::new(std::io::stdin());
        return match options.format {
            Some(format) => format.read_stream("stdin".to_string(), stdin, options),
            None => Ok(json::from_reader("stdin".to_string(), stdin)),
        };
    }
    if path.is_dir() {
        let files = input_files(path)?;
        let options = options.clone();
        return Ok(Box::new(
            files
                .into_iter()
                .flat_map(move |p| open_file_when_read(p, &options).1),
        ));
    }
    Ok(open_file_with(path, options)?.1)
}

/// A file of a folder, opened only when its records are asked for (a folder of 50,000 files must not
/// hold 50,000 files open or in memory). A file that cannot be opened is one error record; its format
/// is then unknown (`None`).
pub fn open_file_when_read(
    file: FolderFile,
    options: &ReadOptions,
) -> (Option<&'static dyn Format>, Records) {
    let failed = |path: &Path, error: String| {
        let raw = RawRecord::new(Origin(path.display().to_string()), Err(error));
        (None, Box::new(std::iter::once(raw)) as Records)
    };
    let path = match file {
        Ok(path) => path,
        Err((path, why)) => return failed(&path, why),
    };
    match open_file_with(&path, options) {
        Ok((format, records)) => (Some(format), records),
        Err(e) => failed(&path, e.to_string()),
    }
}

/// Opens one file in its format (see [`format_of`]).
pub fn open_file(path: &Path) -> std::io::Result<(&'static dyn Format, Records)> {
    open_file_with(path, &ReadOptions::default())
}

/// `open_file`, reading as `options` say (`--format-in` wins over the file's name).
pub fn open_file_with(
    path: &Path,
    options: &ReadOptions,
) -> std::io::Result<(&'static dyn Format, Records)> {
    let format = match options.format {
        Some(format) => {
            fs::File::open(path)?;
            format
        }
        None => format_of(path)?,
    };
    Ok((format, format.read(path, options)?))
}

/// How many records the inputs hold, when that is quick to know (a folder's files count one each);
/// `None` for stdin and formats that would have to be read whole.
pub fn count_records(inputs: &[PathBuf]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |sum, path| {
        if path.is_dir() {
            return Some(sum + input_files(path).ok()?.len() as u64);
        }
        if path == Path::new("-") {
            return None;
        }
        Some(sum + format_of(path).ok()?.count(path)?)
    })
}

/// A file's path as its id: from the root of the git repository that holds it (`content/en/a.md`,
/// whatever the working directory, and whether the run was given the folder or the file); outside
/// a repository, as given, without `./`.
pub(crate) fn path_id(path: &Path) -> String {
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

/// A path's extension, lower case (empty when it has none): what formats are told apart by.
pub fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|x| x.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Whether `path` is named as a file of `format` (by its extension alone).
pub fn is_named_as(path: &Path, format: &dyn Format) -> bool {
    format.extensions().contains(&extension_of(path).as_str())
}

/// A Markdown article (`.md`, `.markdown`).
pub fn is_markdown(path: &Path) -> bool {
    is_named_as(path, &markdown::Markdown)
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
            let extension = extension_of(&path);
            let wanted = FORMATS.iter().any(|f| {
                f.extensions().contains(&extension.as_str())
                    && match f.folder_depth() {
                        FolderDepth::Never => false,
                        FolderDepth::Top => top,
                        FolderDepth::Any => true,
                    }
            });
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

/// What a JSON value is, in words, for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Which fields hold the id, title and body. Each is a list of dotted paths tried in order.
#[derive(Debug, Clone)]
pub struct FieldMap {
    /// Paths to the id (default `id`, `guid`, `slug`).
    pub id: Vec<String>,
    /// Paths to the title (default `title`, `headline`).
    pub title: Vec<String>,
    /// Paths to the body (default `body`, `text`, `content`, `articleBody`).
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
    /// The record's own id, else its file's path (Markdown), else one derived from its content.
    pub id: String,
    /// True when the record had no id and one was derived from its content.
    pub id_derived: bool,
    /// Title as clean text on one line; empty when the record has none.
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
        html_to_text(&crate::formats::markdown::to_html(&raw_body))
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
