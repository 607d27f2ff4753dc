//! Unit tests of the page extractor.
use super::*;

fn para(i: usize) -> String {
    format!(
        "<p>Paragraph {i} of the story explains, in plain words, how the council voted on the new \
         bridge, why the budget grew, and what residents said at the long meeting on Tuesday evening \
         in the old town hall, where the debate went on until late at night.</p>"
    )
}

fn article_page() -> String {
    let body: String = (1..=8).map(para).collect();
    format!(
        r##"<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">
<title>Council approves bridge | Springfield Gazette</title>
<meta property="og:site_name" content="Springfield Gazette">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<link rel="canonical" href="/news/council-bridge">
<script type="application/ld+json">{{"@context":"https://schema.org","@graph":[{{"@type":"WebSite","name":"Springfield Gazette"}},
 {{"@type":"NewsArticle","headline":"Council approves bridge","author":[{{"@type":"Person","name":"Jane Roe"}},{{"@type":"Person","name":"John Doe"}}],"datePublished":"2024-03-05T10:00:00Z"}}]}}</script>
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<article class="story">
<h1>Council approves bridge</h1>
<div class="story-byline">By Jane Roe and John Doe</div>
<figure><img src="a.jpg"><figcaption>The old bridge at dawn. Photo: Staff</figcaption></figure>
{body}
<h2>What happens next</h2>
<p>Advertisement</p>
<p>Work starts in May<br>and ends in 2026, the council said in a statement released after the vote.</p>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
<ul><li><a href="/a">Another story about roads</a></li><li><a href="/b">A story about trains</a></li><li><a href="/c">A third story</a></li></ul>
</article>
<div id="comments"><p>Great article, thanks for writing it, I really enjoyed reading it all the way through.</p></div>
<footer>© 2024 Springfield Gazette</footer>
</body></html>"##
    )
}

#[test]
fn article_text_and_metadata() {
    let page = extract(
        article_page().as_bytes(),
        Some("https://gazette.example/news/council-bridge?utm=1"),
    )
    .unwrap();
    let t = &page.text;
    assert!(t.contains("Paragraph 1 of the story"), "{t}");
    assert!(t.contains("Paragraph 8 of the story"), "{t}");
    assert!(t.contains("Work starts in May\nand ends in 2026"), "{t}");
    assert!(t.contains("What happens next"), "heading kept: {t}");
    for junk in [
        "Share on",
        "Another story",
        "Advertisement",
        "Photo: Staff",
        "Great article",
        "Home",
        "©",
    ] {
        assert!(!t.contains(junk), "{junk:?} left in {t}");
    }
    assert!(
        t.contains("late at night.\n\nParagraph 2"),
        "blank line between paragraphs: {t}"
    );
    assert!(!t.contains("\n\n\n"));
    assert_eq!(page.title.as_deref(), Some("Council approves bridge"));
    assert_eq!(page.author.as_deref(), Some("Jane Roe, John Doe"));
    assert_eq!(page.date.as_deref(), Some("2024-03-05T10:00:00Z"));
    assert_eq!(page.lang.as_deref(), Some("en"));
    assert_eq!(
        page.canonical.as_deref(),
        Some("https://gazette.example/news/council-bridge")
    );
    assert!(page.is_article);
}

#[test]
fn listing_page_is_not_an_article() {
    let items: String = (1..=40)
        .map(|i| format!("<li><a href=\"/story/{i}\">Headline number {i} about something in the news today</a> <span>2 hours ago</span></li>"))
        .collect();
    let html = format!(
        "<html lang=\"fr\"><head><title>Actualités - Le Journal</title></head><body><h1>Latest news</h1><ul>{items}</ul>\
         <p>About us. Contact.</p></body></html>"
    );
    let page = extract(html.as_bytes(), None).unwrap();
    assert!(!page.is_article, "{page:?}");
    assert_eq!(page.lang.as_deref(), Some("fr"));
    assert_eq!(
        page.title.as_deref(),
        Some("Actualités - Le Journal"),
        "' - ' is kept unless it names the site"
    );
    let empty = extract(b"<html><body><p>Hi</p></body></html>", None).unwrap();
    assert!(!empty.is_article);
    assert!(extract(b"", None).is_ok());
}

