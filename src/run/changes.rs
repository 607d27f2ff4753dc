//! CI mode: which article files changed, from git (`--changed-since REV`) or from a list of paths
//! (`--files-from`), so a commit's run touches only its own articles.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files that differ from `rev` in the work tree of the repository holding `dir`: committed
/// since, staged, unstaged or untracked (not ignored); deleted files are left out. Absolute,
/// canonical paths.
pub fn changed_since(rev: &str, dir: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let git_in = |dir: &Path, args: &[&str]| -> Result<Vec<u8>, String> {
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
    let top = git_in(dir, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    // From the top, with paths from the top, whatever the directory or `diff.relative` say.
    let git = |args: &[&str]| git_in(&top, args);
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

/// The inputs of a CI run and the files among them it may touch.
#[derive(Debug, Default)]
pub struct Selection {
    /// What to read: the inputs given, or with no input folders the Markdown files of the list.
    pub inputs: Vec<PathBuf>,
    /// Only these files (canonical paths) of the inputs, when a change or a list narrows them.
    pub only: Option<BTreeSet<PathBuf>>,
    /// Listed paths left out: deleted, or not Markdown articles when no input folder was given.
    pub skipped: usize,
}

/// Narrows `inputs` to the files changed since `changed_since` (a git revision) and to the paths
/// of `file_list` (`--files-from`'s text). With no inputs, the list's Markdown files are the
/// inputs: a list from `git diff` names all sorts of files, and package.json is not an article.
pub fn select(
    inputs: Vec<PathBuf>,
    changed_since: Option<&str>,
    file_list: Option<&str>,
) -> Result<Selection, String> {
    let mut selection = Selection {
        only: match changed_since {
            Some(rev) => Some(self::changed_since(rev, Path::new("."))?),
            None => None,
        },
        inputs,
        skipped: 0,
    };
    let Some(text) = file_list else {
        return Ok(selection);
    };
    let (files, gone) = read_file_list(text);
    selection.skipped = gone.len();
    if selection.inputs.is_empty() {
        let (markdown, others): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|f| crate::formats::is_markdown(f));
        selection.skipped += others.len();
        selection.inputs = markdown;
    } else {
        let listed: BTreeSet<PathBuf> =
            files.iter().filter_map(|f| f.canonicalize().ok()).collect();
        selection.only = Some(match selection.only.take() {
            Some(changed) => changed.intersection(&listed).cloned().collect(),
            None => listed,
        });
    }
    Ok(selection)
}

/// Paths from a list, one per line as `git diff --name-only` prints them (names git quotes, like
/// `"caf\303\251.md"`, are unquoted; blank lines skipped): the files that exist, and apart the
/// ones that no longer do (deleted in the change), so the caller can say so.
pub fn read_file_list(text: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut take = Vec::new();
    let mut gone = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let path = PathBuf::from(unquote(line));
        if path.is_file() {
            take.push(path);
        } else {
            gone.push(path);
        }
    }
    (take, gone)
}

/// Git's C-style quoting of unusual path names: `"a\"b\303\251"` -> `a"bé`.
fn unquote(line: &str) -> String {
    let Some(inner) = line.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else {
        return line.to_string();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_quoted_names_are_unquoted() {
        assert_eq!(unquote("content/a.md"), "content/a.md");
        assert_eq!(
            unquote("\"content/caf\\303\\251 \\\"x\\\".md\""),
            "content/café \"x\".md"
        );
    }
}
