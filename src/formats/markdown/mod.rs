//! Markdown articles with front matter (Hugo, Jekyll, Astro, Eleventy): reading a file as a record
//! (front matter fields + Markdown body), and writing an enrichment back into the front matter under
//! configurable keys, keeping every other key, its order, its comments and the body byte for byte.
//!
//! YAML (`---`) is parsed by serde_yaml_ng and edited as text, one top-level key at a time; the
//! result is parsed again and must hold exactly the old values plus lede's, or the file is left
//! alone. TOML (`+++`) is edited with toml_edit, which keeps formatting and comments.
//!
//! Which front matter values lede may change: a key that is absent or empty, or that still holds the
//! value lede wrote there (the front matter's `lede.written` keeps a short hash of each). A value an
//! editor wrote or changed is theirs and is never replaced, unless `overwrite` is set.
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Front matter keys the article is read from (title, id), which lede never writes.
const READ_KEYS: &[&str] = &["title", "headline", "body", "id", "guid", "slug"];

/// Where the enrichment goes in the front matter; `None` leaves that part out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterKeys {
    /// Key for the summary text (default `description`).
    pub summary: Option<String>,
    /// Key for the keyword list (default `keywords`).
    pub keywords: Option<String>,
    /// Key for the topic labels (default `tags`).
    pub topics: Option<String>,
    /// Key for the language code (default `lang`); never written for an undetermined language.
    pub language: Option<String>,
    /// lede's own small object: the article id, language, content and config hashes, and what it
    /// wrote, so a later run can tell stale from current and lede's values from an editor's.
    pub provenance: String,
}

impl Default for FrontMatterKeys {
    fn default() -> Self {
        FrontMatterKeys {
            summary: Some("description".into()),
            keywords: Some("keywords".into()),
            topics: Some("tags".into()),
            language: Some("lang".into()),
            provenance: "lede".into(),
        }
    }
}

impl FrontMatterKeys {
    /// Sets one mapping from `PART=KEY` (`summary=excerpt`, `topics=` to leave topics out).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (part, key) = spec
            .split_once('=')
            .ok_or_else(|| format!("expected PART=KEY, got {spec:?}"))?;
        let key = key.trim();
        let value = (!key.is_empty()).then(|| key.to_string());
        // Writing into what the article is read from would change it on every run.
        if READ_KEYS.contains(&key) {
            return Err(format!(
                "{key:?} is where the article itself is read from; choose another key"
            ));
        }
        match part.trim() {
            "summary" => self.summary = value,
            "keywords" => self.keywords = value,
            "topics" => self.topics = value,
            "language" | "lang" => self.language = value,
            "provenance" | "lede" => {
                return Err("lede's own front matter key is --output-key".into())
            }
            other => {
                return Err(format!(
                    "unknown part {other:?}: expected summary, keywords, topics or language"
                ))
            }
        }
        Ok(())
    }

    fn targets(&self) -> impl Iterator<Item = &str> {
        [&self.summary, &self.keywords, &self.topics, &self.language]
            .into_iter()
            .flatten()
            .map(|s| s.as_str())
    }
}

/// How Markdown files are read and written back.
#[derive(Debug, Clone, Default)]
pub struct MarkdownOptions {
    /// Where the enrichment goes in the front matter.
    pub keys: FrontMatterKeys,
    /// Replace values editors wrote, too.
    pub overwrite: bool,
    /// The run writes back into the files (`--in-place`, `--check`): the front matter's provenance
    /// then counts as the record's own enrichment, so current files are not recomputed.
    pub in_place: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Yaml,
    Toml,
}

/// A Markdown file cut into its parts; `front` is the text between the delimiter lines.
struct Parts<'a> {
    syntax: Syntax,
    /// The line ending of the opening delimiter; new front matter lines use it.
    newline: &'static str,
    /// Bytes before the front matter text: BOM and opening delimiter line.
    head: &'a str,
    front: &'a str,
    /// The closing delimiter line and the body, untouched.
    tail: &'a str,
    /// Line number (from 1) of the front matter's first line, for error messages.
    first_line: usize,
}