#[test]
fn article_judgement() {
    let ok = ContentStats {
        link_density: 0.1,
        linked_headings: 0,
    };
    let words = |n: usize| vec!["word"; n].join(" ");
    assert!(!judge_article(&words(60), &ok, false));
    assert!(
        judge_article(&words(60), &ok, true),
        "declared article, one paragraph"
    );
    let prose = vec![words(50); 2].join("\n\n");
    assert!(judge_article(&prose, &ok, false));
    assert!(
        !judge_article(
            &prose,
            &ContentStats {
                link_density: 0.7,
                linked_headings: 0
            },
            false
        ),
        "mostly links"
    );
    assert!(
        !judge_article(
            &prose,
            &ContentStats {
                link_density: 0.1,
                linked_headings: 4
            },
            true
        ),
        "teaser headlines"
    );
    let short_lines = vec!["Headline of a story"; 40].join("\n\n");
    assert!(
        !judge_article(&short_lines, &ok, false),
        "no prose paragraph"
    );
    let cjk = "新闻".repeat(60);
    assert!(
        judge_article(&format!("{cjk}\n\n{cjk}"), &ok, false),
        "CJK counted by characters"
    );
    assert!(is_index_url("https://example.com/"));
    assert!(is_index_url("https://example.com/tag/politics/"));
    assert!(is_index_url("https://example.com/index.html"));
    assert!(is_index_url("https://example.com/search/label/news"));
    assert!(!is_index_url(
        "https://example.com/2024/03/05/council-approves-bridge/"
    ));
    assert!(!is_index_url("https://example.com/news/tagged-for-life"));
    assert!(!is_index_url("not a url"));
}

#[test]
fn teaser_listing_with_summaries_is_not_an_article() {
    let items: String = (1..=12)
        .map(|i| {
            format!(
                "<div class=\"item\"><h2><a href=\"/news/story-{i}\">Headline number {i} about the council</a></h2>\
                 <p>A summary of story {i} that runs to more than fifteen words, as teaser summaries on \
                 news front pages usually do, to tempt the reader.</p></div>"
            )
        })
        .collect();
    let html =
        format!("<html><head><title>News</title></head><body><main>{items}</main></body></html>");
    let page = extract(html.as_bytes(), Some("https://example.com/news")).unwrap();
    assert!(!page.is_article, "{page:?}");
    let front = extract(article_page().as_bytes(), Some("https://gazette.example/")).unwrap();
    assert!(!front.is_article, "site front by URL");
}

#[test]
fn charsets() {
    // <meta charset>, windows-1252 'é' (0xE9)
    let mut b = b"<html><head><meta charset=\"windows-1252\"></head><body><p>caf".to_vec();
    b.extend([0xE9]);
    b.extend(b"</p></body></html>");
    assert!(decode(&b).contains("café"));
    // http-equiv Content-Type, Shift_JIS: 日本 = 93 FA 96 7B
    let mut b =
        b"<meta http-equiv='Content-Type' content='text/html; charset=Shift_JIS'><p>".to_vec();
    b.extend([0x93, 0xFA, 0x96, 0x7B]);
    assert!(decode(&b).contains("日本"));
    // ISO-8859-2 'ł' (0xB3), label in upper case without quotes
    let mut b = b"<META CHARSET=ISO-8859-2><p>".to_vec();
    b.extend([0xB3]);
    assert!(decode(&b).ends_with('ł'));
    // a BOM wins over the meta
    let mut b = vec![0xFF, 0xFE];
    for u in "<meta charset=latin1>é".encode_utf16() {
        b.extend(u.to_le_bytes());
    }
    assert!(decode(&b).ends_with('é'));
    // meta says UTF-16 for 8-bit bytes: read as UTF-8
    assert_eq!(
        decode("<meta charset=utf-16><p>ü".as_bytes()),
        "<meta charset=utf-16><p>ü"
    );
    // no declaration: UTF-8; no UTF-8 sequence at all: windows-1252; mixed: lossy UTF-8
    assert!(decode("<p>naïve</p>".as_bytes()).contains("naïve"));
    assert!(decode(b"<p>na\xEFve</p>").contains("naïve"));
    assert!(decode("<p>ü \u{0}".as_bytes()).contains('ü'));
    let mixed = [b"<p>\xC3\xBC ".as_slice(), b"\xFF</p>"].concat();
    assert_eq!(decode(&mixed), "<p>ü \u{FFFD}</p>");
    // through extract, a declared legacy charset reaches the text and the title
    let mut b =
        b"<html><head><meta charset=\"iso-8859-1\"><title>Caf\xE9 news</title></head><body>"
            .to_vec();
    for _ in 0..6 {
        b.extend(b"<p>Le caf\xE9 du coin a rouvert ses portes ce matin, apr\xE8s six mois de travaux, et les habitu\xE9s sont revenus nombreux pour le premier caf\xE9.</p>");
    }
    b.extend(b"</body></html>");
    let page = extract(&b, None).unwrap();
    assert_eq!(page.title.as_deref(), Some("Café news"));
    assert!(page.text.contains("après six mois"), "{}", page.text);
}

