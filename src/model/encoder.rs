//! Our own BERT encoder forward pass on tch, so that its linear layers can run in bf16 or int8.
//!
//! rust-bert's `BertModel` owns its `nn::Linear` layers and cannot swap them; this module reads the
//! same weights (from the loaded `VarStore`) and repeats its forward pass op for op: in `Fp32` it
//! gives rust-bert's hidden states (tests/embedding_parity.rs), in `Bf16` the linear layers but the
//! value projection (as in int8) multiply bfloat16 inputs and weights (layer norms, attention and
//! residual sums stay fp32), in `Int8` the six linear layers of
//! each block (query, key, value, attention output, intermediate, output: over 90% of the FLOPs at
//! sentence lengths) multiply int8 by int8 into int32, except the attention's value projection,
//! which stays fp32 (see `from_variables`).
//!
//! Int8 scheme: weights symmetric per output channel, activations symmetric per token (row), both
//! quantised to [-127, 127]; `y = (xq · wqᵀ) · s_x · s_w + b`. Per-token scales keep a row's result
//! independent of the other rows in its pass, and int32 sums are exact, so output stays
//! byte-identical whatever the batch (per-tensor dynamic quantisation, as in PyTorch's
//! `quantize_dynamic`, would make a sentence's vector depend on its batch mates).
use crate::error::{Error, Result};
use rust_bert::bert::BertConfig;
use std::collections::HashMap;
use tch::{Kind, Tensor};

/// Arithmetic of the encoder's linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// The fastest precision measured to lose nothing on this CPU: bf16 where it has bfloat16
    /// instructions (AVX512-BF16), fp32 elsewhere ([`Precision::resolve`]).
    #[default]
    Auto,
    /// 32-bit floats throughout: rust-bert's own forward pass.
    Fp32,
    /// Linear layers but the value projection multiply bfloat16 by bfloat16 (fp32 sums); everything
    /// else in fp32. Only fast
    /// on CPUs with bfloat16 instructions: emulated elsewhere, 26-48x slower (benches/THROUGHPUT.md).
    Bf16,
    /// Linear layers multiply int8 by int8 into int32 (the value projection stays fp32; see the
    /// module docs).
    Int8,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Precision::Auto),
            "fp32" => Ok(Precision::Fp32),
            "bf16" => Ok(Precision::Bf16),
            "int8" => Ok(Precision::Int8),
            _ => Err(format!(
                "unknown precision {s:?} (auto, fp32, bf16 or int8)"
            )),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Auto => "auto",
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        })
    }
}

impl Precision {
    /// The precision that runs: `Auto` becomes bf16 where this CPU has bfloat16 instructions (its
    /// vectors stay within cosine 0.9999 of fp32 and the pipeline's outputs held on every eval set:
    /// benches/QUALITY.md), fp32 elsewhere; the others are kept as asked.
    pub fn resolve(self) -> Precision {
        match self {
            Precision::Auto if cpu_has_bf16() => Precision::Bf16,
            Precision::Auto => Precision::Fp32,
            other => other,
        }
    }
}

