//! Whole web pages (`.html`, `.htm`; a folder of them at any depth, such as a `wget --mirror` of a
//! site): one article a page, its main text without navigation, headers, footers, related lists,
//! comments or cookie banners, and its title, byline, date, language and canonical URL (the id;
//! else the page's path). Index and listing pages that hold no article are passed over and
//! counted.
//!
//! Written back (`--in-place`, or `-o copy.html` from one page) into `<head>` only: a schema.org
//! NewsArticle JSON-LD block, `<meta name="description">` and `keywords`, and lede's enrichment
//! (so a later run reuses it); every other byte of the page stays as it was.
mod extract;
mod write;

pub use extract::{extract, Page};

use super::{FolderDepth, Format, Origin, RawRecord, ReadOptions, Records, WriteBack};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// Links a page without prose needs to count as a listing page rather than an empty one.
const MIN_LISTING_LINKS: usize = 5;

/// Web pages.
pub struct Html;

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["html", "htm", "xhtml"]
    }
    fn folder_depth(&self) -> FolderDepth {
        FolderDepth::Any
    }
    fn read(&self, path: &Path, options: &ReadOptions) -> std::io::Result<Records> {
        let bytes = std::fs::read(path)?;
        let raw = page_record(path.display().to_string(), &bytes, Some(path), options);
        Ok(Box::new(std::iter::once(raw)))
    }
    fn read_stream(
        &self,
        name: String,
        mut reader: Box<dyn Read + Send>,
        options: &ReadOptions,
    ) -> std::io::Result<Records> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Ok(Box::new(std::iter::once(page_record(
            name, &bytes, None, options,
        ))))
    }
    fn count(&self, _path: &Path) -> Option<u64> {
        Some(1)
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        options: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        write::write_back(original, records, options)
    }
    fn writes_copies(&self) -> bool {
        true
    }
}

/// A page as a record: `id` (the canonical URL; else the page's path stands for it), `url`,
/// `title`, `author`, `date`, `lang`, and `body` (the main text as HTML paragraphs); lede's
/// enrichment from an earlier run under its key. A page with no article is passed over
/// ([`RawRecord::skip`]); one with no text at all is an error.
fn page_record(
    name: String,
    bytes: &[u8],
    path: Option<&Path>,
    options: &ReadOptions,
) -> RawRecord {
    let page = match extract(bytes, None) {
        Ok(page) => page,
        Err(e) => return RawRecord::new(Origin(name), Err(format!("cannot read the page: {e}"))),
    };
    let is_article =
        page.is_article && !page.canonical.as_deref().is_some_and(extract::is_index_url);
    // A page of links with no prose is an index or listing page: passed over. A page with
    // neither (an empty shell, a script-only app) is the record's error.
    let links = bytes
        .windows(3)
        .filter(|w| w.eq_ignore_ascii_case(b"<a "))
        .count();
    if !is_article && (!page.text.trim().is_empty() || links >= MIN_LISTING_LINKS) {
        let mut raw = RawRecord::new(
            Origin(name),
            Err("no article on this page (an index or listing page)".into()),
        );
        raw.skip = Some("index or listing pages with no article".into());
        return raw;
    }
    if page.text.trim().is_empty() {
        return RawRecord::new(Origin(name), Err("no article text on this page".into()));
    }
    let mut record = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            record.insert(key.into(), Value::String(v));
        }
    };
    put("id", page.canonical.clone());
    put("url", page.canonical);
    put("title", page.title);
    put("author", page.author);
    put("date", page.date);
    put("lang", page.lang);
    put("body", Some(paragraphs_html(&page.text)));
    let key = &options.markdown.keys.provenance;
    if let Some(own) = write::own_enrichment(bytes) {
        record.insert(key.clone(), own);
    }
    let mut raw = RawRecord::new(Origin(name), Ok(record.clone()));
    if !record.contains_key("id") {
        raw.source.file_id = path.map(super::path_id);
    }
    raw
}

/// Plain text paragraphs (separated by blank lines) as escaped HTML paragraphs, so that the body
/// reads back exactly as extracted whatever characters it holds.
fn paragraphs_html(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect::<Vec<_>>()
        .join("\n")
}
