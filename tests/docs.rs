//! Every example in the docs runs. Each fenced block tagged `console` in README.md and docs/*.md is
//! a session: every `$ lede ...` line is run with the built binary, in a temporary folder holding a copy
//! of `samples/` (so `samples/articles.jsonl` resolves), the commands of one page one after the other
//! in the same folder. Each must exit 0; where the block shows lines under a command (up to the next
//! `$ ` line or the end of the block), its stdout must be exactly those lines. A `$ ` line that is not
//! a `lede` command, or one that needs a shell (pipes, redirections, variables), fails: such recipes go
//! in `sh` blocks, which are not run here, and are tested by the tests named next to them.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Debug, PartialEq)]
struct Example {
    /// 1-based line of the `$ lede` line in its page.
    line: usize,
    /// The command's words after `lede`.
    args: Vec<String>,
    /// The lines the block shows under the command; empty: stdout is not checked.
    output: Vec<String>,
}

/// README.md, then docs/*.md in name order.
fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    pages.extend(docs);
    pages
}

fn relative(page: &Path) -> String {
    page.strip_prefix(ROOT)
        .unwrap_or(page)
        .display()
        .to_string()
}

/// The words of a command line: whitespace-separated, with '...' and "..." quoting (no expansion
/// inside either) and backslash escapes outside single quotes. Anything a shell would act on is
/// refused, so that no example silently depends on a shell.
fn words(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => word.push(c),
                            None => return Err("unclosed double quote".into()),
                        },
                        Some(c @ ('$' | '`')) => {
                            return Err(format!("`{c}` inside double quotes needs a shell"))
                        }
                        Some(c) => word.push(c),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err("a trailing `\\` (continued line) is not supported".into()),
            },
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | '{' | '~' => {
                return Err(format!(
                    "`{c}` needs a shell; put shell recipes in an `sh` block (not run) and test them elsewhere"
                ))
            }
            '#' if !in_word => return Err("a `#` comment needs a shell".into()),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The examples of a page's `console` blocks, or every problem found in them.
fn examples(text: &str) -> Result<Vec<Example>, Vec<String>> {
    let mut examples: Vec<Example> = Vec::new();
    let mut problems = Vec::new();
    // The open fence: its backticks and whether it is a console block.
    let mut fence: Option<(String, bool)> = None;
    // Whether the open console block has had a command yet.
    let mut has_command = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        match &fence {
            None => {
                if trimmed.starts_with("```") {
                    let ticks: String = trimmed.chars().take_while(|&c| c == '`').collect();
                    let info = trimmed[ticks.len()..].trim();
                    let console = info.split_whitespace().next() == Some("console");
                    fence = Some((ticks, console));
                    has_command = false;
                }
            }
            Some((ticks, console)) => {
                if trimmed.starts_with(ticks.as_str()) && trimmed.trim_end() == ticks.as_str() {
                    fence = None;
                    continue;
                }
                if !console {
                    continue;
                }
                if line == "$" || line.starts_with("$ ") {
                    has_command = true;
                    let command = line[1..].trim();
                    match words(command) {
                        Ok(w) if w.first().map(String::as_str) == Some("lede") => {
                            examples.push(Example {
                                line: n,
                                args: w[1..].to_vec(),
                                output: Vec::new(),
                            })
                        }
                        Ok(_) => problems.push(format!(
                            "line {n}: `{line}` is not a `lede` command; only `$ lede ...` lines are run, so \
                             other commands belong in an `sh` block"
                        )),
                        Err(e) => problems.push(format!("line {n}: `{line}`: {e}")),
                    }
                } else if !has_command {
                    problems.push(format!(
                        "line {n}: output before any `$ lede` command in a console block: `{line}`"
                    ));
                } else if let Some(last) = examples.last_mut() {
                    last.output.push(line.to_string());
                }
            }
        }
    }
    if fence.is_some() {
        problems.push("a code block is never closed".into());
    }
    if problems.is_empty() {
        Ok(examples)
    } else {
        Err(problems)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs one page's examples in order in a fresh copy of `samples/`; returns what went wrong.
fn run_page(page: &Path, examples: &[Example]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(ROOT).join("samples"),
        &dir.path().join("samples"),
    );
    let models = std::env::var_os("LEDE_MODELS_DIR")
        .unwrap_or_else(|| Path::new(ROOT).join("models/installed").into_os_string());
    let mut failures = Vec::new();
    for example in examples {
        let shown = format!(
            "{}:{}: `lede {}`",
            relative(page),
            example.line,
            example.args.join(" ")
        );
        let out = Command::new(env!("CARGO_BIN_EXE_lede"))
            .args(&example.args)
            .current_dir(dir.path())
            .env("LEDE_MODELS_DIR", &models)
            .stdin(Stdio::null())
            .output()
            .expect("lede runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            failures.push(format!(
                "{shown} exited with {}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        if !example.output.is_empty() {
            let expected = example.output.join("\n") + "\n";
            if stdout != expected {
                failures.push(format!(
                    "{shown}: stdout is not what the page shows\n--- page:\n{expected}--- stdout:\n{stdout}---"
                ));
            }
        }
    }
    failures
}

#[test]
fn every_console_example_in_the_docs_runs_and_prints_what_it_shows() {
    let mut failures = Vec::new();
    let mut commands = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        match examples(&text) {
            Ok(examples) => {
                commands += examples.len();
                failures.extend(run_page(&page, &examples));
            }
            Err(problems) => failures.extend(
                problems
                    .into_iter()
                    .map(|p| format!("{}: {p}", relative(&page))),
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the docs' examples failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        commands > 0,
        "no `$ lede` example found in README.md or docs/"
    );
}

#[test]
fn the_readme_tour_is_a_checked_example() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let examples = examples(&text).unwrap_or_else(|p| panic!("{}", p.join("\n")));
    assert!(
        examples.iter().any(|e| !e.output.is_empty()),
        "README.md's tour must show a `$ lede` command with its output in a console block"
    );
}

#[test]
fn console_blocks_are_parsed_as_sessions() {
    let text = "\
intro

```console
$ lede enrich samples/a.jsonl --format jsonld
{\"a\": 1}
{\"b\": 2}
$ lede models list
```

```sh
for k in 0 1; do lede enrich x --shard $k/2 & done
```

```console
$ lede enrich 'a b.jsonl' \"c\\\"d\"
```
";
    assert_eq!(
        examples(text).unwrap(),
        vec![
            Example {
                line: 4,
                args: vec![
                    "enrich".into(),
                    "samples/a.jsonl".into(),
                    "--format".into(),
                    "jsonld".into()
                ],
                output: vec!["{\"a\": 1}".into(), "{\"b\": 2}".into()],
            },
            Example {
                line: 7,
                args: vec!["models".into(), "list".into()],
                output: vec![]
            },
            Example {
                line: 15,
                args: vec!["enrich".into(), "a b.jsonl".into(), "c\"d".into()],
                output: vec![]
            },
        ]
    );
    for bad in [
        "```console\n$ jq . samples/articles.jsonl\n```\n",
        "```console\n$ lede enrich samples/articles.jsonl | head -1\n```\n",
        "```console\n$ lede enrich - < samples/articles.jsonl\n```\n",
        "```console\n$ lede enrich $FILE\n```\n",
        "```console\nstray output\n$ lede models list\n```\n",
        "```console\n$ lede models list\n",
    ] {
        assert!(examples(bad).is_err(), "accepted: {bad}");
    }
}