fn split(bytes: &[u8]) -> Result<Parts<'_>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {}); convert the file to UTF-8",
            e.valid_up_to()
        )
    })?;
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let first_end = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .unwrap_or(text.len());
    let opening = &text[start..first_end];
    let newline = if opening.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let syntax = match opening.trim_end() {
        "---" => Syntax::Yaml,
        "+++" => Syntax::Toml,
        _ => {
            return Err(
                "no front matter: the file must start with a '---' (YAML) or '+++' (TOML) line"
                    .into(),
            )
        }
    };
    let closers: &[&str] = match syntax {
        Syntax::Yaml => &["---", "..."],
        Syntax::Toml => &["+++"],
    };
    let mut at = first_end;
    while at < text.len() {
        let end = text[at..]
            .find('\n')
            .map(|i| at + i + 1)
            .unwrap_or(text.len());
        if closers.contains(&text[at..end].trim_end()) {
            return Ok(Parts {
                syntax,
                newline,
                head: &text[..first_end],
                front: &text[first_end..at],
                tail: &text[at..],
                first_line: 2,
            });
        }
        at = end;
    }
    Err(format!(
        "the front matter opened by '{}' on line 1 is never closed",
        opening.trim_end()
    ))
}

/// The front matter as a JSON object, in its key order.
fn front_to_json(parts: &Parts) -> Result<Map<String, Value>, String> {
    match parts.syntax {
        Syntax::Yaml => yaml_to_json(parts.front, parts.first_line),
        Syntax::Toml => {
            let doc: toml_edit::DocumentMut = parts.front.parse().map_err(|e| {
                format!(
                    "TOML front matter does not parse (line numbers from line {}): {e}",
                    parts.first_line
                )
            })?;
            Ok(toml_table_to_json(doc.as_table()))
        }
    }
}

fn yaml_to_json(front: &str, first_line: usize) -> Result<Map<String, Value>, String> {
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(front).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}", l.line() + first_line - 1))
            .unwrap_or_default();
        format!("YAML front matter does not parse{at}: {e}")
    })?;
    match yaml {
        serde_yaml_ng::Value::Null => Ok(Map::new()),
        serde_yaml_ng::Value::Mapping(_) => match serde_json::to_value(&yaml) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => unreachable!("a mapping serialises to an object"),
            Err(e) => Err(format!(
                "YAML front matter has a value JSON cannot hold: {e}"
            )),
        },
        _ => Err("YAML front matter is not a mapping of keys to values".into()),
    }
}

fn toml_table_to_json(table: &toml_edit::Table) -> Map<String, Value> {
    table
        .iter()
        .filter_map(|(k, item)| Some((k.to_string(), toml_item_to_json(item)?)))
        .collect()
}

fn toml_item_to_json(item: &toml_edit::Item) -> Option<Value> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(toml_value_to_json(v)),
        toml_edit::Item::Table(t) => Some(Value::Object(toml_table_to_json(t))),
        toml_edit::Item::ArrayOfTables(a) => Some(Value::Array(
            a.iter()
                .map(|t| Value::Object(toml_table_to_json(t)))
                .collect(),
        )),
    }
}

fn toml_value_to_json(value: &toml_edit::Value) -> Value {
    use toml_edit::Value as T;
    match value {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => serde_json::Number::from_f64(*f.value())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.value().to_string())),
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Datetime(d) => Value::String(d.value().to_string()),
        T::Array(a) => Value::Array(a.iter().map(toml_value_to_json).collect()),
        T::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_to_json(v)))
                .collect(),
        ),
    }
}

/// The record a Markdown file stands for: its front matter fields in order, then `body` (the
/// Markdown text after the front matter, as written). With `in_place`, lede's provenance object in
/// the front matter becomes the record's own enrichment (as `options.keys.provenance`), unless a
/// value lede wrote was deleted since (or, with `overwrite`, changed by an editor): then the file is
/// stale and is recomputed. Otherwise that object is left out of the record.
pub fn read_record(bytes: &[u8], options: &MarkdownOptions) -> Result<Map<String, Value>, String> {
    let parts = split(bytes)?;
    let mut record = front_to_json(&parts)?;
    if record.contains_key("body") {
        return Err(
            "the front matter has a 'body' key; lede keeps the Markdown text under 'body'".into(),
        );
    }
    let key = &options.keys.provenance;
    let provenance = record.shift_remove(key);
    if let Some(p) = &provenance {
        ensure_ours(p, key)?;
    }
    if options.in_place {
        if let Some(own) = provenance.and_then(|p| own_enrichment(&p, &record, options)) {
            record.insert(key.clone(), own);
        }
    }
    let body = parts.tail.split_once('\n').map(|(_, b)| b).unwrap_or("");
    record.insert("body".into(), Value::String(body.to_string()));
    Ok(record)
}

