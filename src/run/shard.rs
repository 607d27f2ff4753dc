//! Splitting one run into N independent shards, and putting their outputs back together.
//!
//! A record's shard comes from a stable hash of its article id (its own id, or the one derived from
//! its content), never from its position: re-runs, a growing archive and re-ordered exports keep
//! every article in the shard it was in. Records that cannot be read at all have no id and go to
//! shard 0, so each such error is reported by exactly one shard.
use crate::formats::{self, FieldMap, RawRecord, Records};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Shard `index` of `count` (`K/N`, K from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's index, from 0 to `count - 1`.
    pub index: u64,
    /// How many shards the run is split into (at least 1).
    pub count: u64,
}

/// The environment variable a Kubernetes Indexed Job sets to the pod's index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

impl Shard {
    /// Parses `K/N`; K may be `env`, which reads the index from `$JOB_COMPLETION_INDEX`.
    pub fn parse(spec: &str, env_index: Option<&str>) -> Result<Shard, String> {
        let bad = |why: &str| format!("--shard expects K/N with 0 <= K < N (got {spec:?}): {why}");
        let (k, n) = spec
            .split_once('/')
            .ok_or_else(|| bad("no '/' between K and N"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        let index: u64 = if k.trim() == "env" {
            let value = env_index.ok_or_else(|| {
                bad(&format!(
                    "K is 'env' but {INDEX_ENV} is not set (it is set in a Kubernetes Indexed Job)"
                ))
            })?;
            value
                .trim()
                .parse()
                .map_err(|_| bad(&format!("{INDEX_ENV}={value:?} is not a whole number")))?
        } else {
            k.trim()
                .parse()
                .map_err(|_| bad("K is not a whole number (or 'env')"))?
        };
        if index >= count {
            return Err(bad("K must be below N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard takes the record.
    pub fn takes(&self, record: &RawRecord, fields: &FieldMap) -> bool {
        shard_of(record_key(record, fields).as_deref(), self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a record is sharded by: its article id; for a readable record with neither id nor text,
/// its whole JSON text; `None` (shard 0) for a record that could not be read.
pub fn record_key(record: &RawRecord, fields: &FieldMap) -> Option<String> {
    let map = record.record.as_ref().ok()?;
    Some(object_key(map, fields, &record.source))
}

fn object_key(map: &Map<String, Value>, fields: &FieldMap, source: &formats::Source) -> String {
    formats::article_id(map, fields, source)
        .unwrap_or_else(|| serde_json::to_string(map).expect("a JSON object serialises"))
}

/// The shard of a key among `count`: the first 8 bytes of its sha256, modulo `count`.
pub fn shard_of(key: Option<&str>, count: u64) -> u64 {
    let Some(key) = key else { return 0 };
    let digest = Sha256::digest(key.as_bytes());
    let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    head % count
}

/// What `merge` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Records written, in input order.
    pub records: usize,
    /// Input records that could not be read: a run writes nothing for them, and neither does merge.
    pub unreadable: usize,
}

/// One shard's output, read line by line.
/// A shard output's line as written, and its record.
type Line = (String, Map<String, Value>);

struct ShardOutput {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line: usize,
}

impl ShardOutput {
    fn open(path: &Path) -> Result<ShardOutput, String> {
        let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(ShardOutput {
            path: path.to_path_buf(),
            lines: BufReader::new(file).lines(),
            line: 0,
        })
    }

    /// The next record: its line as written (copied to the merged output byte for byte) and parsed.
    fn next(&mut self) -> Result<Option<Line>, String> {
        loop {
            let Some(line) = self.lines.next() else {
                return Ok(None);
            };
            self.line += 1;
            let line = line.map_err(|e| format!("{}: {e}", self.place()))?;
            if line.trim().is_empty() {
                continue;
            }
            return match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(map)) => Ok(Some((line, map))),
                Ok(_) => Err(format!("{}: not a JSON object", self.place())),
                Err(e) => Err(format!("{}: malformed JSON: {e}", self.place())),
            };
        }
    }

    fn place(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

/// Combines the `-o` outputs of shards `0/N .. N-1/N` (given in that order) into the output one
/// process would have written for `inputs`: the same records, in input order, byte for byte.
/// Refuses, naming file and line, when an article is missing, appears where it does not belong
/// (wrong order, overlapping or foreign outputs, or a different N), differs from the input
/// (changed since the shards ran), or when shards were enriched with different configs.
pub fn merge(
    inputs: Records,
    shard_paths: &[PathBuf],
    fields: &FieldMap,
    output_key: &str,
    out: &mut dyn Write,
) -> Result<MergeReport, String> {
    if shard_paths.is_empty() {
        return Err("no shard outputs to merge".into());
    }
    let count = shard_paths.len() as u64;
    let mut shards = shard_paths
        .iter()
        .map(|p| ShardOutput::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    // Per language, the config fingerprint and where it was first seen.
    let mut configs: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut report = MergeReport::default();
    for raw in inputs {
        let Ok(given) = &raw.record else {
            report.unreadable += 1;
            continue;
        };
        let key = object_key(given, fields, &raw.source);
        let k = shard_of(Some(&key), count) as usize;
        let shard = &mut shards[k];
        let Some((line, enriched)) = shard.next()? else {
            return Err(format!(
                "{} ends before article {key:?} of {} (shard {k}/{count}): a shard output is missing or its run did not finish",
                shard.path.display(),
                raw.origin
            ));
        };
        // A shard's line no longer knows its file: a Markdown file's path id is in its enrichment.
        let written = formats::Source {
            markdown: false,
            file_id: enriched
                .get(output_key)
                .and_then(|l| l.get("id"))
                .and_then(Value::as_str)
                .filter(|_| raw.source.file_id.is_some())
                .map(String::from),
            ..Default::default()
        };
        let found = object_key(&enriched, fields, &written);
        if found != key {
            return Err(format!(
                "{} holds article {found:?} where {}'s article {key:?} of shard {k}/{count} was expected: give the shard outputs in order 0..N-1, all N of them, each once, from this input",
                shard.place(),
                raw.origin
            ));
        }
        if !without(given, output_key).eq(without(&enriched, output_key)) {
            return Err(format!(
                "{}: article {key:?} has fields that differ from {}: the input changed after the shards ran",
                shard.place(),
                raw.origin
            ));
        }
        if let Some((language, config)) = config_of(&enriched, output_key) {
            let place = shard.place();
            let (first, seen_at) = configs
                .entry(language.clone())
                .or_insert_with(|| (config.clone(), place.clone()));
            if *first != config {
                return Err(format!(
                    "{place} was enriched with config {config} for language '{language}', but {seen_at} with {first}: shards of different configs are not merged (run them again with the same flags and models)"
                ));
            }
        }
        out.write_all(line.as_bytes())
            .and_then(|_| out.write_all(b"\n"))
            .map_err(|e| format!("cannot write the merged output: {e}"))?;
        report.records += 1;
    }
    for (k, shard) in shards.iter_mut().enumerate() {
        if let Some((_, extra)) = shard.next()? {
            return Err(format!(
                "{} holds article {:?}, which is not among the input's articles of shard {k}/{count}: overlapping shard outputs, or outputs of another input",
                shard.place(),
                object_key(&extra, fields, &formats::Source::default())
            ));
        }
    }
    Ok(report)
}

/// A record's own fields: all but the enrichment.
fn without<'a>(
    map: &'a Map<String, Value>,
    output_key: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
    map.iter().filter(move |(k, _)| k.as_str() != output_key)
}

/// The language and config fingerprint an enriched record was made with.
fn config_of(record: &Map<String, Value>, output_key: &str) -> Option<(String, String)> {
    let lede = record.get(output_key)?;
    let language = lede.get("language")?.get("code")?.as_str()?;
    let config = lede.get("provenance")?.get("config_hash")?.as_str()?;
    Some((language.to_string(), config.to_string()))
}

/// `lede merge`: the shards' outputs merged into `output` (written atomically), or into `stream`
/// when there is no output file. The inputs are files, read twice for a stream: once to check the
/// whole merge, so that a refused merge writes nothing, once to write it.
pub fn merge_files(
    inputs: &[PathBuf],
    shard_paths: &[PathBuf],
    fields: &FieldMap,
    output_key: &str,
    output: Option<&Path>,
    stream: &mut dyn Write,
) -> crate::Result<MergeReport> {
    let input_records = || -> crate::Result<Records> {
        let mut opened = Vec::new();
        for path in inputs {
            if path == Path::new("-") {
                return Err(crate::Error::Config(
                    "merge reads its input twice when writing stdout: give files, not stdin".into(),
                ));
            }
            opened.push(formats::open(path).map_err(|e| {
                crate::Error::Input(format!("cannot read input {}: {e}", path.display()))
            })?);
        }
        Ok(Box::new(opened.into_iter().flatten()))
    };
    let refused = crate::Error::Input;
    match output {
        Some(path) => {
            let mut file = crate::run::output::AtomicFile::create(path).map_err(|e| {
                crate::Error::Input(format!("cannot write beside {}: {e}", path.display()))
            })?;
            let report = merge(input_records()?, shard_paths, fields, output_key, &mut file)
                .map_err(refused)?;
            file.commit().map_err(|e| crate::Error::io(path, e))?;
            Ok(report)
        }
        None => {
            merge(
                input_records()?,
                shard_paths,
                fields,
                output_key,
                &mut std::io::sink(),
            )
            .map_err(refused)?;
            let report = merge(input_records()?, shard_paths, fields, output_key, stream)
                .map_err(refused)?;
            stream.flush().map_err(|e| crate::Error::io("stdout", e))?;
            Ok(report)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Origin;

    fn record(json: &str) -> RawRecord {
        RawRecord::new(
            Origin("t".into()),
            match serde_json::from_str(json).unwrap() {
                Value::Object(m) => Ok(m),
                _ => unreachable!(),
            },
        )
    }

    #[test]
    fn parses_shard_specs_and_refuses_bad_ones() {
        assert_eq!(Shard::parse("0/1", None), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard::parse("3/4", None), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(
            Shard::parse("env/8", Some("5")),
            Ok(Shard { index: 5, count: 8 })
        );
        for (spec, env, why) in [
            ("3/2", None, "K must be below N"),
            ("2/2", None, "K must be below N"),
            ("0/0", None, "N must be at least 1"),
            ("x", None, "no '/'"),
            ("a/2", None, "K is not a whole number"),
            ("1/b", None, "N is not a whole number"),
            ("-1/2", None, "K is not a whole number"),
            ("env/2", None, "JOB_COMPLETION_INDEX is not set"),
            ("env/2", Some("two"), "is not a whole number"),
            ("env/2", Some("2"), "K must be below N"),
        ] {
            let err = Shard::parse(spec, env).unwrap_err();
            assert!(err.contains(why), "{spec}: {err}");
            assert!(err.contains(spec), "{spec}: {err}");
        }
    }

    #[test]
    fn every_record_lands_in_exactly_one_shard_by_id_not_position() {
        let fields = FieldMap::default();
        let records: Vec<RawRecord> = (0..200)
            .map(|i| record(&format!(r#"{{"id":"a{i}","body":"text {i}"}}"#)))
            .collect();
        for n in [1, 2, 3, 7] {
            let mut per_shard = vec![0; n];
            for r in &records {
                let owners: Vec<u64> = (0..n as u64)
                    .filter(|&k| {
                        Shard {
                            index: k,
                            count: n as u64,
                        }
                        .takes(r, &fields)
                    })
                    .collect();
                assert_eq!(owners.len(), 1);
                per_shard[owners[0] as usize] += 1;
            }
            // A hash spreads 200 ids over every shard.
            assert!(per_shard.iter().all(|&c| c > 0), "{n}: {per_shard:?}");
        }
        // The same id goes to the same shard whatever else the record holds or where it stands.
        let a = record(r#"{"id":"a7","body":"one text"}"#);
        let b = record(r#"{"body":"another text","id":"a7","extra":1}"#);
        assert_eq!(record_key(&a, &fields), record_key(&b, &fields));
        // No id: the content decides; an unreadable record goes to shard 0.
        let c = record(r#"{"body":"same words"}"#);
        let d = record(r#"{"body":"same words","note":"x"}"#);
        assert_eq!(record_key(&c, &fields), record_key(&d, &fields));
        let broken = RawRecord::new(Origin("t:1".into()), Err("malformed JSON".into()));
        assert_eq!(shard_of(record_key(&broken, &fields).as_deref(), 5), 0);
    }
}
