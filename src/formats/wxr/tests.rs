//! Unit tests of `wxr`.
use super::*;

const FIXTURE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/wxr/export.xml"
));

/// A minimal export around the given items, with the given line ending.
fn export_with(items: &str, eol: &str) -> Vec<u8> {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<rss version=\"2.0\" \
         xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n\
         <channel>\n\t<title>T</title>\n{items}</channel>\n</rss>\n"
    );
    text.replace('\n', eol).into_bytes()
}

fn posts_ok(name: &str, bytes: &[u8]) -> Vec<Map<String, Value>> {
    let posts = read_posts(name, bytes).expect("a readable export");
    posts
        .into_iter()
        .map(|post| post.record.expect("a readable post"))
        .collect()
}

fn by_id<'a>(records: &'a [Map<String, Value>], id: &str) -> &'a Map<String, Value> {
    records
        .iter()
        .find(|record| record["id"] == id)
        .expect("the post is read")
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

/// Item count of a document that must be well-formed from start to end.
fn strict_item_count(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).expect("UTF-8 output");
    let mut reader = Reader::from_str(text);
    let (mut depth, mut items) = (0usize, 0usize);
    loop {
        match reader.read_event().expect("well-formed output") {
            Event::Start(start) => {
                depth += 1;
                items += usize::from(start.name().0 == "item");
            }
            Event::End(_) => depth -= 1,
            Event::GeneralRef(reference) => assert!(resolve_reference(&reference).is_some()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    items
}

fn find(haystack: &[u8], needle: &str) -> usize {
    let needle = needle.as_bytes();
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the text is in the file")
}

#[test]
fn reads_posts_and_pages_in_file_order_skipping_attachments() {
    let posts = read_posts("export.xml", FIXTURE).expect("the fixture reads");
    let origins: Vec<&str> = posts.iter().map(|post| post.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            "export.xml: post 101",
            "export.xml: post 103",
            "export.xml: post 104",
            "export.xml: post 105",
            "export.xml: post 106"
        ]
    );
    let records = posts_ok("export.xml", FIXTURE);
    let tram = by_id(&records, "101");
    let keys: Vec<&str> = tram.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "content",
            "excerpt",
            "status",
            "post_type",
            "slug",
            "date",
            "author",
            "url",
            "categories",
            "tags"
        ]
    );
    assert_eq!(
        tram["title"],
        "City council backs tram line to the harbour district"
    );
    assert_eq!(tram["excerpt"], "");
    assert_eq!(tram["status"], "publish");
    assert_eq!(tram["post_type"], "post");
    assert_eq!(
        tram["slug"],
        "city-council-backs-tram-line-to-the-harbour-district"
    );
    assert_eq!(tram["date"], "2024-04-16 18:45:00");
    assert_eq!(tram["author"], "jharper");
    assert_eq!(strings(&tram["categories"]), ["City Hall", "Transport"]);
    assert_eq!(strings(&tram["tags"]), ["Trams"]);
    let content = tram["content"].as_str().unwrap_or_default();
    assert!(content.starts_with("<!-- wp:paragraph -->\n<p>Riverside City Council voted"));
    assert!(content.ends_with("customs house, where engineers will present the proposed stop locations and the timetable for road closures.</p>\n<!-- /wp:paragraph -->"));

    let energy = by_id(&records, "103");
    assert!(energy["excerpt"]
        .as_str()
        .unwrap_or_default()
        .starts_with("The assembly is split"));
    assert_eq!(strings(&energy["tags"]), ["Energy", "Wind Power"]);

    let library = by_id(&records, "104");
    assert!(library["content"]
        .as_str()
        .unwrap_or_default()
        .contains("Miejska Biblioteka Publiczna przy ulicy Długiej"));

    let page = by_id(&records, "105");
    assert_eq!(page["post_type"], "page");
    assert!(!page.contains_key("tags") && !page.contains_key("categories"));

    let draft = by_id(&records, "106");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["slug"], "");
    assert_eq!(
        draft["date"], "2024-05-06 09:55:21",
        "a zero GMT date falls back to wp:post_date"
    );
}

