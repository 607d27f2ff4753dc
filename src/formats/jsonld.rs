//! schema.org JSON-LD: an enriched record as a `NewsArticle`, the shape search engines and CMS
//! plugins read (`<script type="application/ld+json">`).
use crate::formats::{lookup, FieldMap};
use serde_json::{json, Map, Value};

/// IPTC publishes each Media Topic as a URI under this prefix (`medtop:04000000` ->
/// `http://cv.iptc.org/newscodes/mediatopic/04000000`).
const IPTC_MEDIATOPIC: &str = "http://cv.iptc.org/newscodes/mediatopic/";

/// Record fields that map onto NewsArticle properties, tried in order (`lede extract` reports the
/// same fields).
pub(crate) const DATE_FIELDS: &[&str] = &[
    "datePublished",
    "date",
    "published",
    "pubDate",
    "publishedAt",
];
const MODIFIED_FIELDS: &[&str] = &[
    "dateModified",
    "modified",
    "updated",
    "updatedAt",
    "lastmod",
];
pub(crate) const AUTHOR_FIELDS: &[&str] = &["author", "authors", "byline", "creator"];
pub(crate) const URL_FIELDS: &[&str] = &["url", "link", "permalink", "canonical_url"];

/// The record as a schema.org `NewsArticle`: `headline`, `inLanguage`, `abstract` (the teaser),
/// `keywords`, `about` (topics as `DefinedTerm`s, with their IPTC URIs), and the record's own
/// `datePublished`, `dateModified`, `author` and `url` where it has them. `None` when the record
/// holds no enrichment (it could not be enriched: its error is reported elsewhere).
pub fn news_article(
    record: &Map<String, Value>,
    output_key: &str,
    fields: &FieldMap,
) -> Option<Value> {
    let lede = record.get(output_key)?.as_object()?;
    if lede.contains_key("error") {
        return None;
    }
    let mut out = Map::new();
    out.insert("@context".into(), json!("https://schema.org"));
    out.insert("@type".into(), json!("NewsArticle"));
    out.insert("identifier".into(), lede.get("id")?.clone());
    let first = |paths: &[String]| paths.iter().find_map(|p| lookup(record, p)).cloned();
    if let Some(Value::String(title)) = first(&fields.title) {
        out.insert(
            "headline".into(),
            json!(crate::formats::html::html_to_text(&title)),
        );
    }
    if let Some(code) = lede["language"]["code"].as_str().filter(|c| *c != "und") {
        out.insert("inLanguage".into(), json!(code));
    }
    if let Some(text) = lede.get("summary").and_then(|s| s["text"].as_str()) {
        out.insert("abstract".into(), json!(text));
    }
    let keywords: Vec<&str> = lede
        .get("keywords")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k["text"].as_str())
        .collect();
    if !keywords.is_empty() {
        out.insert("keywords".into(), json!(keywords));
    }
    let about: Vec<Value> = lede
        .get("topics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(defined_term)
        .collect();
    if !about.is_empty() {
        out.insert("about".into(), Value::Array(about));
    }
    let own = |names: &[&str]| names.iter().find_map(|n| lookup(record, n)).cloned();
    if let Some(date) = own(DATE_FIELDS) {
        out.insert("datePublished".into(), date);
    }
    if let Some(date) = own(MODIFIED_FIELDS) {
        out.insert("dateModified".into(), date);
    }
    if let Some(author) = own(AUTHOR_FIELDS).and_then(people) {
        out.insert("author".into(), author);
    }
    if let Some(url) = own(URL_FIELDS) {
        out.insert("url".into(), url);
    }
    Some(Value::Object(out))
}

/// A topic as a `DefinedTerm`: IPTC topics with their URI and scheme, the site's own with its id.
fn defined_term(topic: &Value) -> Option<Value> {
    let id = topic["id"].as_str()?;
    let label = topic["label"].as_str()?;
    let mut term = json!({"@type": "DefinedTerm", "name": label, "termCode": id});
    if let Some(code) = id.strip_prefix("medtop:") {
        term["@id"] = json!(format!("{IPTC_MEDIATOPIC}{code}"));
        term["inDefinedTermSet"] = json!(IPTC_MEDIATOPIC);
    }
    Some(term)
}

/// `author` as schema.org wants it: a Person, or a list of them, from a name, a list of names, or
/// objects that already have a name.
fn people(value: Value) -> Option<Value> {
    let person = |v: Value| match v {
        Value::String(name) if !name.trim().is_empty() => {
            Some(json!({"@type": "Person", "name": name.trim()}))
        }
        Value::Object(mut o) if o.contains_key("name") => {
            o.entry("@type").or_insert(json!("Person"));
            Some(Value::Object(o))
        }
        _ => None,
    };
    match value {
        Value::Array(items) => {
            let all: Vec<Value> = items.into_iter().filter_map(person).collect();
            (!all.is_empty()).then_some(Value::Array(all))
        }
        other => person(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enriched_record_becomes_a_news_article() {
        let record = json!({
            "id": "a1", "title": "Tram <b>plan</b>", "date": "2026-01-05", "author": ["Ana Nowak", ""],
            "link": "https://example.org/a1", "body": "...",
            "lede": {"id": "a1", "language": {"code": "pl", "confidence": 1.0},
                     "summary": {"text": "Rada przyjęła plan.", "method": "extractive"},
                     "keywords": [{"text": "linii tramwajowej", "score": 1.2}],
                     "topics": [{"id": "medtop:04000000", "label": "economy, business and finance", "score": 0.8},
                                {"id": "transport", "label": "Transport", "score": 0.7}]}
        });
        let got = news_article(record.as_object().unwrap(), "lede", &FieldMap::default()).unwrap();
        assert_eq!(
            got,
            json!({
                "@context": "https://schema.org", "@type": "NewsArticle", "identifier": "a1",
                "headline": "Tram plan", "inLanguage": "pl", "abstract": "Rada przyjęła plan.",
                "keywords": ["linii tramwajowej"],
                "about": [
                    {"@type": "DefinedTerm", "name": "economy, business and finance", "termCode": "medtop:04000000",
                     "@id": "http://cv.iptc.org/newscodes/mediatopic/04000000",
                     "inDefinedTermSet": "http://cv.iptc.org/newscodes/mediatopic/"},
                    {"@type": "DefinedTerm", "name": "Transport", "termCode": "transport"}
                ],
                "datePublished": "2026-01-05",
                "author": [{"@type": "Person", "name": "Ana Nowak"}],
                "url": "https://example.org/a1"
            })
        );
        let failed = json!({"id": "x", "lede": {"error": "no text field"}});
        assert!(news_article(failed.as_object().unwrap(), "lede", &FieldMap::default()).is_none());
    }
}
