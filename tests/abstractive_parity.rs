//! Parity of rust-bert generation with transformers' generate() on tiny random seq2seq models, plus
//! long-input chunking and model-folder errors. Fixtures: tests/fixtures/make_tiny_seq2seq.py.
use lede::stages::summary::abstractive::{AbstractiveOptions, AbstractiveSummarizer, LongInput};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-seq2seq")
}

fn expected() -> Value {
    let path = fixtures().join("expected.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("expected.json")).expect("json")
}

fn ids(v: &Value) -> Vec<Vec<i64>> {
    serde_json::from_value(v.clone()).expect("list of id lists")
}

fn options(exp: &Value, num_beams: usize, batch_size: usize) -> AbstractiveOptions {
    let s = &exp["settings"];
    let n = |k: &str| s[k].as_u64().expect(k) as usize;
    // The fixture records length_penalty 1.0 and early_stopping true: what the summarizer uses.
    assert_eq!(s["length_penalty"].as_f64(), Some(1.0));
    assert_eq!(s["early_stopping"].as_bool(), Some(true));
    AbstractiveOptions {
        num_beams,
        min_length: n("min_length"),
        max_length: n("max_length"),
        no_repeat_ngram_size: n("no_repeat_ngram_size"),
        long_input: LongInput::Chunk,
        batch_size,
    }
}

fn check_model(name: &str) {
    let exp = expected();
    let m = &exp["models"][name];
    let dir = fixtures().join(name);
    let inputs = ids(&m["inputs"]);
    let beams = exp["settings"]["num_beams"].as_u64().unwrap() as usize;

    let greedy = AbstractiveSummarizer::load(&dir, options(&exp, 1, 8)).expect("load");
    assert_eq!(
        greedy.generate_ids(&inputs).unwrap(),
        ids(&m["greedy"]),
        "{name} greedy"
    );

    let beam = AbstractiveSummarizer::load(&dir, options(&exp, beams, 8)).expect("load");
    assert_eq!(
        beam.generate_ids(&inputs).unwrap(),
        ids(&m["beam"]),
        "{name} beam, batched"
    );
    let single: Vec<Vec<i64>> = inputs
        .iter()
        .map(|i| {
            beam.generate_ids(std::slice::from_ref(i))
                .unwrap()
                .remove(0)
        })
        .collect();
    assert_eq!(single, ids(&m["beam_single"]), "{name} beam, one at a time");
    // batch_size 2 splits the three inputs over two generate calls.
    let split = AbstractiveSummarizer::load(&dir, options(&exp, beams, 2)).expect("load");
    assert_eq!(
        split.generate_ids(&inputs).unwrap(),
        ids(&m["beam"]),
        "{name} beam, batch 2"
    );

    if let Some(t) = m.get("texts") {
        let texts: Vec<String> = serde_json::from_value(t["inputs"].clone()).unwrap();
        let enc: Vec<Vec<i64>> = texts.iter().map(|s| beam.encode(s)).collect();
        assert_eq!(enc, ids(&t["input_ids"]), "{name} tokenizer");
        assert_eq!(
            beam.generate_ids(&enc).unwrap(),
            ids(&t["beam"]),
            "{name} text beam"
        );
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let out = beam.summarize(&refs).unwrap();
        let decoded: Vec<String> = serde_json::from_value(t["beam_decoded"].clone()).unwrap();
        for ((summary, warnings), want) in out.iter().zip(&decoded) {
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(summary, want.trim(), "{name} decoded text");
        }
    }
    assert!(
        beam.id().starts_with(&format!("{name}@sha256:")),
        "{}",
        beam.id()
    );
}

#[test]
fn bart_matches_transformers() {
    check_model("bart");
}

#[test]
fn t5_matches_transformers() {
    check_model("t5");
}

#[test]
fn mt5_matches_transformers() {
    check_model("mt5");
}

#[test]
fn pegasus_matches_transformers() {
    check_model("pegasus");
}

fn long_text() -> String {
    let sentences = [
        "The city council approved the new budget on Monday after a long debate.",
        "Rain is expected across the north of the country for the rest of the week.",
        "The local football club won its third match in a row on Saturday evening.",
        "Prices for energy and food rose again last month, the statistics office said.",
        "A new bridge over the river will open to traffic in the spring.",
    ];
    (0..8).flat_map(|_| sentences).collect::<Vec<_>>().join(" ")
}

#[test]
fn long_input_is_chunked_or_truncated_with_a_warning() {
    let exp = expected();
    let text = long_text();
    for name in ["bart", "t5", "pegasus"] {
        let dir = fixtures().join(name);
        let chunk = AbstractiveSummarizer::load(&dir, options(&exp, 2, 4)).expect("load");
        let limit = chunk.max_input_tokens();
        let n = chunk.encode(&text).len();
        assert!(
            n > 4 * limit,
            "{name}: {n} tokens is not several times {limit}"
        );
        let out = chunk
            .summarize(&[&text, "A short one.", ""])
            .expect("chunked summary");
        assert!(!out[0].0.is_empty(), "{name}: empty summary of a long text");
        assert!(
            out[0].1.iter().any(|w| w.contains("chunks")),
            "{name}: {:?}",
            out[0].1
        );
        assert!(out[1].1.is_empty(), "{name}: {:?}", out[1].1);
        assert!(
            out[2].0.is_empty() && !out[2].1.is_empty(),
            "{name}: {:?}",
            out[2]
        );

        let mut o = options(&exp, 2, 4);
        o.long_input = LongInput::Truncate;
        let trunc = AbstractiveSummarizer::load(&dir, o).expect("load");
        let out = trunc.summarize(&[&text]).expect("truncated summary");
        assert!(!out[0].0.is_empty(), "{name}: empty truncated summary");
        assert!(
            out[0].1.iter().any(|w| w.contains("truncated")),
            "{name}: {:?}",
            out[0].1
        );
    }
}

fn copy_model(name: &str, skip: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures().join(name)).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != skip {
            std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
        }
    }
    tmp
}

