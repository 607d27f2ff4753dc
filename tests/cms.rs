//! Where static-site and WordPress users keep their content: Markdown front matter written back in
//! place (YAML and TOML), editor-owned values, `--check` and `--changed-since` on a real git
//! repository, JSON-LD output and an enriched WordPress export. Real models, real files.
mod common;

use common::{assert_success, lede_in, stderr};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/site");
const WXR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wxr/export.xml");

fn copy_site(to: &Path) {
    for dir in ["content/en", "content/pl"] {
        fs::create_dir_all(to.join(dir)).unwrap();
        for entry in fs::read_dir(Path::new(SITE).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, to.join(dir).join(path.file_name().unwrap())).unwrap();
        }
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// The text after the front matter's closing line.
fn body(text: &str) -> &str {
    let delim = if text.starts_with("+++") {
        "\n+++\n"
    } else {
        "\n---\n"
    };
    &text[text.find(delim).unwrap() + delim.len()..]
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

// The write-back tests below give every topic, however unlikely (`--topic-threshold 0`): they are
// about what lands in the CMS and what editors keep, not about which subjects clear the default 0.5.
#[test]
fn markdown_front_matter_is_enriched_in_place_and_editors_values_win() {
    let site = tempfile::tempdir().unwrap();
    copy_site(site.path());
    let en = site.path().join("content/en/library.md");
    let pl = site.path().join("content/pl/tramwaje.md");
    let (en_before, pl_before) = (read(&en), read(&pl));

    // Nothing enriched yet: --check lists both files and exits 1, writing nothing.
    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--check"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout_lines(&out),
        ["content/en/library.md", "content/pl/tramwaje.md"]
    );
    assert_eq!(read(&en), en_before);

    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--in-place"],
        "",
    );
    assert_success(&out);
    assert!(stderr(&out).contains("content/en/library.md: kept the editor's description"));
    let (en_after, pl_after) = (read(&en), read(&pl));
    // Bodies byte for byte; other keys, their order and the comments kept.
    assert_eq!(body(&en_after), body(&en_before));
    assert_eq!(body(&pl_after), body(&pl_before));
    let en_front = &en_after[..en_after.len() - body(&en_after).len()];
    let old_front = &en_before[..en_before.len() - body(&en_before).len() - 4];
    assert!(en_front.starts_with(old_front), "{en_front}");
    assert!(en_after.contains(
        "description: \"Millbrook's library now lends drills, seeds and sewing machines, not only books.\""
    ));
    assert!(en_after.contains("\nlang: en\n") && en_after.contains("\nkeywords:\n- "));
    assert!(pl_after.starts_with("+++\n# Hugo front matter in TOML; lede keeps this comment"));
    assert!(pl_after.contains("\nlang = \"pl\"\n"));
    assert!(pl_after.contains("\ndescription = \"Rada miasta przyjęła w czwartek plan budowy"));
    assert!(pl_after.contains("\n[lede]\nid = \"content/pl/tramwaje.md\"\n"));

    // Current now: a second run and --check change nothing.
    let mtime = fs::metadata(&en).unwrap().modified().unwrap();
    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--in-place"],
        "",
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("0 enriched, 2 unchanged"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::metadata(&en).unwrap().modified().unwrap(), mtime);
    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--check"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    // An editor replaces lede's tags and deletes its `lang`: the tags are theirs now; the missing
    // `lang` makes the file stale and is filled again.
    let edited = read(&pl).replace("\nlang = \"pl\"\n", "\n").replacen(
        "\ntags = [",
        "\ntags = [\"transport\"]\nold_tags = [",
        1,
    );
    fs::write(&pl, &edited).unwrap();
    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--check"],
        "",
    );
    assert_eq!(stdout_lines(&out), ["content/pl/tramwaje.md"]);
    let out = lede_in(
        site.path(),
        &["enrich", "--topic-threshold", "0", "content", "--in-place"],
        "",
    );
    assert_success(&out);
    let pl_now = read(&pl);
    assert!(pl_now.contains("\ntags = [\"transport\"]\n") && pl_now.contains("\nlang = \"pl\"\n"));
    assert!(
        stderr(&out).contains("kept the editor's tags"),
        "{}",
        stderr(&out)
    );

    // --overwrite replaces the editors' values.
    let out = lede_in(
        site.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "content",
            "--in-place",
            "--overwrite",
        ],
        "",
    );
    assert_success(&out);
    assert!(!read(&pl).contains("\ntags = [\"transport\"]\n"));
    assert!(!read(&en).contains("Millbrook's library now lends drills"));
    assert_eq!(body(&read(&en)), body(&en_before));
}

