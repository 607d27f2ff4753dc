//! Never redoing work and never losing it: a journal of finished enrichments for runs that get
//! killed, an index of earlier outputs to reuse unchanged articles from, and the duplicate-id rule.
//!
//! An earlier enrichment is reused only when its article id, content hash and config fingerprint
//! all match (checked by `Enricher`); everything here only finds candidates.
use crate::run::pipeline::{EarlierEnrichments, Outcome};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Append-only file of the enrichments a run has finished, one JSON object per line, synced to disk
/// after every chunk. A killed run leaves it behind and the next run over the same output reuses
/// it; a completed run removes it. Locked while open, so two runs cannot write one output.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// `.NAME.lede-journal` beside the output.
    pub fn path_for(output: &Path) -> PathBuf {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(format!(".{name}.lede-journal"))
    }

    /// Opens or creates the journal and cuts off a line torn by a crash. Fails when another run
    /// holds it.
    pub fn open(path: &Path) -> io::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        if let Err(e) = file.try_lock() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{} is in use by another lede run writing the same output ({e})",
                    path.display()
                ),
            ));
        }
        let whole = complete_lines_len(&mut file)?;
        if whole < file.metadata()?.len() {
            file.set_len(whole)?;
            file.sync_all()?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends enrichments and waits until they are on disk.
    pub fn append<'a>(
        &mut self,
        enrichments: impl IntoIterator<Item = &'a Value>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        for e in enrichments {
            serde_json::to_writer(&mut buf, e)?;
            buf.push(b'\n');
        }
        if buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&buf)?;
        self.file.sync_data()
    }

    /// The run completed and its output is in place: the journal is no longer needed.
    pub fn remove(self) -> io::Result<()> {
        drop(self.file);
        fs::remove_file(&self.path)
    }
}

/// Length of the file up to and including its last newline.
fn complete_lines_len(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut buf = vec![0u8; 1 << 16];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    file.seek(SeekFrom::End(0))?;
    Ok(0)
}

/// Where an earlier enrichment sits: file, byte offset and length of its line.
#[derive(Clone, Copy)]
struct Location {
    file: u32,
    offset: u64,
    len: u32,
}

/// Earlier outputs and journals, indexed by article id and content hash. Holds only the index (a
/// few dozen bytes per article) and reads an enrichment back from disk when it is asked for.
#[derive(Default)]
pub struct EarlierOutputs {
    /// Each file, and the key its records carry the enrichment under (`None`: a journal, whose lines
    /// are enrichments).
    files: Vec<(File, Option<String>)>,
    index: HashMap<[u8; 16], Vec<Location>>,
    entries: usize,
}

impl EarlierOutputs {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes a JSONL output of an earlier run; its enrichments sit under `output_key`. Lines
    /// that do not parse are ignored (they are never reused). Returns how many were indexed.
    pub fn add_output(&mut self, path: &Path, output_key: &str) -> io::Result<usize> {
        self.add(path, Some(output_key.to_string()))
    }

    /// Indexes a journal left by a run that did not complete.
    pub fn add_journal(&mut self, path: &Path) -> io::Result<usize> {
        self.add(path, None)
    }

    /// How many earlier enrichments are indexed.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether no earlier enrichment is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    fn add(&mut self, path: &Path, key: Option<String>) -> io::Result<usize> {
        let file = File::open(path)?;
        let file_no = self.files.len() as u32;
        let mut reader = BufReader::with_capacity(1 << 16, file.try_clone()?);
        let mut offset = 0u64;
        let mut line = Vec::new();
        let mut added = 0;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            if let Some(e) = serde_json::from_slice::<Value>(&line)
                .ok()
                .and_then(|v| enrichment_of(v, key.as_deref()))
            {
                if let Some(k) = index_key_of(&e) {
                    self.index.entry(k).or_default().push(Location {
                        file: file_no,
                        offset,
                        len: n as u32,
                    });
                    added += 1;
                }
            }
            offset += n as u64;
        }
        self.files.push((file, key));
        self.entries += added;
        Ok(added)
    }
}

impl EarlierEnrichments for EarlierOutputs {
    /// The last indexed candidate first: a journal (added after the output) is newer.
    fn find(&self, id: &str, content_hash: &str) -> Option<Map<String, Value>> {
        let locations = self.index.get(&index_key(id, content_hash))?;
        locations.iter().rev().find_map(|loc| {
            let (file, key) = &self.files[loc.file as usize];
            let mut buf = vec![0u8; loc.len as usize];
            file.read_exact_at(&mut buf, loc.offset).ok()?;
            let v = serde_json::from_slice::<Value>(&buf).ok()?;
            match enrichment_of(v, key.as_deref())? {
                Value::Object(m) => Some(m),
                _ => None,
            }
        })
    }
}

fn enrichment_of(line: Value, key: Option<&str>) -> Option<Value> {
    match key {
        None => Some(line),
        Some(k) => match line {
            Value::Object(mut m) => m.shift_remove(k),
            _ => None,
        },
    }
}