#[test]
fn enriched_export_changes_only_the_edited_elements() {
    let tricky_excerpt = "Radni za tramwajem: <b>&amp;</b> też ]]> i zażółć gęślą jaźń ŁÓDŹ.";
    let updates = [
        PostUpdate {
            post_id: "101".into(),
            excerpt: Some(tricky_excerpt.into()),
            add_tags: vec![
                "Harbour".into(),
                "TRAMS".into(),
                "Mill Street".into(),
                "harbour".into(),
            ],
        },
        PostUpdate {
            post_id: "103".into(),
            excerpt: Some("A shorter teaser.".into()),
            add_tags: vec!["Wind-Power".into(), "Gas plants".into()],
        },
        PostUpdate {
            post_id: "104".into(),
            excerpt: None,
            add_tags: vec![
                "Biblioteka".into(),
                "Kultura w mieście".into(),
                "Łódź".into(),
            ],
        },
    ];
    let before = posts_ok("export.xml", FIXTURE);
    let output = write_enriched(FIXTURE, &updates).expect("the export is rewritten");

    assert_eq!(strict_item_count(&output), strict_item_count(FIXTURE));
    assert_eq!(strict_item_count(&output), 6);

    // Everything before the first edit and after the last one is the same bytes.
    let first_edit = find(FIXTURE, "<excerpt:encoded><![CDATA[]]></excerpt:encoded>")
        + "<excerpt:encoded>".len();
    let library_item = find(FIXTURE, "<wp:post_id>104</wp:post_id>");
    let after_last_edit = library_item + find(&FIXTURE[library_item..], "\n\t</item>");
    let common_prefix = FIXTURE
        .iter()
        .zip(&output)
        .take_while(|(a, b)| a == b)
        .count();
    let common_suffix = FIXTURE
        .iter()
        .rev()
        .zip(output.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        common_prefix >= first_edit,
        "changed at {common_prefix}, first edit at {first_edit}"
    );
    assert!(FIXTURE.len() - common_suffix <= after_last_edit);
    // The attachment between two edited posts is kept byte for byte.
    let attachment_start = find(FIXTURE, "<title><![CDATA[harbour-tram-render]]></title>");
    let attachment_end = attachment_start + find(&FIXTURE[attachment_start..], "</item>");
    let attachment =
        std::str::from_utf8(&FIXTURE[attachment_start..attachment_end]).unwrap_or_default();
    assert!(find(&output, attachment) > 0);

    let after = posts_ok("export.xml", &output);
    assert_eq!(after.len(), before.len());
    let tram = by_id(&after, "101");
    assert_eq!(tram["excerpt"], tricky_excerpt);
    assert_eq!(strings(&tram["tags"]), ["Trams", "Harbour", "Mill Street"]);
    assert_eq!(tram["content"], by_id(&before, "101")["content"]);
    let energy = by_id(&after, "103");
    assert_eq!(energy["excerpt"], "A shorter teaser.");
    assert_eq!(
        strings(&energy["tags"]),
        ["Energy", "Wind Power", "Gas plants"]
    );
    let library = by_id(&after, "104");
    assert_eq!(library["excerpt"], "");
    assert_eq!(
        strings(&library["tags"]),
        ["biblioteka", "Kultura w mieście", "Łódź"]
    );
    for untouched in ["105", "106"] {
        assert_eq!(by_id(&after, untouched), by_id(&before, untouched));
    }

    let text = String::from_utf8(output).unwrap_or_default();
    assert!(text.contains(
        "<category domain=\"post_tag\" nicename=\"trams\"><![CDATA[Trams]]></category>\n\
         \t\t<wp:postmeta>"
    ));
    assert!(text.contains(
        "\t\t</wp:postmeta>\n\
         \t\t<category domain=\"post_tag\" nicename=\"harbour\"><![CDATA[Harbour]]></category>\n\
         \t\t<category domain=\"post_tag\" nicename=\"mill-street\"><![CDATA[Mill Street]]></category>\n\
         \t</item>"
    ));
    assert!(text.contains("nicename=\"kultura-w-miescie\"><![CDATA[Kultura w mieście]]>"));
    assert!(text.contains("nicename=\"lodz\"><![CDATA[Łódź]]>"));
    assert!(text.contains(
        "<excerpt:encoded><![CDATA[Radni za tramwajem: <b>&amp;</b> też ]]]]><![CDATA[> i zażółć"
    ));
}

#[test]
fn an_update_without_changes_returns_the_same_bytes() {
    let update = PostUpdate {
        post_id: "105".into(),
        ..PostUpdate::default()
    };
    assert_eq!(write_enriched(FIXTURE, &[update]).as_deref(), Ok(FIXTURE));
    assert_eq!(write_enriched(FIXTURE, &[]).as_deref(), Ok(FIXTURE));
}

