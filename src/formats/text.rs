//! Plain text (`.txt`, `.text`; stdin with `--format-in text`): one article a file, its first line the
//! title when it looks like one. Also what a Markdown file without front matter is read as.
use super::{Format, Origin, RawRecord, ReadOptions, Records, Source};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// Longest first line still taken for a title, in characters.
const MAX_TITLE_CHARS: usize = 200;

/// Plain text files.
pub struct Text;

impl Format for Text {
    fn name(&self) -> &'static str {
        "text"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["txt", "text"]
    }
    fn folder_depth(&self) -> super::FolderDepth {
        // Only a folder's own files: a site mirror's robots.txt deeper down is no article.
        super::FolderDepth::Top
    }
    fn read(&self, path: &Path, _options: &ReadOptions) -> std::io::Result<Records> {
        let bytes = std::fs::read(path)?;
        let mut raw = RawRecord::new(Origin(path.display().to_string()), record_of(&bytes));
        raw.source = Source {
            markdown: false,
            file_id: Some(super::path_id(path)),
            ..Default::default()
        };
        Ok(Box::new(std::iter::once(raw)))
    }
    fn read_stream(
        &self,
        name: String,
        mut reader: Box<dyn Read + Send>,
        _options: &ReadOptions,
    ) -> std::io::Result<Records> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Ok(Box::new(std::iter::once(RawRecord::new(
            Origin(name),
            record_of(&bytes),
        ))))
    }
    fn count(&self, _path: &Path) -> Option<u64> {
        Some(1)
    }
}

/// A text file's record: `title` (when its first line looks like one) and `body`.
fn record_of(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()))?;
    Ok(text_record(text.trim_start_matches('\u{feff}')))
}

/// Splits a text into a title and a body: the first non-blank line is the title when it is short,
/// does not end like a sentence in the middle of a paragraph (a full stop, comma, colon) and more
/// text follows; a Markdown heading's `#` marks are dropped. Otherwise everything is the body.
pub(crate) fn text_record(text: &str) -> Map<String, Value> {
    let mut record = Map::new();
    let trimmed = text.trim_start_matches(['\n', '\r', ' ', '\t']);
    let (first, rest) = match trimmed.split_once('\n') {
        Some((first, rest)) => (first.trim(), rest),
        None => (trimmed.trim(), ""),
    };
    let heading = first.starts_with('#');
    let title = first.trim_start_matches('#').trim();
    let looks_like_title = !title.is_empty()
        && title.chars().count() <= MAX_TITLE_CHARS
        && !rest.trim().is_empty()
        && (heading
            || rest.trim_start_matches([' ', '\t', '\r']).starts_with('\n')
            || !title.ends_with(['.', ',', ':', ';']));
    if looks_like_title {
        record.insert("title".into(), Value::String(title.to_string()));
        record.insert(
            "body".into(),
            Value::String(rest.trim_start_matches(['\n', '\r']).to_string()),
        );
    } else {
        record.insert("body".into(), Value::String(text.to_string()));
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_first_line_is_the_title_a_paragraph_is_not() {
        let r = text_record("New tram line opens\n\nThe city opened its line. It runs often.\n");
        assert_eq!(r["title"], "New tram line opens");
        assert_eq!(r["body"], "The city opened its line. It runs often.\n");
        let r = text_record("The city opened its line.\nIt runs often.\n");
        assert!(r.get("title").is_none());
        let r = text_record("# Heading.\nBody text here.");
        assert_eq!(r["title"], "Heading.");
        let r = text_record("Only one line");
        assert!(r.get("title").is_none(), "a title needs a body after it");
    }
}