fn load_err(dir: &Path) -> String {
    match AbstractiveSummarizer::load(dir, AbstractiveOptions::default()) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_or_broken_model_folder_is_a_clear_error() {
    let missing = fixtures().join("no-such-model");
    let e = load_err(&missing);
    assert!(
        e.contains("no-such-model") && e.contains("does not exist"),
        "{e}"
    );

    for (name, file) in [
        ("bart", "config.json"),
        ("bart", "merges.txt"),
        ("bart", "vocab.json"),
        ("t5", "spiece.model"),
        ("pegasus", "spiece.model"),
    ] {
        let dir = copy_model(name, file);
        let e = load_err(dir.path());
        assert!(
            e.contains(file) && e.contains("missing"),
            "{name} without {file}: {e}"
        );
    }
    let dir = copy_model("t5", "model.safetensors");
    let e = load_err(dir.path());
    assert!(
        e.contains("model.safetensors") && e.contains("rust_model.ot"),
        "{e}"
    );

    // Damaged files: named in the error, no panic.
    let dir = copy_model("bart", "");
    std::fs::write(
        dir.path().join("model.safetensors"),
        b"not a safetensors file",
    )
    .unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("model.safetensors"), "{e}");

    let dir = copy_model("bart", "");
    std::fs::write(dir.path().join("config.json"), b"{\"model_type\": \"bart\"").unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("config.json"), "{e}");

    let dir = copy_model("bart", "");
    std::fs::write(
        dir.path().join("config.json"),
        b"{\"model_type\": \"gpt2\"}",
    )
    .unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("gpt2") && e.contains("not supported"), "{e}");

    // A config that does not match the weights (wrong width): named, no panic.
    let dir = copy_model("t5", "");
    let path = dir.path().join("config.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["d_model"] = Value::from(32);
    std::fs::write(&path, cfg.to_string()).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("model.safetensors"), "{e}");

    let dir = copy_model("t5", "");
    std::fs::write(dir.path().join("spiece.model"), b"garbage").unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("spiece.model"), "{e}");
}
