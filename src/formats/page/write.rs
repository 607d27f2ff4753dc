//! Writing an enrichment into a page's `<head>`, every other byte unchanged: lede's elements carry
//! a `data-lede` attribute, so a later run finds and replaces them; an editor's own description or
//! keywords are kept unless `--overwrite`.
use crate::formats::{FieldMap, WriteBack};
use serde_json::Value;

/// One tag of the page's head, as bytes.
#[derive(Debug)]
struct Tag {
    /// Lower-case element name.
    name: String,
    /// Attributes, names lower-cased, values unescaped only of quotes.
    attrs: Vec<(String, String)>,
    /// Where the tag starts (`<`).
    start: usize,
    /// Where the element ends: after `>`, or for a script after its `</script>`.
    end: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn is_ours(&self) -> bool {
        self.attr("data-lede").is_some()
    }
    fn meta_name(&self) -> Option<String> {
        (self.name == "meta")
            .then(|| self.attr("name").map(|n| n.to_ascii_lowercase()))
            .flatten()
    }
}

/// Where the head's tags are, and where to insert: before `</head>`, else before `<body`, else
/// after the `<head>` tag, else after `<html>`, else at the start.
struct Head {
    tags: Vec<Tag>,
    insert_at: usize,
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Scans the page up to the end of its head: comments and raw-text elements skipped.
fn scan_head(bytes: &[u8]) -> Head {
    let mut tags = Vec::new();
    let (mut head_open, mut html_open) = (None, None);
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + off;
        if bytes[start..].starts_with(b"<!--") {
            i = find_ci(bytes, start + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if bytes.get(start + 1) == Some(&b'/') {
            let name = tag_name(&bytes[start + 2..]);
            if name == "head" {
                return Head {
                    tags,
                    insert_at: start,
                };
            }
            i = start + 2;
            continue;
        }
        let name = tag_name(&bytes[start + 1..]);
        if name.is_empty() {
            i = start + 1;
            continue;
        }
        if name == "body" {
            return Head {
                tags,
                insert_at: start,
            };
        }
        let (attrs, tag_end) = attributes(bytes, start + 1 + name.len());
        let mut end = tag_end;
        if matches!(
            name.as_str(),
            "script" | "style" | "title" | "noscript" | "template" | "textarea"
        ) {
            let close = format!("</{name}");
            end = find_ci(bytes, tag_end, close.as_bytes())
                .map(|c| {
                    bytes[c..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map_or(bytes.len(), |p| c + p + 1)
                })
                .unwrap_or(bytes.len());
        }
        match name.as_str() {
            "head" => head_open = Some(tag_end),
            "html" => html_open = Some(tag_end),
            _ => {}
        }
        tags.push(Tag {
            name,
            attrs,
            start,
            end,
        });
        i = end;
    }
    Head {
        tags,
        insert_at: head_open.or(html_open).unwrap_or(0),
    }
}

fn tag_name(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// A start tag's attributes from `at` (just after its name), and the offset after its `>`.
fn attributes(bytes: &[u8], mut at: usize) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (attrs, bytes.len());
        }
        if bytes[at] == b'>' {
            return (attrs, at + 1);
        }
        let name_start = at;
        while at < bytes.len() && !b" \t\r\n/>=".contains(&bytes[at]) {
            at += 1;
        }
        let name = String::from_utf8_lossy(&bytes[name_start..at]).to_ascii_lowercase();
        let mut value = String::new();
        if bytes.get(at) == Some(&b'=') {
            at += 1;
            match bytes.get(at) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let end = bytes[at + 1..]
                        .iter()
                        .position(|&b| b == q)
                        .map_or(bytes.len(), |p| at + 1 + p);
                    value = String::from_utf8_lossy(&bytes[at + 1..end]).into_owned();
                    at = (end + 1).min(bytes.len());
                }
                _ => {
                    let start = at;
                    while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>'
                    {
                        at += 1;
                    }
                    value = String::from_utf8_lossy(&bytes[start..at]).into_owned();
                }
            }
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
    }
}