#[test]
fn excerpt_is_written_into_self_closing_or_missing_elements() {
    let items = "\t<item>\n\t\t<title>Self-closing</title>\n\t\t<content:encoded><![CDATA[<p>A</p>]]></content:encoded>\n\
                 \t\t<excerpt:encoded/>\n\t\t<wp:post_id>1</wp:post_id>\n\t\t<wp:post_type>post</wp:post_type>\n\t</item>\n\
                 \t<item>\n\t\t<title>No excerpt</title>\n\t\t<content:encoded><![CDATA[<p>B</p>]]></content:encoded>\n\
                 \t\t<wp:post_id>2</wp:post_id>\n\t\t<wp:post_type>post</wp:post_type>\n\t</item>\n\
                 \t<item>\n\t\t<title>Nothing</title>\n\t\t<wp:post_id>3</wp:post_id>\n\t\t<wp:post_type>page</wp:post_type>\n\t</item>\n";
    for eol in ["\n", "\r\n"] {
        let original = export_with(items, eol);
        let updates: Vec<PostUpdate> = ["1", "2", "3"]
            .iter()
            .map(|id| PostUpdate {
                post_id: id.to_string(),
                excerpt: Some(format!("Teaser {id}")),
                add_tags: vec!["News".into()],
            })
            .collect();
        let output = write_enriched(&original, &updates).expect("rewritten");
        assert_eq!(strict_item_count(&output), 3);
        let text = String::from_utf8(output.clone()).unwrap_or_default();
        assert!(text.contains("\t\t<excerpt:encoded><![CDATA[Teaser 1]]></excerpt:encoded>"));
        let expected_two = format!(
            "<![CDATA[<p>B</p>]]></content:encoded>{eol}\t\t<excerpt:encoded><![CDATA[Teaser 2]]></excerpt:encoded>{eol}\t\t<wp:post_id>2"
        );
        assert!(text.contains(&expected_two), "{text}");
        let expected_three = format!(
            "<wp:post_type>page</wp:post_type>{eol}\t\t<excerpt:encoded><![CDATA[Teaser 3]]></excerpt:encoded>{eol}\
             \t\t<category domain=\"post_tag\" nicename=\"news\"><![CDATA[News]]></category>{eol}\t</item>"
        );
        assert!(text.contains(&expected_three), "{text}");
        if eol == "\n" {
            assert!(!text.contains('\r'));
        } else {
            assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
        }
        let records = posts_ok("x.xml", &output);
        for (record, id) in records.iter().zip(["1", "2", "3"]) {
            assert_eq!(record["excerpt"], format!("Teaser {id}"));
            assert_eq!(strings(&record["tags"]), ["News"]);
        }
    }
}

#[test]
fn bad_updates_and_broken_files_are_refused() {
    let unknown = PostUpdate {
        post_id: "999".into(),
        ..PostUpdate::default()
    };
    let err = write_enriched(FIXTURE, &[unknown]).expect_err("unknown id");
    assert!(err.contains("999"), "{err}");
    let twice = PostUpdate {
        post_id: "101".into(),
        ..PostUpdate::default()
    };
    assert!(write_enriched(FIXTURE, &[twice.clone(), twice]).is_err());
    let truncated = &FIXTURE[..find(FIXTURE, "<wp:post_id>104")];
    let err = write_enriched(truncated, &[]).expect_err("truncated file");
    assert!(err.contains("malformed XML"), "{err}");
}

#[test]
fn a_break_after_some_items_keeps_the_posts_before_it() {
    let truncated = &FIXTURE[..find(FIXTURE, "<wp:post_date><![CDATA[2024-05-04")];
    let posts = read_posts("cut.xml", truncated).expect("posts before the break");
    assert_eq!(posts.len(), 3);
    assert!(posts[0].record.is_ok() && posts[1].record.is_ok());
    assert_eq!(posts[2].origin, "cut.xml: post 104");
    let err = posts[2].record.clone().expect_err("the break");
    assert!(err.starts_with("malformed XML at line "), "{err}");

    let text = String::from_utf8_lossy(FIXTURE).replacen(
        "<wp:post_name><![CDATA[about]]></wp:post_name>",
        "<wp:post_name><![CDATA[about]]></wp:post_nam>",
        1,
    );
    let line = text[..text.find("</wp:post_nam>").unwrap_or_default()]
        .matches('\n')
        .count()
        + 1;
    let posts = read_posts("bad.xml", text.as_bytes()).expect("posts before the break");
    assert_eq!(posts.len(), 4, "101, 103, 104 and the break");
    assert_eq!(posts[3].origin, "bad.xml: post 105");
    let err = posts[3].record.clone().expect_err("the break");
    assert!(
        err.starts_with(&format!("malformed XML at line {line}: ")),
        "{err}"
    );
}

