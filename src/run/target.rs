//! Where a run's enriched records go: a stream (stdout), one file written atomically, the input
//! files themselves (`--in-place`), a folder of one file per article, or nowhere (`--check`, which
//! only lists the stale files).
use crate::formats::parquet::io::ParquetOutput;
use crate::formats::{FieldMap, Format};
use crate::run::output::{self, AtomicFile, InPlace, OutputDir};
use crate::run::pipeline::Outcome;
use crate::{Error, Result};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a run writes, as the caller asks for it.
pub enum Output {
    /// One record a line to this writer (the CLI's stdout), flushed after every chunk so that an
    /// engine reading it gets each batch as soon as it is done. Nothing to resume from.
    Stream(Box<dyn Write>),
    /// One JSONL file, written to a temporary file and renamed over the target at the end; a
    /// journal beside it lets a killed run resume. A WordPress export (`.xml`) given one WordPress
    /// export as input gets an enriched copy of that export instead.
    File(PathBuf),
    /// Each record back into the file it came from, every other byte unchanged.
    InPlace,
    /// One JSON file per article id in this folder; unchanged files are not rewritten.
    Dir(PathBuf),
    /// Nothing is written: files whose enrichment is missing or stale are reported
    /// ([`crate::run::Event::Stale`]).
    Check,
}

impl Output {
    /// The flag that writes back into the input files, when this output does (for messages).
    pub(crate) fn back_to_files(&self) -> Option<&'static str> {
        match self {
            Output::InPlace => Some("--in-place"),
            Output::Check => Some("--check"),
            _ => None,
        }
    }
}

/// An output opened for a run.
pub(crate) enum Target {
    Stream(Box<dyn Write>),
    File(AtomicFile),
    InPlace(InPlace),
    /// A Parquet table: the input's columns and lede's, written to a temporary file renamed over
    /// the target at the end.
    Parquet(Box<ParquetTarget>),
    /// The folder, and how many files this run wrote to it.
    Dir(OutputDir, usize),
    Check(BTreeSet<String>),
}

/// `-o out.parquet`: the input table's rows that the run enriched, every original column and
/// lede's, streamed to a temporary file beside the target.
pub(crate) struct ParquetTarget {
    writer: Option<ParquetOutput>,
    tmp: PathBuf,
    target: PathBuf,
    key: String,
}

impl ParquetTarget {
    /// Starts writing `target` from the table `input`; lede's column is named `key`.
    pub fn create(input: &Path, target: &Path, key: &str) -> Result<ParquetTarget> {
        let tmp = output::temp_path(target).map_err(|e| Error::io(target, e))?;
        let writer = ParquetOutput::create(input, &tmp, key)
            .map_err(|e| Error::Input(format!("cannot write {}: {e}", target.display())))?;
        Ok(ParquetTarget {
            writer: Some(writer),
            tmp,
            target: target.to_path_buf(),
            key: key.to_string(),
        })
    }

    fn write(&mut self, outcome: &Outcome, row: Option<u64>) -> Result<()> {
        let Some(row) = row else {
            return Ok(());
        };
        let value = outcome
            .output
            .as_ref()
            .and_then(|o| o.get(&self.key))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let target = self.target.display().to_string();
        self.writer
            .as_mut()
            .expect("open until finished")
            .push(row, &value)
            .map_err(|e| Error::Temporary {
                message: format!("cannot write {target}: {e}"),
            })
    }

    fn finish(mut self) -> Result<()> {
        let target = self.target.display().to_string();
        self.writer
            .take()
            .expect("open until finished")
            .finish()
            .map_err(|e| Error::Temporary {
                message: format!("cannot write {target}: {e}"),
            })?;
        std::fs::rename(&self.tmp, &self.target)
            .map_err(temporary(format!("cannot write {target}")))?;
        output::sync_parent(&self.target);
        Ok(())
    }
}

