//! Helpers shared by the integration tests that drive the `lede` binary.
#![allow(dead_code)]
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/articles.jsonl");

pub fn lede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lede"))
        .args(args)
        .output()
        .expect("lede runs")
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `n` short articles in the samples' four languages, each a different pair of the samples'
/// paragraphs (so every one has its own text and vectors); every tenth has no id, so its id is
/// derived from its content. Written as JSONL.
pub fn generated_articles(n: usize) -> String {
    let samples: Vec<Value> = std::fs::read_to_string(SAMPLES)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let paragraphs: Vec<Vec<String>> = samples
        .iter()
        .map(|s| {
            let body = s["body"].as_str().unwrap();
            let parts: Vec<String> = body
                .split("<p>")
                .map(|p| p.replace("</p>", "").trim().to_string())
                .filter(|p| p.len() > 80 && !p.starts_with("<h2>"))
                .collect();
            if parts.is_empty() {
                vec![body.to_string()]
            } else {
                parts
            }
        })
        .collect();
    let mut out = String::new();
    for i in 0..n {
        let source = &paragraphs[i % paragraphs.len()];
        let first = (i / paragraphs.len()) % source.len();
        let second = (first + 1 + i / 7) % source.len();
        let mut body = format!("<p>{}</p>", source[first]);
        if second != first {
            body.push_str(&format!("\n<p>{}</p>", source[second]));
        }
        let title = samples[i % samples.len()]["title"].as_str().unwrap();
        let mut record = json!({"id": format!("gen-{i:04}"), "title": format!("{title} ({i})"), "body": body, "n": i});
        if i % 10 == 9 {
            record.as_object_mut().unwrap().remove("id");
        }
        out.push_str(&serde_json::to_string(&record).unwrap());
        out.push('\n');
    }
    out
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// lede run in `dir` (ids of Markdown files are their paths from there), with `stdin` fed in.
pub fn lede_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lede"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lede runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