#[test]
fn files_that_are_not_wxr_are_refused_with_a_reason() {
    let err = read_posts("a", b"<feed><entry/></feed>").expect_err("not rss");
    assert!(err.contains("<feed>"), "{err}");
    let err = read_posts("a", b"<rss version=\"2.0\"></rss>").expect_err("no channel");
    assert!(err.contains("<channel>"), "{err}");
    let err = read_posts(
        "a",
        b"<?xml version=\"1.0\"?>\n<rss>\n<channel>\n<title>x</titel>",
    )
    .expect_err("broken early");
    assert!(err.contains("line 4"), "{err}");
    let err = read_posts("a", b"plain text, no markup").expect_err("no xml");
    assert!(err.contains("not a WXR export"), "{err}");

    let mut latin1 = export_with("", "\n");
    latin1.extend_from_slice(b"<!-- caf\xe9 -->");
    let err = read_posts("a", &latin1).expect_err("invalid UTF-8");
    assert!(err.contains("UTF-8") && err.contains("line 7"), "{err}");
    let declared = String::from_utf8_lossy(&export_with("", "\n")).replace("UTF-8", "ISO-8859-1");
    let err = read_posts("a", declared.as_bytes()).expect_err("another encoding");
    assert!(
        err.contains("ISO-8859-1") && err.contains("only UTF-8"),
        "{err}"
    );
    assert!(write_enriched(&latin1, &[]).is_err());
}

#[test]
fn plain_escaped_text_and_references_are_unescaped() {
    let items = "<item><title>Tom &amp; Jerry &#8211; &lt;b&gt;</title><content:encoded>&lt;p&gt;Hi&#x21;&lt;/p&gt;</content:encoded>\
                 <wp:post_id> 7 </wp:post_id><wp:post_type>post</wp:post_type>\
                 <category domain=\"post_tag\" nicename=\"a-b\">A &amp; B</category></item>\
                 <item><title>Bad &nbsp; entity</title><wp:post_id>8</wp:post_id><wp:post_type>post</wp:post_type></item>\
                 <item><title>No id</title><wp:post_type>page</wp:post_type></item>\
                 <item><title>Menu</title><wp:post_id>9</wp:post_id><wp:post_type>nav_menu_item</wp:post_type></item>";
    let posts = read_posts("p.xml", &export_with(items, "\n")).expect("readable");
    assert_eq!(posts.len(), 3);
    let record = posts[0].record.clone().expect("readable post");
    assert_eq!(record["id"], "7");
    assert_eq!(record["title"], "Tom & Jerry – <b>");
    assert_eq!(record["content"], "<p>Hi!</p>");
    assert_eq!(strings(&record["tags"]), ["A & B"]);
    let err = posts[1].record.clone().expect_err("undefined entity");
    assert!(err.contains("&nbsp;"), "{err}");
    assert_eq!(posts[2].origin, "p.xml: item 3");
    assert!(!posts[2]
        .record
        .clone()
        .expect("readable")
        .contains_key("id"));
}

#[test]
fn a_byte_order_mark_is_kept() {
    let mut original = b"\xEF\xBB\xBF".to_vec();
    original.extend_from_slice(FIXTURE);
    assert_eq!(posts_ok("bom.xml", &original).len(), 5);
    let update = PostUpdate {
        post_id: "106".into(),
        excerpt: Some("Draft teaser".into()),
        add_tags: vec![],
    };
    let output = write_enriched(&original, &[update]).expect("rewritten");
    assert!(output.starts_with(b"\xEF\xBB\xBF<?xml"));
    assert_eq!(
        by_id(&posts_ok("bom.xml", &output), "106")["excerpt"],
        "Draft teaser"
    );
}

#[test]
fn slugs_follow_wordpress_sanitize_title() {
    let cases = [
        ("Mill Street", "mill-street"),
        ("  Wind Power  ", "wind-power"),
        ("Zażółć gęślą jaźń", "zazolc-gesla-jazn"),
        ("ĄĆĘŁŃÓŚŹŻ", "acelnoszz"),
        ("Straße für Äpfel", "strase-fur-apfel"),
        ("Crème brûlée", "creme-brulee"),
        (
            "Политика",
            "%d0%bf%d0%be%d0%bb%d0%b8%d1%82%d0%b8%d0%ba%d0%b0",
        ),
        ("Energy/policy", "energy-policy"),
        ("U.S. grid", "u-s-grid"),
        ("C++ & Rust!", "c-rust"),
        ("snake_case", "snake_case"),
        ("Rock &amp; Roll", "rock-roll"),
        ("<b>Bold</b> move", "bold-move"),
        ("Tom’s “best” — ever", "toms-best-ever"),
        ("100% sure", "100-sure"),
        ("Ỳen Đà Nẵng", "yen-da-nang"),
        ("---", ""),
    ];
    for (title, slug) in cases {
        assert_eq!(sanitize_title(title), slug, "{title}");
    }
    // At most 200 encoded characters, whole characters only.
    let long = sanitize_title(&"ж".repeat(100));
    assert_eq!(long.len(), 198);
}
