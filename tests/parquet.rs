//! Parquet end to end (issue 20): tables written by pyarrow (scripts/setup --with-pyarrow installs a
//! pinned, hash-checked pyarrow into .deps/pyarrow-venv), enriched by the binary with real models,
//! and read back by pyarrow: every original column unchanged, lede's column JSON per row. Shards
//! and merge work on a Parquet input; a table without a text column is one clear error.
mod common;

use common::{assert_success, lede_in, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".deps/pyarrow-venv/bin/python");
    assert!(
        python.exists(),
        "pyarrow is not installed: run scripts/setup --with-pyarrow (scripts/test does)"
    );
    python
}

fn py(dir: &Path, code: &str) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A table of the samples' articles: two row groups, an id, a nested list, a timestamp, a
/// dictionary column, a null, and one row whose body is null (it fails; the row is kept).
const MAKE_TABLE: &str = r#"
import json, datetime, pyarrow as pa, pyarrow.parquet as pq
rows = [json.loads(l) for l in open('articles.jsonl')]
n = len(rows)
table = pa.table({
    'id': [r['id'] for r in rows] + ['empty'],
    'title': [r.get('title') for r in rows] + [None],
    'body': [r['body'] for r in rows] + [None],
    'tags': pa.array([['a', 'b']] * n + [[]], type=pa.list_(pa.string())),
    'published': pa.array([datetime.datetime(2024, 3, i + 1, 9, 30) for i in range(n + 1)], type=pa.timestamp('ms')),
    'section': pa.array(['city'] * n + [None]).dictionary_encode(),
})
pq.write_table(table, 'in.parquet', row_group_size=3)
"#;

/// Checks `out` against `in.parquet`: the rows of `keep` (all when None), every original column
/// equal, and lede's column as JSON text; prints the parsed lede values as JSON.
const CHECK: &str = r#"
import json, sys, pyarrow.parquet as pq
src = pq.read_table('in.parquet')
out = pq.read_table(sys.argv[1])
keep = json.loads(sys.argv[2])
if keep is not None:
    src = src.take(keep)
assert out.num_rows == src.num_rows, (out.num_rows, src.num_rows)
assert out.column_names == src.column_names + ['lede'], out.column_names
for name in src.column_names:
    a, b = src.column(name), out.column(name)
    assert a.type == b.type or str(a.type).startswith('dictionary'), (name, a.type, b.type)
    assert a.to_pylist() == b.to_pylist(), name
print(json.dumps([json.loads(v) if v is not None else None for v in out.column('lede').to_pylist()]))
"#;

fn check(dir: &Path, out: &str, keep: Option<&[usize]>) -> Vec<Value> {
    let keep = serde_json::to_string(&keep).unwrap();
    let code = format!("import sys; sys.argv = ['', {out:?}, {keep:?}]\n{CHECK}");
    serde_json::from_str(&py(dir, &code)).unwrap()
}

fn table_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(common::SAMPLES, dir.path().join("articles.jsonl")).unwrap();
    py(dir.path(), MAKE_TABLE);
    dir
}

#[test]
fn a_parquet_table_comes_back_with_every_column_and_ledes() {
    let dir = table_dir();
    let out = lede_in(
        dir.path(),
        &["enrich", "in.parquet", "-o", "out.parquet", "--no-topics"],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the null body fails: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("in.parquet row 5: "),
        "the failed row is named: {}",
        stderr(&out)
    );
    let lede = check(dir.path(), "out.parquet", None);
    assert_eq!(lede.len(), 6);
    assert_eq!(lede[0]["id"], "boym-2023-12-15-asian-nato");
    assert_eq!(lede[0]["language"]["code"], "en");
    assert!(lede[1]["summary"]["text"].as_str().unwrap().len() > 20);
    assert!(
        lede[5]["error"].as_str().unwrap().contains("text"),
        "{}",
        lede[5]
    );
    // JSONL from the same table: the columns as JSON values.
    let out = lede_in(
        dir.path(),
        &[
            "enrich",
            "in.parquet",
            "--no-topics",
            "--no-keywords",
            "--no-summary",
        ],
        "",
    );
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(first["published"], "2024-03-01T09:30:00");
    assert_eq!(first["section"], "city");
}

#[test]
fn shards_of_a_parquet_table_merge_into_the_single_run() {
    let dir = table_dir();
    let args = ["--no-topics", "--no-keywords"];
    let whole = lede_in(
        dir.path(),
        &[&["enrich", "in.parquet", "-o", "whole.jsonl"][..], &args].concat(),
        "",
    );
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    for k in 0..2 {
        let shard = format!("{k}/2");
        let out_file = format!("part{k}.jsonl");
        let out = lede_in(
            dir.path(),
            &[
                &["enrich", "in.parquet", "--shard", &shard, "-o", &out_file][..],
                &args,
            ]
            .concat(),
            "",
        );
        assert!(out.status.code().is_some(), "{}", stderr(&out));
    }
    let merged = lede_in(
        dir.path(),
        &[
            "merge",
            "part0.jsonl",
            "part1.jsonl",
            "--input",
            "in.parquet",
            "-o",
            "merged.jsonl",
        ],
        "",
    );
    assert_success(&merged);
    assert_eq!(
        std::fs::read(dir.path().join("merged.jsonl")).unwrap(),
        std::fs::read(dir.path().join("whole.jsonl")).unwrap()
    );
    // A shard written as Parquet holds its rows only, every original column intact.
    let out = lede_in(
        dir.path(),
        &[
            &[
                "enrich",
                "in.parquet",
                "--shard",
                "0/2",
                "-o",
                "part0.parquet",
            ][..],
            &args,
        ]
        .concat(),
        "",
    );
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    let part: Vec<Value> = std::fs::read_to_string(dir.path().join("part0.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = part.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let index: Vec<usize> = {
        let table: Vec<Value> = std::fs::read_to_string(dir.path().join("whole.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // whole.jsonl holds the readable rows in order: their positions are the table's rows.
        table
            .iter()
            .enumerate()
            .filter(|(_, r)| ids.contains(&r["id"].as_str().unwrap()))
            .map(|(i, _)| i)
            .collect()
    };
    let lede = check(dir.path(), "part0.parquet", Some(&index));
    assert_eq!(lede.len(), ids.len());
}

#[test]
fn a_table_without_a_text_column_is_one_error_naming_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    py(
        dir.path(),
        "import pyarrow as pa, pyarrow.parquet as pq\npq.write_table(pa.table({'id': [1, 2], 'headline': ['a', 'b']}), 'no_text.parquet')",
    );
    std::fs::write(dir.path().join("not.parquet"), b"PAR1 not really").unwrap();
    let out = lede_in(
        dir.path(),
        &["enrich", "no_text.parquet", "-o", "out.parquet"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no text column") && err.contains("it has id, headline"),
        "{err}"
    );
    assert!(!dir.path().join("out.parquet").exists());
    let out = lede_in(dir.path(), &["enrich", "not.parquet"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not.parquet"), "{}", stderr(&out));
}