/// A front matter key named like lede's own (`lede` is a newsroom word) that lede did not write is
/// the site's: lede must not replace it.
fn ensure_ours(provenance: &Value, key: &str) -> Result<(), String> {
    let ours = provenance
        .as_object()
        .is_some_and(|p| p.contains_key("content_hash") && p.contains_key("config_hash"));
    if ours {
        Ok(())
    } else {
        Err(format!(
            "the front matter's {key:?} key is not lede's; give lede another key with --output-key"
        ))
    }
}

/// The front matter's provenance in the shape of an enrichment (id, language code, provenance
/// hashes), or `None` when the front matter no longer holds what lede wrote.
fn own_enrichment(
    provenance: &Value,
    front: &Map<String, Value>,
    options: &MarkdownOptions,
) -> Option<Value> {
    let p = provenance.as_object()?;
    let written = p.get("written").and_then(Value::as_object);
    for key in options.keys.targets() {
        let current = front.get(key).filter(|v| !is_blank(v));
        let wrote = written.and_then(|w| w.get(key)).and_then(Value::as_str);
        match (current, wrote) {
            // lede wrote it and it is gone: fill it again.
            (None, Some(_)) => return None,
            // An editor's value that `overwrite` must replace.
            (Some(v), w) if options.overwrite && w != Some(short_hash(v).as_str()) => return None,
            _ => {}
        }
    }
    Some(serde_json::json!({
        "id": p.get("id")?,
        "language": {"code": p.get("language")?},
        "provenance": {"content_hash": p.get("content_hash")?, "config_hash": p.get("config_hash")?},
        "written": written,
    }))
}

/// A value that holds nothing an editor wrote: null, blank text, an empty list or object.
pub(crate) fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// 12 hex digits of the sha256 of a value's JSON: enough to tell lede's value from an edited one.
fn short_hash(v: &Value) -> String {
    let json = serde_json::to_vec(v).expect("JSON values serialise");
    hex::encode(&Sha256::digest(&json)[..6])
}

/// What `apply` did to a file.
#[derive(Debug, PartialEq, Eq)]
pub struct Applied {
    /// The new file, or `None` when nothing changed.
    pub bytes: Option<Vec<u8>>,
    /// Keys lede would have written but left alone because an editor's value is there.
    pub kept: Vec<String>,
}

