//! Unit tests of `markdown`.
use super::*;
use serde_json::json;

fn enrichment() -> Value {
    json!({"id": "posts/a.md", "language": {"code": "en"},
           "summary": {"text": "A teaser: with a colon.", "method": "extractive"},
           "keywords": [{"text": "tram line", "score": 1.0}, {"text": "harbour", "score": 0.9}],
           "topics": [{"id": "medtop:1", "label": "transport", "score": 0.5}],
           "provenance": {"content_hash": "sha256:c", "config_hash": "sha256:k"}})
}

fn in_place() -> MarkdownOptions {
    MarkdownOptions {
        in_place: true,
        ..MarkdownOptions::default()
    }
}

#[test]
fn yaml_keeps_comments_order_and_body_and_reads_back_as_current() {
    let file = "---\n# a comment\ntitle: \"Tram: yes\"\ntags:\n- city   # editor's\ndate: 2026-01-02\n---\nBody *text*.\n\n---\nA thematic break, not front matter.\n";
    let applied = apply(file.as_bytes(), &enrichment(), &in_place()).unwrap();
    assert_eq!(applied.kept, ["tags"]);
    let new = String::from_utf8(applied.bytes.unwrap()).unwrap();
    assert!(new.starts_with("---\n# a comment\ntitle: \"Tram: yes\"\ntags:\n- city   # editor's\ndate: 2026-01-02\ndescription: 'A teaser: with a colon.'\nkeywords:\n- tram line\n- harbour\nlang: en\nlede:\n"), "{new}");
    assert!(new.ends_with("---\nBody *text*.\n\n---\nA thematic break, not front matter.\n"));
    // Read back: the provenance is the record's own enrichment, the body is the Markdown.
    let record = read_record(new.as_bytes(), &in_place()).unwrap();
    assert_eq!(record["lede"]["provenance"]["config_hash"], "sha256:k");
    assert_eq!(record["lede"]["id"], "posts/a.md");
    assert_eq!(
        record["body"],
        "Body *text*.\n\n---\nA thematic break, not front matter.\n"
    );
    assert_eq!(record["tags"], json!(["city"]));
    // Applying the same enrichment again changes nothing.
    assert_eq!(
        apply(new.as_bytes(), &enrichment(), &in_place())
            .unwrap()
            .bytes,
        None
    );
    // Without in_place the provenance is not the record's.
    assert!(read_record(new.as_bytes(), &MarkdownOptions::default())
        .unwrap()
        .get("lede")
        .is_none());
}

#[test]
fn lede_updates_its_own_values_but_not_an_editors() {
    let first = apply(b"---\ntitle: T\n---\nx\n", &enrichment(), &in_place())
        .unwrap()
        .bytes
        .unwrap();
    let mut changed = enrichment();
    changed["summary"]["text"] = json!("A new teaser.");
    changed["provenance"]["content_hash"] = json!("sha256:c2");
    let second =
        String::from_utf8(apply(&first, &changed, &in_place()).unwrap().bytes.unwrap()).unwrap();
    assert!(
        second.contains("\ndescription: A new teaser.\n"),
        "{second}"
    );
    // The editor rewrites the teaser: it is theirs from then on, unless overwrite.
    let edited = second.replace("description: A new teaser.", "description: By hand.");
    let record = read_record(edited.as_bytes(), &in_place()).unwrap();
    assert!(
        record.get("lede").is_some(),
        "an editor's value does not make the file stale"
    );
    let kept = apply(edited.as_bytes(), &changed, &in_place()).unwrap();
    assert_eq!(kept.kept, ["description"]);
    // Only lede's note of what it owns changes; the editor's teaser stays.
    let kept = String::from_utf8(kept.bytes.unwrap()).unwrap();
    assert!(kept.contains("\ndescription: By hand.\n") && !kept.contains("    description:"));
    assert_eq!(
        apply(kept.as_bytes(), &changed, &in_place()).unwrap().bytes,
        None
    );
    let overwrite = MarkdownOptions {
        overwrite: true,
        ..in_place()
    };
    assert!(read_record(edited.as_bytes(), &overwrite)
        .unwrap()
        .get("lede")
        .is_none());
    let replaced = String::from_utf8(
        apply(edited.as_bytes(), &changed, &overwrite)
            .unwrap()
            .bytes
            .unwrap(),
    )
    .unwrap();
    assert!(replaced.contains("\ndescription: A new teaser.\n"));
    // A value lede wrote and someone deleted: stale, so it is filled again.
    let deleted = second.replace("lang: en\n", "");
    assert!(read_record(deleted.as_bytes(), &in_place())
        .unwrap()
        .get("lede")
        .is_none());
}

