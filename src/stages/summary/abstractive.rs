//! Abstractive summaries: seq2seq generation with rust-bert (BART/DistilBART, T5, mT5, Pegasus) from a
//! local Hugging Face layout folder. Nothing is ever downloaded.
//!
//! Folder layout (what rust-bert 0.23 reads; `config.json`'s `model_type` picks the architecture):
//!
//! | model_type          | weights                                  | tokenizer                 |
//! |---------------------|------------------------------------------|---------------------------|
//! | `bart`              | `model.safetensors` or `rust_model.ot`   | `vocab.json` + `merges.txt` |
//! | `t5`, `mt5`         | same                                     | `spiece.model`            |
//! | `pegasus`           | same                                     | `spiece.model`            |
//!
//! `tokenizer.json` is not used: rust-bert 0.23's generators tokenise with rust_tokenizers, which reads
//! the original vocabulary files above.
//!
//! Generation settings are explicit (never a library default): greedy when `num_beams` is 1, else
//! beam search with early stopping, length penalty 1.0, no sampling, no repetition penalty, the
//! config's decoder start / forced BOS / forced EOS ids. With those settings the token ids match
//! transformers' `generate()` (tests/abstractive_parity.rs); the one known difference is described
//! at [`AbstractiveSummarizer::generate_ids`].
//!
//! An article longer than the encoder's input limit is never silently cut: by default it is split
//! into token chunks on sentence boundaries, each chunk is summarised, and the joined chunk summaries
//! are summarised again (recursively while still too long). `LongInput::Truncate` cuts instead and
//! says so in a warning.
//!
//! Over 800 lines on purpose: four architectures' loading and generation settings, and the
//! chunking of long inputs, behind one `AbstractiveSummarizer`.
use crate::error::{Error, Result};
use rust_bert::bart::{BartConfig, BartGenerator};
use rust_bert::pegasus::{PegasusConditionalGenerator, PegasusConfig};
use rust_bert::pipelines::common::{ModelResource, ModelType, TokenizerOption};
use rust_bert::pipelines::generation_utils::{GenerateConfig, GenerateOptions, LanguageGenerator};
use rust_bert::resources::{BufferResource, LocalResource};
use rust_bert::t5::{T5Config, T5Generator};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// What to do with an article longer than the model's input limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LongInput {
    /// Summarise token chunks, then summarise the joined chunk summaries.
    #[default]
    Chunk,
    /// Keep the first tokens that fit and return a warning.
    Truncate,
}

/// Generation options. Lengths count decoder tokens including the decoder start token, as
/// transformers' `generate(min_length=, max_length=)` does for encoder-decoder models.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AbstractiveOptions {
    /// 1 = greedy decoding.
    pub num_beams: usize,
    /// EOS is held back until the output is this long.
    pub min_length: usize,
    /// Generation stops at this length (at least 2: the decoder start token and one more).
    pub max_length: usize,
    /// 0 disables the n-gram block.
    pub no_repeat_ngram_size: usize,
    /// What to do with an article longer than the encoder's input limit.
    pub long_input: LongInput,
    /// Inputs per generate call.
    pub batch_size: usize,
}

impl Default for AbstractiveOptions {
    fn default() -> Self {
        AbstractiveOptions {
            num_beams: 4,
            min_length: 12,
            max_length: 96,
            no_repeat_ngram_size: 3,
            long_input: LongInput::Chunk,
            batch_size: 4,
        }
    }
}

/// Input limit assumed for T5/mT5 (relative positions, no hard limit) when config.json has no
/// `n_positions`: what the models were trained with.
const T5_DEFAULT_INPUT_LIMIT: usize = 512;
/// Summarising summaries must shrink the text; this bounds the recursion in any case.
const MAX_CHUNK_ROUNDS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    Bart,
    T5,
    Pegasus,
}

enum Generator {
    Bart(BartGenerator),
    T5(T5Generator),
    Pegasus(PegasusConditionalGenerator),
}

