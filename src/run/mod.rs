//! A run: the enrichment pipeline over a batch of inputs, and everything around it that makes a
//! batch safe to repeat: targets written atomically, the journal and resume, earlier outputs
//! reused, duplicate ids, shards, CI's changed files, and the final counts.
//!
//! See the crate's front page for an example.
pub mod builder;
pub mod changes;
pub mod journal;
pub mod output;
pub mod pipeline;
pub mod shard;
pub mod target;

pub use builder::{Pipeline, PipelineBuilder};
pub use target::Output;

use crate::formats::{self, FieldMap, Format, RawRecord, ReadOptions};
use crate::run::journal::{DuplicateIds, EarlierOutputs, Journal};
use crate::run::output::{AtomicFile, InPlace, OutputDir};
use crate::run::pipeline::{EarlierEnrichments, Outcome, Reuse};
use crate::run::shard::Shard;
use crate::run::target::{temporary, ParquetTarget, Target};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a run reads, where it writes, and how it treats work already done.
pub struct RunOptions {
    /// Files, folders, or `-` for stdin.
    pub inputs: Vec<PathBuf>,
    /// Where enriched records go.
    pub output: Output,
    /// Write each record's schema.org NewsArticle instead of the record (stream and file outputs).
    pub jsonld: bool,
    /// Recompute every article, reusing nothing from earlier runs.
    pub force: bool,
    /// A filter (Spark's `pipe`, a shell pipeline): a line that cannot be read comes back with its
    /// error instead of going missing, and failures do not fail the run.
    pub filter: bool,
    /// Only the records of this shard.
    pub shard: Option<Shard>,
    /// Only these files (canonical paths) of the inputs: CI's changed files.
    pub only: Option<BTreeSet<PathBuf>>,
    /// How inputs are read (a forced format, CSV's delimiter), and how Markdown articles are read
    /// and written back.
    pub read: ReadOptions,
    /// Set from another thread (Ctrl-C) to stop after the chunk in hand.
    pub stop: Option<Arc<AtomicBool>>,
}

impl RunOptions {
    /// Read `inputs`, write `output`; everything else as the CLI's defaults.
    pub fn new(inputs: Vec<PathBuf>, output: Output) -> RunOptions {
        RunOptions {
            inputs,
            output,
            jsonld: false,
            force: false,
            filter: false,
            shard: None,
            only: None,
            read: ReadOptions::default(),
            stop: None,
        }
    }
}

