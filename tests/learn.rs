//! `lede learn` and `enrich --topic-model`: a site's tagged archive trains a topic head whose
//! scores are probabilities, which enrich uses and names; bad tags, bad folders and damaged
//! models are refused or reported by name. Real model, real training.
mod common;
use common::{assert_success, lede, stderr, write, SAMPLES};
use serde_json::Value;
use std::path::Path;

const TAGGED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/tagged.jsonl");
const SITE_TAGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/site-tags.txt");

fn learn(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "learn",
        TAGGED,
        "--taxonomy",
        SITE_TAGS,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lede(&args)
}

/// Topics only, with the site's tags, for `input`: each output record.
fn enrich_topics_of(input: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "enrich",
        input,
        "--no-summary",
        "--no-keywords",
        "--taxonomy",
        SITE_TAGS,
    ];
    args.extend_from_slice(extra);
    let out = lede(&args);
    assert_success(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn enrich_topics(extra: &[&str]) -> Vec<Value> {
    enrich_topics_of(SAMPLES, extra)
}

#[test]
fn a_learnt_model_is_written_whole_used_by_enrich_and_named_in_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("site-topics");
    let out = learn(&model, &[]);
    assert_success(&out);
    let err = stderr(&out);
    // The report: held-out figures, learnt beside zero-shot, and per tag.
    assert!(
        err.contains("5-fold cross-validation, 32 articles"),
        "{err}"
    );
    assert!(err.contains("learnt") && err.contains("zero-shot") && err.contains("Polityka"));
    for f in [
        "model.json",
        "metrics.json",
        "weights-0.bin",
        "site-tags.jsonl",
    ] {
        assert!(model.join(f).is_file(), "{f} missing");
    }
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("metrics.json")).unwrap())
            .unwrap();
    let e5 = metrics["embedders"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert!(e5["learned"]["accuracy"].as_f64().unwrap() >= 0.75, "{e5}");

    let learnt = enrich_topics(&["--topic-model", model.to_str().unwrap()]);
    let zero = enrich_topics(&[]);
    let tags = ["Sport", "Kultura", "Gospodarka", "Polityka"];
    for (l, z) in learnt.iter().zip(&zero) {
        let lede = &l["lede"];
        assert!(
            lede["provenance"]["models"]["topics"]
                .as_str()
                .unwrap()
                .starts_with("site-topics@sha256:"),
            "{lede}"
        );
        assert_eq!(z["lede"]["provenance"]["models"]["topics"], "zero-shot");
        // Another model, another config: a retrained model re-enriches what it changes.
        assert_ne!(
            lede["provenance"]["config_hash"],
            z["lede"]["provenance"]["config_hash"]
        );
        for t in lede["topics"].as_array().unwrap() {
            assert!(tags.contains(&t["id"].as_str().unwrap()));
            let p = t["score"].as_f64().unwrap();
            assert!((0.5..=1.0).contains(&p), "{t}");
        }
    }
    // The tram article is about a council's decision; the market one about prices and trade.
    let first = |id: &str| {
        learnt.iter().find(|o| o["id"] == id).unwrap()["lede"]["topics"][0]["id"].clone()
    };
    assert_eq!(first("pl-tramwaje-2026"), "Polityka");
    assert_eq!(first("fr-marche-2026"), "Gospodarka");
}