impl Generator {
    fn generate(
        &self,
        ids: Tensor,
        mask: Tensor,
        opts: GenerateOptions,
    ) -> std::result::Result<Vec<Vec<i64>>, rust_bert::RustBertError> {
        let out = match self {
            Generator::Bart(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Generator::T5(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Generator::Pegasus(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
        }?;
        Ok(out.into_iter().map(|o| o.indices).collect())
    }

    fn tokenizer(&self) -> &TokenizerOption {
        match self {
            Generator::Bart(g) => g.get_tokenizer(),
            Generator::T5(g) => g.get_tokenizer(),
            Generator::Pegasus(g) => g.get_tokenizer(),
        }
    }
}

/// Special token ids and limits read from config.json.
#[derive(Debug, Clone, Copy)]
struct Ids {
    pad: i64,
    eos: i64,
    bos: Option<i64>,
    decoder_start: i64,
    forced_eos: Option<i64>,
    vocab_size: i64,
}

/// A seq2seq model loaded from a local folder, with the options it generates with.
pub struct AbstractiveSummarizer {
    id: String,
    arch: Arch,
    ids: Ids,
    /// Encoder tokens per input, special tokens included.
    max_input: usize,
    /// Token ids of the model's task prefix from config.json
    /// (`task_specific_params.summarization.prefix`, T5's `summarize: `), put before every input
    /// text; empty when it has none.
    prefix_ids: Vec<i64>,
    options: AbstractiveOptions,
    // Tensors are Send but not Sync: one generate call at a time (libtorch parallelises inside it).
    generator: Mutex<Generator>,
}

impl std::fmt::Debug for AbstractiveSummarizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbstractiveSummarizer")
            .field("id", &self.id)
            .field("options", &self.options)
            .finish()
    }
}

fn bad_model(dir: &Path, reason: impl Into<String>) -> Error {
    Error::Model {
        model: dir.display().to_string(),
        reason: reason.into(),
    }
}

fn require_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(bad_model(dir, format!("{} is missing", path.display())))
    }
}

fn path_str<'a>(dir: &Path, path: &'a Path) -> Result<&'a str> {
    path.to_str()
        .ok_or_else(|| bad_model(dir, format!("{} is not valid UTF-8", path.display())))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// A private temporary folder for the normalised config.json rust-bert reads by path; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "lede-abstractive-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn get_i64(cfg: &Value, key: &str) -> Option<i64> {
    cfg.get(key).and_then(Value::as_i64)
}

/// Fills in what rust-bert's config structs require but transformers 5 no longer writes, and fixes
/// the one field transformers 5 writes misleadingly (mT5's `tie_word_embeddings`).
fn normalise_config(arch: Arch, model_type: &str, cfg: &mut Value) {
    let Some(obj) = cfg.as_object_mut() else {
        return;
    };
    let mut default = |key: &str, value: Value| {
        if obj.get(key).is_none_or(Value::is_null) {
            obj.insert(key.to_string(), value);
        }
    };
    match arch {
        Arch::Bart | Arch::Pegasus => {
            for key in [
                "dropout",
                "attention_dropout",
                "activation_dropout",
                "encoder_layerdrop",
                "decoder_layerdrop",
            ] {
                default(key, Value::from(0.0));
            }
            default("init_std", Value::from(0.02));
            if let Some(layers) = obj.get("encoder_layers").cloned() {
                if obj.get("num_hidden_layers").is_none_or(Value::is_null) {
                    obj.insert("num_hidden_layers".into(), layers);
                }
            }
        }
        Arch::T5 => {
            default("dropout_rate", Value::from(0.0));
            default("initializer_factor", Value::from(1.0));
            default("layer_norm_epsilon", Value::from(1e-6));
            // mT5 never scales its output projection (transformers 5 writes `tie_word_embeddings:
            // true` for it all the same); rust-bert scales exactly when the flag is true.
            if model_type == "mt5" {
                obj.insert("tie_word_embeddings".into(), Value::from(false));
            }
        }
    }
}

