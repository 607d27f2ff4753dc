//! The embedder's forward pass in libtorch (rust-bert fp32; lede's own int8 encoder) against ONNX
//! Runtime (through the `ort` crate, the library from the PyPI `onnxruntime` wheel), behind the same
//! `Embedder` (issue 5: adopt another runtime only if faster here with cosine >= 0.9999 to fp32).
//!
//! ```text
//! python3 -m venv .deps/onnx && .deps/onnx/bin/pip install onnxruntime==1.32.0 onnx numpy safetensors
//! for m in multilingual-e5-small all-MiniLM-L6-v2; do
//!   .deps/onnx/bin/python benches/onnx_export.py models/installed/$m .deps/onnx/$m.onnx; done
//! LEDE_ONNXRUNTIME=$(ls .deps/onnx/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*) \
//!   LEDE_ONNX_DIR=.deps/onnx cargo bench --features onnx --bench backends
//! ```
//!
//! Texts: the titles and sentences of the first `LEDE_BENCH_ARTICLES` (default 20) articles of
//! `LEDE_BENCH_INPUT`, else `../shared/eval/cnndm_test_frank.jsonl` where it exists, else the
//! samples; embedded as the pipeline does (one call, length-sorted passes). Prints a Markdown table.
use lede::model::embed::{cosine, BatchOptions, BertEmbedder, Embedder, TextKind};
use lede::model::encoder::Precision;
use lede::model::store::{self, Store};
use std::path::PathBuf;
use std::time::Instant;

fn input_path() -> PathBuf {
    if let Ok(p) = std::env::var("LEDE_BENCH_INPUT") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let eval = root.join("../shared/eval/cnndm_test_frank.jsonl");
    if eval.exists() {
        eval
    } else {
        root.join("samples/articles.jsonl")
    }
}

fn texts() -> Vec<String> {
    let n: usize = std::env::var("LEDE_BENCH_ARTICLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let path = input_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(n) {
        let record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).expect("a JSON object a line");
        let article = lede::formats::to_article(&record, &Default::default()).expect("an article");
        if !article.title.is_empty() {
            out.push(article.title.clone());
        }
        out.extend(
            lede::stages::segment::split_sentences(&article.body, "und")
                .into_iter()
                .map(|s| s.text),
        );
    }
    out
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

/// FLOPs per token of a BERT encoder over windows of `length` tokens (multiply-add = 2): the linear
/// layers, and attention's two products.
fn flops_per_token(config: &serde_json::Value, length: f64) -> f64 {
    let get = |k: &str| config[k].as_f64().unwrap();
    let (layers, h, inter) = (
        get("num_hidden_layers"),
        get("hidden_size"),
        get("intermediate_size"),
    );
    2.0 * layers * (4.0 * h * h + 2.0 * h * inter) + 4.0 * layers * length * h
}

/// This machine's fp32 matrix-multiply peak with libtorch on the bench's threads, GFLOP/s.
fn matmul_peak() -> f64 {
    [1024i64, 2048]
        .iter()
        .map(|&n| {
            let a = tch::Tensor::randn([n, n], (tch::Kind::Float, tch::Device::Cpu));
            let (t, _) = best_of(5, || a.matmul(&a));
            2.0 * (n as f64).powi(3) / t / 1e9
        })
        .fold(0.0, f64::max)
}

fn main() {
    let (Ok(library), Ok(graphs)) = (
        std::env::var("LEDE_ONNXRUNTIME"),
        std::env::var("LEDE_ONNX_DIR"),
    ) else {
        println!("set LEDE_ONNXRUNTIME and LEDE_ONNX_DIR: see the comment at the top of benches/backends.rs");
        return;
    };
    let threads = tch::get_num_threads() as usize;
    let store = Store::new(store::default_models_dir());
    let owned = texts();
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    println!(
        "{} texts from {}; {threads} threads (libtorch and ONNX Runtime alike); best of 3\n",
        texts.len(),
        input_path().file_name().unwrap().to_string_lossy()
    );
    let peak = matmul_peak();
    println!("fp32 matmul peak (libtorch, square 1,024/2,048, best of 5): {peak:.1} GFLOP/s\n");
    println!(
        "| model | forward pass | s | tokens/s | speed-up | GFLOP/s (share of fp32 peak) | \
         lowest cosine to fp32 | mean cosine | a text's vector alone = in the batch |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in ["multilingual-e5-small", "all-MiniLM-L6-v2"] {
        let load = || BertEmbedder::from_store(&store, name, BatchOptions::default());
        let fp32 = match load() {
            Ok(m) => m,
            Err(e) => {
                println!("{name}: skipped: {e}");
                continue;
            }
        };
        let graph = PathBuf::from(&graphs).join(format!("{name}.onnx"));
        let variants: Vec<(&str, BertEmbedder)> = vec![
            ("libtorch fp32 (rust-bert, the default)", fp32),
            (
                "libtorch int8 (own encoder, `--precision int8`)",
                load().unwrap().with_precision(Precision::Int8).unwrap(),
            ),
            (
                "ONNX Runtime fp32",
                load()
                    .unwrap()
                    .with_onnx(library.as_ref(), &graph, threads)
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
        ];
        let tokens: usize = texts
            .iter()
            .map(|t| variants[0].1.count_tokens(t, TextKind::Passage).unwrap() + 2)
            .sum();
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(store.require(name).unwrap().join("config.json")).unwrap(),
        )
        .unwrap();
        // Attention's cost grows with the window: weigh each text's length by its tokens.
        let lengths: Vec<f64> = texts
            .iter()
            .map(|t| (variants[0].1.count_tokens(t, TextKind::Passage).unwrap() + 2) as f64)
            .collect();
        let flops: f64 = lengths
            .iter()
            .map(|&l| l * flops_per_token(&config, l))
            .sum();
        let mut reference: Option<(f64, Vec<Vec<f32>>)> = None;
        for (label, model) in &variants {
            model.embed(&texts[..8], TextKind::Passage).unwrap(); // warm-up
            let (t, vecs) = best_of(3, || model.embed(&texts, TextKind::Passage).unwrap());
            // The same text alone (a pass of its own, filled up) and in the whole batch.
            let alone_same = texts
                .iter()
                .zip(&vecs)
                .take(20)
                .all(|(text, v)| &model.embed(&[text], TextKind::Passage).unwrap()[0] == v);
            let (base_t, base) = reference.get_or_insert_with(|| (t, vecs.clone()));
            let cosines: Vec<f32> = base.iter().zip(&vecs).map(|(a, b)| cosine(a, b)).collect();
            let min = cosines.iter().cloned().fold(f32::INFINITY, f32::min);
            let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
            let gflops = flops / t / 1e9;
            println!(
                "| {name} | {label} | {t:.2} | {:.0} | {:.2}x | {gflops:.1} ({:.0}%) | {min:.6} | {mean:.6} | {} |",
                tokens as f64 / t,
                *base_t / t,
                100.0 * gflops / peak,
                if alone_same { "bit-identical (20 of 20)" } else { "differs" }
            );
        }
    }
}
