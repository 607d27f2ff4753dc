//! Per-stage throughput (criterion): parse + clean, language, segmentation, keyword candidates,
//! one very large text and page (segmentation and HTML cleaning stay linear),
//! embedding (tokens/s, the installed default model), and scoring (teaser, keywords, topics from
//! vectors already computed). `cargo bench --bench stages`; the end-to-end numbers (whole runs,
//! load time, peak RSS, the Python side) come from `benches/throughput.py` and `benches/scaling.py`.
//!
//! Input: `LEDE_BENCH_INPUT` (JSONL with `title` and `text`), else the evaluation set
//! `../shared/eval/cnndm_test_frank.jsonl` where it exists, else `samples/articles.jsonl`.
//! `LEDE_BENCH_ARTICLES` articles (default 20) are read.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lede::formats::{self, Article, FieldMap};
use lede::model::embed::{BatchOptions, BertEmbedder, Embedder, TextKind};
use lede::model::store::{self, Store};
use lede::stages::keywords::{self, KeywordOptions};
use lede::stages::language::{LanguageDetector, LinguaDetector, LinguaOptions};
use lede::stages::segment::{self, Sentence};
use lede::stages::summary::extractive::{self, ExtractiveOptions};
use lede::stages::topics::{self, Taxonomy, TopicOptions};
use serde_json::{Map, Value};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

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