/// Reads the weights and adds the aliases rust-bert's variable names need but Hugging Face files omit
/// (tied embeddings are stored once). Returns a buffer in libtorch's format for rust-bert to load.
fn load_weights(dir: &Path, arch: Arch, tie: bool) -> Result<(PathBuf, Vec<u8>)> {
    let st = dir.join("model.safetensors");
    let ot = dir.join("rust_model.ot");
    let (path, tensors) = if st.is_file() {
        let t = Tensor::read_safetensors(&st)
            .map_err(|e| bad_model(dir, format!("{}: {e}", st.display())))?;
        (st, t)
    } else if ot.is_file() {
        let t = Tensor::load_multi(&ot)
            .map_err(|e| bad_model(dir, format!("{}: {e}", ot.display())))?;
        (ot, t)
    } else {
        return Err(bad_model(
            dir,
            format!(
                "no weights: neither {} nor {} exists",
                st.display(),
                ot.display()
            ),
        ));
    };
    let mut tensors: Vec<(String, Tensor)> = tensors;
    let has = |t: &[(String, Tensor)], n: &str| t.iter().any(|(k, _)| k == n);
    let alias = |t: &mut Vec<(String, Tensor)>, to: &str, from: &[&str]| {
        if !t.iter().any(|(k, _)| k == to) {
            if let Some(src) = from.iter().find_map(|f| {
                t.iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.shallow_clone())
            }) {
                t.push((to.to_string(), src));
            }
        }
    };
    match arch {
        Arch::Bart | Arch::Pegasus => {
            alias(
                &mut tensors,
                "model.shared.weight",
                &[
                    "model.encoder.embed_tokens.weight",
                    "model.decoder.embed_tokens.weight",
                    "lm_head.weight",
                ],
            );
            if !has(&tensors, "final_logits_bias") {
                if let Some((_, shared)) = tensors.iter().find(|(k, _)| k == "model.shared.weight")
                {
                    let bias = Tensor::zeros([1, shared.size()[0]], (Kind::Float, Device::Cpu));
                    tensors.push(("final_logits_bias".into(), bias));
                }
            }
        }
        Arch::T5 => {
            alias(
                &mut tensors,
                "shared.weight",
                &["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"],
            );
            if !tie {
                alias(&mut tensors, "lm_head.weight", &["shared.weight"]);
            }
        }
    }
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut buf = Vec::new();
    Tensor::save_multi_to_stream(&refs, &mut buf)
        .map_err(|e| bad_model(dir, format!("re-serialising {}: {e}", path.display())))?;
    Ok((path, buf))
}

