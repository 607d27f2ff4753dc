//! The archive formats end to end through the binary (issue 20): plain text, RSS/Atom feeds, CSV
//! tables, `lede extract`, `--format-in`, and an unknown extension. Real models, real files.
mod common;

use common::{assert_success, lede_in, stderr};
use serde_json::Value;
use std::process::Output;

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const TRAM: &str = "The city opened its new tram line on Monday. It links the old town with the \
    university in twelve minutes. Trams run every six minutes during the day. The line cost 40 \
    million euros and took three years to build.";
const LIBRARY: &str = "The city library now lends drills, ladders and sewing machines. Members \
    can borrow each tool for a week, free of charge. Librarians say the tools are booked out \
    until March.";

#[test]
fn an_unknown_extension_is_one_clear_error_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), format!("Tram\n\n{TRAM}\n")).unwrap();
    std::fs::write(dir.path().join("make.py"), "print('not an article')\n").unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "notes.txt", "make.py", "-o", "out.jsonl"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("make.py") && err.contains("unknown input format '.py'"),
        "{err}"
    );
    assert!(err.contains(".csv") && err.contains("--format-in"), "{err}");
    assert_eq!(err.lines().count(), 1, "one error, not one per line: {err}");
    assert!(!dir.path().join("out.jsonl").exists(), "nothing written");
}

#[test]
fn plain_text_and_markdown_without_front_matter_are_one_article_each() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tram.txt"),
        format!("New tram line opens\n\n{TRAM}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("library.md"),
        format!("# Library lends tools\n\n{LIBRARY}\n"),
    )
    .unwrap();
    let out = lede_in(dir.path(), &["extract", "tram.txt", "library.md"], "");
    assert_success(&out);
    let records = lines(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], "tram.txt");
    assert_eq!(records[0]["title"], "New tram line opens");
    assert!(records[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("The city opened"));
    assert_eq!(records[0]["lang"], "en", "detected: the file does not say");
    assert_eq!(records[1]["title"], "Library lends tools");
    // stdin needs the format named.
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "-",
            "--format-in",
            "text",
            "--no-topics",
            "--no-keywords",
        ],
        &format!("New tram line opens\n\n{TRAM}\n"),
    );
    assert_success(&out);
    let records = lines(&out);
    assert_eq!(records[0]["title"], "New tram line opens");
    assert_eq!(records[0]["lede"]["language"]["code"], "en");
    let summary = records[0]["lede"]["summary"]["text"].as_str().unwrap();
    assert!(
        summary.starts_with("The city opened its new tram line"),
        "{summary}"
    );
}

#[test]
fn feed_items_are_articles_and_wordpress_exports_stay_exports() {
    let dir = tempfile::tempdir().unwrap();
    let rss = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>City news</title>
<item><title>New tram line opens</title><link>https://example.org/tram</link>
<guid>https://example.org/?p=1</guid><dc:creator>Ann Smith</dc:creator>
<pubDate>Mon, 04 Mar 2024 09:00:00 +0100</pubDate>
<description>Short teaser</description>
<content:encoded><![CDATA[<p>{TRAM}</p>]]></content:encoded></item>
<item><title>Library lends tools</title><link>https://example.org/library</link>
<description>&lt;p&gt;{LIBRARY}&lt;/p&gt;</description></item>
</channel></rss>"#
    );
    std::fs::write(dir.path().join("news.rss"), &rss).unwrap();
    let atom = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>City</title>
