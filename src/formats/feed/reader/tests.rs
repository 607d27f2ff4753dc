//! Unit tests of the feed reader.
use super::*;
use serde_json::json;

const RSS_FEED: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
<title>City &amp; Transit News</title>
<link>https://news.example.org/</link>
<description>Local news</description>
<item>
  <title>Tram line extended</title>
  <link>https://news.example.org/tram</link>
  <guid isPermaLink="false">news-1001</guid>
  <dc:creator><![CDATA[Ana Nowak]]></dc:creator>
  <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>
  <category>Transport</category>
  <category><![CDATA[City]]></category>
  <category>Transport</category>
  <description>Short teaser</description>
  <content:encoded><![CDATA[<p>The tram &amp; bus <b>plan</b>.</p>]]></content:encoded>
</item>
<item>
  <title>Second</title>
  <guid>https://news.example.org/second</guid>
  <author>ed@example.org (Ed Smith)</author>
  <description>Only a description</description>
</item>
  </channel>
</rss>"#;

const ATOM_FEED: &[u8] = br#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="http://www.w3.org/1999/xhtml">
  <title type="text">Example Atom</title>
  <author><name>Feed Author</name><email>fa@example.org</email></author>
  <link rel="self" href="https://example.org/feed.atom"/>
  <id>urn:uuid:feed</id>
  <updated>2024-01-02T00:00:00Z</updated>
  <entry>
<title type="html">Fish &amp;amp; chips</title>
<link rel="self" href="https://example.org/api/1"/>
<link rel="alternate" type="text/html" href="https://example.org/1"/>
<id>urn:uuid:1</id>
<published>2024-01-01T10:00:00+01:00</published>
<updated>2024-01-01T12:30:00.5+01:00</updated>
<author><name>Jo Bloggs</name><uri>https://jo.example.org</uri></author>
<author><name>Sam Lee</name></author>
<category term="tech" label="Technology"/>
<category term="rust"/>
<summary>Summary that loses to content</summary>
<content type="html">&lt;p&gt;HTML &amp;amp; more&amp;nbsp;here&lt;/p&gt;</content>
<source><title>Other feed</title><id>urn:other</id><author><name>Nobody</name></author></source>
  </entry>
  <entry>
<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <em>xhtml</em> title</div></title>
<link href="https://example.org/2"/>
<id>urn:uuid:2</id>
<updated>2024-01-03T08:00:00Z</updated>
<content type="xhtml">
  <div xmlns="http://www.w3.org/1999/xhtml"><p class="lead">One &amp; two&#160;&lt;three&gt;</p><br/><img src="a.png" alt="A &quot;pic&quot;"/><x:span>prefixed</x:span><![CDATA[a<b]]></div>
</content>
  </entry>
  <entry>
<title>Plain text</title>
<link rel="enclosure" href="https://example.org/3.mp3"/>
<id>urn:uuid:3</id>
<updated>2024-01-04</updated>
<content type="text">Tags like &lt;b> are text & so is &amp;.</content>
  </entry>
  <entry>
<title>Out of line</title>
<id>urn:uuid:4</id>
<content type="image/png" src="https://example.org/4.png"/>
<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Fallback</div></summary>
  </entry>
</feed>"#;

const RDF_FEED: &[u8] = br#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/rss">
<title>RDF Site</title>
<items><rdf:Seq><rdf:li resource="https://example.org/a"/></rdf:Seq></items>
  </channel>
  <image rdf:about="https://example.org/logo.png"><title>Logo</title></image>
  <item rdf:about="https://example.org/a">
<title>First RDF item</title>
<link>https://example.org/a?utm=1</link>
<description>Plain &amp;amp; simple</description>
<dc:date>2002-09-01T12:00:00-05:00</dc:date>
<dc:creator>Rae</dc:creator>
  </item>
  <item rdf:about="https://example.org/b"><title>Second</title></item>
</rdf:RDF>"#;

fn records(name: &str, xml: &[u8]) -> Vec<Item> {
    read_feed(name, xml).expect("a feed")
}

