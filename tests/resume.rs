//! Never losing work, end to end on the real binary and models: a run killed at any point and run
//! again ends with exactly the bytes of an uninterrupted run; unchanged articles are skipped; one
//! changed option recomputes exactly the articles it affects.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/articles.jsonl");
const TINY_BART: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tiny-seq2seq/bart"
);

fn lede() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lede"))
}

/// The samples, repeated under new ids: enough records for a run to be caught in the middle.
fn archive(dir: &Path, copies: usize) -> PathBuf {
    let samples = std::fs::read_to_string(SAMPLES).unwrap();
    let mut text = String::new();
    for copy in 0..copies {
        for line in samples.lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let id = format!("{}-{copy}", v["id"].as_str().unwrap());
            v["id"] = Value::String(id);
            text.push_str(&v.to_string());
            text.push('\n');
        }
    }
    let path = dir.join("archive.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn enrich(input: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut cmd = lede();
    cmd.args(["enrich", "--chunk-size", "2"])
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(extra);
    cmd
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("lede runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn journal_lines(output: &Path) -> usize {
    let name = output.file_name().unwrap().to_string_lossy();
    let journal = output.with_file_name(format!(".{name}.lede-journal"));
    std::fs::read_to_string(journal)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Waits until the running process has journalled at least `lines` records (or has exited).
fn wait_for_journal(child: &mut Child, output: &Path, lines: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while journal_lines(output) < lines {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn killed_runs_resume_to_the_bytes_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = archive(dir.path(), 3);
    let reference_path = dir.path().join("reference.jsonl");
    run(enrich(&input, &reference_path, &[]));
    let reference = std::fs::read(&reference_path).unwrap();
    assert_eq!(reference.iter().filter(|&&b| b == b'\n').count(), 15);

    // SIGKILL while models load, after the first chunk, and deep into the run; then once more in
    // the resumed run itself. Each time the same command is simply run again.
    let output = dir.path().join("out.jsonl");
    for journalled in [0, 2, 8, 12] {
        let mut child = enrich(&input, &output, &[])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if journalled == 0 {
            std::thread::sleep(Duration::from_millis(300));
        } else {
            wait_for_journal(&mut child, &output, journalled);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!output.exists(), "no output file before the run completes");
    }
    let resumed = run(enrich(&input, &output, &[]));
    // At least 12 were journalled before the last kill (more if a chunk landed meanwhile).
    let log = stderr(&resumed);
    let kept: usize = log
        .split("resuming: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!((12..15).contains(&kept), "{log}");
    let counts = format!("{} enriched, {kept} unchanged", 15 - kept);
    assert!(log.contains(&counts), "{log}");
    assert!(
        std::fs::read(&output).unwrap() == reference,
        "resumed output differs from the uninterrupted run"
    );
    assert_eq!(
        leftovers(dir.path()),
        Vec::<String>::new(),
        "journal and temp files are gone"
    );
}

#[test]
fn sigterm_finishes_the_batch_in_hand_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let input = archive(dir.path(), 2);
    let output = dir.path().join("out.jsonl");
    std::fs::write(
        &output,
        b"earlier output, must survive an interrupted run\n",
    )
    .unwrap();
    let mut child = enrich(&input, &output, &["--force"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_journal(&mut child, &output, 2);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.contains("run the same command again to resume"),
        "{log}"
    );
    assert_eq!(
        std::fs::read(&output).unwrap(),
        b"earlier output, must survive an interrupted run\n"
    );
    assert!(journal_lines(&output) >= 2);

    let resumed = run(enrich(&input, &output, &[]));
    assert!(
        stderr(&resumed).contains("resuming"),
        "{}",
        stderr(&resumed)
    );
    let reference = dir.path().join("reference.jsonl");
    run(enrich(&input, &reference, &[]));
    assert!(std::fs::read(&output).unwrap() == std::fs::read(&reference).unwrap());
}

#[test]
fn unchanged_articles_are_skipped_and_one_option_recomputes_what_it_affects() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let first = run(enrich(Path::new(SAMPLES), &output, &[]));
    assert!(
        stderr(&first).contains("5 enriched, 0 unchanged"),
        "{}",
        stderr(&first)
    );
    let bytes = std::fs::read(&output).unwrap();
    let mtime = std::fs::metadata(&output).unwrap().modified().unwrap();

    // Same input, same config: nothing recomputed, the file not even rewritten.
    let again = run(enrich(Path::new(SAMPLES), &output, &[]));
    assert!(
        stderr(&again).contains("0 enriched, 5 unchanged"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::metadata(&output).unwrap().modified().unwrap(),
        mtime
    );

    // The enriched file fed back in carries its own enrichment: also nothing to do (a CI re-run).
    let chained = run({
        let mut c = lede();
        c.args(["enrich", output.to_str().unwrap()]);
        c
    });
    assert!(stderr(&chained).contains("0 enriched, 5 unchanged"));
    assert!(chained.stdout == bytes);

    // An abstractive model for English only: exactly the two English samples are recomputed.
    let english = run(enrich(
        Path::new(SAMPLES),
        &output,
        &["--abstractive", &format!("en={TINY_BART}")],
    ));
    assert!(
        stderr(&english).contains("2 enriched, 3 unchanged"),
        "{}",
        stderr(&english)
    );
    // A keyword option touches every article; --force recomputes everything.
    let keywords = run(enrich(Path::new(SAMPLES), &output, &["--keywords", "4"]));
    assert!(stderr(&keywords).contains("5 enriched, 0 unchanged"));
    let forced = run(enrich(
        Path::new(SAMPLES),
        &output,
        &["--keywords", "4", "--force"],
    ));
    assert!(stderr(&forced).contains("5 enriched, 0 unchanged"));

    // An edited article is recomputed; the others are not.
    let mut lines: Vec<Value> = std::fs::read_to_string(SAMPLES)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let body = lines[1]["body"]
        .as_str()
        .unwrap()
        .replace("tramwaj", "autobus");
    lines[1]["body"] = Value::String(body);
    let edited = dir.path().join("edited.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&edited, text).unwrap();
    let out = run(enrich(&edited, &output, &["--keywords", "4"]));
    assert!(
        stderr(&out).contains("1 enriched, 4 unchanged"),
        "{}",
        stderr(&out)
    );
}