<entry><id>tag:example.org,2024:tram</id><title>New tram line opens</title>
<link rel="alternate" href="https://example.org/tram"/><published>2024-03-04T09:00:00Z</published>
<author><name>Ann Smith</name></author><content type="html">&lt;p&gt;{TRAM}&lt;/p&gt;</content></entry>
</feed>"#
    );
    std::fs::write(dir.path().join("news.xml"), &atom).unwrap();
    std::fs::write(
        dir.path().join("empty.rss"),
        "<rss version=\"2.0\"><channel><title>Nothing yet</title></channel></rss>",
    )
    .unwrap();
    let out = lede_in(
        dir.path(),
        &["extract", "news.rss", "news.xml", "empty.rss"],
        "",
    );
    assert_success(&out);
    let records = lines(&out);
    assert_eq!(
        records.len(),
        3,
        "two RSS items, one Atom entry, nothing from the empty feed"
    );
    assert_eq!(records[0]["id"], "https://example.org/?p=1");
    assert_eq!(records[0]["author"], "Ann Smith");
    assert_eq!(records[0]["url"], "https://example.org/tram");
    assert!(
        records[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("The city opened"),
        "content:encoded wins over the teaser"
    );
    assert!(
        records[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("The city library"),
        "escaped HTML description"
    );
    assert_eq!(records[2]["id"], "tag:example.org,2024:tram");
    assert_eq!(records[2]["date"], "2024-03-04T09:00:00Z");
    // A feed enriches like any input; it cannot be written back in place.
    let out = lede_in(dir.path(), &["enrich", "news.rss", "--no-topics"], "");
    assert_success(&out);
    let records = lines(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["lede"]["language"]["code"], "en");
    let out = lede_in(
        dir.path(),
        &["enrich", "news.rss", "--in-place", "--no-topics"],
        "",
    );
    assert!(
        stderr(&out).contains("no place for an enrichment"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("news.rss")).unwrap(),
        rss
    );
    // The WordPress fixture is still read as an export (posts, not feed items).
    let wxr = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wxr/export.xml");
    let out = lede_in(dir.path(), &["extract", wxr], "");
    let records = lines(&out);
    assert!(records.iter().all(|r| r.get("id").is_some()));
    assert!(
        records.iter().any(|r| r["id"] == "101"),
        "WordPress post ids"
    );
}

#[test]
fn csv_keeps_every_cell_byte_for_byte_and_appends_ledes_columns() {
    let dir = tempfile::tempdir().unwrap();
    // A semicolon table with a BOM, CRLF line ends, a quoted cell with the delimiter, a quote and a
    // line break, a ragged row and a column lede does not know.
    let table = format!(
        "\u{feff}id;title;body;section\r\n\
         t1;New tram line opens;\"{TRAM} \"\"Fast\"\"; said the mayor.\";city\r\n\
         t2;ragged row\r\n\
         t3;Library lends tools;{LIBRARY};\"culture\r\nand life\"\r\n"
    );
    std::fs::write(dir.path().join("export.csv"), &table).unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "export.csv", "-o", "enriched.csv", "--no-topics"],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "one row failed: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(":3: the row has 2 fields, the header has 4"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("export.csv")).unwrap(),
        table,
        "input untouched"
    );
    let enriched = std::fs::read_to_string(dir.path().join("enriched.csv")).unwrap();
    let original_rows: Vec<&str> = table.split("\r\n").collect();
    let rows: Vec<&str> = enriched.split("\r\n").collect();
    assert_eq!(rows.len(), original_rows.len(), "{enriched}");
    assert!(rows[0].starts_with(original_rows[0]));
    assert!(rows[0]
        .ends_with(";lede_language;lede_summary;lede_keywords;lede_topics;lede_topic_ids;lede"));
    assert!(
        rows[1].starts_with(&format!("{};en;", original_rows[1])),
        "{}",
        rows[1]
    );
    assert_eq!(
        rows[2], original_rows[2],
        "the ragged row is kept as it was"
    );
    // Read back by a CSV reader: the original cells, then lede's.
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_path(dir.path().join("enriched.csv"))
        .unwrap();
    let header = reader.headers().unwrap().clone();
    let cell = |row: &csv::StringRecord, name: &str| {
        row.get(
            header
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
                .unwrap(),
        )
        .unwrap()
        .to_string()
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(cell(&rows[0], "body").ends_with("\"Fast\"; said the mayor."));
    assert!(cell(&rows[0], "lede_summary").starts_with("The city opened its new tram line"));
    assert!(!cell(&rows[0], "lede_keywords").is_empty());
    assert_eq!(cell(&rows[2], "section"), "culture\r\nand life");
    let lede: Value = serde_json::from_str(&cell(&rows[2], "lede")).unwrap();
    assert_eq!(lede["id"], "t3");
    // Enriching the enriched copy in place reuses every row and changes no byte.
    let before = std::fs::read(dir.path().join("enriched.csv")).unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "enriched.csv", "--in-place", "--no-topics"],
        "",
    );
    assert!(
        stderr(&out).contains("2 unchanged (skipped)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("enriched.csv")).unwrap(),
        before
    );
    // JSONL out: every cell as a string field, plus lede.
    let out = lede_in(
        dir.path(),
        &["enrich", "export.csv", "--no-topics", "--no-keywords"],
        "",
    );
    let records = lines(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["section"], "culture\r\nand life");
}