/// What happens during a run, for progress and messages; the run goes on whatever the callback does.
#[derive(Debug)]
pub enum Event<'a> {
    /// Earlier work found in an interrupted run's journal will be reused.
    Resumed {
        /// Articles the journal holds.
        articles: usize,
        /// The journal.
        journal: &'a Path,
    },
    /// A record could not be read or enriched; the rest of the batch goes on.
    Failed(&'a Outcome),
    /// `--check`: a file whose enrichment is missing or stale, once per file.
    Stale(&'a str),
    /// This many more records are done.
    Progress(usize),
    /// A record the reader found to hold no article (see [`RawRecord::skip`]): passed over.
    Skipped(&'a RawRecord),
}

/// Records enriched now, reused from earlier work, and failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Enriched by this run.
    pub enriched: usize,
    /// Unchanged since an earlier run: its enrichment was reused.
    pub reused: usize,
    /// Could not be read, enriched or written.
    pub failed: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match (&outcome.error, outcome.reused) {
            (Some(_), _) => self.failed += 1,
            (None, true) => self.reused += 1,
            (None, false) => self.enriched += 1,
        }
    }

    /// Every record the run saw.
    pub fn total(&self) -> usize {
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

/// How a run ended.
#[derive(Debug)]
pub struct RunReport {
    /// What happened to the records.
    pub counts: Counts,
    /// Lines for the user about the output (files rewritten, kept, refused).
    pub lines: Vec<String>,
    /// `--check`: files with a missing or stale enrichment.
    pub stale_files: usize,
    /// Stopped before the end of the input: where finished work is kept, if anywhere.
    pub interrupted: Option<Resume>,
    /// Seconds spent on records (loading models not included).
    pub seconds: f64,
}

/// Where an interrupted run's finished work is, so that the same command resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// In this journal.
    Journal(PathBuf),
    /// In the output folder's files.
    OutputDir,
    /// Nowhere: the output was a stream.
    Nothing,
}

/// One run over a batch: its inputs opened, ready to go through a pipeline.
pub struct Run {
    options: RunOptions,
    records: Box<dyn Iterator<Item = FileRecord>>,
}

/// A record, and for `--in-place` / `--check` the file it goes back to.
type FileRecord = (Option<Arc<(PathBuf, &'static dyn Format)>>, RawRecord);

impl Run {
    /// Opens the inputs as `options` say (before any model is loaded, so that a missing input
    /// fails at once). `fields` finds each record's id, for shards.
    pub fn open(mut options: RunOptions, fields: &FieldMap) -> Result<Run> {
        options.read.fields = fields.clone();
        output_as_copy(&mut options)?;
        let records = open_inputs(
            &options.inputs,
            options.output.back_to_files(),
            &options.read,
            options.only.as_ref(),
        )?;
        let records: Box<dyn Iterator<Item = FileRecord>> = match options.shard {
            Some(shard) => {
                let fields = fields.clone();
                Box::new(records.filter(move |(_, raw)| shard.takes(raw, &fields)))
            }
            None => records,
        };
        Ok(Run { options, records })
    }

    /// Reads every input in chunks, enriches, writes, and reports. A record that fails is an
    /// [`Event::Failed`] and a count, never the end of the run; an error here means the run could
    /// not go on (see [`Error::is_temporary`]).
    pub fn execute(
        self,
        pipeline: &Pipeline,
        mut on_event: impl FnMut(Event),
    ) -> Result<RunReport> {
        let Run {
            mut options,
            records,
        } = self;
        let key = pipeline.options().output_key.clone();
        let fields = pipeline.options().fields.clone();
        let check = matches!(options.output, Output::Check);
        let mut target = match std::mem::replace(&mut options.output, Output::Check) {
            Output::Check => Target::Check(BTreeSet::new()),
            Output::InPlace => Target::InPlace(InPlace::new(options.read.markdown.clone(), &key)),
            Output::Dir(dir) => {
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                Target::Dir(
                    OutputDir {
                        dir,
                        output_key: key.clone(),
                    },
                    0,
                )
            }
            Output::File(path) if formats::is_named_as(&path, &formats::parquet::Parquet) => {
                let input = match options.inputs.as_slice() {
                    [input] if formats::is_named_as(input, &formats::parquet::Parquet) && !options.jsonld => input,
                    _ => {
                        return Err(Error::Config(format!(
                            "-o {} writes an enriched copy of a Parquet table: give one .parquet file as input, or write JSONL (-o FILE.jsonl)",
                            path.display()
                        )))
                    }
                };
                Target::Parquet(Box::new(ParquetTarget::create(input, &path, &key)?))
            }
            Output::File(path) => Target::File(AtomicFile::create(&path).map_err(|e| {
                Error::Input(format!("cannot write beside {}: {e}", path.display()))
            })?),
            Output::Stream(out) => Target::Stream(out),
        };
        let (mut journal, earlier) = start(&target, &options, &key, &mut on_event)?;
        let reuse = Reuse {
            own: !options.force,
            earlier: earlier.as_deref(),
        };
        let jsonld = options.jsonld.then(|| (key.clone(), fields.clone()));
        let mut duplicates = DuplicateIds::default();
        let mut counts = Counts::default();
        let started = Instant::now();
        let stopping = || {
            options
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::SeqCst))
        };
        let mut records = records.peekable();
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        while records.peek().is_some() && !stopping() {
            let (files, mut chunk): (Vec<_>, Vec<RawRecord>) = records
                .by_ref()
                .take(pipeline.chunk_size())
                .filter(|(_, raw)| match &raw.skip {
                    Some(reason) => {
                        *skipped.entry(reason.clone()).or_default() += 1;
                        on_event(Event::Skipped(raw));
                        false
                    }
                    None => true,
                })
                .unzip();
            let unparsed: Vec<Option<String>> =
                chunk.iter_mut().map(|r| r.unparsed.take()).collect();
            let rows: Vec<Option<u64>> = chunk.iter().map(|r| r.source.row).collect();
            let mut outcomes = if check {
                pipeline.enricher().check_chunk(chunk, reuse)
            } else {
                pipeline.enricher().enrich_chunk(chunk, reuse)?
            };
            for outcome in &mut outcomes {
                duplicates.check(outcome, &key);
            }
            if let Some(journal) = &mut journal {
                let computed = outcomes
                    .iter()
                    .filter(|o| !o.reused && o.error.is_none())
                    .filter_map(|o| o.output.as_ref()?.get(&key));
                let path = journal.path().display().to_string();
                journal
                    .append(computed)
                    .map_err(temporary(format!("cannot write {path}")))?;
            }
            for (((outcome, file), unparsed), row) in
                outcomes.iter().zip(files).zip(unparsed).zip(rows)
            {
                if options.filter && outcome.output.is_none() {
                    target.write_unreadable(outcome, unparsed, &key)?;
                } else if let Some(stale) =
                    target.write(outcome, file.as_deref(), row, jsonld.as_ref())?
                {
                    on_event(Event::Stale(&stale));
                }
                counts.add(outcome);
                if outcome.error.is_some() {
                    on_event(Event::Failed(outcome));
                }
            }
            on_event(Event::Progress(outcomes.len()));
            target.flush()?;
        }
        let stopped = records.peek().is_some();
        drop(records);
        let seconds = started.elapsed().as_secs_f64();
        if stopped {
            let resume = match (&journal, &target) {
                (Some(journal), _) => Resume::Journal(journal.path().to_path_buf()),
                (None, Target::Dir(..)) => Resume::OutputDir,
                (None, _) => Resume::Nothing,
            };
            target.abandon()?;
            return Ok(RunReport {
                counts,
                lines: skipped_lines(&skipped),
                stale_files: 0,
                interrupted: Some(resume),
                seconds,
            });
        }
        let mut finished = target.finish()?;
        finished.lines.extend(skipped_lines(&skipped));
        counts.failed += finished.failed_files;
        if let Some(journal) = journal.take() {
            let path = journal.path().display().to_string();
            journal
                .remove()
                .map_err(temporary(format!("cannot remove {path}")))?;
        }
        Ok(RunReport {
            counts,
            lines: finished.lines,
            stale_files: finished.stale_files,
            interrupted: None,
            seconds,
        })
    }
}

/// Report lines for records passed over: how many, and why.
fn skipped_lines(skipped: &BTreeMap<String, usize>) -> Vec<String> {
    skipped
        .iter()
        .map(|(why, n)| format!("{n} skipped: {why}"))
        .collect()
}

/// Earlier results a run may reuse; `None` with `force` or when there is nowhere to look.
type Earlier = Option<Box<dyn EarlierEnrichments>>;

/// The run's journal (so a killed run resumes) and the earlier results it may reuse (so unchanged
/// articles are not recomputed): for a file output the earlier output and journal, for in-place the
/// journal (the records carry their own enrichment), for an output folder the folder's files.
fn start(
    target: &Target,
    options: &RunOptions,
    key: &str,
    on_event: &mut impl FnMut(Event),
) -> Result<(Option<Journal>, Earlier)> {
    let Some((path, is_output)) = target.resumable(&options.inputs) else {
        let earlier: Earlier = match target {
            Target::Dir(dir, _) if !options.force => Some(Box::new(dir.clone())),
            _ => None,
        };
        return Ok((None, earlier));
    };
    output::remove_stale_temps(&path);
    let journal_path = Journal::path_for(&path);
    if options.force {
        let _ = std::fs::remove_file(&journal_path);
    }
    let journal = Journal::open(&journal_path).map_err(temporary(format!(
        "cannot open the journal {}",
        journal_path.display()
    )))?;
    let mut earlier = EarlierOutputs::new();
    if !options.force {
        if is_output && path.is_file() {
            earlier
                .add_output(&path, key)
                .map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))?;
        }
        let resumed = earlier
            .add_journal(&journal_path)
            .map_err(|e| Error::Input(format!("cannot read {}: {e}", journal_path.display())))?;
        if resumed > 0 {
            on_event(Event::Resumed {
                articles: resumed,
                journal: &journal_path,
            });
        }
    }
    Ok((Some(journal), Some(Box::new(earlier))))
}