/// Writes an enrichment (the `lede` object of a record) into a Markdown file's front matter and
/// returns the new file. Every other byte (other keys, comments, the body) stays as it was.
pub fn apply(
    original: &[u8],
    enrichment: &Value,
    options: &MarkdownOptions,
) -> Result<Applied, String> {
    let parts = split(original)?;
    let front = front_to_json(&parts)?;
    let keys = &options.keys;
    let previous = front.get(&keys.provenance);
    if let Some(p) = previous {
        ensure_ours(p, &keys.provenance)?;
    }
    let previously_written = previous
        .and_then(|p| p.get("written"))
        .and_then(Value::as_object);
    let language = enrichment["language"]["code"]
        .as_str()
        .filter(|c| *c != "und");
    let texts = |list: &Value, field: &str| -> Option<Value> {
        let items: Vec<Value> = list
            .as_array()?
            .iter()
            .filter_map(|x| x.get(field).cloned())
            .collect();
        (!items.is_empty()).then_some(Value::Array(items))
    };
    let wanted: Vec<(&Option<String>, Option<Value>)> = vec![
        (&keys.summary, enrichment["summary"].get("text").cloned()),
        (&keys.keywords, texts(&enrichment["keywords"], "text")),
        (&keys.topics, texts(&enrichment["topics"], "label")),
        (&keys.language, language.map(|c| Value::String(c.into()))),
    ];
    // lede's own object always goes last: removed first, written again after the values.
    let mut sets: Vec<(String, Option<Value>)> = vec![(keys.provenance.clone(), None)];
    let mut written = Map::new();
    let mut kept = Vec::new();
    for (key, value) in wanted {
        let Some(key) = key else { continue };
        let current = front.get(key).filter(|v| !is_blank(v));
        let lede_wrote_it = |v: &Value| {
            previously_written
                .and_then(|w| w.get(key))
                .and_then(Value::as_str)
                == Some(short_hash(v).as_str())
        };
        let ours = match current {
            None => true,
            Some(v) => options.overwrite || lede_wrote_it(v),
        };
        match value {
            Some(v) if ours => {
                written.insert(key.clone(), Value::String(short_hash(&v)));
                sets.push((key.clone(), Some(v)));
            }
            Some(_) => kept.push(key.clone()),
            // Nothing to write now (say, the body was emptied): lede's own old value goes, an
            // editor's stays, even with `overwrite`.
            None if current.is_some_and(lede_wrote_it) => sets.push((key.clone(), None)),
            None => {}
        }
    }
    let mut provenance = Map::new();
    provenance.insert("id".into(), enrichment["id"].clone());
    provenance.insert("language".into(), enrichment["language"]["code"].clone());
    for hash in ["content_hash", "config_hash"] {
        provenance.insert(hash.into(), enrichment["provenance"][hash].clone());
    }
    provenance.insert("written".into(), Value::Object(written));
    sets.push((keys.provenance.clone(), Some(Value::Object(provenance))));

    let mut expected = front.clone();
    for (key, value) in &sets {
        match value {
            Some(v) => {
                expected.insert(key.clone(), v.clone());
            }
            None => {
                expected.shift_remove(key);
            }
        }
    }
    if expected == front {
        return Ok(Applied { bytes: None, kept });
    }
    let new_front = match parts.syntax {
        Syntax::Yaml => edit_yaml(parts.front, parts.newline, &sets)?,
        Syntax::Toml => edit_toml(parts.front, parts.newline, &sets)?,
    };
    let check = Parts {
        front: &new_front,
        ..parts
    };
    // The edit must say exactly what was meant: every other value unchanged, lede's as intended.
    match front_to_json(&check) {
        Ok(reread) if reread == expected => {}
        _ => {
            return Err(
                "lede cannot edit this front matter without changing other values (flow-style or \
                 unusual YAML?); the file was left as it was"
                    .into(),
            )
        }
    }
    let mut bytes = Vec::with_capacity(original.len() + 256);
    bytes.extend_from_slice(parts.head.as_bytes());
    bytes.extend_from_slice(new_front.as_bytes());
    bytes.extend_from_slice(parts.tail.as_bytes());
    Ok(Applied {
        bytes: (bytes != original).then_some(bytes),
        kept,
    })
}

/// Sets or removes top-level keys of a block-style YAML mapping as text: a key's old lines are
/// replaced where they stand, a new key goes at the end, every other line stays as it was.
fn edit_yaml(
    front: &str,
    newline: &str,
    sets: &[(String, Option<Value>)],
) -> Result<String, String> {
    let mut lines: Vec<String> = front.split_inclusive('\n').map(String::from).collect();
    let mut appended = String::new();
    for (key, value) in sets {
        let rendered = match value {
            Some(v) => {
                let mut one = Map::new();
                one.insert(key.clone(), v.clone());
                let text = serde_yaml_ng::to_string(&one)
                    .map_err(|e| format!("cannot write {key:?} as YAML: {e}"))?;
                with_newline(&text, newline)
            }
            None => String::new(),
        };
        match key_span(&lines, key) {
            Some((start, end)) => {
                lines.splice(start..end, (!rendered.is_empty()).then_some(rendered));
            }
            None => appended.push_str(&rendered),
        }
    }
    let mut out: String = lines.concat();
    if !appended.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(newline);
        }
        out.push_str(&appended);
    }
    Ok(out)
}

/// The lines of a top-level key: its own line and the indented or `- ` lines that follow, without
/// trailing blank lines (they belong to what comes next).
fn key_span(lines: &[String], key: &str) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| is_key_line(l, key))?;
    let mut end = start + 1;
    while end < lines.len() {
        let l = lines[end].as_str();
        let continues = l.trim().is_empty() || l.starts_with([' ', '\t']) || l.starts_with('-');
        if !continues || l.trim_end() == "---" {
            break;
        }
        end += 1;
    }
    while end > start + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    Some((start, end))
}

fn is_key_line(line: &str, key: &str) -> bool {
    [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|k| {
            line.strip_prefix(k.as_str())
                .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(':'))
        })
}