#[test]
fn toml_is_edited_with_its_comments_and_tables() {
    let file = "+++\n# site comment\ntitle = \"T\"  # trailing\ntags = [\"mine\"]\n\n[params]\nx = 1\n+++\r\nBody\r\n";
    let applied = apply(file.as_bytes(), &enrichment(), &in_place()).unwrap();
    let new = String::from_utf8(applied.bytes.unwrap()).unwrap();
    assert!(
        new.starts_with("+++\n# site comment\ntitle = \"T\"  # trailing\ntags = [\"mine\"]\n"),
        "{new}"
    );
    assert!(new.contains("description = \"A teaser: with a colon.\""));
    assert!(new.contains("[params]\nx = 1\n"));
    assert!(new.ends_with("+++\r\nBody\r\n"));
    let record = read_record(new.as_bytes(), &in_place()).unwrap();
    assert_eq!(record["params"]["x"], 1);
    assert_eq!(record["lang"], "en");
    assert_eq!(
        apply(new.as_bytes(), &enrichment(), &in_place())
            .unwrap()
            .bytes,
        None
    );
}

#[test]
fn keys_are_configurable_and_parts_can_be_left_out() {
    let mut keys = FrontMatterKeys::default();
    keys.set("summary=excerpt").unwrap();
    keys.set("topics=").unwrap();
    assert!(keys.set("colour=x").is_err() && keys.set("provenance=x").is_err());
    assert!(keys.set("summary=title").is_err());
    let options = MarkdownOptions {
        keys,
        in_place: true,
        overwrite: false,
    };
    let new = apply(b"---\ntitle: T\n---\n", &enrichment(), &options)
        .unwrap()
        .bytes
        .unwrap();
    let new = String::from_utf8(new).unwrap();
    assert!(new.contains("\nexcerpt: 'A teaser: with a colon.'\n") && !new.contains("tags"));
}

#[test]
fn a_sites_own_lede_key_is_never_replaced() {
    let file = b"---\ntitle: T\nlede: Opening paragraph, written by hand.\n---\nBody.\n";
    let err = read_record(file, &in_place()).unwrap_err();
    assert!(err.contains("\"lede\" key is not lede's"), "{err}");
    assert!(apply(file, &enrichment(), &in_place()).is_err());
}

#[test]
fn overwrite_never_removes_what_lede_has_nothing_for() {
    let file = b"---\ntitle: T\ntags: [mine]\nlang: fr\n---\nBody.\n";
    let mut nothing = enrichment();
    nothing["topics"] = json!([]);
    nothing["language"]["code"] = json!("und");
    let overwrite = MarkdownOptions {
        overwrite: true,
        ..in_place()
    };
    let new = String::from_utf8(apply(file, &nothing, &overwrite).unwrap().bytes.unwrap()).unwrap();
    assert!(new.contains("\ntags: [mine]\nlang: fr\n"), "{new}");
}

#[test]
fn markdown_bodies_become_html_for_the_cleaner() {
    let html = to_html("# Head\n\nSome *text* and [a link](http://x).\n\n- one\n- two\n");
    assert_eq!(
        crate::formats::html::html_to_text(&html),
        "Head\n\nSome text and a link.\n\none\n\ntwo"
    );
}