/// `-o enriched.xml` from a WordPress export, or `-o enriched.csv` from a CSV table, writes the
/// enriched export there, not JSONL: the input is copied to it and the copy is enriched in place, so
/// the input stays as it was. Which formats do: [`Format::writes_copies`].
fn output_as_copy(options: &mut RunOptions) -> Result<()> {
    let Output::File(output) = &options.output else {
        return Ok(());
    };
    let Some(format) = formats::FORMATS
        .iter()
        .find(|f| f.writes_copies() && formats::is_named_as(output, **f))
    else {
        return Ok(());
    };
    let output = output.clone();
    let input_format = match (options.inputs.as_slice(), options.read.format) {
        ([input], forced) if input != Path::new("-") && !input.is_dir() => forced
            .map(Ok)
            .unwrap_or_else(|| formats::format_of(input))
            .ok(),
        _ => None,
    };
    if input_format.map(|f| f.name()) != Some(format.name()) || options.jsonld {
        return Err(Error::Config(format!(
            "-o {} writes an enriched copy of a {} input: give one {} file as input, or write JSONL (-o FILE.jsonl)",
            output.display(),
            format.name(),
            format.name()
        )));
    }
    if options.shard.is_some() || options.only.is_some() {
        return Err(Error::Config(format!(
            "-o {} writes the whole enriched file: --shard, --changed-since and --files-from do not apply",
            output.display()
        )));
    }
    let original = std::fs::read(&options.inputs[0]).map_err(|e| {
        Error::Input(format!(
            "cannot read input {}: {e}",
            options.inputs[0].display()
        ))
    })?;
    output::write_if_changed(&output, &original)
        .map_err(|e| Error::Input(format!("cannot write {}: {e}", output.display())))?;
    options.inputs = vec![output];
    options.output = Output::InPlace;
    Ok(())
}