fn edit_toml(
    front: &str,
    newline: &str,
    sets: &[(String, Option<Value>)],
) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = front
        .parse()
        .map_err(|e| format!("TOML front matter does not parse: {e}"))?;
    for (key, value) in sets {
        match value {
            None => {
                doc.remove(key);
            }
            Some(Value::Object(map)) => {
                let mut table = toml_edit::Table::new();
                for (k, v) in map {
                    table.insert(k, toml_edit::Item::Value(json_to_toml(v)?));
                }
                doc.insert(key, toml_edit::Item::Table(table));
            }
            Some(v) => {
                let value = json_to_toml(v)?;
                match doc.get_mut(key) {
                    // Replaced where it stands, keeping the comments around it.
                    Some(toml_edit::Item::Value(old)) => {
                        let decor = old.decor().clone();
                        *old = value;
                        *old.decor_mut() = decor;
                    }
                    _ => {
                        doc.insert(key, toml_edit::Item::Value(value));
                    }
                }
            }
        }
    }
    Ok(with_newline(&doc.to_string(), newline))
}

fn json_to_toml(v: &Value) -> Result<toml_edit::Value, String> {
    Ok(match v {
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(0.0).into(),
        },
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(json_to_toml(item)?);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (k, v) in map {
                table.insert(k, json_to_toml(v)?);
            }
            toml_edit::Value::InlineTable(table)
        }
        Value::Null => return Err("TOML has no null".into()),
    })
}

/// `text` (written with `\n`) with the file's line ending; lines already ending in `\r\n` stay so.
fn with_newline(text: &str, newline: &str) -> String {
    if newline == "\n" {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(l) if !l.ends_with('\r') => {
                out.push_str(l);
                out.push_str(newline);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The Markdown body as HTML, for the text cleaner every other input goes through.
pub fn to_html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(
        markdown,
        pulldown_cmark::Options::ENABLE_TABLES
            | pulldown_cmark::Options::ENABLE_FOOTNOTES
            | pulldown_cmark::Options::ENABLE_STRIKETHROUGH,
    );
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// A Markdown file's record: with front matter, its fields and the body ([`read_record`]); without,
/// read as plain text (the first line the title when it looks like one, a `#` heading's marks
/// dropped).
fn file_record(bytes: &[u8], options: &MarkdownOptions) -> Result<Map<String, Value>, String> {
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let opener = std::str::from_utf8(first).map(str::trim_end);
    if matches!(opener, Ok("---" | "+++")) {
        return read_record(bytes, options);
    }
    let text = std::str::from_utf8(text)
        .map_err(|e| format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()))?;
    Ok(super::text::text_record(text))
}

/// Markdown files (`.md`, `.markdown`), with front matter or without: one article a file, read at any
/// depth of a folder; written back by editing the front matter only.
pub struct Markdown;

impl super::Format for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["md", "markdown"]
    }
    fn folder_depth(&self) -> super::FolderDepth {
        super::FolderDepth::Any
    }
    fn read(&self, path: &Path, options: &super::ReadOptions) -> std::io::Result<super::Records> {
        let record = file_record(&std::fs::read(path)?, &options.markdown);
        let mut raw = super::RawRecord::new(super::Origin(path.display().to_string()), record);
        raw.source = super::Source {
            markdown: true,
            file_id: Some(super::path_id(path)),
            ..Default::default()
        };
        Ok(Box::new(std::iter::once(raw)))
    }
    fn read_stream(
        &self,
        name: String,
        mut reader: Box<dyn std::io::Read + Send>,
        options: &super::ReadOptions,
    ) -> std::io::Result<super::Records> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let mut raw =
            super::RawRecord::new(super::Origin(name), file_record(&bytes, &options.markdown));
        raw.source.markdown = true;
        Ok(Box::new(std::iter::once(raw)))
    }
    fn count(&self, _path: &Path) -> Option<u64> {
        Some(1)
    }
    fn on_failure(&self, _readable: bool) -> super::OnFailure {
        // A front matter has no place for an error: such a file is left alone.
        super::OnFailure::Refuse
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        options: &mut super::WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        let enrichment = records
            .first()
            .and_then(|r| r.as_ref()?.get(options.output_key))
            .unwrap_or(&Value::Null);
        let applied = apply(original, enrichment, options.markdown)?;
        options.kept.extend(applied.kept);
        Ok(applied.bytes)
    }
}

#[cfg(test)]
mod tests;