impl AbstractiveSummarizer {
    /// Loads a model folder (see the module docs). Every problem is reported here, naming the folder
    /// and the missing or bad file, so a run fails before any record is processed.
    /// Loads a model folder. `max_length` (and `min_length`) above the decoder's learnt positions
    /// (BART, Pegasus) are lowered to them: generating further would index past the position table.
    pub fn load(dir: &Path, mut options: AbstractiveOptions) -> Result<Self> {
        Self::check_options(&options)?;
        if !dir.is_dir() {
            return Err(bad_model(dir, "model folder does not exist"));
        }
        let config_path = require_file(dir, "config.json")?;
        let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        let mut cfg: Value = serde_json::from_str(&text)
            .map_err(|e| bad_model(dir, format!("{}: {e}", config_path.display())))?;
        let model_type = cfg
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let arch = match model_type.as_str() {
            "bart" => Arch::Bart,
            "t5" | "mt5" => Arch::T5,
            "pegasus" => Arch::Pegasus,
            other => {
                return Err(bad_model(
                    dir,
                    format!(
                        "{}: model_type {other:?} is not supported (bart, t5, mt5, pegasus)",
                        config_path.display()
                    ),
                ))
            }
        };
        // Tokenizer files first: cheap to check, and the usual thing missing from a copied folder.
        let (vocab, merges) = match arch {
            Arch::Bart => (
                require_file(dir, "vocab.json")?,
                Some(require_file(dir, "merges.txt")?),
            ),
            Arch::T5 | Arch::Pegasus => (require_file(dir, "spiece.model")?, None),
        };
        let tie = cfg
            .get("tie_word_embeddings")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let (weights_path, weights) = load_weights(dir, arch, tie && model_type != "mt5")?;
        normalise_config(arch, &model_type, &mut cfg);
        let bad_config = |e: serde_json::Error| {
            bad_model(
                dir,
                format!(
                    "{}: {e} (for rust-bert's {model_type} config)",
                    config_path.display()
                ),
            )
        };
        // Parse with rust-bert's own config types first: its constructors panic on a bad config.
        let (vocab_size, max_pos) = match arch {
            Arch::Bart => {
                let c: BartConfig = serde_json::from_value(cfg.clone()).map_err(bad_config)?;
                (c.vocab_size, c.max_position_embeddings)
            }
            Arch::Pegasus => {
                let c: PegasusConfig = serde_json::from_value(cfg.clone()).map_err(bad_config)?;
                (c.vocab_size, c.max_position_embeddings)
            }
            Arch::T5 => {
                let c: T5Config = serde_json::from_value(cfg.clone()).map_err(bad_config)?;
                let limit = get_i64(&cfg, "n_positions").unwrap_or(T5_DEFAULT_INPUT_LIMIT as i64);
                (c.vocab_size, limit)
            }
        };
        let (default_pad, default_eos, default_start) = match arch {
            Arch::Bart => (1, 2, 2),
            Arch::T5 | Arch::Pegasus => (0, 1, 0),
        };
        let ids = Ids {
            pad: get_i64(&cfg, "pad_token_id").unwrap_or(default_pad),
            eos: get_i64(&cfg, "eos_token_id").unwrap_or(default_eos),
            bos: match arch {
                Arch::Bart => Some(get_i64(&cfg, "bos_token_id").unwrap_or(0)),
                Arch::T5 | Arch::Pegasus => None,
            },
            decoder_start: get_i64(&cfg, "decoder_start_token_id").unwrap_or(default_start),
            forced_eos: get_i64(&cfg, "forced_eos_token_id"),
            vocab_size,
        };
        if arch != Arch::T5 {
            let positions = usize::try_from(max_pos).unwrap_or(0);
            options.max_length = options.max_length.min(positions);
            options.min_length = options.min_length.min(options.max_length);
        }
        let specials = if ids.bos.is_some() { 2 } else { 1 };
        if max_pos <= specials + 1 {
            return Err(bad_model(
                dir,
                format!(
                    "{}: input limit {max_pos} is too small",
                    config_path.display()
                ),
            ));
        }

        let tmp = TempDir::new()?;
        let tmp_config = tmp.0.join("config.json");
        std::fs::write(&tmp_config, cfg.to_string()).map_err(|e| Error::io(&tmp_config, e))?;
        let model_kind = match arch {
            Arch::Bart => ModelType::Bart,
            Arch::T5 => ModelType::T5,
            Arch::Pegasus => ModelType::Pegasus,
        };
        let tokenizer = TokenizerOption::from_file(
            model_kind,
            path_str(dir, &vocab)?,
            merges.as_deref().map(|m| path_str(dir, m)).transpose()?,
            false,
            None,
            None,
        )
        .map_err(|e| bad_model(dir, format!("tokenizer {}: {e}", vocab.display())))?;
        let generate_config = GenerateConfig {
            model_type: model_kind,
            model_resource: ModelResource::Torch(Box::new(BufferResource::from(weights))),
            config_resource: Box::new(LocalResource::from(tmp_config.clone())),
            vocab_resource: Box::new(LocalResource::from(vocab.clone())),
            merges_resource: merges
                .clone()
                .map(|m| Box::new(LocalResource::from(m)) as Box<_>),
            min_length: options.min_length as i64,
            max_length: Some(options.max_length as i64),
            do_sample: false,
            early_stopping: true,
            num_beams: options.num_beams as i64,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            length_penalty: 1.0,
            no_repeat_ngram_size: options.no_repeat_ngram_size as i64,
            num_return_sequences: 1,
            num_beam_groups: None,
            diversity_penalty: None,
            device: Device::Cpu,
            kind: Some(Kind::Float),
        };
        let built = catch_unwind(AssertUnwindSafe(|| match arch {
            Arch::Bart => {
                BartGenerator::new_with_tokenizer(generate_config, tokenizer).map(Generator::Bart)
            }
            Arch::T5 => {
                T5Generator::new_with_tokenizer(generate_config, tokenizer).map(Generator::T5)
            }
            Arch::Pegasus => {
                PegasusConditionalGenerator::new_with_tokenizer(generate_config, tokenizer)
                    .map(Generator::Pegasus)
            }
        }));
        let generator = match built {
            Ok(Ok(g)) => g,
            Ok(Err(e)) => {
                return Err(bad_model(
                    dir,
                    format!("loading {}: {e}", weights_path.display()),
                ))
            }
            Err(p) => {
                return Err(bad_model(
                    dir,
                    format!("loading {}: {}", weights_path.display(), panic_message(p)),
                ))
            }
        };
        let sha = crate::model::store::sha256_file(&weights_path)?;
        let task_prefix = cfg
            .pointer("/task_specific_params/summarization/prefix")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let prefix_ids = if task_prefix.is_empty() {
            Vec::new()
        } else {
            let tokens = generator.tokenizer().tokenize(&task_prefix);
            generator.tokenizer().convert_tokens_to_ids(&tokens)
        };
        Ok(AbstractiveSummarizer {
            prefix_ids,
            id: format!("{model_type}@sha256:{}", &sha[..sha.len().min(16)]),
            arch,
            ids,
            max_input: max_pos as usize,
            options,
            generator: Mutex::new(generator),
        })
    }

