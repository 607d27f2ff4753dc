//! fp32 against bf16 and int8 on this CPU, for the embedder (issue 5: keep a lower precision only
//! where vectors stay within cosine 0.999 of fp32 and it is faster).
//!
//! `cargo bench --bench precision` prints a Markdown table:
//! 1. the embedder's three linear layer shapes (384x384, 384->1536, 1536->384 for e5-small) on 2,048
//!    rows: libtorch fp32 matmul, bf16 matmul, fbgemm int8 weights with fp32 activations (the
//!    kernel PyTorch's dynamic quantization uses: one activation scale per call, so a row depends
//!    on its batch mates), and int8 per token x int8 per channel through `_int_mm` (what
//!    src/encoder.rs uses), time and the lowest row cosine against fp32;
//! 2. the whole model (multilingual-e5-small, installed) on sentences of the bundled samples: fp32
//!    (rust-bert) against `--precision int8` (our encoder) and bf16 weights, time and cosines.
use lede::model::embed::{cosine, BatchOptions, BertEmbedder, Embedder, TextKind};
use lede::model::encoder::quantize_rows;
use lede::model::store::{self, Store};
use std::time::Instant;
use tch::{Kind, Tensor};

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

/// Lowest cosine between matching rows.
fn min_row_cosine(a: &Tensor, b: &Tensor) -> f64 {
    let a = a.to_kind(Kind::Double);
    let b = b.to_kind(Kind::Double);
    let dots = (&a * &b).sum_dim_intlist([1i64].as_slice(), false, Kind::Double);
    let norms = a.norm_scalaropt_dim(2, [1i64].as_slice(), false)
        * b.norm_scalaropt_dim(2, [1i64].as_slice(), false);
    (dots / norms).min().double_value(&[])
}

/// PyTorch's fbgemm_linear_quantize_weight (not exposed by tch): per-tensor asymmetric int8 over
/// [min(w, 0), max(w, 0)], and the column offsets fbgemm expects (row sums of the quantized
/// weight minus zero point times K).
fn quantize_weight(w: &Tensor) -> (Tensor, Tensor, Tensor, f64, i64) {
    let (_, k) = w.size2().unwrap();
    let min = w.min().double_value(&[]).min(0.0);
    let max = w.max().double_value(&[]).max(0.0);
    let scale = ((max - min) / 255.0).max(1e-12);
    let zero_point = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i64;
    let q = (w / scale)
        .round()
        .g_add_scalar(zero_point)
        .clamp(-128, 127)
        .to_kind(Kind::Int8);
    let col_offsets = (q
        .to_kind(Kind::Int)
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Int)
        - zero_point * k)
        .to_kind(Kind::Int);
    let packed = q.fbgemm_pack_quantized_matrix();
    (q, packed, col_offsets, scale, zero_point)
}

fn main() {
    // Criterion passes --bench; nothing to parse.
    tch::manual_seed(0);
    let threads = tch::get_num_threads();
    println!("libtorch {threads} threads; rows 2,048; best of 5\n");
    println!(
        "| layer | fp32 ms | bf16 ms | bf16 lowest row cosine | fbgemm int8 ms | its lowest row cosine \
         | int8 per token ms | its lowest row cosine |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let rows = 2048;
    for (k, n) in [(384, 384), (384, 1536), (1536, 384)] {
        let x = Tensor::randn([rows, k], (Kind::Float, tch::Device::Cpu));
        // Weights like a trained layer's: small, centred.
        let w = Tensor::randn([n, k], (Kind::Float, tch::Device::Cpu)) * 0.05;
        let bias = Tensor::zeros([n], (Kind::Float, tch::Device::Cpu));
        let (t32, y32) = best_of(5, || x.linear(&w, Some(&bias)));
        let (xb, wb, bb) = (
            x.to_kind(Kind::BFloat16),
            w.to_kind(Kind::BFloat16),
            bias.to_kind(Kind::BFloat16),
        );
        let (t16, y16) = best_of(5, || xb.linear(&wb, Some(&bb)));
        let (q, packed, col_offsets, scale, zp) = quantize_weight(&w);
        let (t8, y8) = best_of(5, || {
            x.fbgemm_linear_int8_weight_fp32_activation(
                &q,
                &packed,
                &col_offsets,
                tch::Scalar::float(scale),
                tch::Scalar::int(zp),
                &bias,
            )
        });
        let (wq, ws) = quantize_rows(&w);
        let wq_t = wq.tr().contiguous();
        let ws_row = ws.view([1, n]);
        let (t8t, y8t) = best_of(5, || {
            let (xq, xs) = quantize_rows(&x);
            xq.internal_int_mm(&wq_t).to_kind(Kind::Float) * &xs * &ws_row + &bias
        });
        println!(
            "| {k}->{n} | {:.2} | {:.2} | {:.5} | {:.2} | {:.5} | {:.2} | {:.5} |",
            t32 * 1e3,
            t16 * 1e3,
            min_row_cosine(&y32, &y16),
            t8 * 1e3,
            min_row_cosine(&y32, &y8),
            t8t * 1e3,
            min_row_cosine(&y32, &y8t)
        );
    }

    let store = Store::new(store::default_models_dir());
    let load =
        || BertEmbedder::from_store(&store, "multilingual-e5-small", BatchOptions::default());
    let (fp32, bf16, int8) = match (load(), load(), load()) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            println!("\nwhole-model comparison skipped: {e} (run `lede models install`)");
            return;
        }
    };
    bf16.to_bfloat16();
    let int8 = int8
        .with_precision(lede::model::encoder::Precision::Int8)
        .expect("int8 encoder");
    let samples = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/articles.jsonl"
    ))
    .expect("samples/articles.jsonl");
    let mut sentences = Vec::new();
    for line in samples.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        let article = lede::formats::to_article(&record, &Default::default()).unwrap();
        sentences.extend(
            lede::stages::segment::split_sentences(&article.body, "und")
                .into_iter()
                .map(|s| s.text),
        );
    }
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let tokens: usize = texts
        .iter()
        .map(|t| fp32.count_tokens(t, TextKind::Query).unwrap() + 2)
        .sum();
    println!(
        "\nWhole model (multilingual-e5-small), {} sentences of the samples, {tokens} tokens, best of 3:\n",
        texts.len()
    );
    println!("| weights | s | tokens/s | lowest cosine to fp32 | mean cosine |");
    println!("|---|---|---|---|---|");
    let (t32, v32) = best_of(3, || fp32.embed(&texts, TextKind::Query).unwrap());
    println!(
        "| fp32 (rust-bert) | {t32:.2} | {:.0} | 1 | 1 |",
        tokens as f64 / t32
    );
    for (name, model) in [("int8 per token (own encoder)", &int8), ("bf16", &bf16)] {
        let (t, v) = best_of(3, || model.embed(&texts, TextKind::Query).unwrap());
        let cosines: Vec<f32> = v32.iter().zip(&v).map(|(a, b)| cosine(a, b)).collect();
        let min = cosines.iter().cloned().fold(f32::INFINITY, f32::min);
        let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
        println!(
            "| {name} | {t:.2} | {:.0} | {min:.5} | {mean:.5} |",
            tokens as f64 / t
        );
    }
}
