//! A real distributed engine drives lede: Apache Spark in local mode pipes a few hundred articles,
//! in several partitions, through `lede enrich --filter` (examples/spark/enrich.py), and the result
//! must be byte for byte what one lede process writes. Needs Java (skipped, saying so, where it is
//! missing) and pyspark, which scripts/test installs into .deps/spark-venv.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn spark_pipes_partitions_through_lede_and_matches_one_run() {
    if Command::new("java").arg("-version").output().is_err() {
        eprintln!("SKIPPED: Java is missing; Spark needs Java 17 (apt-get install openjdk-17-jre-headless)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".deps/spark-venv/bin/python");
    assert!(
        python.exists(),
        "pyspark is not installed in {}: run scripts/test (or scripts/setup --with-spark)",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("archive.jsonl");
    write(&input, &generated_articles(240));
    let single = lede(&["enrich", "-q", input.to_str().unwrap()]);
    assert_success(&single);

    let out_dir = dir.path().join("enriched");
    let spark = Command::new(&python)
        .arg(root.join("examples/spark/enrich.py"))
        .arg(&input)
        .arg(&out_dir)
        .args(["--partitions", "4", "--lede", env!("CARGO_BIN_EXE_lede")])
        .env("PYSPARK_PYTHON", &python)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        spark.status.success(),
        "spark failed:\n{}",
        String::from_utf8_lossy(&spark.stderr)
    );
    let mut parts: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    parts.sort();
    assert!(parts.len() >= 4, "{parts:?}");
    let mut joined = Vec::new();
    for part in &parts {
        let bytes = std::fs::read(part).unwrap();
        assert!(!bytes.is_empty(), "{} is empty", part.display());
        joined.extend(bytes);
    }
    assert_eq!(joined.iter().filter(|&&b| b == b'\n').count(), 240);
    assert!(
        joined == single.stdout,
        "Spark's output differs from one lede run"
    );
}