    fn check_options(o: &AbstractiveOptions) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(format!("abstractive summary: {m}")));
        if o.num_beams == 0 {
            return bad("num_beams must be at least 1");
        }
        if o.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if o.max_length < 2 {
            return bad("max_length must be at least 2 (the decoder start token and one more)");
        }
        if o.min_length > o.max_length {
            return bad("min_length must not exceed max_length");
        }
        Ok(())
    }

    /// The options in use: those given to `load`, with the lengths lowered to the model's limit.
    pub fn options(&self) -> &AbstractiveOptions {
        &self.options
    }

    /// `model_type@sha256:<first 16 hex digits of the weights file>`.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Encoder tokens per input, special tokens included.
    pub fn max_input_tokens(&self) -> usize {
        self.max_input
    }

    /// Generates from encoder token ids (special tokens included, as the tokenizer makes them), several
    /// inputs per generate call (`batch_size`). Returns each output as transformers does: the decoder
    /// start token first, up to and including EOS, without batch padding.
    ///
    /// Known difference from transformers 5 (rust-bert 0.23, not fixable from here): in beam search a
    /// hypothesis cut by `max_length` is scored as `sum_logprobs / max_length` by rust-bert
    /// (`BeamHypotheses::add` counts the decoder start token), transformers divides by
    /// `max_length - 1`. Only hypotheses cut at max_length are affected, and only their rank against
    /// hypotheses that ended with EOS. Models with `forced_eos_token_id` (BART, Pegasus) never cut a
    /// hypothesis, they end it with EOS, so this applies to T5/mT5 only.
    ///
    /// Pegasus: rust-bert 0.23's Pegasus generator ignores `forced_eos_token_id`, so it is enforced
    /// here through `prefix_allowed_tokens_fn`. That masks after the log-softmax, so in beam search the
    /// forced EOS adds `log p(eos)` to a hypothesis' score where transformers adds 0; the ranking of
    /// hypotheses forced to end at `max_length` can differ in close cases. Greedy is unaffected.
    pub fn generate_ids(&self, inputs: &[Vec<i64>]) -> Result<Vec<Vec<i64>>> {
        let mut out = Vec::with_capacity(inputs.len());
        for (n, input) in inputs.iter().enumerate() {
            if input.is_empty() {
                return Err(Error::Config(format!("input {n} has no token ids")));
            }
            if input.len() > self.max_input {
                return Err(Error::Config(format!(
                    "input {n} has {} tokens, the model takes at most {}",
                    input.len(),
                    self.max_input
                )));
            }
            if let Some(bad) = input.iter().find(|&&t| t < 0 || t >= self.ids.vocab_size) {
                return Err(Error::Config(format!(
                    "input {n} has token id {bad} outside the vocabulary (0..{})",
                    self.ids.vocab_size
                )));
            }
        }
        for batch in inputs.chunks(self.options.batch_size) {
            out.extend(self.generate_batch(batch)?);
        }
        Ok(out)
    }

    fn generate_batch(&self, batch: &[Vec<i64>]) -> Result<Vec<Vec<i64>>> {
        let width = batch.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for input in batch {
            ids.extend_from_slice(input);
            ids.extend(std::iter::repeat_n(self.ids.pad, width - input.len()));
            mask.extend(std::iter::repeat_n(1i64, input.len()));
            mask.extend(std::iter::repeat_n(0i64, width - input.len()));
        }
        let rows = batch.len() as i64;
        let ids = Tensor::from_slice(&ids).view([rows, width as i64]);
        let mask = Tensor::from_slice(&mask).view([rows, width as i64]);
        let o = &self.options;
        let max_length = o.max_length as i64;
        let eos = self.ids.eos;
        let vocab: Vec<i64> = (0..self.ids.vocab_size).collect();
        // rust-bert 0.23's Pegasus generator ignores `forced_eos_token_id`; enforce it the same way
        // transformers does (only EOS allowed at the last position).
        let force_eos = |_batch: i64, prefix: &Tensor| -> Vec<i64> {
            if prefix.size().first().copied().unwrap_or(0) == max_length - 1 {
                vec![eos]
            } else {
                vocab.clone()
            }
        };
        let needs_forced_eos = self.arch == Arch::Pegasus && self.ids.forced_eos == Some(eos);
        let opts = GenerateOptions {
            min_length: Some(o.min_length as i64),
            max_length: Some(max_length),
            max_new_tokens: None,
            early_stopping: Some(true),
            num_return_sequences: Some(1),
            num_beams: Some(o.num_beams as i64),
            num_beam_groups: None,
            do_sample: Some(false),
            temperature: Some(1.0),
            top_k: Some(0),
            top_p: Some(1.0),
            repetition_penalty: Some(1.0),
            length_penalty: Some(1.0),
            no_repeat_ngram_size: Some(o.no_repeat_ngram_size as i64),
            diversity_penalty: None,
            decoder_start_token_id: Some(self.ids.decoder_start),
            forced_bos_token_id: None,
            prefix_allowed_tokens_fn: if needs_forced_eos {
                Some(&force_eos)
            } else {
                None
            },
            bad_word_ids: None,
            output_scores: false,
        };
        let guard = self.generator.lock().unwrap_or_else(|p| p.into_inner());
        let result = catch_unwind(AssertUnwindSafe(|| guard.generate(ids, mask, opts)));
        let rows = match result {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                return Err(Error::Model {
                    model: self.id.clone(),
                    reason: format!("generation: {e}"),
                })
            }
            Err(p) => {
                return Err(Error::Model {
                    model: self.id.clone(),
                    reason: format!("generation failed: {}", panic_message(p)),
                })
            }
        };
        Ok(rows.into_iter().map(|row| self.strip(row)).collect())
    }

    /// Cuts the batch padding after EOS (position 0 is the decoder start token, which may equal EOS).
    fn strip(&self, row: Vec<i64>) -> Vec<i64> {
        match row.iter().skip(1).position(|&t| t == self.ids.eos) {
            Some(p) => row[..p + 2].to_vec(),
            None => row,
        }
    }

    /// Tokens every input carries besides its text: special tokens and the task prefix.
    fn specials(&self) -> usize {
        self.prefix_ids.len() + if self.ids.bos.is_some() { 2 } else { 1 }
    }

    /// Encoder input ids of a text, special tokens included, not truncated.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        let guard = self.generator.lock().unwrap_or_else(|p| p.into_inner());
        self.with_specials(&self.content_ids(guard.tokenizer(), text))
    }

    /// Content token ids of a text (no special tokens).
    fn content_ids(&self, tokenizer: &TokenizerOption, text: &str) -> Vec<i64> {
        let tokens = tokenizer.tokenize(text);
        tokenizer.convert_tokens_to_ids(&tokens)
    }

    /// Adds the model's special tokens: `<s> … </s>` for BART, `… </s>` for T5 and Pegasus.
    fn with_specials(&self, content: &[i64]) -> Vec<i64> {
        let mut ids = Vec::with_capacity(content.len() + 2);
        ids.extend(self.ids.bos);
        ids.extend_from_slice(&self.prefix_ids);
        ids.extend_from_slice(content);
        ids.push(self.ids.eos);
        ids
    }

    /// Token chunks of at most `budget` content tokens, cut at sentence ends where one falls in the
    /// window and at the budget otherwise.
    fn chunk(&self, tokenizer: &TokenizerOption, text: &str, budget: usize) -> Vec<Vec<i64>> {
        // Tokenise sentence by sentence, each with the whitespace before it, so the pieces line up
        // with how the whole text tokenises and every sentence end is a token boundary.
        let mut ids = Vec::new();
        let mut ends = Vec::new();
        let mut pos = 0;
        for s in crate::stages::segment::split_sentences(text, "und") {
            if s.end <= pos || s.end > text.len() || !text.is_char_boundary(s.end) {
                continue;
            }
            ids.extend(self.content_ids(tokenizer, &text[pos..s.end]));
            ends.push(ids.len());
            pos = s.end;
        }
        if pos < text.len() {
            ids.extend(self.content_ids(tokenizer, &text[pos..]));
            ends.push(ids.len());
        }
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < ids.len() {
            let limit = (start + budget).min(ids.len());
            let end = ends
                .iter()
                .copied()
                .filter(|&e| e > start && e <= limit)
                .max()
                .unwrap_or(limit);
            chunks.push(ids[start..end].to_vec());
            start = end;
        }
        chunks
    }

    fn decode(&self, tokenizer: &TokenizerOption, ids: &[i64]) -> String {
        tokenizer.decode(ids, true, true).trim().to_string()
    }

    /// Summaries with warnings, one per text, in order. Texts are batched `batch_size` inputs per
    /// generate call; the chunks of long texts are batched together with the others.
    pub fn summarize(&self, texts: &[&str]) -> Result<Vec<(String, Vec<String>)>> {
        let budget = self.max_input - self.specials();
        let mut results: Vec<(String, Vec<String>)> =
            vec![(String::new(), Vec::new()); texts.len()];
        // Per text: the current text to summarise (None once done).
        let mut current: Vec<Option<String>> = texts.iter().map(|t| Some(t.to_string())).collect();
        let mut last_len: Vec<usize> = vec![usize::MAX; texts.len()];
        for round in 0..=MAX_CHUNK_ROUNDS {
            // (text index, encoder input) for every generate input of this round.
            let mut jobs: Vec<(usize, Vec<i64>)> = Vec::new();
            let mut chunked = vec![false; texts.len()];
            {
                let guard = self.generator.lock().unwrap_or_else(|p| p.into_inner());
                let tokenizer = guard.tokenizer();
                for (i, slot) in current.iter_mut().enumerate() {
                    let Some(text) = slot.as_deref() else {
                        continue;
                    };
                    if text.trim().is_empty() {
                        results[i].1.push("empty text: no summary".into());
                        *slot = None;
                        continue;
                    }
                    let content = self.content_ids(tokenizer, text);
                    if content.len() <= budget {
                        jobs.push((i, self.with_specials(&content)));
                        continue;
                    }
                    let must_truncate = self.options.long_input == LongInput::Truncate
                        || round == MAX_CHUNK_ROUNDS
                        || content.len() >= last_len[i];
                    if must_truncate {
                        let why = if self.options.long_input == LongInput::Truncate {
                            "truncated"
                        } else {
                            "chunk summaries did not get shorter; truncated"
                        };
                        results[i].1.push(format!(
                            "input has {} tokens, the model takes {budget}: {why} to the first {budget}",
                            content.len()
                        ));
                        jobs.push((i, self.with_specials(&content[..budget])));
                        continue;
                    }
                    last_len[i] = content.len();
                    chunked[i] = true;
                    let chunks = self.chunk(tokenizer, text, budget);
                    if round == 0 {
                        results[i].1.push(format!(
                            "input has {} tokens, the model takes {budget}: summarised in {} chunks",
                            content.len(),
                            chunks.len()
                        ));
                    }
                    jobs.extend(chunks.iter().map(|c| (i, self.with_specials(c))));
                }
            }
            if jobs.is_empty() {
                break;
            }
            // Similar lengths together: less padding per batch.
            let mut order: Vec<usize> = (0..jobs.len()).collect();
            order.sort_by_key(|&j| (jobs[j].1.len(), j));
            let inputs: Vec<Vec<i64>> = order.iter().map(|&j| jobs[j].1.clone()).collect();
            let outputs = self.generate_ids(&inputs)?;
            let mut per_job = vec![Vec::new(); jobs.len()];
            for (&j, out) in order.iter().zip(outputs) {
                per_job[j] = out;
            }
            let guard = self.generator.lock().unwrap_or_else(|p| p.into_inner());
            let tokenizer = guard.tokenizer();
            let mut pieces: Vec<Vec<String>> = vec![Vec::new(); texts.len()];
            for ((i, _), out) in jobs.iter().zip(&per_job) {
                pieces[*i].push(self.decode(tokenizer, out));
            }
            for (i, slot) in current.iter_mut().enumerate() {
                if slot.is_none() {
                    continue;
                }
                if chunked[i] {
                    // Summarise the joined chunk summaries next round.
                    *slot = Some(pieces[i].join(" "));
                } else {
                    results[i].0 = pieces[i].join(" ");
                    *slot = None;
                }
            }
        }
        Ok(results)
    }
}
