//! How common a word is in general, by language: the word-frequency lists of PyPI `wordfreq` 3.1.1
//! (Robyn Speer et al.; lists under CC BY-SA 4.0), installed from the pinned wheel like a model
//! (`lede models install wordfreq`, checksums in `models/manifest.json`). The learnt keyword scorer
//! reads them: "states", "issues" or "started" are common anywhere, "tram line" or "NATO" are not.
//!
//! The files are wordfreq's cBpack: gzip over msgpack, a header map and then one list of words per
//! centibel of frequency (list `i` holds the words of frequency `10^(-i/100)`). Frequencies are
//! given on the Zipf scale, `log10(frequency per billion words)`: 7 for "the", about 3 for a word
//! seen once per million words, 0 for a word the list does not hold.

use crate::error::{Error, Result};
use crate::model::store::Store;
use crate::model::PerLanguage;
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The store's name for the lists.
pub const MODEL: &str = "wordfreq";

/// The installed lists, each read on first use.
#[derive(Debug)]
pub struct WordFrequencies {
    dir: PathBuf,
    id: String,
    tables: PerLanguage<FrequencyTable>,
}

impl WordFrequencies {
    /// The lists installed in the store (checksums verified), or an error saying what to install.
    pub fn from_store(store: &Store) -> Result<Self> {
        let dir = store.require(MODEL)?;
        let spec = store.manifest.get(MODEL)?;
        let version = spec.sources.first().map_or("", |s| s.version.as_str());
        Ok(Self::open(&dir, format!("{MODEL} {version}")))
    }

    /// The lists in `dir` (`large_en.msgpack.gz`, `small_is.msgpack.gz`, ...), named `id` in
    /// provenance.
    pub fn open(dir: &Path, id: impl Into<String>) -> Self {
        Self {
            dir: dir.to_path_buf(),
            id: id.into(),
            tables: PerLanguage::new(MODEL),
        }
    }

    /// What provenance names these lists by (`wordfreq 3.1.1`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The list for a language (ISO 639-1, a region suffix ignored): the large list where wordfreq
    /// has one, else the small one; `None` for a language it has no list for.
    pub fn for_language(&self, lang: &str) -> Result<Option<Arc<FrequencyTable>>> {
        let lang = list_language(lang);
        self.tables.get(&lang, || {
            ["large", "small"]
                .iter()
                .map(|size| self.dir.join(format!("{size}_{lang}.msgpack.gz")))
                .find(|path| path.is_file())
                .map(|path| FrequencyTable::read(&path))
                .transpose()
        })
    }
}

/// The same lists: the same folder and version.
impl PartialEq for WordFrequencies {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir && self.id == other.id
    }
}

/// wordfreq's code for a language lede detects: the base code, with Norwegian under Bokmål, the
/// Serbo-Croatian languages under `sh` and Tagalog under Filipino, as wordfreq files them.
fn list_language(lang: &str) -> String {
    let base = crate::stages::language::base_code(lang);
    match base.as_str() {
        "no" | "nn" => "nb".into(),
        "hr" | "bs" | "sr" => "sh".into(),
        "tl" => "fil".into(),
        _ => base,
    }
}

/// One language's list: Zipf frequency by (case-folded) word.
#[derive(Debug)]
pub struct FrequencyTable {
    zipf: HashMap<Box<str>, f32>,
}

impl FrequencyTable {
    /// Reads a cBpack file (gzip, msgpack).
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::Model {
            model: MODEL.to_string(),
            reason: format!("{}: {reason}", path.display()),
        };
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut bytes = Vec::new();
        GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("not a gzip file: {e}")))?;
        Self::from_cbpack(&bytes).map_err(bad)
    }

    /// Parses cBpack's msgpack: `[{"format": "cB", "version": 1}, [words...], [words...], ...]`.
    pub fn from_cbpack(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut r = MsgPack { bytes, at: 0 };
        let buckets = r.array_len()?.checked_sub(1).ok_or("empty file")?;
        let mut header = HashMap::new();
        for _ in 0..r.map_len()? {
            let key = r.str()?.to_string();
            let value = if r.peek()? < 0x80 {
                r.byte()?.to_string()
            } else {
                r.str()?.to_string()
            };
            header.insert(key, value);
        }
        if header.get("format").map(String::as_str) != Some("cB")
            || header.get("version").map(String::as_str) != Some("1")
        {
            return Err(format!(
                "not a cBpack version 1 word list (header {header:?})"
            ));
        }
        let mut zipf = HashMap::new();
        for centibels in 0..buckets {
            let value = 9.0 - centibels as f32 / 100.0;
            for _ in 0..r.array_len()? {
                zipf.insert(r.str()?.into(), value);
            }
        }
        Ok(Self { zipf })
    }

    /// Zipf frequency of one word (0 when the list does not hold it). Case-folded as wordfreq folds
    /// its lists; a word that punctuation splits ("well-known") counts as its rarest part.
    pub fn word_zipf(&self, word: &str) -> f32 {
        let folded = word
            .to_lowercase()
            .replace('ß', "ss")
            .replace('ς', "σ")
            .replace('’', "'");
        let parts: Vec<&str> = folded
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(|p| p.trim_matches('\''))
            .filter(|p| !p.is_empty())
            .collect();
        parts
            .iter()
            .map(|p| self.zipf.get(*p).copied().unwrap_or(0.0))
            .reduce(f32::min)
            .unwrap_or(0.0)
    }

    /// A list from (word, Zipf frequency) pairs, words given case-folded.
    pub fn from_pairs<'w>(pairs: impl IntoIterator<Item = (&'w str, f32)>) -> Self {
        Self {
            zipf: pairs.into_iter().map(|(w, z)| (w.into(), z)).collect(),
        }
    }

    /// Words in the list.
    pub fn len(&self) -> usize {
        self.zipf.len()
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.zipf.is_empty()
    }
}