fn record(item: &Item) -> Value {
    Value::Object(item.record.clone().expect("an Ok record"))
}

#[test]
fn rss_with_content_encoded() {
    let xml = RSS_FEED;
    let items = records("feed.xml", xml);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].origin, "feed.xml item 1");
    assert_eq!(
        record(&items[0]),
        json!({
            "id": "news-1001",
            "title": "Tram line extended",
            "url": "https://news.example.org/tram",
            "author": "Ana Nowak",
            "date": "Tue, 10 Jun 2003 04:00:00 GMT",
            "date_iso": "2003-06-10T04:00:00Z",
            "body": "<p>The tram &amp; bus <b>plan</b>.</p>",
            "categories": ["Transport", "City"],
            "feed": "City & Transit News"
        })
    );
    // Key order is part of the contract (preserve_order).
    let keys: Vec<&String> = items[0].record.as_ref().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "url",
            "author",
            "date",
            "date_iso",
            "body",
            "categories",
            "feed"
        ]
    );
    assert_eq!(items[1].origin, "feed.xml item 2");
    assert_eq!(
        record(&items[1]),
        json!({
            "id": "https://news.example.org/second",
            "title": "Second",
            "url": "https://news.example.org/second",
            "author": "Ed Smith",
            "body": "Only a description",
            "feed": "City & Transit News"
        })
    );
}

#[test]
fn rss_escaped_html_description_and_entities() {
    let xml = br#"<rss version="2.0"><channel><title>T</title>
<item>
  <title>Caf&eacute;&nbsp;news &mdash; it&#146;s &#8220;here&#8221; &amp;amp; &unknown;</title>
  <link>https://example.org/?a=1&b=2</link>
  <description>&lt;p&gt;Hello&amp;nbsp;world &amp;mdash; &lt;a href="https://x.org/?a=1&amp;amp;b=2"&gt;link&lt;/a&gt;&lt;/p&gt;</description>
</item>
</channel></rss>"#;
    let items = records("f.xml", xml);
    let rec = record(&items[0]);
    assert_eq!(
        rec["title"],
        "Caf\u{e9}\u{a0}news \u{2014} it\u{2019}s \u{201c}here\u{201d} &amp; &unknown;"
    );
    // A lone `&` in a URL is kept, not an error.
    assert_eq!(rec["url"], "https://example.org/?a=1&b=2");
    assert_eq!(rec["id"], "https://example.org/?a=1&b=2");
    // Unescaped exactly once: the HTML string, with its own HTML entities.
    assert_eq!(
        rec["body"],
        r#"<p>Hello&nbsp;world &mdash; <a href="https://x.org/?a=1&amp;b=2">link</a></p>"#
    );
    assert!(rec.get("feed").is_some());
}

#[test]
fn rss_description_with_raw_nbsp_and_raw_markup() {
    // Invalid XML that feeds write anyway: an HTML entity and unescaped tags.
    let xml = br#"<rss><channel><item><title>x</title>
<description>A&nbsp;B <p>para <br/>two</p></description></item></channel></rss>"#;
    let rec = record(&records("f", xml)[0]);
    assert_eq!(rec["body"], "A\u{a0}B <p>para <br>two</p>");
}

#[test]
fn item_without_body_keeps_the_record() {
    let xml = br#"<rss><channel><title>F</title><item><title>Just a title</title><link>https://e.org/1</link></item></channel></rss>"#;
    let items = records("f.xml", xml);
    assert_eq!(
        record(&items[0]),
        json!({"id": "https://e.org/1", "title": "Just a title", "url": "https://e.org/1", "feed": "F"})
    );
}

