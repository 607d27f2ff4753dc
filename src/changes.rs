//! CI mode: which article files changed, from git (`--changed-since REV`) or from a list of paths
//! (`--files-from`), so a commit's run touches only its own articles.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files that differ from `rev` in the work tree of the repository holding `dir`: committed
/// since, staged, unstaged or untracked (not ignored); deleted files are left out. Absolute,
/// canonical paths.
pub fn changed_since(rev: &str, dir: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    // `REV^{commit}` refuses a revision that does not name a commit, with git's own message.
    git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("--changed-since {rev:?}: git knows no such revision (a shallow clone needs fetch-depth 0, or fetching the base branch)"))?;
    let mut files = BTreeSet::new();
    let lists = [
        git(&[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=d",
            rev,
            "--",
        ])?,
        git(&["ls-files", "-z", "--others", "--exclude-standard"])?,
    ];
    for list in &lists {
        for name in list.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let path = top.join(String::from_utf8_lossy(name).as_ref());
            if let Ok(path) = path.canonicalize() {
                files.insert(path);
            }
        }
    }
    Ok(files)
}

/// Whether a changed file counts as an article file lede reads (others in a commit are skipped).
pub fn is_article_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|x| x.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    matches!(
        ext.as_str(),
        "md" | "markdown" | "json" | "jsonl" | "ndjson" | "xml"
    )
}

/// Paths from a list, one per line (as `git diff --name-only` prints them): blank lines are skipped;
/// files that no longer exist (deleted in the change) and files that are not articles are left out
/// and returned apart, so the caller can say so.
pub fn read_file_list(text: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut take = Vec::new();
    let mut skipped = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let path = PathBuf::from(line);
        if path.is_file() && is_article_file(&path) {
            take.push(path);
        } else {
            skipped.push(path);
        }
    }
    (take, skipped)
}