#[test]
fn a_csv_quote_that_never_closes_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let table =
        format!("id,title,body\nt1,Tram,\"{TRAM}\"\nt2,Library,\"{LIBRARY}\nt3,More,text\n");
    std::fs::write(dir.path().join("broken.csv"), &table).unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "broken.csv", "--no-topics", "--no-keywords"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("broken.csv:3: a quoted field opened on line 3 is never closed"),
        "{err}"
    );
    assert_eq!(lines(&out).len(), 1, "the first row is still enriched");
}

/// A news page as sites serve it: navigation, a cookie banner, the article, related links, comments
/// and a footer around it.
fn page(title: &str, paragraphs: &[&str], extra_head: &str) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | City Herald</title>
<link rel="canonical" href="https://herald.example/2024/03/{slug}">
<meta property="article:published_time" content="2024-03-04T09:00:00Z">
<meta name="author" content="Ann Smith">{extra_head}
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/city">City</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article><h1>{title}</h1>
{body}</article>
<aside class="related"><h2>Related stories</h2><ul><li><a href="/a">Bus fares rise again next year</a></li><li><a href="/b">Bridge closed for repairs all summer</a></li></ul></aside>
<section id="comments"><h2>Comments</h2><div class="comment">Great news, finally a tram to the university!</div></section>
</main><footer>Copyright City Herald. All rights reserved. Contact us.</footer>
</body></html>
"#,
        slug = title.to_lowercase().replace(' ', "-")
    )
}

const TRAM_PARAGRAPHS: [&str; 4] = [
    "The city opened its new tram line on Monday morning, linking the old town with the university campus in twelve minutes instead of the forty that the bus used to take.",
    "Trams will run every six minutes during the day and every quarter of an hour in the evening, the transport authority said, with night services planned for the summer.",
    "The line cost 40 million euros and took three years to build, one year longer than planned, because old water pipes had to be moved along the main street.",
    "Shop owners on the route, who lost customers during the works, said they hoped the trams would bring people back to the old town in the months to come.",
];