#[test]
fn atom_html_xhtml_and_text_content() {
    let xml = ATOM_FEED;
    let items = records("atom.xml", xml);
    assert_eq!(items.len(), 4);
    assert_eq!(
        record(&items[0]),
        json!({
            "id": "urn:uuid:1",
            "title": "Fish &amp; chips",
            "url": "https://example.org/1",
            "author": ["Jo Bloggs", "Sam Lee"],
            "date": "2024-01-01T10:00:00+01:00",
            "date_iso": "2024-01-01T10:00:00+01:00",
            "updated": "2024-01-01T12:30:00.5+01:00",
            "body": "<p>HTML &amp; more&nbsp;here</p>",
            "categories": ["Technology", "rust"],
            "feed": "Example Atom"
        })
    );
    assert_eq!(
        record(&items[1]),
        json!({
            "id": "urn:uuid:2",
            "title": "An <em>xhtml</em> title",
            "url": "https://example.org/2",
            "author": "Feed Author",
            "date": "2024-01-03T08:00:00Z",
            "date_iso": "2024-01-03T08:00:00Z",
            "body": "<p class=\"lead\">One &amp; two&#160;&lt;three&gt;</p><br><img src=\"a.png\" alt=\"A &quot;pic&quot;\"><span>prefixed</span>a&lt;b",
            "feed": "Example Atom"
        })
    );
    let third = record(&items[2]);
    assert_eq!(
        third["body"],
        "Tags like &lt;b&gt; are text &amp; so is &amp;."
    );
    assert_eq!(third["url"], "https://example.org/3.mp3");
    assert_eq!(third["date_iso"], "2024-01-04");
    let fourth = record(&items[3]);
    assert_eq!(fourth["body"], "Fallback");
    assert!(fourth.get("url").is_none());
}

#[test]
fn atom_as_generators_write_it() {
    // What Python's feedgen writes: untyped content holding escaped HTML, `type="CDATA"`,
    // and both an Atom author and a dc:creator.
    let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <entry><id>1</id><author><name>Writer</name></author><dc:creator>DC Writer</dc:creator>
<content type="CDATA"><![CDATA[<p>Full &mdash; text</p>]]></content></entry>
  <entry><id>2</id><dc:creator>DC Only</dc:creator>
<content>&lt;p&gt;Summary &amp;amp; teaser&lt;/p&gt;</content></entry>
  <entry><id>3</id><content>if a &lt; b then &lt;div2&gt; wins</content></entry>
  <entry><id>4</id><content type="text">&lt;p&gt;literally&lt;/p&gt;</content></entry>
  <entry><id>5</id><content type="application/octet-stream">AAEC</content><summary>S</summary></entry>
</feed>"#;
    let items = records("g.atom", xml);
    let body = |n: usize| record(&items[n])["body"].clone();
    assert_eq!(record(&items[0])["author"], "Writer");
    assert_eq!(body(0), "<p>Full &mdash; text</p>");
    assert_eq!(record(&items[1])["author"], "DC Only");
    assert_eq!(body(1), "<p>Summary &amp; teaser</p>");
    assert_eq!(body(2), "if a &lt; b then &lt;div2&gt; wins");
    assert_eq!(body(3), "&lt;p&gt;literally&lt;/p&gt;");
    assert_eq!(body(4), "S");
}

#[test]
fn atom_with_prefixes_and_entry_document() {
    let xml = br#"<a:feed xmlns:a="http://www.w3.org/2005/Atom">
  <a:title>Prefixed</a:title>
  <a:entry><a:id>e1</a:id><a:title>One</a:title><a:link href="https://e.org/1"/>
<a:content type="html">&lt;i&gt;hi&lt;/i&gt;</a:content></a:entry>
</a:feed>"#;
    let items = records("p.atom", xml);
    assert_eq!(
        record(&items[0]),
        json!({"id": "e1", "title": "One", "url": "https://e.org/1", "body": "<i>hi</i>", "feed": "Prefixed"})
    );
    let entry = br#"<entry xmlns="http://www.w3.org/2005/Atom"><id>solo</id><title>Solo</title><summary>S</summary></entry>"#;
    let items = records("entry.xml", entry);
    assert_eq!(items.len(), 1);
    assert_eq!(
        record(&items[0]),
        json!({"id": "solo", "title": "Solo", "body": "S"})
    );
}

