//! Sharding, merging and the filter mode, through the real binary and models: N shard processes
//! run side by side and merged give exactly the bytes of one run; merge refuses anything it cannot
//! vouch for; a filter answers every line and hands each batch over as soon as it is done.
mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn articles_with_a_broken_line(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let mut text = generated_articles(n);
    // An unreadable line in the middle: it has no id, so it belongs to shard 0.
    let at = text.match_indices('\n').nth(n / 2).unwrap().0 + 1;
    text.insert_str(at, "{\"id\": \"broken\", \"body\": \n");
    let path = dir.join("articles.jsonl");
    write(&path, &text);
    path
}

#[test]
fn shards_run_side_by_side_and_merged_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = articles_with_a_broken_line(dir.path(), 30);
    let input = input.to_str().unwrap();
    let single = dir.path().join("single.jsonl");
    let out = lede(&["enrich", "-q", input, "-o", single.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Three processes at once; shard 1 takes its index from the environment, as in a Kubernetes
    // Indexed Job.
    let shard_path = |k: usize| dir.path().join(format!("shard-{k}.jsonl"));
    let children: Vec<_> = (0..3)
        .map(|k| {
            let spec = if k == 1 {
                "env/3".to_string()
            } else {
                format!("{k}/3")
            };
            Command::new(env!("CARGO_BIN_EXE_lede"))
                .args(["enrich", input, "--shard", &spec, "--threads", "1", "-o"])
                .arg(shard_path(k))
                .env("JOB_COMPLETION_INDEX", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut shard_sizes = Vec::new();
    for (k, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        // Only shard 0 holds the unreadable line, and only it reports it.
        assert_eq!(out.status.code(), Some(if k == 0 { 1 } else { 0 }), "{err}");
        assert_eq!(err.contains("malformed JSON"), k == 0, "{err}");
        let lines = std::fs::read_to_string(shard_path(k))
            .unwrap()
            .lines()
            .count();
        shard_sizes.push(lines);
    }
    assert_eq!(shard_sizes.iter().sum::<usize>(), 30, "{shard_sizes:?}");
    assert!(shard_sizes.iter().all(|&n| n > 0), "{shard_sizes:?}");

    let merged = dir.path().join("merged.jsonl");
    let shards: Vec<String> = (0..3)
        .map(|k| shard_path(k).display().to_string())
        .collect();
    let mut args = vec!["merge", "--input", input, "-o", merged.to_str().unwrap()];
    args.extend(shards.iter().map(String::as_str));
    let out = lede(&args);
    assert_success(&out);
    assert!(
        stderr(&out).contains("merged 30 records from 3 shards"),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read(&merged).unwrap() == std::fs::read(&single).unwrap());
    // To stdout too.
    let mut args = vec!["merge", "--input", input];
    args.extend(shards.iter().map(String::as_str));
    let out = lede(&args);
    assert_success(&out);
    assert!(out.stdout == std::fs::read(&single).unwrap());
}

#[test]
fn merge_refuses_what_it_cannot_vouch_for_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("articles.jsonl");
    write(&input, &generated_articles(14));
    let input = input.to_str().unwrap();
    let shard = |k: usize, extra: &[&str]| {
        let path = dir.path().join(format!("s{k}{}.jsonl", extra.len()));
        let spec = format!("{k}/2");
        let mut args = vec![
            "enrich",
            "-q",
            input,
            "--shard",
            &spec,
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        assert_success(&lede(&args));
        path.display().to_string()
    };
    let (s0, s1) = (shard(0, &[]), shard(1, &[]));
    let merged = dir.path().join("merged.jsonl");
    let refuse = |input: &str, shards: &[&str], why: &str| {
        let mut args = vec!["merge", "--input", input, "-o", merged.to_str().unwrap()];
        args.extend(shards);
        let out = lede(&args);
        assert_eq!(out.status.code(), Some(2), "{shards:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{shards:?}: {}", stderr(&out));
        assert!(
            !merged.exists(),
            "a refused merge wrote {}",
            merged.display()
        );
        // Nothing on stdout either.
        let mut args = vec!["merge", "--input", input];
        args.extend(shards);
        assert!(lede(&args).stdout.is_empty());
    };
    // A missing shard output (two of three given; or one of two).
    refuse(input, &[&s0], "gen-");
    // Wrong order, a shard given twice.
    refuse(input, &[&s1, &s0], "give the shard outputs in order");
    refuse(input, &[&s0, &s1, &s1], "shard");
    // The input changed after the shards ran.
    let changed = dir.path().join("changed.jsonl");
    let text = std::fs::read_to_string(input)
        .unwrap()
        .replacen("(3)", "(3, revised)", 1);
    write(&changed, &text);
    refuse(
        changed.to_str().unwrap(),
        &[&s0, &s1],
        "the input changed after the shards ran",
    );
    // Shard 1 run with another option: its config fingerprint differs for a language both share.
    let s1_other = shard(1, &["--keywords", "3"]);
    refuse(
        input,
        &[&s0, &s1_other],
        "shards of different configs are not merged",
    );
    // And the right ones merge.
    let out = lede(&[
        "merge",
        "--input",
        input,
        "-o",
        merged.to_str().unwrap(),
        &s0,
        &s1,
    ]);
    assert_success(&out);
}

#[test]
fn bad_shard_specs_are_refused_before_any_work() {
    for (spec, why) in [
        ("3/2", "K must be below N"),
        ("0/0", "N must be at least 1"),
        ("x", "no '/'"),
        ("1/2/3", "N is not a whole number"),
        ("env/2", "JOB_COMPLETION_INDEX is not set"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lede"))
            .args(["enrich", SAMPLES, "--shard", spec])
            .env_remove("JOB_COMPLETION_INDEX")
            // No models here: a spec error must come before any model is looked for.
            .env("LEDE_MODELS_DIR", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = stderr(&out);
        assert!(
            err.contains("--shard expects K/N") && err.contains(why),
            "{spec}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // --in-place rewrites whole files, which shards would fight over.
    let out = lede(&["enrich", SAMPLES, "--in-place", "--shard", "0/2"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn filter_answers_every_line_and_hands_over_each_batch() {
    let dir = tempfile::tempdir().unwrap();
    let good = generated_articles(12);
    let path = dir.path().join("good.jsonl");
    write(&path, &good);
    let expected = lede(&["enrich", "-q", path.to_str().unwrap()]);
    assert_success(&expected);
    let expected: Vec<&str> = std::str::from_utf8(&expected.stdout)
        .unwrap()
        .lines()
        .collect();

    let mut child = Command::new(env!("CARGO_BIN_EXE_lede"))
        .args(["enrich", "--filter", "--chunk-size", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            lines_tx.send(line.unwrap()).unwrap();
        }
    });
    let good_lines: Vec<&str> = good.lines().collect();
    // One batch in, stdin still open: its answers must come out now, not at the end of input
    // (two lines are less than stdout's 8 KiB buffer, so only a flush gets them out).
    for line in &good_lines[..2] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(180))
            .expect("the first batch was not flushed while stdin stayed open");
        got.push(line);
    }
    // Then broken lines among good ones, and the end of input.
    for line in &good_lines[2..4] {
        writeln!(stdin, "{line}").unwrap();
    }
    writeln!(stdin, "{}", good_lines[4]).unwrap();
    writeln!(stdin, "{{\"id\": \"x\", \"body\": ").unwrap();
    writeln!(stdin, "[1, 2]").unwrap();
    for line in &good_lines[5..] {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    got.extend(lines_rx.iter());
    let out = child.wait_with_output().unwrap();
    // Bad records are answered in their line; the exit status stays 0 for the engine.
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(got.len(), 14);
    let errors: Vec<serde_json::Value> = got[5..7]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(errors[0]["lede"]["input"], "{\"id\": \"x\", \"body\": ");
    assert!(errors[0]["lede"]["error"]
        .as_str()
        .unwrap()
        .starts_with("stdin:6: malformed JSON"));
    assert_eq!(errors[1]["lede"]["input"], "[1, 2]");
    assert!(errors[1]["lede"]["error"]
        .as_str()
        .unwrap()
        .contains("record is an array"));
    // Every good line is exactly what a file run writes.
    let answered: Vec<&str> = got[..5]
        .iter()
        .chain(&got[7..])
        .map(String::as_str)
        .collect();
    assert_eq!(answered, expected);
    assert!(stderr(&out).contains("stdin:6: malformed JSON"));
}
