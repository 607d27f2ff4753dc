//! Writing back where the content lives: `--in-place` over a folder of `.json` files and a JSONL
//! file, and `--output-dir` with one file per record, on the real binary and models.
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::SystemTime;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/articles.jsonl");

fn samples() -> Vec<Value> {
    std::fs::read_to_string(SAMPLES)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn lede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lede"))
        .args(args)
        .output()
        .unwrap()
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn in_place_rewrites_only_what_changed_in_the_files_own_shape() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    let s = samples();
    let pretty = site.join("a.json");
    std::fs::write(
        &pretty,
        format!("{}\n", serde_json::to_string_pretty(&s[0]).unwrap()),
    )
    .unwrap();
    let array = site.join("b.json");
    std::fs::write(&array, serde_json::to_string(&vec![&s[1], &s[2]]).unwrap()).unwrap();
    let broken = site.join("c.json");
    let broken_bytes = b"{\"id\": \"c\", \"body\": \"The council met on Thursday and".to_vec();
    std::fs::write(&broken, &broken_bytes).unwrap();
    let lines = dir.path().join("more.jsonl");
    std::fs::write(&lines, format!("{}\n{}\n", s[3], s[4])).unwrap();
    let site_arg = site.to_str().unwrap();
    let lines_arg = lines.to_str().unwrap();

    let first = lede(&["enrich", "--in-place", site_arg, lines_arg]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "c.json is broken: {}",
        stderr(&first)
    );
    let log = stderr(&first);
    assert!(log.contains("in place: 3 files rewritten"), "{log}");
    assert!(
        log.contains("c.json: not rewritten: 1 of its records could not be read"),
        "{log}"
    );
    assert_eq!(
        std::fs::read(&broken).unwrap(),
        broken_bytes,
        "not understood, not touched"
    );

    // The pretty file stays pretty (same indent), its fields keep their values and order.
    let text = std::fs::read_to_string(&pretty).unwrap();
    assert!(
        text.starts_with("{\n  \"id\": ") && text.ends_with("}\n"),
        "{text}"
    );
    let back: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
    let mut expected: Vec<&String> = s[0].as_object().unwrap().keys().collect();
    let lede_key = "lede".to_string();
    expected.push(&lede_key);
    assert_eq!(keys, expected);
    for (k, v) in s[0].as_object().unwrap() {
        assert_eq!(&back[k], v, "{k} changed");
    }
    assert!(back["lede"]["summary"]["text"].is_string());
    // The array file stays one line; the JSONL file stays JSONL.
    let arr: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&array).unwrap()).unwrap();
    assert_eq!(arr.len(), 2);
    assert!(!std::fs::read_to_string(&array).unwrap().contains('\n'));
    assert_eq!(std::fs::read_to_string(&lines).unwrap().lines().count(), 2);

    // Nothing changed: no file is rewritten, mtimes stay.
    let before = [mtime(&pretty), mtime(&array), mtime(&lines)];
    std::thread::sleep(std::time::Duration::from_millis(50));
    let again = lede(&["enrich", "--in-place", site_arg, lines_arg]);
    assert!(
        stderr(&again).contains("in place: 0 files rewritten, 3 unchanged"),
        "{}",
        stderr(&again)
    );
    assert_eq!(before, [mtime(&pretty), mtime(&array), mtime(&lines)]);

    // Edit one article: only its file is rewritten.
    let mut edited = back.clone();
    edited["title"] = Value::String("A new title for the same piece".into());
    std::fs::write(&pretty, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    let after_edit = mtime(&pretty);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let third = lede(&["enrich", "--in-place", site_arg, lines_arg]);
    assert!(
        stderr(&third).contains("1 enriched, 4 unchanged"),
        "{}",
        stderr(&third)
    );
    assert!(mtime(&pretty) > after_edit);
    assert_eq!(before[1..], [mtime(&array), mtime(&lines)]);

    // No temporary files or journals are left in the folders.
    for d in [&site, &dir.path().to_path_buf()] {
        let hidden: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?}");
    }
    // Stdin cannot be written back.
    let out = lede(&["enrich", "--in-place", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--in-place needs files or folders"));
}

#[test]
fn output_dir_names_files_by_id_and_no_id_escapes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = samples();
    let hostile = ["../../escaped", "/etc/lede-escaped", "..", "a\u{0}b"];
    for (r, id) in s.iter_mut().zip(hostile) {
        r["id"] = Value::String(id.into());
    }
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        s.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .unwrap();
    let out_dir = dir.path().join("deep").join("out");
    let args = [
        "enrich",
        input.to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
    ];
    let first = lede(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("5 files written"),
        "{}",
        stderr(&first)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "%2E.%2F..%2Fescaped.json",
            "%2E..json",
            "%2Fetc%2Flede-escaped.json",
            "a%00b.json",
            "fr-marche-2026.json"
        ]
    );
    // Nothing was written anywhere else.
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(beside.len(), 2, "only in.jsonl and deep/");
    assert!(!Path::new("/etc/lede-escaped.json").exists());
    // Each file is the whole record; the id inside is the real one.
    let rec: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("%2E.%2F..%2Fescaped.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec["id"], "../../escaped");
    assert_eq!(rec["lede"]["id"], "../../escaped");
    // Second run: every article found current in its file; nothing recomputed or rewritten.
    let second = lede(&args);
    let log = stderr(&second);
    assert!(
        log.contains("0 files written") && log.contains("0 enriched, 5 unchanged"),
        "{log}"
    );
}