/// Whether this CPU multiplies bfloat16 natively (AVX512-BF16, which AMX CPUs also have).
pub fn cpu_has_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Symmetric int8 per row (a token, or a weight's output channel): scale = max |row| / 127, as a
/// column of scales (rows of zeros get a tiny scale, not NaN). Public for benches/precision.rs.
pub fn quantize_rows(x: &Tensor) -> (Tensor, Tensor) {
    let scale = x.abs().amax([-1i64].as_slice(), true).clamp_min(1e-12) / 127.0;
    let q = (x / &scale).round().clamp(-127, 127).to_kind(Kind::Int8);
    (q, scale)
}

enum Linear {
    Fp32 {
        weight: Tensor,
        bias: Tensor,
    },
    Bf16 {
        weight: Tensor,
        bias: Tensor,
    },
    Int8 {
        /// Quantised weight, transposed: [in, out].
        weight_t: Tensor,
        /// Per output channel: [1, out].
        scale: Tensor,
        bias: Tensor,
    },
}

impl Linear {
    fn new(weight: Tensor, bias: Tensor, precision: Precision) -> Linear {
        match precision.resolve() {
            Precision::Fp32 | Precision::Auto => Linear::Fp32 { weight, bias },
            Precision::Bf16 => Linear::Bf16 {
                weight: weight.to_kind(Kind::BFloat16),
                bias,
            },
            Precision::Int8 => {
                let (q, scale) = quantize_rows(&weight);
                Linear::Int8 {
                    weight_t: q.tr().contiguous(),
                    scale: scale.view([1, -1]),
                    bias,
                }
            }
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Linear::Fp32 { weight, bias } => x.linear(weight, Some(bias)),
            Linear::Bf16 { weight, bias } => {
                x.to_kind(Kind::BFloat16)
                    .linear::<&Tensor>(weight, None)
                    .to_kind(Kind::Float)
                    + bias
            }
            Linear::Int8 {
                weight_t,
                scale,
                bias,
            } => {
                let shape = x.size();
                let x2 = x.reshape([-1, shape[shape.len() - 1]]);
                let (xq, xs) = quantize_rows(&x2);
                let y = xq.internal_int_mm(weight_t).to_kind(Kind::Float) * xs * scale + bias;
                let mut out_shape = shape;
                let last = out_shape.len() - 1;
                out_shape[last] = y.size()[1];
                y.view(out_shape.as_slice())
            }
        }
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

/// rust-bert's BERT uses 1e-12 whatever config.json says.
const LAYER_NORM_EPS: f64 = 1e-12;

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> Tensor {
        let h = *x.size().last().unwrap_or(&0);
        x.layer_norm(
            [h],
            Some(&self.weight),
            Some(&self.bias),
            LAYER_NORM_EPS,
            true,
        )
    }
}

struct Block {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// BERT encoder (post-LayerNorm blocks, as in HF `BertModel`) over weights already loaded.
pub struct Encoder {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: LayerNorm,
    blocks: Vec<Block>,
    heads: i64,
    activation: rust_bert::Activation,
}

impl Encoder {
    /// Builds the encoder from a loaded rust-bert `BertModel`'s variables (names as in HF BERT).
    pub fn from_variables(
        vars: &HashMap<String, Tensor>,
        config: &BertConfig,
        precision: Precision,
    ) -> Result<Encoder> {
        let get = |name: &str| -> Result<Tensor> {
            vars.get(name)
                .map(|t| t.shallow_clone())
                .ok_or_else(|| Error::Model {
                    model: "encoder".into(),
                    reason: format!("weight {name} is missing"),
                })
        };
        let linear_in = |prefix: &str, precision: Precision| -> Result<Linear> {
            Ok(Linear::new(
                get(&format!("{prefix}.weight"))?,
                get(&format!("{prefix}.bias"))?,
                precision,
            ))
        };
        let linear = |prefix: &str| linear_in(prefix, precision);
        let norm = |prefix: &str| -> Result<LayerNorm> {
            Ok(LayerNorm {
                weight: get(&format!("{prefix}.weight"))?,
                bias: get(&format!("{prefix}.bias"))?,
            })
        };
        let mut blocks = Vec::new();
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            blocks.push(Block {
                query: linear(&format!("{p}.attention.self.query"))?,
                key: linear(&format!("{p}.attention.self.key"))?,
                // Measured on e5-small: the value projection is the sensitive one (lowest sentence
                // cosine to fp32 0.9986 with it in int8, 0.9992 without; query/key in fp32: 0.9987).
                value: linear_in(&format!("{p}.attention.self.value"), Precision::Fp32)?,
                attention_output: linear(&format!("{p}.attention.output.dense"))?,
                attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                intermediate: linear(&format!("{p}.intermediate.dense"))?,
                output: linear(&format!("{p}.output.dense"))?,
                output_norm: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Encoder {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type: get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: norm("embeddings.LayerNorm")?,
            blocks,
            heads: config.num_attention_heads,
            activation: config.hidden_act,
        })
    }

    /// Hidden states [batch, length, hidden] of unpadded windows of one length (no attention mask:
    /// the embedder never pads).
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        let (batch, length) = ids.size2().expect("ids [batch, length]");
        let positions = Tensor::arange(length, (Kind::Int64, ids.device()))
            .unsqueeze(0)
            .expand([batch, length], true);
        let types = Tensor::zeros([batch, length], (Kind::Int64, ids.device()));
        let embedded = Tensor::embedding(&self.word, ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false)
            + Tensor::embedding(&self.token_type, &types, -1, false, false);
        let mut hidden = self.embedding_norm.forward(&embedded);
        let act = self.activation.get_function();
        for block in &self.blocks {
            let heads = |x: Tensor| {
                x.view([batch, -1, self.heads, x.size()[2] / self.heads])
                    .transpose(1, 2)
            };
            let key = heads(block.key.forward(&hidden));
            let value = heads(block.value.forward(&hidden));
            let query = heads(block.query.forward(&hidden));
            let head_dim = *query.size().last().unwrap_or(&1);
            let query = query / (head_dim as f64).sqrt();
            let weights = query
                .matmul(&key.transpose(-1, -2))
                .softmax(-1, Kind::Float);
            let context = weights.matmul(&value).transpose(1, 2).contiguous().view([
                batch,
                -1,
                self.heads * head_dim,
            ]);
            let attended = block
                .attention_norm
                .forward(&(&hidden + block.attention_output.forward(&context)));
            let inner = (act.get_fn())(&block.intermediate.forward(&attended));
            hidden = block
                .output_norm
                .forward(&(&attended + block.output.forward(&inner)));
        }
        hidden
    }
}