/// The enrichment an earlier run wrote into the page, if any.
pub(super) fn own_enrichment(bytes: &[u8]) -> Option<Value> {
    let head = scan_head(bytes);
    let tag = head
        .tags
        .iter()
        .find(|t| t.name == "script" && t.attr("data-lede") == Some("enrichment"))?;
    let inner = &bytes[tag.start..tag.end];
    let open_end = inner.iter().position(|&b| b == b'>')? + 1;
    let close = inner.len() - inner.iter().rev().position(|&b| b == b'<')? - 1;
    let value: Value = serde_json::from_slice(inner.get(open_end..close)?).ok()?;
    value.is_object().then_some(value)
}

/// Text for an attribute value or a script, in the page's encoding: UTF-8 as is; for any other
/// charset ASCII only (numeric references in attributes, `\u` escapes in JSON), so no byte of
/// another charset is ever written.
struct Writer {
    utf8: bool,
}

impl Writer {
    fn attribute(&self, text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                c if !self.utf8 && !c.is_ascii() => out.push_str(&format!("&#{};", c as u32)),
                c => out.push(c),
            }
        }
        out
    }
    fn json(&self, value: &Value) -> String {
        let text = serde_json::to_string(value).expect("JSON values serialise");
        let mut out = String::new();
        for c in text.chars() {
            match c {
                // `</script>` inside a string would end the element.
                '<' => out.push_str("\\u003c"),
                c if !self.utf8 && !c.is_ascii() => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out
    }
}

/// The page with the enrichment of its one record in its head.
pub(super) fn write_back(
    original: &[u8],
    records: &[Option<Value>],
    options: &mut WriteBack,
) -> Result<Option<Vec<u8>>, String> {
    let Some(record) = records.first().and_then(|r| r.as_ref()?.as_object()) else {
        return Ok(None);
    };
    let key = options.output_key;
    let Some(enrichment) = record.get(key).filter(|e| e.get("error").is_none()) else {
        return Ok(None);
    };
    let writer = Writer {
        utf8: super::extract::encoding_of(original) == encoding_rs::UTF_8,
    };
    let summary = enrichment["summary"]["text"].as_str().unwrap_or_default();
    let keywords: Vec<&str> = enrichment["keywords"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["text"].as_str())
        .collect();
    let mut ours: Vec<(&str, String)> = Vec::new();
    if !summary.is_empty() {
        ours.push((
            "description",
            format!(
                "<meta name=\"description\" content=\"{}\" data-lede>",
                writer.attribute(summary)
            ),
        ));
    }
    if !keywords.is_empty() {
        ours.push((
            "keywords",
            format!(
                "<meta name=\"keywords\" content=\"{}\" data-lede>",
                writer.attribute(&keywords.join(", "))
            ),
        ));
    }
    if let Some(article) = crate::formats::jsonld::news_article(record, key, &FieldMap::default()) {
        ours.push((
            "jsonld",
            format!(
                "<script type=\"application/ld+json\" data-lede=\"jsonld\">{}</script>",
                writer.json(&article)
            ),
        ));
    }
    ours.push((
        "enrichment",
        format!(
            "<script type=\"application/json\" data-lede=\"enrichment\">{}</script>",
            writer.json(enrichment)
        ),
    ));

    let head = scan_head(original);
    // Each of ours replaces its earlier version, or an editor's element when overwriting.
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut inserts: Vec<String> = Vec::new();
    for (what, element) in ours {
        let earlier = head.tags.iter().find(|t| {
            t.is_ours()
                && match what {
                    "description" | "keywords" => t.meta_name().as_deref() == Some(what),
                    _ => t.name == "script" && t.attr("data-lede") == Some(what),
                }
        });
        let editors = head
            .tags
            .iter()
            .find(|t| !t.is_ours() && t.meta_name().as_deref() == Some(what));
        match (earlier, editors) {
            (_, Some(_)) if !options.markdown.overwrite => {
                options.kept.push(what.to_string());
                if let Some(earlier) = earlier {
                    replacements.push((earlier.start, earlier.end, String::new()));
                }
            }
            (Some(earlier), Some(editors)) => {
                replacements.push((editors.start, editors.end, element));
                replacements.push((earlier.start, earlier.end, String::new()));
            }
            (None, Some(editors)) => replacements.push((editors.start, editors.end, element)),
            (Some(earlier), None) => replacements.push((earlier.start, earlier.end, element)),
            (None, None) => inserts.push(element),
        }
    }
    replacements.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(original.len() + 4096);
    let mut at = 0;
    let mut inserted = inserts.is_empty();
    let insert = |out: &mut Vec<u8>| {
        for element in &inserts {
            out.extend_from_slice(element.as_bytes());
            out.push(b'\n');
        }
    };
    for (start, end, text) in replacements {
        if !inserted && head.insert_at <= start {
            out.extend_from_slice(&original[at..head.insert_at]);
            insert(&mut out);
            at = head.insert_at;
            inserted = true;
        }
        out.extend_from_slice(&original[at..start]);
        out.extend_from_slice(text.as_bytes());
        at = end;
    }
    if !inserted {
        out.extend_from_slice(&original[at..head.insert_at]);
        insert(&mut out);
        at = head.insert_at;
    }
    out.extend_from_slice(&original[at..]);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::markdown::MarkdownOptions;

    fn enriched() -> Value {
        serde_json::json!({"title": "Tram", "body": "<p>Text</p>", "lede": {
            "id": "t1", "language": {"code": "pl"}, "summary": {"text": "Nowa linia \"tramwajowa\" </script>"},
            "keywords": [{"text": "tramwaj"}, {"text": "łódź"}], "topics": []}})
    }

    fn back(page: &str, overwrite: bool) -> (String, Vec<String>) {
        let markdown = MarkdownOptions {
            overwrite,
            ..MarkdownOptions::default()
        };
        let mut options = WriteBack {
            markdown: &markdown,
            output_key: "lede",
            kept: Vec::new(),
        };
        let bytes = write_back(page.as_bytes(), &[Some(enriched())], &mut options)
            .unwrap()
            .unwrap();
        (String::from_utf8(bytes).unwrap(), options.kept)
    }

    const PAGE: &str = "<!doctype html>\n<html lang=pl><head>\n<meta charset=\"utf-8\">\n<title>T</title>\n<!-- <meta name=description content=x> -->\n</head>\n<body><p>Text</p></body></html>\n";

    #[test]
    fn inserts_into_the_head_and_changes_nothing_else() {
        let (page, kept) = back(PAGE, false);
        assert!(kept.is_empty());
        let at = page.find("<meta name=\"description\"").unwrap();
        assert_eq!(&page[..at], &PAGE[..PAGE.find("</head>").unwrap()]);
        assert!(page.ends_with(&PAGE[PAGE.find("</head>").unwrap()..]));
        assert!(page.contains("content=\"Nowa linia &quot;tramwajowa&quot; &lt;/script&gt;\""));
        assert!(!page.contains("</script> ") && page.contains("\\u003c/script>"));
        assert_eq!(own_enrichment(page.as_bytes()).unwrap()["id"], "t1");
        // A second write replaces lede's elements in place: the same bytes.
        let (again, _) = back(&page, false);
        assert_eq!(again, page);
    }

    #[test]
    fn an_editors_description_is_kept_unless_overwriting() {
        let page = PAGE.replace(
            "<title>",
            "<meta name=\"Description\" content=\"Editor's\">\n<title>",
        );
        let (kept_page, kept) = back(&page, false);
        assert_eq!(kept, ["description"]);
        assert!(kept_page.contains("content=\"Editor's\""));
        assert!(
            !kept_page.contains("<meta name=\"description\""),
            "not a second description"
        );
        let (over, kept) = back(&page, true);
        assert!(kept.is_empty());
        assert!(
            !over.contains("Editor's")
                && over.contains("<meta name=\"description\" content=\"Nowa")
        );
    }

    #[test]
    fn a_page_in_another_charset_gets_ascii_only() {
        let page = PAGE.replace("utf-8", "iso-8859-2");
        let (out, _) = back(&page, false);
        assert!(out.is_ascii());
        assert!(out.contains("&#322;&#243;d&#378;") || out.contains("&#322;"));
    }
}