fn lines() -> Vec<String> {
    let n: usize = std::env::var("LEDE_BENCH_ARTICLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let path = input_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .map(String::from)
        .collect()
}

fn parse(lines: &[String], fields: &FieldMap) -> Vec<Article> {
    lines
        .iter()
        .map(|l| {
            let record: Map<String, Value> = serde_json::from_str(l).expect("a JSON object a line");
            formats::to_article(&record, fields).expect("an article")
        })
        .collect()
}

fn texts(sentences: &[Sentence]) -> Vec<&str> {
    sentences.iter().map(|s| s.text.as_str()).collect()
}

struct Prepared {
    article: Article,
    language: String,
    sentences: Vec<Sentence>,
    candidates: Vec<keywords::Candidate>,
}

fn bench(c: &mut Criterion) {
    let lines = lines();
    let fields = FieldMap::default();
    let bytes: usize = lines.iter().map(String::len).sum();
    let n = lines.len() as u64;
    eprintln!(
        "{} articles, {bytes} bytes, from {}",
        n,
        input_path().display()
    );

    let mut g = c.benchmark_group("prepare");
    g.throughput(Throughput::Elements(n));
    g.bench_function("parse_and_clean", |b| {
        b.iter(|| parse(black_box(&lines), &fields))
    });
    let articles = parse(&lines, &fields);
    let detector = LinguaDetector::new(LinguaOptions::default());
    g.bench_function("language", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(detector.detect(black_box(&a.body)));
            }
        })
    });
    let languages: Vec<String> = articles
        .iter()
        .map(|a| detector.detect(&a.body).code)
        .collect();
    g.bench_function("segment", |b| {
        b.iter(|| {
            articles
                .iter()
                .zip(&languages)
                .map(|(a, l)| segment::split_sentences(black_box(&a.body), l).len())
                .sum::<usize>()
        })
    });
    let sentences: Vec<Vec<Sentence>> = articles
        .iter()
        .zip(&languages)
        .map(|(a, l)| segment::split_sentences(&a.body, l))
        .collect();
    let kw = KeywordOptions::default();
    g.bench_function("keyword_candidates", |b| {
        b.iter(|| {
            sentences
                .iter()
                .zip(&languages)
                .map(|(s, l)| keywords::extract_candidates(black_box(&texts(s)), l, &kw).len())
                .sum::<usize>()
        })
    });
    g.finish();

    // One very large input each: the time should grow with the size, never with its square (these
    // were unit tests with a time bound; a bound belongs here).
    let mut g = c.benchmark_group("large_input");
    g.sample_size(10);
    let text = "Dr. Smith said e.g. this. Then U.S. officials left! Why? ".repeat(100_000);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("segment_5.7MB", |b| {
        b.iter(|| segment::split_sentences(black_box(&text), "en").len())
    });
    let page = "<p>Some <b>bold</b> text &amp; an <a href=\"#\">anchor</a>.</p>\n".repeat(25_000);
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("html_to_text_1.5MB", |b| {
        b.iter(|| formats::html::html_to_text(black_box(&page)).len())
    });
    g.finish();

    let prepared: Vec<Prepared> = articles
        .into_iter()
        .zip(languages)
        .zip(sentences)
        .map(|((article, language), sentences)| {
            let candidates = keywords::extract_candidates(&texts(&sentences), &language, &kw);
            Prepared {
                article,
                language,
                sentences,
                candidates,
            }
        })
        .collect();

    let store = Store::new(store::default_models_dir());
    let embedder =
        match BertEmbedder::from_store(&store, "multilingual-e5-small", BatchOptions::default()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("embedding and scoring benches skipped: {e} (run `lede models install`)");
                return;
            }
        };
    // Title, sentences and every keyword candidate, each once: what the pipeline embedded before
    // the two-stage keyword ranking (`--keyword-shortlist 0`), an upper bound of the model work;
    // by default candidates are first pooled from the sentence passes and only a shortlist is
    // embedded on its own (measured end to end in benches/THROUGHPUT.md).
    let mut distinct = std::collections::BTreeSet::new();
    for p in &prepared {
        distinct.insert(p.article.title.as_str());
        distinct.extend(p.sentences.iter().map(|s| s.text.as_str()));
        distinct.extend(p.candidates.iter().map(|c| c.surface.as_str()));
    }
    distinct.remove("");
    let to_embed: Vec<&str> = distinct.into_iter().collect();
    let tokens: usize = to_embed
        .iter()
        .map(|t| embedder.count_tokens(t, TextKind::Query).unwrap() + 2)
        .sum();
    let mut g = c.benchmark_group("embed");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .warm_up_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(tokens as u64));
    g.bench_with_input(
        BenchmarkId::new("tokens", format!("{} texts", to_embed.len())),
        &to_embed,
        |b, t| b.iter(|| embedder.embed(t, TextKind::Query).unwrap()),
    );
    g.finish();

    let vecs = embedder.embed(&to_embed, TextKind::Query).unwrap();
    let vector: std::collections::HashMap<&str, Vec<f32>> =
        to_embed.iter().copied().zip(vecs).collect();
    let vec_of = |t: &str| {
        vector
            .get(t)
            .cloned()
            .unwrap_or_else(|| vec![0.0; embedder.dim()])
    };
    let taxonomy = Taxonomy::iptc(2);
    let label_texts = taxonomy.label_texts();
    let label_refs: Vec<&str> = label_texts.iter().map(String::as_str).collect();
    let label_vecs = embedder.embed(&label_refs, TextKind::Query).unwrap();
    let space = topics::LabelSpace::new(
        &taxonomy,
        label_vecs,
        &vec![None; label_refs.len()],
        0.0,
        None,
    );
    let summary = ExtractiveOptions::default();
    let topic_options = TopicOptions::default();
    let head = topics::head::TopicModel::shipped_iptc()
        .and_then(|m| m.heads.get(embedder.id()).cloned())
        .unwrap_or_else(|| {
            topics::head::HeadWeights::zero_shot(
                topics::top_level(&taxonomy).len(),
                embedder.dim(),
                topic_options.zero_shot,
            )
        });
    let mut g = c.benchmark_group("score");
    g.throughput(Throughput::Elements(n));
    g.bench_function("teaser_keywords_topics", |b| {
        b.iter(|| {
            for p in &prepared {
                let svecs: Vec<Vec<f32>> = p.sentences.iter().map(|s| vec_of(&s.text)).collect();
                let title = vec_of(&p.article.title);
                let teaser = extractive::summarize(&p.sentences, &svecs, &title, &summary, "bench");
                // The article vector as the pipeline builds it: sentence mean, then the title.
                let mut doc = vec![0f32; embedder.dim()];
                for v in &svecs {
                    doc.iter_mut().zip(v).for_each(|(d, x)| *d += x);
                }
                topics::normalize(&mut doc);
                doc.iter_mut().zip(&title).for_each(|(d, x)| *d += x);
                topics::normalize(&mut doc);
                // Topics: each sentence votes, the title at topics::TITLE_WEIGHT.
                let mut topic_parts: Vec<(&[f32], f32)> =
                    svecs.iter().map(|v| (v.as_slice(), 1.0)).collect();
                topic_parts.push((&title, topics::TITLE_WEIGHT));
                let cvecs: Vec<Vec<f32>> =
                    p.candidates.iter().map(|c| vec_of(&c.surface)).collect();
                let kws = keywords::select_keywords(&p.candidates, &cvecs, &doc, &kw);
                let shares = topics::vote_shares(&topic_parts, &p.language, &space);
                let evidence = topics::branch_shares(&taxonomy, &shares);
                let probs =
                    topics::probabilities(&taxonomy, &shares, &evidence, &doc, &[], "en", &head);
                let found = topics::assign(&probs, &taxonomy, &p.language, &topic_options);
                black_box((teaser, kws, found));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
