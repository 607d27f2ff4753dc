//! The Kubernetes example, run as its pods would run it: each index of the Indexed Job executes the
//! manifest's own shell command with $JOB_COMPLETION_INDEX set, over a local folder standing in for
//! the shared volume; then the merge Job's command. The merged file must be the bytes of one run.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;

/// The container command of a manifest: the folded (`>-`) scalar under `args:`, and `completions`.
fn pod_script(manifest: &str) -> (String, Option<usize>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/kubernetes")
            .join(manifest),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let args = lines.iter().position(|l| l.trim() == "args:").unwrap();
    let start = (args + 1..lines.len())
        .find(|&i| !lines[i].trim().starts_with('#'))
        .unwrap();
    assert_eq!(
        lines[start].trim(),
        "- >-",
        "{manifest}: args is not one folded scalar"
    );
    let indent = lines[start].len() - lines[start].trim_start().len();
    let script: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.len() - l.trim_start().len() > indent && !l.trim().is_empty())
        .map(|l| l.trim())
        .collect();
    let completions = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .map(|v| v.split('#').next().unwrap().trim().parse().unwrap());
    (script.join(" "), completions)
}

fn run_pod(script: &str, data: &Path, index: Option<usize>) -> std::process::ExitStatus {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_lede")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut pod = Command::new("/bin/sh");
    pod.arg("-c")
        .arg(script.replace("/data/", &format!("{}/", data.display())))
        .env("PATH", path);
    if let Some(k) = index {
        pod.env("JOB_COMPLETION_INDEX", k.to_string());
    }
    pod.status().unwrap()
}

#[test]
fn indexed_job_pods_and_merge_job_give_the_bytes_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::create_dir(data.join("out")).unwrap();
    // One unreadable line: its shard exits 1, which the pod command counts as done.
    let archive = data.join("archive.jsonl");
    write(
        &archive,
        &(generated_articles(20) + "{\"id\": \"broken\"\n"),
    );
    let single = data.join("single.jsonl");
    let out = lede(&[
        "enrich",
        "-q",
        archive.to_str().unwrap(),
        "-o",
        single.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));

    let (shard_script, completions) = pod_script("lede-shards.yaml");
    let n = completions.expect("the Indexed Job sets completions");
    assert!(
        shard_script.contains(&format!("--shard env/{n}")),
        "{shard_script}"
    );
    for k in 0..n {
        let status = run_pod(&shard_script, data, Some(k));
        assert!(status.success(), "pod {k}: {status}");
        assert!(data.join(format!("out/shard-{k}.jsonl")).exists());
    }
    let (merge_script, _) = pod_script("lede-merge.yaml");
    let status = run_pod(&merge_script, data, None);
    assert!(status.success(), "merge pod: {status}");
    assert!(
        std::fs::read(data.join("archive.enriched.jsonl")).unwrap()
            == std::fs::read(&single).unwrap()
    );
    // A pod re-run after its work was done (a retry) changes nothing and succeeds.
    let before = std::fs::read(data.join("out/shard-0.jsonl")).unwrap();
    assert!(run_pod(&shard_script, data, Some(0)).success());
    assert_eq!(
        std::fs::read(data.join("out/shard-0.jsonl")).unwrap(),
        before
    );
}