#[test]
fn rss_with_unusual_prefixes() {
    // content: bound to `c:`, Dublin Core to `purl:`, `dcterms:` never declared.
    let xml = br#"<rss version="2.0" xmlns:c="http://purl.org/rss/1.0/modules/content/"
  xmlns:purl="http://purl.org/dc/elements/1.1/" xmlns:content="urn:something-else">
<channel><title>P</title><item>
  <title>Hi</title>
  <purl:creator>Kim</purl:creator>
  <purl:date>2020-02-29T23:59:60Z</purl:date>
  <purl:subject>Science</purl:subject>
  <dcterms:modified>2020-03-01</dcterms:modified>
  <content:encoded>not the content module</content:encoded>
  <c:encoded>&lt;p&gt;real body&lt;/p&gt;</c:encoded>
</item></channel></rss>"#;
    let rec = record(&records("f", xml)[0]);
    assert_eq!(
        rec,
        json!({
            "title": "Hi",
            "author": "Kim",
            "date": "2020-02-29T23:59:60Z",
            "date_iso": "2020-02-29T23:59:60Z",
            "updated": "2020-03-01",
            "body": "<p>real body</p>",
            "categories": ["Science"],
            "feed": "P"
        })
    );
}

#[test]
fn rss_with_xhtml_body_and_atom_link() {
    let xml = br#"<rss xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><item>
  <atom:link rel="alternate" href="https://e.org/x"/>
  <description>teaser</description>
  <xhtml:body><xhtml:p>Body <xhtml:a href="/y?a=1&amp;b=2">link</xhtml:a></xhtml:p><xhtml:hr/></xhtml:body>
</item></channel></rss>"#;
    assert_eq!(
        record(&records("x", xml)[0]),
        json!({
            "id": "https://e.org/x",
            "url": "https://e.org/x",
            "body": "<p>Body <a href=\"/y?a=1&amp;b=2\">link</a></p><hr>"
        })
    );
}

#[test]
fn rss_1_0_rdf() {
    let xml = RDF_FEED;
    let items = records("rdf.xml", xml);
    assert_eq!(items.len(), 2);
    assert_eq!(
        record(&items[0]),
        json!({
            "id": "https://example.org/a?utm=1",
            "title": "First RDF item",
            "url": "https://example.org/a?utm=1",
            "author": "Rae",
            "date": "2002-09-01T12:00:00-05:00",
            "date_iso": "2002-09-01T12:00:00-05:00",
            "body": "Plain &amp; simple",
            "feed": "RDF Site"
        })
    );
    assert_eq!(
        record(&items[1]),
        json!({"id": "https://example.org/b", "title": "Second", "feed": "RDF Site"})
    );
}

#[test]
fn iso_8859_1_and_windows_1252() {
    let mut xml = b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<rss><channel><title>Caf".to_vec();
    xml.push(0xE9); // é
    xml.extend_from_slice(b"</title><item><title>It");
    xml.push(0x92); // ’ in windows-1252 (a C1 control in strict ISO-8859-1)
    xml.extend_from_slice(b"s na");
    xml.push(0xEF); // ï
    xml.extend_from_slice(b"ve</title><description>&lt;p&gt;");
    xml.push(0xBD); // ½
    xml.extend_from_slice(b"&lt;/p&gt;</description></item></channel></rss>");
    let rec = record(&records("latin1.xml", &xml)[0]);
    assert_eq!(rec["title"], "It\u{2019}s na\u{ef}ve");
    assert_eq!(rec["body"], "<p>\u{bd}</p>");
    assert_eq!(rec["feed"], "Caf\u{e9}");

    let cp1252 = [
        &b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss><channel><item><title>"[..],
        &[0x93, b'q', 0x94, b' ', 0x80],
        &b"</title></item></channel></rss>"[..],
    ]
    .concat();
    assert_eq!(
        record(&records("w.xml", &cp1252)[0])["title"],
        "\u{201c}q\u{201d} \u{20ac}"
    );

    let unknown = b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><rss/>";
    assert_eq!(
        read_feed("k.xml", unknown).unwrap_err(),
        "the XML declaration names encoding \"x-klingon\", which is not supported"
    );
}