impl Drop for ParquetTarget {
    fn drop(&mut self) {
        drop(self.writer.take());
        if self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// What a finished target reports: lines for the user, files that could not be written, stale files.
pub(crate) struct Finished {
    pub lines: Vec<String>,
    pub failed_files: usize,
    pub stale_files: usize,
}

/// An I/O failure part way through a run: a retry may cure it.
pub(crate) fn temporary(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Temporary {
        message: format!("{what}: {source}"),
    }
}

impl Target {
    /// One record's outcome. `file` is where the record came from (for in-place and check);
    /// `jsonld` (output key, fields) writes its NewsArticle instead of the record. Returns the
    /// name of a file newly found stale, for `--check`.
    pub fn write(
        &mut self,
        outcome: &Outcome,
        file: Option<&(PathBuf, &'static dyn Format)>,
        row: Option<u64>,
        jsonld: Option<&(String, FieldMap)>,
    ) -> Result<Option<String>> {
        match self {
            Target::Parquet(table) => table.write(outcome, row)?,
            Target::Stream(out) => write_line(out, outcome, jsonld)
                .map_err(temporary("cannot write the output".into()))?,
            Target::File(out) => {
                let name = out.target().display().to_string();
                write_line(out, outcome, jsonld)
                    .map_err(temporary(format!("cannot write {name}")))?
            }
            Target::Check(stale) => {
                if outcome.changed && outcome.error.is_none() {
                    let name = file
                        .map(|(path, _)| path.display().to_string())
                        .unwrap_or_else(|| outcome.origin.clone());
                    if stale.insert(name.clone()) {
                        return Ok(Some(name));
                    }
                }
            }
            Target::InPlace(in_place) => {
                let (path, format) = file.expect("in-place records know their file");
                in_place
                    .add(path, *format, outcome)
                    .map_err(temporary(format!("cannot rewrite {}", path.display())))?;
            }
            Target::Dir(dir, written) => {
                // Unreadable records and repeated ids have no file of their own to go to.
                if let (None, Some(id), Some(value)) =
                    (&outcome.error, &outcome.id, &outcome.output)
                {
                    if dir.write(id, value).map_err(temporary(format!(
                        "cannot write {}",
                        dir.path_for(id).display()
                    )))? {
                        *written += 1;
                    }
                }
            }
        }
        Ok(None)
    }

    /// `--filter`: a line that could not be read comes back with its error, so no input line
    /// vanishes from the stream.
    pub fn write_unreadable(
        &mut self,
        outcome: &Outcome,
        unparsed: Option<String>,
        key: &str,
    ) -> Result<()> {
        let Target::Stream(out) = self else {
            unreachable!("a filter writes a stream")
        };
        let error = format!(
            "{}: {}",
            outcome.origin,
            outcome.error.as_deref().unwrap_or("unreadable")
        );
        let line = serde_json::json!({ key: { "error": error, "input": unparsed } });
        serde_json::to_writer(&mut *out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(temporary("cannot write the output".into()))
    }

    /// Hands what is written so far to the reader of a stream.
    pub fn flush(&mut self) -> Result<()> {
        match self {
            Target::Stream(out) => out
                .flush()
                .map_err(temporary("cannot write the output".into())),
            _ => Ok(()),
        }
    }

    /// Puts the output in place.
    pub fn finish(self) -> Result<Finished> {
        let mut lines = Vec::new();
        let (mut failed_files, mut stale_files) = (0, 0);
        match self {
            Target::Check(stale) => stale_files = stale.len(),
            Target::Parquet(table) => table.finish()?,
            Target::Stream(mut out) => out
                .flush()
                .map_err(temporary("cannot write the output".into()))?,
            Target::File(file) => {
                let target = file.target().to_path_buf();
                file.commit()
                    .map_err(temporary(format!("cannot write {}", target.display())))?;
            }
            Target::InPlace(mut in_place) => {
                in_place
                    .close()
                    .map_err(temporary("cannot rewrite the last file".into()))?;
                lines.push(format!(
                    "in place: {} files rewritten, {} unchanged",
                    in_place.rewritten, in_place.unchanged
                ));
                for (path, n) in &in_place.refused {
                    lines.push(format!(
                        "{}: not rewritten: {n} of its records could not be read or enriched (see above)",
                        path.display()
                    ));
                }
                for (path, why) in &in_place.failed {
                    lines.push(format!("{}: {why}", path.display()));
                }
                failed_files = in_place.failed.len();
                for (path, keys) in &in_place.kept {
                    lines.push(format!(
                        "{}: kept the editor's {} (--overwrite replaces them)",
                        path.display(),
                        keys.join(", ")
                    ));
                }
            }
            Target::Dir(dir, written) => lines.push(format!(
                "{} files written to {} (the others were unchanged)",
                written,
                dir.dir.display()
            )),
        }
        Ok(Finished {
            lines,
            failed_files,
            stale_files,
        })
    }

    /// Stopped early: a stream is flushed; the output file and the file in hand are left as they
    /// were.
    pub fn abandon(self) -> Result<()> {
        match self {
            Target::Stream(mut out) => out
                .flush()
                .map_err(temporary("cannot write the output".into()))?,
            Target::File(file) => file.discard(),
            Target::InPlace(mut in_place) => in_place.abandon(),
            Target::Parquet(_) | Target::Dir(..) | Target::Check(_) => {}
        }
        Ok(())
    }

    /// The output file a journal belongs to, and whether earlier output in it may be reused.
    pub fn resumable(&self, inputs: &[PathBuf]) -> Option<(PathBuf, bool)> {
        match self {
            Target::File(f) => Some((f.target().to_path_buf(), true)),
            // A journal beside the table; its earlier version is not read back.
            Target::Parquet(t) => Some((t.target.clone(), false)),
            Target::InPlace(_) => inputs.first().map(|p| (p.clone(), false)),
            Target::Stream(_) | Target::Dir(..) | Target::Check(_) => None,
        }
    }
}

/// One output line: the enriched record, or with `jsonld` (output key, fields) its NewsArticle;
/// a record that could not be enriched has no NewsArticle (its error is reported).
fn write_line(
    out: &mut impl Write,
    outcome: &Outcome,
    jsonld: Option<&(String, FieldMap)>,
) -> std::io::Result<()> {
    let Some(value) = &outcome.output else {
        return Ok(());
    };
    let article;
    let value = match (jsonld, value.as_object()) {
        (Some((key, fields)), Some(record)) => {
            match crate::formats::jsonld::news_article(record, key, fields) {
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
    out.write_all(b"\n")
}