fn index_key_of(enrichment: &Value) -> Option<[u8; 16]> {
    let id = enrichment.get("id")?.as_str()?;
    let hash = enrichment
        .get("provenance")?
        .get("content_hash")?
        .as_str()?;
    Some(index_key(id, hash))
}

fn index_key(id: &str, content_hash: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(content_hash.as_bytes());
    h.finalize()[..16].try_into().expect("16 bytes")
}

/// The duplicate-id rule: the first record with an id is enriched; a later record with the same id
/// is an error naming where the id was first seen, and is written unchanged with the error in place
/// of the enrichment, so nothing is lost and nothing is silently overwritten downstream.
#[derive(Default)]
pub struct DuplicateIds {
    first_seen: HashMap<String, String>,
}

impl DuplicateIds {
    /// Records the outcome's id, or, when an earlier record had it, turns the outcome into the
    /// duplicate-id error (its enrichment under `output_key` replaced by the error).
    pub fn check(&mut self, outcome: &mut Outcome, output_key: &str) {
        let Some(id) = &outcome.id else { return };
        if outcome.error.is_some() {
            return;
        }
        match self.first_seen.get(id) {
            None => {
                self.first_seen.insert(id.clone(), outcome.origin.clone());
            }
            Some(first) => {
                let error = format!("duplicate id {id:?} (first seen at {first}); not enriched");
                if let Some(Value::Object(record)) = &mut outcome.output {
                    let mut m = Map::new();
                    m.insert("error".into(), Value::String(error.clone()));
                    record.insert(output_key.to_string(), Value::Object(m));
                }
                outcome.error = Some(error);
                outcome.reused = false;
                outcome.changed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enrichment(id: &str, hash: &str, n: u64) -> Value {
        json!({"id": id, "n": n, "provenance": {"content_hash": hash, "config_hash": "c"}})
    }

    #[test]
    fn journal_survives_a_torn_last_line_and_is_found_by_id_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_for(&dir.path().join("out.jsonl"));
        assert!(path.ends_with(".out.jsonl.lede-journal"));
        {
            let mut j = Journal::open(&path).unwrap();
            j.append(&[enrichment("a", "h1", 1), enrichment("b", "h2", 2)])
                .unwrap();
        }
        // A crash in the middle of the next write.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"id":"c","provenance":{"conte"#).unwrap();
        drop(f);
        let mut j = Journal::open(&path).unwrap();
        j.append(&[enrichment("d", "h4", 4)]).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let mut earlier = EarlierOutputs::new();
        assert_eq!(earlier.add_journal(&path).unwrap(), 3);
        assert_eq!(earlier.find("b", "h2").unwrap()["n"], 2);
        assert_eq!(earlier.find("d", "h4").unwrap()["n"], 4);
        assert!(earlier.find("b", "other content").is_none());
        assert!(earlier.find("c", "h3").is_none());
        // A second run on the same output is refused while the first holds the journal.
        let err = Journal::open(&path).err().expect("locked");
        assert!(err.to_string().contains("another lede run"), "{err}");
        j.remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn earlier_output_is_indexed_under_its_key_and_newer_sources_win() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let lines = [
            json!({"id": "a", "body": "x", "lede": enrichment("a", "h1", 1)}),
            json!({"id": "b", "body": "y", "lede": {"error": "no text"}}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\nnot json\n")).collect();
        fs::write(&out, text).unwrap();
        let journal = dir.path().join("j");
        fs::write(&journal, format!("{}\n", enrichment("a", "h1", 9))).unwrap();
        let mut earlier = EarlierOutputs::new();
        assert_eq!(earlier.add_output(&out, "lede").unwrap(), 1);
        assert_eq!(earlier.find("a", "h1").unwrap()["n"], 1);
        earlier.add_journal(&journal).unwrap();
        assert_eq!(earlier.find("a", "h1").unwrap()["n"], 9);
        assert_eq!(earlier.len(), 2);
    }

    #[test]
    fn a_second_record_with_a_seen_id_is_an_error_and_keeps_its_fields() {
        let mut ids = DuplicateIds::default();
        let outcome = |origin: &str| Outcome {
            origin: origin.into(),
            id: Some("x".into()),
            output: Some(json!({"id": "x", "body": origin, "lede": {"id": "x"}})),
            error: None,
            reused: false,
            changed: true,
        };
        let (mut first, mut second) = (outcome("f:1"), outcome("f:7"));
        ids.check(&mut first, "lede");
        ids.check(&mut second, "lede");
        assert!(first.error.is_none());
        let err = second.error.as_deref().unwrap();
        assert!(
            err.contains("duplicate id \"x\"") && err.contains("f:1"),
            "{err}"
        );
        let out = second.output.unwrap();
        assert_eq!(out["body"], "f:7");
        assert_eq!(out["lede"]["error"], err);
    }
}