#[test]
fn html_text_conversion() {
    let t = html_to_text(
        "<div><h2>Head</h2><p>One <b>bold</b>\n  word.</p><p>Line<br>two</p><script>x=1</script>\
         <p style=\"display: none\">hidden</p><pre>a  b\nc</pre><ul><li>x</li><li>y</li></ul>\u{200b}</div>",
    );
    assert_eq!(
        t,
        "Head\n\nOne bold word.\n\nLine\ntwo\n\na  b\nc\n\nx\n\ny"
    );
}

#[test]
fn paragraph_rules() {
    assert!(boilerplate_paragraph("Advertisement"));
    assert!(boilerplate_paragraph("READ MORE: Five things to know"));
    assert!(boilerplate_paragraph("By Jane Roe"));
    assert!(boilerplate_paragraph("Don't miss\nStory one\nStory two"));
    assert!(!boilerplate_paragraph(
        "By the end of the year the plant will employ 400 people, the company said."
    ));
    assert!(!boilerplate_paragraph("Updated guidance from the ministry says schools may stay open, provided that class sizes stay small."));
    assert!(is_header_dateline("| UPDATED: 10:43, Tue, Nov 19, 2019"));
    assert!(is_header_dateline(
        "By Justine Coleman - 11/18/19 11:04 PM EST"
    ));
    assert!(is_header_dateline("5 de março de 2024"));
    assert!(!is_header_dateline("— Jane Roe (@jane) November 19, 2019"));
    assert!(!is_header_dateline("The vote is on 5 March 2024."));
    assert!(!is_header_dateline("What happens next"));
}

#[test]
fn metadata_helpers() {
    assert_eq!(normalize_lang("en-US").as_deref(), Some("en"));
    assert_eq!(normalize_lang("pt_BR").as_deref(), Some("pt"));
    assert_eq!(normalize_lang("DE").as_deref(), Some("de"));
    assert_eq!(normalize_lang("zh-Hans-CN").as_deref(), Some("zh"));
    assert_eq!(normalize_lang("ger").as_deref(), Some("de"));
    assert_eq!(normalize_lang("iw").as_deref(), Some("he"));
    assert_eq!(normalize_lang("en, fr").as_deref(), Some("en"));
    assert_eq!(normalize_lang("x-default"), None);
    assert_eq!(normalize_lang("und"), None);
    assert_eq!(normalize_lang(""), None);
    let s = |t: &str, site: Option<&str>, host: Option<&str>| strip_site_suffix(t, site, host);
    assert_eq!(
        s("Council approves bridge | Springfield Gazette", None, None),
        "Council approves bridge"
    );
    assert_eq!(
        s(
            "Council approves bridge - The Gazette",
            Some("The Gazette"),
            None
        ),
        "Council approves bridge"
    );
    assert_eq!(
        s(
            "Council approves bridge – Gazette",
            None,
            Some("www.gazette.com")
        ),
        "Council approves bridge"
    );
    assert_eq!(
        s(
            "Gazette | Council approves bridge today",
            Some("Gazette"),
            None
        ),
        "Council approves bridge today"
    );
    assert_eq!(
        s("Spider-Man - the review", None, None),
        "Spider-Man - the review"
    );
    assert_eq!(s("Short | Site", None, None), "Short | Site");
    assert_eq!(s("A | B", Some("A | B"), None), "A | B");
    assert_eq!(clean_author("By  Jane Roe ").as_deref(), Some("Jane Roe"));
    assert_eq!(clean_author("https://www.facebook.com/jane"), None);
    assert_eq!(clean_author(" | "), None);
    let doc = Document::from(
        r#"<html xml:lang="es"><head><meta name="author" content="Ana Pérez"><meta property="og:url" content="https://x.example/a"></head>
        <body><time datetime="2020-01-02">2 Jan</time></body></html>"#,
    );
    let m = metadata(&doc, None);
    assert_eq!(m.author.as_deref(), Some("Ana Pérez"));
    assert_eq!(m.date.as_deref(), Some("2020-01-02"));
    assert_eq!(m.canonical.as_deref(), Some("https://x.example/a"));
    assert_eq!(m.lang.as_deref(), Some("es"));
    assert!(!m.article_markup);
}