/// Every input's records in order; with `only` (from `--changed-since`), just the files in that set.
/// With `back_to_files` (the flag that asks for it) each record comes tagged with its file (a folder
/// stands for its files), and stdin is refused: there is nothing to write back to.
fn open_inputs(
    inputs: &[PathBuf],
    back_to_files: Option<&str>,
    read: &ReadOptions,
    only: Option<&BTreeSet<PathBuf>>,
) -> Result<Box<dyn Iterator<Item = FileRecord>>> {
    let wanted =
        |path: &Path| only.is_none_or(|set| path.canonicalize().is_ok_and(|p| set.contains(&p)));
    let tag_files = back_to_files.is_some();
    let mut sources: Vec<Box<dyn Iterator<Item = FileRecord>>> = Vec::new();
    for path in inputs {
        let cannot =
            |e: std::io::Error| Error::Input(format!("cannot read input {}: {e}", path.display()));
        if path == Path::new("-") {
            if let Some(flag) = back_to_files {
                return Err(Error::Config(format!(
                    "{flag} needs files or folders, not stdin"
                )));
            }
            if only.is_some() {
                return Err(Error::Config(
                    "--changed-since needs files or folders, not stdin".into(),
                ));
            }
            let records = formats::open_with(path, read).map_err(cannot)?;
            sources.push(Box::new(records.map(|r| (None, r))));
            continue;
        }
        if !path.is_dir() {
            if !wanted(path) {
                continue;
            }
            let (format, records) = formats::open_file_with(path, read).map_err(cannot)?;
            let tag = tag_files.then(|| Arc::new((path.clone(), format)));
            sources.push(Box::new(records.map(move |r| (tag.clone(), r))));
            continue;
        }
        // A folder's files are opened one at a time, as the run reaches them. One that cannot be
        // opened gives an error record, so it is reported and never rewritten.
        let files = formats::input_files(path).map_err(cannot)?;
        let read = read.clone();
        // Collected: the filter borrows `only`, the boxed iterator must not.
        let files: Vec<_> = files
            .into_iter()
            .filter(|f| wanted(formats::path_of(f)))
            .collect();
        sources.push(Box::new(files.into_iter().flat_map(move |file| {
            let path = formats::path_of(&file).to_path_buf();
            // A file that could not be opened has one unreadable record and is never rewritten.
            let (format, records) = formats::open_file_when_read(file, &read);
            let format = format.unwrap_or(&formats::json::Json);
            let tag = tag_files.then(|| Arc::new((path, format)));
            records.map(move |r| (tag.clone(), r))
        })));
    }
    Ok(Box::new(sources.into_iter().flatten()))
}

