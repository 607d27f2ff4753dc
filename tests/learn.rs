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
        "centres-0.json",
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
    // The site is bilingual: the held-out figures come per language too.
    assert_eq!(e5["per_language"]["pl"]["articles"], 16, "{e5}");
    assert_eq!(e5["per_language"]["en"]["articles"], 16, "{e5}");
    assert_eq!(metrics["language_skew"], serde_json::json!([]));

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
        "centres-0.json",
        "site-tags.jsonl",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// Short German pieces, all tagged "Polityka": a third language that the site's archive has only
/// on one subject (its Polish and English articles cover all four).
const GERMAN_POLICY: [(&str, &str); 6] = [
    ("Bundestag berät über den Wehretat", "Die Abgeordneten haben am Mittwoch mit den Beratungen über einen Verteidigungshaushalt begonnen, der die Ausgaben bis zum Ende des Jahrzehnts auf drei Prozent der Wirtschaftsleistung anheben soll. Die Opposition wirft der Regierung vor, Schulen und Krankenhäuser dafür zahlen zu lassen."),
    ("Koalitionsgespräche stocken beim Kohleausstieg", "Die Gespräche über eine neue Regierung sind am Donnerstag ins Stocken geraten, weil sich die beiden größten Parteien nicht auf das Tempo beim Abschalten der Kohlekraftwerke einigen konnten. Eine weitere Runde ist für die kommende Woche geplant."),
    ("Außenminister beraten über Sanktionen", "Die Außenminister der Mitgliedstaaten haben in Brüssel über ein weiteres Sanktionspaket beraten. Mehrere Regierungen verlangten Ausnahmen für Lieferungen von Dünger und Getreide."),
    ("Wahlkommission weist Beschwerde zurück", "Die Wahlkommission hat eine Beschwerde über die Auszählung der Briefwahlstimmen zurückgewiesen. Die festgestellten Unregelmäßigkeiten hätten das Ergebnis der Wahl nicht ändern können, hieß es in der Begründung."),
    ("Gipfel ohne Abschlusserklärung", "Das regionale Gipfeltreffen ist ohne gemeinsame Erklärung zu Ende gegangen, nachdem sich die Delegationen nicht auf eine Formulierung zur Grenzsicherung einigen konnten. Die Gespräche sollen auf Arbeitsebene weitergehen."),
    ("Präsident legt Veto gegen Mediengesetz ein", "Der Präsident hat sein Veto gegen ein Gesetz eingelegt, das die Besetzung des Rundfunkrates neu regeln sollte. Das Parlament kann das Veto nur mit einer Mehrheit von drei Fünfteln überstimmen."),
];

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
    for (i, (title, body)) in GERMAN_POLICY.iter().enumerate() {
        let record = serde_json::json!({
            "id": format!("de-{i}"), "title": title, "body": body, "tags": ["Polityka"],
        });
        text.push_str(&format!("{record}\n"));
    }
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
    // Every German article is on politics, against 10 of the 32 Polish and English ones: the
    // language could be learnt for the tag, which the held-out figures cannot show.
    assert!(
        err.contains(
            "tag \"Polityka\" is on 6 of the 6 articles in language \"de\" against 10 of the 32"
        ),
        "{err}"
    );
    assert!(err.contains("trained on 38 tagged articles"), "{err}");
    // The held-out figures per language, when there are several.
    assert!(
        err.contains("in de") && err.contains("in en") && err.contains("in pl"),
        "{err}"
    );
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
    // samples/site-tags.txt is four bare Polish names. A bare "Sport" sits near every Polish
    // text; compared centred on the language (topics::LabelSpace) it takes the sports reports and
    // no more, written as it is and anchored to IPTC's sport subject alike.
    for flags in [&[][..], &["--label-anchors"][..]] {
        let firsts = first_topics_of_tagged(flags);
        let sport: Vec<_> = firsts
            .iter()
            .filter(|(_, tags, _)| tags.iter().any(|t| t == "Sport"))
            .collect();
        assert!(sport.len() >= 5, "{sport:?}");
        for (id, _, first) in &sport {
            assert_eq!(first, "Sport", "{id} {flags:?}");
        }
        let right = firsts
            .iter()
            .filter(|(_, tags, first)| tags.contains(first))
            .count();
        assert!(right * 10 >= firsts.len() * 8, "{flags:?}: {firsts:?}");
    }
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