#[test]
fn utf8_bom_and_utf16() {
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><item><title>Zażółć</title></item></channel></rss>";
    assert_eq!(
        record(&records("bom.xml", xml.as_bytes())[0])["title"],
        "Zażółć"
    );

    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss><channel><item><title>Ω</title></item></channel></rss>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    assert_eq!(record(&records("u16.xml", &utf16)[0])["title"], "Ω");
}

#[test]
fn truncated_feed_returns_items_then_an_error() {
    let xml = b"<rss><channel><title>T</title>
<item><title>One</title><description>first</description></item>
<item><title>Two</title></item>
<item><title>Three</title><description>cut off he";
    let items = records("cut.xml", xml);
    assert_eq!(items.len(), 3);
    assert_eq!(record(&items[0])["title"], "One");
    assert_eq!(record(&items[1])["title"], "Two");
    assert_eq!(items[2].origin, "cut.xml item 3");
    assert_eq!(
        items[2].record,
        Err("malformed XML at line 4: the file ends inside <description>".to_string())
    );

    let between =
        b"<rss><channel><item><title>One</title></item>\n<item><title>Two</title></item>\n";
    let items = records("b.xml", between);
    assert_eq!(items.len(), 3);
    assert_eq!(items[2].origin, "b.xml after item 2");
    assert_eq!(
        items[2].record,
        Err("malformed XML at line 3: the file ends inside <channel>".to_string())
    );
}

#[test]
fn malformed_item_is_named() {
    let xml = b"<rss><channel>
<item><title>Good</title></item>
<item><title>Bad</titel></item>
<item><title>Never read</title></item>
</channel></rss>";
    let items = records("m.xml", xml);
    assert_eq!(items.len(), 2);
    assert_eq!(record(&items[0])["title"], "Good");
    assert_eq!(items[1].origin, "m.xml item 2");
    let message = items[1].record.clone().unwrap_err();
    assert!(
        message.starts_with("malformed XML at line 3: "),
        "{message}"
    );

    // Broken before any item: nothing to return.
    let early = b"<rss><channel><title>x</tilte><item/></channel></rss>";
    let err = read_feed("e.xml", early).unwrap_err();
    assert!(err.starts_with("malformed XML at line 1: "), "{err}");
}