/// A record and its article as the pipeline reads it (no size limit), or its origin and error.
fn article_of(
    raw: RawRecord,
    fields: &FieldMap,
) -> std::result::Result<(serde_json::Map<String, serde_json::Value>, formats::Article), String> {
    let origin = raw.origin;
    let article = raw.record.and_then(|r| {
        formats::to_article_within(&r, fields, usize::MAX, &raw.source).map(|a| (r, a))
    });
    article.map_err(|e| format!("{origin}: {e}"))
}

/// `lede segment`: each record's id, language and sentences, as the pipeline sees them; a record
/// that cannot be read is its origin and error.
pub fn segment(
    records: formats::Records,
    fields: FieldMap,
) -> impl Iterator<Item = std::result::Result<serde_json::Value, String>> {
    use crate::stages::language::{LanguageDetector, LinguaDetector, LinguaOptions};
    let detector = LinguaDetector::new(LinguaOptions::default());
    records.map(move |raw| {
        let (_, article) = article_of(raw, &fields)?;
        let text = format!("{}\n\n{}", article.title, article.body);
        let language = detector.detect(&text);
        let sentences: Vec<String> =
            crate::stages::segment::split_sentences(&article.body, &language.code)
                .into_iter()
                .map(|s| s.text)
                .collect();
        Ok(serde_json::json!({"id": article.id, "language": language.code, "sentences": sentences}))
    })
}

/// Fields a record may name its language with, tried in order (author, date and address: those
/// the JSON-LD view reads, `formats::jsonld`).
const LANG_FIELDS: &[&str] = &["lang", "language", "inLanguage", "locale"];

/// `lede extract`: each record as the pipeline reads it: `id`, `title`, `text` (the clean text the
/// stages see), and `author`, `date`, `lang`, `url` where the record has them (`lang` detected
/// when it does not say); a record that cannot be read is its origin and error.
pub fn extract(
    records: formats::Records,
    fields: FieldMap,
) -> impl Iterator<Item = std::result::Result<serde_json::Value, String>> {
    use crate::formats::jsonld::{AUTHOR_FIELDS, DATE_FIELDS, URL_FIELDS};
    use crate::stages::language::{LanguageDetector, LinguaDetector, LinguaOptions};
    use serde_json::Value;
    let detector = LinguaDetector::new(LinguaOptions::default());
    records.map(move |raw| {
        let (record, article) = article_of(raw, &fields)?;
        let first = |names: &[&str]| {
            names.iter().find_map(|n| {
                formats::lookup(&record, n)
                    .filter(|v| !v.is_null())
                    .cloned()
            })
        };
        let mut out = serde_json::Map::new();
        out.insert("id".into(), Value::String(article.id.clone()));
        out.insert("title".into(), Value::String(article.title.clone()));
        out.insert("text".into(), Value::String(article.body.clone()));
        if let Some(author) = first(AUTHOR_FIELDS) {
            out.insert("author".into(), author);
        }
        if let Some(date) = first(DATE_FIELDS) {
            out.insert("date".into(), date);
        }
        let lang = first(LANG_FIELDS).unwrap_or_else(|| {
            let text = format!("{}\n\n{}", article.title, article.body);
            Value::String(detector.detect(&text).code)
        });
        out.insert("lang".into(), lang);
        if let Some(url) = first(URL_FIELDS) {
            out.insert("url".into(), url);
        }
        Ok(Value::Object(out))
    })
}
