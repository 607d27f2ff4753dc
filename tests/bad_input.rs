//! The corpus of hostile and broken input in `tests/bad-input/` (see its README), run through the real
//! binary in one batch: every bad record is named with its file and line and the problem, every good
//! record around it is enriched, nothing readable is lost or altered.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-input");

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    files.sort();
    files
}

/// A record whose body is one 100 MB line.
fn huge_line(dir: &Path) -> PathBuf {
    let path = dir.join("huge-line.jsonl");
    let body = "The council met again. ".repeat((100 << 20) / 23 + 1);
    let mut text = format!("{{\"id\":\"huge-1\",\"body\":\"{body}\"}}\n");
    text.push_str("{\"id\":\"after-huge\",\"title\":\"Council approves tram line\",\"body\":\"The city council approved a new tram line on Thursday. The line will connect the northern districts with the centre.\"}\n");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_bad_record_is_named_and_every_good_one_enriched() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = corpus_files();
    inputs.push(huge_line(dir.path()));
    let output = dir.path().join("out.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_lede"))
        .arg("enrich")
        .args(&inputs)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");

    // Each problem, named by file and line (or array element) and what is wrong.
    for expected in [
        "binary.jsonl:1: invalid UTF-8",
        "deep-nesting.jsonl:2: malformed JSON: recursion limit exceeded",
        "duplicate-ids.jsonl:3: duplicate id \"dup-1\" (first seen at",
        "invalid-utf8.jsonl:2: invalid UTF-8 at byte 30",
        "malformed.jsonl:2: malformed JSON: EOF while parsing a string",
        "malformed.jsonl:3: malformed JSON: key must be a string",
        "malformed.jsonl:5: malformed JSON: expected value",
        "non-object.jsonl:1: record is an array, expected a JSON object",
        "non-object.jsonl:3: record is null, expected a JSON object",
        "truncated-array.json[2]: malformed JSON array after 2 records (those were read)",
        "truncated.jsonl:2: malformed JSON: EOF while parsing",
        "wrong-types.jsonl:1: text field 'body' is a number, expected a string",
        "wrong-types.jsonl:3: no text field",
        "wrong-types.jsonl:4: id field 'id' is an object",
        "huge-line.jsonl:1: text field 'body' holds 1",
        "over the limit of 4194304 (--max-body-bytes)",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("panicked"),
        "no input may crash a worker: {stderr}"
    );

    let text = std::fs::read_to_string(&output).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<String> = records
        .iter()
        .map(|r| match &r["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    // Every readable object comes back, in input order, including those that could not be
    // enriched (with `lede.error`); the BOM and CRLF file reads like any other.
    assert_eq!(
        ids,
        [
            "crlf-1",
            "crlf-2",
            "deep-ok",
            "dup-1",
            "dup-2",
            "dup-1",
            "html-1",
            "num-1",
            "utf-ok",
            "utf-ok-2",
            "mal-1",
            "mal-4",
            "obj-ok",
            "arr-1",
            "arr-2",
            "trunc-ok",
            "type-1",
            "type-2",
            "type-3",
            "{\"nested\":1}",
            "type-ok",
            "zw-1",
            "rtl-1",
            "huge-1",
            "after-huge"
        ]
    );
    let by_id = |id: &'static str| records.iter().filter(move |r| r["id"] == id);
    for r in &records {
        let lede = &r["lede"];
        let failed = lede.get("error").is_some();
        let expect_fail = ["type-1", "type-2", "type-3", "huge-1"]
            .contains(&r["id"].as_str().unwrap_or("obj"))
            || r["id"].is_object()
            || r["edition"] == "second";
        assert_eq!(failed, expect_fail, "{}", r["id"]);
        if !failed {
            assert!(
                lede["summary"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{}",
                r["id"]
            );
        }
    }
    // The second "dup-1" keeps its own fields: nothing is lost or merged.
    let dups: Vec<&Value> = by_id("dup-1").collect();
    assert_eq!(
        (dups[0]["edition"].as_str(), dups[1]["edition"].as_str()),
        (Some("first"), Some("second"))
    );
    // Numbers come back digit for digit, beyond what a float holds.
    assert!(text.contains(r#""views":123456789012345678901234567890,"ratio":0.1000000000000000055511151231257827,"tiny":1e-400"#));
    // Script, style, comment and noscript content never reaches the enrichment.
    let html = by_id("html-1").next().unwrap();
    let enrichment = html["lede"].to_string();
    for secret in [
        "SCRIPT-SECRET",
        "INJECTED",
        "SCRIPT-TWO",
        "COMMENT-SECRET",
        "NOSCRIPT-SECRET",
        "color: red",
    ] {
        assert!(
            !enrichment.contains(secret),
            "{secret} leaked: {enrichment}"
        );
    }
    assert!(
        enrichment.contains("& the mayor called it \\\"historic\\\""),
        "{enrichment}"
    );
    // Zero-width characters do not split or glue words; right-to-left text is enriched as such.
    let zw = by_id("zw-1").next().unwrap();
    assert_eq!(zw["lede"]["language"]["code"], "en");
    assert!(zw["lede"]["summary"]["text"]
        .as_str()
        .unwrap()
        .starts_with("The city council approved"));
    let rtl = by_id("rtl-1").next().unwrap();
    assert_eq!(rtl["lede"]["language"]["code"], "ar");
    assert!(rtl["lede"]["summary"]["text"]
        .as_str()
        .unwrap()
        .starts_with("وافق مجلس المدينة"));
    // The 100 MB record is written back whole, unchanged.
    let huge = by_id("huge-1").next().unwrap();
    assert!(huge["body"].as_str().unwrap().len() > 100 << 20);
}

#[test]
fn empty_input_is_not_an_error() {
    for name in ["empty.jsonl", "blank-lines.jsonl"] {
        let out = Command::new(env!("CARGO_BIN_EXE_lede"))
            .args(["enrich", &format!("{CORPUS}/{name}")])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("the input holds no records"));
    }
}