#[test]
fn bad_markdown_files_are_named_and_the_others_still_written() {
    let site = tempfile::tempdir().unwrap();
    let content = site.path().join("content");
    fs::create_dir_all(&content).unwrap();
    let good = "---\ntitle: Tram line approved\n---\nThe city council approved a new tram line on Thursday. It will link the harbour with the central station by 2028. Work starts next spring.\n";
    let files: &[(&str, &[u8])] = &[
        ("a-good.md", good.as_bytes()),
        ("b-no-front-matter.md", b"# Just a heading\n\nSome text.\n"),
        ("c-broken-yaml.md", b"---\ntitle: [unclosed\n---\nBody text here.\n"),
        ("d-latin1.md", b"---\ntitle: caf\xe9\n---\nBody.\n"),
        ("e-unclosed.md", b"---\ntitle: x\nBody without a closing line.\n"),
        ("f-flow.md", b"---\n{title: Flow style, tags: [a]}\n---\nThe city council approved a new tram line on Thursday. It links the harbour.\n"),
    ];
    for (name, bytes) in files {
        fs::write(content.join(name), bytes).unwrap();
    }
    // BOM and CRLF line endings: read, and written back with them.
    let crlf = "\u{feff}---\r\ntitle: Library reopens\r\n---\r\nThe city library reopened on Saturday after two years of repairs. Hundreds of readers queued at the door.\r\n";
    fs::write(content.join("g-bom-crlf.md"), crlf).unwrap();
    let read_only = content.join("h-read-only.md");
    fs::write(&read_only, good).unwrap();
    let mut perms = fs::metadata(&read_only).unwrap().permissions();
    perms.set_readonly(true);
    fs::set_permissions(&read_only, perms).unwrap();
    let outside = site.path().join("outside.md");
    fs::write(&outside, good).unwrap();
    std::os::unix::fs::symlink(&outside, content.join("i-link-out.md")).unwrap();

    let before: Vec<(String, Vec<u8>)> = files
        .iter()
        .skip(1)
        .map(|(n, _)| (n.to_string(), fs::read(content.join(n)).unwrap()))
        .collect();
    let out = lede_in(
        site.path(),
        &["enrich", "content", "--in-place", "--no-keywords"],
        "",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "content/b-no-front-matter.md: no front matter: the file must start with a '---' (YAML) or '+++' (TOML) line",
        "content/c-broken-yaml.md: YAML front matter does not parse at line",
        "content/d-latin1.md: not UTF-8 (invalid byte at offset 14)",
        "content/e-unclosed.md: the front matter opened by '---' on line 1 is never closed",
        "content/f-flow.md: lede cannot edit this front matter without changing other values",
        "content/h-read-only.md: the file is read-only; not rewritten",
        "content/i-link-out.md: a symlink to",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    for (name, bytes) in &before {
        assert_eq!(
            &fs::read(content.join(name)).unwrap(),
            bytes,
            "{name} was rewritten"
        );
    }
    assert_eq!(read(&read_only), good);
    assert_eq!(read(&outside), good);
    let enriched = read(&content.join("a-good.md"));
    assert!(
        enriched.contains("\nlang: en\n")
            && enriched.ends_with(&good[good.find("The city").unwrap()..])
    );
    let crlf_now = read(&content.join("g-bom-crlf.md"));
    assert!(crlf_now.starts_with("\u{feff}---\r\ntitle: Library reopens\r\n"));
    assert!(crlf_now.contains("\r\nlang: en\r\n"), "{crlf_now:?}");
    assert!(!crlf_now.replace("\r\n", "").contains('\n'), "{crlf_now:?}");
    assert!(crlf_now.ends_with("\r\n---\r\nThe city library reopened on Saturday after two years of repairs. Hundreds of readers queued at the door.\r\n"));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=CI", "-c", "user.email=ci@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

#[test]
fn ci_flow_on_a_git_repository_touches_only_the_changed_articles() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    copy_site(dir);
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "articles"]);
    let out = lede_in(dir, &["enrich", "content", "--in-place"], "");
    assert_success(&out);
    git(dir, &["commit", "-q", "-am", "enriched"]);

    // A commit changes one article and adds another; a stylesheet changes too.
    let en = dir.join("content/en/library.md");
    fs::write(
        &en,
        read(&en) + "\nThe library is also open on Sundays now.\n",
    )
    .unwrap();
    fs::write(
        dir.join("content/en/new.md"),
        "---\ntitle: Bridge closed\n---\nThe Ferry Bridge will close for repairs in March. Buses will take a detour through the old town.\n",
    )
    .unwrap();
    fs::write(dir.join("style.css"), "body {}\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "edit"]);

    let out = lede_in(
        dir,
        &["enrich", "content", "--check", "--changed-since", "HEAD~1"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout_lines(&out),
        ["content/en/library.md", "content/en/new.md"]
    );
    let pl_before = read(&dir.join("content/pl/tramwaje.md"));
    let out = lede_in(
        dir,
        &[
            "enrich",
            "content",
            "--in-place",
            "--changed-since",
            "HEAD~1",
        ],
        "",
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("2 records: 2 enriched"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir.join("content/pl/tramwaje.md")), pl_before);
    let out = lede_in(dir, &["enrich", "content", "--check"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The same list from stdin, as `git diff --name-only` prints it (deleted and other files
    // skipped).
    fs::write(dir.join("package.json"), "{\"name\": \"site\"}\n").unwrap();
    let list = "content/en/new.md\nstyle.css\npackage.json\ncontent/gone.md\n";
    let out = lede_in(dir, &["enrich", "--files-from", "-", "--check"], list);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 listed paths skipped"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 records: 1 current"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir.join("package.json")), "{\"name\": \"site\"}\n");

    // From a subfolder: ids are paths from the repository root, so everything is still current,
    // and a new, untracked article is found.
    let sub = dir.join("content");
    let out = lede_in(&sub, &["enrich", "en", "--check"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs::write(
        sub.join("en/untracked.md"),
        "---\ntitle: Market day\n---\nThe Saturday market moves to the river bank in May. Stalls open at seven.\n",
    )
    .unwrap();
    let out = lede_in(
        &sub,
        &["enrich", "en", "--check", "--changed-since", "HEAD"],
        "",
    );
    assert_eq!(stdout_lines(&out), ["en/untracked.md"], "{}", stderr(&out));

    let out = lede_in(
        dir,
        &[
            "enrich",
            "content",
            "--check",
            "--changed-since",
            "no-such-rev",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("git knows no such revision"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_ld_output_is_a_news_article_per_record() {
    let site = tempfile::tempdir().unwrap();
    copy_site(site.path());
    let out = lede_in(
        site.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "content",
            "--format",
            "jsonld",
            "--no-keywords",
        ],
        "",
    );
    assert_success(&out);
    let articles: Vec<Value> = stdout_lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(articles.len(), 2);
    for a in &articles {
        assert_eq!(a["@context"], "https://schema.org");
        assert_eq!(a["@type"], "NewsArticle");
        assert!(a["headline"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(a["abstract"].as_str().is_some_and(|s| s.len() > 40));
        assert!(a["datePublished"]
            .as_str()
            .is_some_and(|d| d.starts_with("2026-")));
        assert_eq!(a["author"]["@type"], "Person");
        let about = a["about"].as_array().unwrap();
        assert!(!about.is_empty());
        for term in about {
            assert_eq!(term["@type"], "DefinedTerm");
            let code = term["termCode"].as_str().unwrap();
            let uri = format!("http://cv.iptc.org/newscodes/mediatopic/{}", &code[7..]);
            assert_eq!(term["@id"], Value::String(uri));
        }
        assert!(a.get("keywords").is_none());
    }
    assert_eq!(articles[0]["inLanguage"], "en");
    assert_eq!(articles[1]["inLanguage"], "pl");
}

#[test]
fn wordpress_export_gets_excerpts_and_tags_where_editors_left_none() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.xml");
    fs::copy(WXR, &export).unwrap();
    let original = read(&export);
    // `-o` with a WordPress export writes the enriched export there; the input stays as it was.
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "export.xml",
            "-o",
            "enriched.xml",
            "--no-keywords",
        ],
        "",
    );
    assert_success(&out);
    assert_eq!(read(&export), original);
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "export.xml",
            "--in-place",
            "--no-keywords",
        ],
        "",
    );
    assert_success(&out);
    let enriched = read(&export);
    assert_eq!(read(&dir.path().join("enriched.xml")), enriched);
    assert_ne!(enriched, original);
    // Read back through lede's own reader: every post is there, excerpts filled where they were
    // empty, the hand-written one kept, tags added only to posts without tags.
    let before = lede_in(dir.path(), &["segment", WXR], "");
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "export.xml",
            "--no-summary",
            "--no-keywords",
            "--no-topics",
        ],
        "",
    );
    assert_success(&out);
    let posts: Vec<Value> = stdout_lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(posts.len(), stdout_lines(&before).len());
    let by_id = |id: &str| posts.iter().find(|p| p["id"] == id).unwrap();
    assert!(by_id("101")["excerpt"]
        .as_str()
        .unwrap()
        .starts_with("Riverside City Council voted 31 to 9"));
    assert!(by_id("103")["excerpt"]
        .as_str()
        .unwrap()
        .starts_with("The assembly is split over closing the Northgate"));
    assert_eq!(
        by_id("103")["tags"],
        serde_json::json!(["Energy", "Wind Power"])
    );
    assert_eq!(by_id("101")["tags"], serde_json::json!(["Trams"]));
    assert_eq!(by_id("105")["tags"].as_array().unwrap().len(), 3);
    // The attachment item is not a post: byte for byte the same.
    let attachment = |text: &str| {
        let start = text.find("<wp:post_type><![CDATA[attachment]]>").unwrap();
        let from = text[..start].rfind("<item>").unwrap();
        text[from..from + text[from..].find("</item>").unwrap()].to_string()
    };
    assert_eq!(attachment(&enriched), attachment(&original));
    // A second run finds nothing left to fill.
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "--topic-threshold",
            "0",
            "export.xml",
            "--in-place",
            "--no-keywords",
        ],
        "",
    );
    assert_success(&out);
    assert_eq!(read(&export), enriched);
}