#[test]
fn empty_feeds_and_non_feeds() {
    assert_eq!(
        read_feed(
            "e.xml",
            b"<rss version=\"2.0\"><channel><title>Nothing yet</title></channel></rss>"
        ),
        Ok(vec![])
    );
    assert_eq!(
        read_feed("e.atom", b"<feed xmlns=\"http://www.w3.org/2005/Atom\"/>"),
        Ok(vec![])
    );
    assert_eq!(
        read_feed(
            "page.html",
            b"<!DOCTYPE html>\n<html><body>hi</body></html>"
        ),
        Err("not an RSS or Atom feed: root element <html>".to_string())
    );
    assert_eq!(
        read_feed("s.xml", b"<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"/>"),
        Err("not an RSS or Atom feed: root element <urlset>".to_string())
    );
    assert_eq!(
        read_feed("empty.xml", b""),
        Err("not an RSS or Atom feed: no root element".to_string())
    );
    assert_eq!(
        read_feed("data.json", b"{\"id\": 1}"),
        Err("not an RSS or Atom feed: no root element".to_string())
    );
    let err = read_feed("bad.xml", b"<<<").unwrap_err();
    assert!(
        err.starts_with("not an RSS or Atom feed: malformed XML at line 1"),
        "{err}"
    );
}

#[test]
fn junk_after_the_root_is_ignored() {
    let xml = b"<rss><channel><item><title>A</title></item></channel></rss>\n<b>Warning</b>: PHP said something";
    let items = records("j.xml", xml);
    assert_eq!(items.len(), 1);
    assert!(items[0].record.is_ok());
}

#[test]
fn wordpress_export_detection() {
    let wxr = br#"<?xml version="1.0" encoding="UTF-8" ?>
<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
<!-- generator="WordPress/6.4.2" created="2024-01-01 10:00" -->
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/"
>
<channel>
	<title>My blog</title>
	<wp:wxr_version>1.2</wp:wxr_version>"#;
    assert!(is_wordpress_export(wxr));
    assert!(is_wordpress_export(&wxr[..wxr.len() - 60])); // cut before <channel>
    assert!(is_wordpress_export(
        b"<rss xmlns:w = 'https://wordpress.org/export/1.1/'>"
    ));
    assert!(is_wordpress_export(
        b"<rss><channel><wp:wxr_version>1.2</wp:wxr_version>"
    ));

    // A WordPress site's own RSS feed is a plain feed.
    let feed = br#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>
<channel>
	<title>My blog</title>
	<generator>https://wordpress.org/?v=6.4.2</generator>
	<item><title>How to move xmlns:wp="http://wordpress.org/export/1.2/" files</title></item>"#;
    assert!(!is_wordpress_export(feed));
    assert!(!is_wordpress_export(
        b"<feed xmlns=\"http://www.w3.org/2005/Atom\">"
    ));
    assert!(!is_wordpress_export(b""));
}

#[test]
fn dates_as_iso_8601() {
    let cases = [
        (
            "Tue, 10 Jun 2003 04:00:00 GMT",
            Some("2003-06-10T04:00:00Z"),
        ),
        (
            "Wed, 02 Oct 2002 08:00:00 EST",
            Some("2002-10-02T08:00:00-05:00"),
        ),
        (
            "Wed, 02 Oct 2002 13:00:00 +0200",
            Some("2002-10-02T13:00:00+02:00"),
        ),
        ("2 Oct 02 13:00 PDT", Some("2002-10-02T13:00:00-07:00")),
        (
            "Sun, 1 Mar 2020 09:05:00 +0000 (UTC)",
            Some("2020-03-01T09:05:00+00:00"),
        ),
        ("Mon, 01 Jan 2024 10:00:00", Some("2024-01-01T10:00:00")),
        ("June 5, 2021 10:00:00 GMT", Some("2021-06-05T10:00:00Z")),
        ("2024-02-29", Some("2024-02-29")),
        ("2024-02-29T23:00:00.123Z", Some("2024-02-29T23:00:00.123Z")),
        (
            "2024-02-29 23:00:00+0530",
            Some("2024-02-29T23:00:00+05:30"),
        ),
        ("2023-02-29", None),
        ("Tue, 31 Jun 2003 04:00:00 GMT", None),
        ("yesterday", None),
        ("", None),
    ];
    for (input, expected) in cases {
        assert_eq!(iso_date(input).as_deref(), expected, "{input}");
    }
}

#[test]
fn every_truncation_reads_without_panicking() {
    let feeds = [RSS_FEED, ATOM_FEED, RDF_FEED];
    for feed in feeds {
        let complete = read_feed("f", feed).unwrap().len();
        for end in 0..feed.len() {
            if let Ok(items) = read_feed("f", &feed[..end]) {
                assert!(items.len() <= complete + 1);
                // Only the last can be the error, and the others are whole items.
                assert!(items.iter().rev().skip(1).all(|i| i.record.is_ok()));
            }
        }
    }
    for date in [
        "2024-05-01T10:30\u{e9}",
        "2024\u{e9}05-01",
        "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        "1 Jan 2024 10:00 +\u{e9}",
    ] {
        let _ = iso_date(date);
    }
}

#[test]
fn person_names() {
    assert_eq!(person_name("jo@example.org (Jo Bloggs)"), "Jo Bloggs");
    assert_eq!(person_name("Jo Bloggs <jo@example.org>"), "Jo Bloggs");
    assert_eq!(person_name("jo@example.org"), "jo@example.org");
    assert_eq!(person_name("John Doe (Staff)"), "John Doe (Staff)");
}