#[test]
fn the_same_tagged_articles_give_a_byte_identical_model() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_success(&learn(&a, &["--quiet"]));
    assert_success(&learn(&b, &["--quiet"]));
    for f in [
        "model.json",
        "metrics.json",
        "weights-0.bin",
        "site-tags.jsonl",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn unknown_tags_untagged_and_repeated_articles_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(TAGGED).unwrap();
    let first = text.lines().next().unwrap().to_string();
    text.push_str(&first.replacen("\"tagged-01\"", "\"copy-of-01\"", 1));
    text.push('\n');
    text.push_str(r#"{"id": "no-tags", "title": "Untagged", "body": "<p>The council met on Monday to discuss the new bus timetable for the winter months.</p>"}"#);
    text.push('\n');
    text.push_str(r#"{"id": "odd-tag", "title": "Weather", "body": "<p>Heavy snow closed three roads into the city on Tuesday morning, the police said.</p>", "tags": ["Pogoda"]}"#);
    text.push('\n');
    let input = dir.path().join("tagged.jsonl");
    write(&input, &text);
    let out = lede(&[
        "learn",
        input.to_str().unwrap(),
        "--taxonomy",
        SITE_TAGS,
        "-o",
        dir.path().join("m").to_str().unwrap(),
    ]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("tagged.jsonl:33") && err.contains("\"copy-of-01\" has the same text as"),
        "{err}"
    );
    assert!(
        err.contains("tagged.jsonl:34") && err.contains("\"no-tags\" has no tags"),
        "{err}"
    );
    assert!(
        err.contains("tagged.jsonl:35") && err.contains("tag \"Pogoda\" is not in the vocabulary"),
        "{err}"
    );
    assert!(err.contains("trained on 32 tagged articles"), "{err}");
}

#[test]
fn a_damaged_or_mismatched_model_folder_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    assert_success(&learn(&model, &["--quiet"]));
    // Made for another vocabulary.
    let other = dir.path().join("other.txt");
    write(&other, "Sport\nWeather\n");
    let out = lede(&[
        "enrich",
        SAMPLES,
        "--no-summary",
        "--no-keywords",
        "--taxonomy",
        other.to_str().unwrap(),
        "--topic-model",
        model.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("trained for the vocabulary \"site-tags\""),
        "{}",
        stderr(&out)
    );
    // A flipped bit in the weights.
    let weights = model.join("weights-0.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 0x10;
    std::fs::write(&weights, bytes).unwrap();
    let out = lede(&["enrich", SAMPLES, "--topic-model", model.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("weights-0.bin does not match its checksum"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_folder_that_is_not_a_model_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("notes.txt");
    write(&keep, "mine");
    let out = learn(dir.path(), &["--quiet"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a topic model folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(keep).unwrap(), "mine");
}

#[test]
fn topics_below_the_threshold_are_left_out_with_the_reason() {
    for o in enrich_topics(&["--topic-threshold", "0.999"]) {
        let lede = &o["lede"];
        assert_eq!(lede["topics"], serde_json::json!([]), "{lede}");
        let reason = lede["topics_reason"].as_str().unwrap();
        assert!(reason.contains("below the threshold 0.999"), "{reason}");
    }
}

#[test]
fn default_iptc_topics_are_probabilities_from_the_shipped_head() {
    let out = lede(&[
        "enrich",
        SAMPLES,
        "--no-summary",
        "--no-keywords",
        "--topic-threshold",
        "0",
    ]);
    assert_success(&out);
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let o: Value = serde_json::from_str(line).unwrap();
        let lede = &o["lede"];
        assert!(lede["provenance"]["models"]["topics"]
            .as_str()
            .unwrap()
            .starts_with("iptc-top@sha256:"));
        let topics = lede["topics"].as_array().unwrap();
        // Best first, and a narrower subject never above the broader one it is under.
        let first = &topics[0];
        assert_eq!(first["path"].as_array().unwrap().len(), 1, "{lede}");
        for t in topics {
            let path = t["path"].as_array().unwrap();
            if let Some(parent) = topics.iter().find(|p| p["id"] == path[0]) {
                assert!(parent["score"].as_f64() >= t["score"].as_f64());
            }
        }
        // Polish articles get Polish labels (IPTC has none; lede ships them).
        if lede["language"]["code"] == "pl" {
            assert!(
                topics.iter().any(|t| t["label"] == "polityka i władza"
                    || t["label"]
                        .as_str()
                        .unwrap()
                        .contains(|c: char| "ąęłńóśźż".contains(c))),
                "{lede}"
            );
        }
    }
}

/// Each tagged sample article as (id, its tags, its first topic), zero-shot with the
/// site's bare tag names.
fn first_topics_of_tagged(extra: &[&str]) -> Vec<(String, Vec<String>, String)> {
    let mut args = vec!["--topic-threshold", "0"];
    args.extend_from_slice(extra);
    enrich_topics_of(TAGGED, &args)
        .into_iter()
        .filter_map(|o| {
            let tags: Vec<String> = match &o["tags"] {
                Value::String(t) => vec![t.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect(),
                _ => return None,
            };
            let first = o["lede"]["topics"][0]["id"].as_str()?.to_string();
            Some((o["id"].as_str().unwrap().to_string(), tags, first))
        })
        .collect()
}

#[test]
fn a_bare_sport_tag_takes_the_sports_reports() {
    // samples/site-tags.txt is four bare Polish names. Anchored, "Sport" borrows the description of
    // IPTC's sport subject, so every sports report lands there; as a bare word it loses one to
    // "Polityka".
    let anchored = first_topics_of_tagged(&["--label-anchors"]);
    let sport: Vec<_> = anchored
        .iter()
        .filter(|(_, tags, _)| tags.iter().any(|t| t == "Sport"))
        .collect();
    assert!(sport.len() >= 5, "{sport:?}");
    for (id, _, first) in &sport {
        assert_eq!(first, "Sport", "{id}");
    }
    let plain = first_topics_of_tagged(&[]);
    assert!(
        plain
            .iter()
            .any(|(_, tags, first)| tags.iter().any(|t| t == "Sport") && first != "Sport"),
        "{plain:?}"
    );
}

#[test]
fn a_model_learnt_with_anchored_labels_is_refused_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    assert_success(&learn(&model, &["--quiet", "--label-anchors"]));
    let card: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(card["anchors"]["Sport"], "medtop:15000000@pl", "{card}");
    let out = lede(&[
        "enrich",
        SAMPLES,
        "--no-summary",
        "--no-keywords",
        "--topic-model",
        model.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("anchored to IPTC subjects as") && err.contains("Sport -> medtop:15000000@pl"),
        "{err}"
    );
    // With them again, it serves.
    assert_success(&lede(&[
        "enrich",
        SAMPLES,
        "--no-summary",
        "--no-keywords",
        "--label-anchors",
        "--topic-model",
        model.to_str().unwrap(),
    ]));
}
