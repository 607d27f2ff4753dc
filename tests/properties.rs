//! Property tests: whatever a record holds, the output gives back every original field, with the
//! same value, in the same order, and adds only the enrichment key.
use lede::formats;
use lede::run::pipeline::{Enricher, Options, Reuse};
use lede::stages::language::{LinguaDetector, LinguaOptions};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        // Integers far beyond 64 bits, written as digits.
        "[1-9][0-9]{20,40}".prop_map(|d| serde_json::from_str(&d).unwrap()),
        any::<String>().prop_map(Value::String),
        "(<[a-z]{1,6}>|&[a-z]{2,5};|[\u{200B}\u{202E}\u{FEFF}]|\\PC{0,12})*"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn record() -> impl Strategy<Value = Map<String, Value>> {
    (
        prop::collection::vec((any::<String>(), json_value()), 0..8),
        prop::option::of(any::<String>()),
        prop::option::of("\\PC{0,200}"),
    )
        .prop_map(|(fields, id, body)| {
            let mut m: Map<String, Value> = fields.into_iter().collect();
            if let Some(id) = id {
                m.insert("id".into(), Value::String(id));
            }
            if let Some(body) = body {
                m.insert("body".into(), Value::String(body));
            }
            m
        })
}

fn enricher() -> Enricher {
    let options = Options {
        summary: None,
        keywords: None,
        topics: None,
        ..Options::default()
    };
    Enricher::new(
        options,
        Box::new(LinguaDetector::new(LinguaOptions::default())),
        None,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_original_field_comes_back_unchanged(records in prop::collection::vec(record(), 1..6)) {
        // Through the real reader and writer: JSONL bytes in, JSONL bytes out.
        let text: String = records.iter().map(|r| format!("{}\n", Value::Object(r.clone()))).collect();
        let raw: Vec<_> = formats::json::from_reader("prop".into(), Box::new(std::io::Cursor::new(text.into_bytes()))).collect();
        prop_assert_eq!(raw.len(), records.len());
        let outcomes = enricher().enrich_chunk(raw, Reuse::none()).unwrap();
        for (given, outcome) in records.iter().zip(&outcomes) {
            let line = serde_json::to_string(outcome.output.as_ref().expect("every object is written")).unwrap();
            let back: Map<String, Value> = serde_json::from_str(&line).unwrap();
            // A `lede` key the user gave is lede's own earlier output and is replaced; all else stays.
            let expected: Vec<(&String, &Value)> = given.iter().filter(|(k, _)| *k != "lede").collect();
            let got: Vec<(&String, &Value)> = back.iter().filter(|(k, _)| *k != "lede").collect();
            prop_assert_eq!(got, expected);
            prop_assert!(back["lede"].is_object());
            prop_assert_eq!(back.keys().next_back().map(String::as_str), Some("lede"));
        }
    }
}