#[test]
fn html_pages_give_the_article_alone_and_a_mirror_skips_its_index_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("herald.example");
    std::fs::create_dir_all(mirror.join("2024/03")).unwrap();
    let tram = page("New tram line opens", &TRAM_PARAGRAPHS, "");
    std::fs::write(mirror.join("2024/03/tram.html"), &tram).unwrap();
    // The seed article's own HTML body, wrapped in the same site furniture.
    let seed: Value = serde_json::from_str(
        std::fs::read_to_string(common::SAMPLES)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let seed_page = page("An Asian NATO", &[seed["body"].as_str().unwrap()], "");
    std::fs::write(mirror.join("2024/03/seed.html"), &seed_page).unwrap();
    // A listing page: headlines linking to articles.
    let links: String = (0..12)
        .map(|i| format!("<li><a href=\"/2024/03/story-{i}\">Story number {i} of the day</a></li>"))
        .collect();
    std::fs::write(
        mirror.join("index.html"),
        format!(
            "<html><head><title>City Herald</title></head><body><ul>{links}</ul></body></html>"
        ),
    )
    .unwrap();
    // A truncated page in a legacy charset, declared in its head.
    let mut legacy = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1250\"><title>Nowa linia</title></head><body><article>".to_vec();
    for _ in 0..4 {
        legacy.extend_from_slice(b"<p>Tramwaj pojedzie z Ratusza na uniwersytet w dwana\x9ccie minut, a nie w czterdzie\x9eci jak autobus. Miasto wyda\xb3o na lini\xea czterdzie\x9eci milion\xf3w euro i budowa\xb3o j\xb1 trzy lata.</p>");
    }
    std::fs::write(mirror.join("2024/03/legacy.htm"), &legacy).unwrap();

    let out = lede_in(
        dir.path(),
        &["extract", "herald.example/2024/03/tram.html"],
        "",
    );
    assert_success(&out);
    let tram_record = &lines(&out)[0];
    assert_eq!(
        tram_record["id"],
        "https://herald.example/2024/03/new-tram-line-opens"
    );
    assert_eq!(tram_record["title"], "New tram line opens");
    assert_eq!(tram_record["author"], "Ann Smith");
    assert_eq!(tram_record["date"], "2024-03-04T09:00:00Z");
    assert_eq!(tram_record["lang"], "en");
    let text = tram_record["text"].as_str().unwrap();
    for p in TRAM_PARAGRAPHS {
        assert!(text.contains(p), "paragraph missing: {p}\n{text}");
    }
    for furniture in ["cookies", "Bus fares", "Great news", "Copyright", "Sport"] {
        assert!(!text.contains(furniture), "{furniture:?} kept: {text}");
    }

    let out = lede_in(
        dir.path(),
        &["enrich", "herald.example", "--no-topics", "--no-keywords"],
        "",
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("1 skipped: index or listing pages with no article"),
        "{}",
        stderr(&out)
    );
    let records = lines(&out);
    assert_eq!(
        records.len(),
        3,
        "three articles, the index page passed over"
    );
    let seed_record = records
        .iter()
        .find(|r| r["title"] == "An Asian NATO")
        .unwrap();
    let seed_text = seed_record["lede"]["summary"]["text"].as_str().unwrap();
    assert!(seed_text.contains("NATO"), "{seed_text}");
    let legacy_record = records.iter().find(|r| r["title"] == "Nowa linia").unwrap();
    assert!(legacy_record["body"]
        .as_str()
        .unwrap()
        .contains("dwanaście minut"));
    assert_eq!(legacy_record["lede"]["language"]["code"], "pl");
}

#[test]
fn html_in_place_writes_the_head_only_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let original = page(
        "New tram line opens",
        &TRAM_PARAGRAPHS,
        "\n<meta name=\"keywords\" content=\"tram, city\">",
    );
    std::fs::write(dir.path().join("tram.html"), &original).unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "tram.html", "--in-place", "--no-topics"],
        "",
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("kept the editor's keywords"),
        "{}",
        stderr(&out)
    );
    let written = std::fs::read_to_string(dir.path().join("tram.html")).unwrap();
    let head_end = original.find("</head>").unwrap();
    assert!(
        written.starts_with(&original[..head_end]),
        "everything before the insertion is unchanged"
    );
    assert!(
        written.ends_with(&original[head_end..]),
        "everything from </head> on is unchanged"
    );
    let added = &written[head_end..written.len() - (original.len() - head_end)];
    assert!(
        added.contains("<meta name=\"description\" content=\"The city opened its new tram line"),
        "{added}"
    );
    assert!(
        added.contains("<script type=\"application/ld+json\" data-lede=\"jsonld\">"),
        "{added}"
    );
    assert!(
        !added.contains("name=\"keywords\""),
        "the editor's keywords stay the only ones"
    );
    let jsonld_start = added.find("data-lede=\"jsonld\">").unwrap() + "data-lede=\"jsonld\">".len();
    let jsonld_end = added[jsonld_start..].find("</script>").unwrap() + jsonld_start;
    let article: Value = serde_json::from_str(&added[jsonld_start..jsonld_end]).unwrap();
    assert_eq!(article["@type"], "NewsArticle");
    assert_eq!(article["headline"], "New tram line opens");
    let out = lede_in(
        dir.path(),
        &["enrich", "tram.html", "--in-place", "--no-topics"],
        "",
    );
    assert!(
        stderr(&out).contains("1 unchanged (skipped)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tram.html")).unwrap(),
        written
    );
}