/// The part of msgpack cBpack files use: arrays, one map, strings, small integers.
struct MsgPack<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> MsgPack<'a> {
    fn peek(&self) -> std::result::Result<u8, String> {
        self.bytes
            .get(self.at)
            .copied()
            .ok_or_else(|| "truncated".to_string())
    }

    fn byte(&mut self) -> std::result::Result<u8, String> {
        let b = self.peek()?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| "truncated".to_string())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn uint(&mut self, width: usize) -> std::result::Result<usize, String> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b)))
    }

    /// Length of an array (`fix` 0x90, then 0xdc, 0xdd) or a map (0x80, 0xde, 0xdf): the fix
    /// form holds it in the tag's low four bits, the others in the next 2 or 4 bytes.
    fn container_len(
        &mut self,
        fix: u8,
        wide: u8,
        what: &str,
    ) -> std::result::Result<usize, String> {
        match self.byte()? {
            t if t & 0xf0 == fix => Ok(usize::from(t & 0x0f)),
            t if t == wide => self.uint(2),
            t if t == wide + 1 => self.uint(4),
            t => Err(format!(
                "expected {what} at byte {}, found 0x{t:02x}",
                self.at - 1
            )),
        }
    }

    fn array_len(&mut self) -> std::result::Result<usize, String> {
        self.container_len(0x90, 0xdc, "an array")
    }

    fn map_len(&mut self) -> std::result::Result<usize, String> {
        self.container_len(0x80, 0xde, "a map")
    }

    fn str(&mut self) -> std::result::Result<&'a str, String> {
        let len = match self.byte()? {
            t @ 0xa0..=0xbf => usize::from(t & 0x1f),
            0xd9 => self.uint(1)?,
            0xda => self.uint(2)?,
            0xdb => self.uint(4)?,
            t => {
                return Err(format!(
                    "expected a string at byte {}, found 0x{t:02x}",
                    self.at - 1
                ))
            }
        };
        let at = self.at;
        std::str::from_utf8(self.take(len)?).map_err(|e| format!("bad UTF-8 at byte {at}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cBpack in msgpack bytes: header, then the given buckets.
    fn pack(buckets: &[&[&str]]) -> Vec<u8> {
        let n = buckets.len() as u16 + 1;
        let mut b = vec![0xdc, (n >> 8) as u8, n as u8, 0x82];
        for s in ["format", "cB", "version"] {
            b.push(0xa0 | s.len() as u8);
            b.extend_from_slice(s.as_bytes());
        }
        b.push(1);
        for bucket in buckets {
            b.push(0x90 | bucket.len() as u8);
            for w in *bucket {
                b.push(0xa0 | w.len() as u8);
                b.extend_from_slice(w.as_bytes());
            }
        }
        b
    }

    #[test]
    fn reads_buckets_as_zipf_frequencies() {
        let mut buckets: Vec<&[&str]> = vec![&[]; 300];
        buckets[200] = &["the"];
        buckets[299] = &["tram", "strasse"];
        let t = FrequencyTable::from_cbpack(&pack(&buckets)).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.word_zipf("The"), 7.0);
        assert!((t.word_zipf("tram") - 6.01).abs() < 1e-5);
        assert_eq!(t.word_zipf("Straße"), t.word_zipf("strasse"));
        // A hyphenated word is as rare as its rarest part; an unknown word is 0.
        assert_eq!(t.word_zipf("the-tram"), t.word_zipf("tram"));
        assert_eq!(t.word_zipf("Radschnellweg"), 0.0);
    }

    #[test]
    fn refuses_what_is_not_a_word_list() {
        let mut bytes = pack(&[&["a"]]);
        bytes[5] = b'x'; // "format" -> "xormat"
        let err = FrequencyTable::from_cbpack(&bytes).unwrap_err();
        assert!(err.contains("not a cBpack"), "{err}");
        let err = FrequencyTable::from_cbpack(&pack(&[&["a"]])[..14]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn languages_map_to_wordfreqs_codes() {
        assert_eq!(list_language("pl"), "pl");
        assert_eq!(list_language("nn"), "nb");
        assert_eq!(list_language("hr-HR"), "sh");
    }
}
