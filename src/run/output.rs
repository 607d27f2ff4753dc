//! Writing results without ever leaving a half-written file: every file is written to a temporary
//! file in the same folder, fsynced, then renamed over the target (and the folder fsynced), so a
//! reader sees the old file or the new one, never a mix. Plus file names made from record ids that
//! cannot escape their folder.
use crate::formats::markdown::MarkdownOptions;
use crate::formats::{Format, OnFailure, WriteBack};
use crate::run::pipeline::{EarlierEnrichments, Outcome};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file being written: bytes go to `.NAME.lede-tmp-PID` beside the target until `commit`.
/// Dropped without `commit`, the temporary file is removed and the target is untouched.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    out: Option<io::BufWriter<File>>,
    hash: Sha256,
}

impl AtomicFile {
    /// Starts writing `target`: creates the temporary file beside it.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let tmp = temp_path(target)?;
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            out: Some(io::BufWriter::with_capacity(1 << 16, file)),
            hash: Sha256::new(),
        })
    }

    /// The file this one will replace on `commit`.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, fsyncs and renames over the target. When the target already holds exactly these
    /// bytes it is left alone (mtime untouched) and `false` comes back.
    pub fn commit(mut self) -> io::Result<bool> {
        let new_hash = std::mem::take(&mut self.hash).finalize();
        if same_content(&self.target, &new_hash) {
            return Ok(false); // Drop removes the temporary file.
        }
        self.replace()?;
        Ok(true)
    }

    /// Flushes, fsyncs and renames over the target, whatever it holds.
    fn replace(mut self) -> io::Result<()> {
        let out = self.out.take().expect("not committed yet");
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.target)?;
        sync_parent(&self.target);
        Ok(())
    }

    /// Drops what was written; the target is untouched.
    pub fn discard(self) {}
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        drop(self.out.take());
        if self.tmp.exists() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.as_mut().expect("open").write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("open").flush()
    }
}

/// Writes `bytes` to `target` atomically, only when they differ from what it holds. Returns whether
/// the file was written.
pub fn write_if_changed(target: &Path, bytes: &[u8]) -> io::Result<bool> {
    if fs::read(target).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    write_atomically(target, bytes)?;
    Ok(true)
}

/// Writes `bytes` to `target` atomically, whatever it held.
fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.replace()
}

fn same_content(path: &Path, hash: &[u8]) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let mut h = Sha256::new();
    io::copy(&mut file, &mut h).is_ok() && h.finalize().as_slice() == hash
}

pub(crate) fn temp_path(target: &Path) -> io::Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    Ok(parent_dir(target).join(format!(
        ".{}.lede-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The rename is durable only once the folder itself is synced.
pub(crate) fn sync_parent(path: &Path) {
    if let Ok(dir) = File::open(parent_dir(path)) {
        let _ = dir.sync_all();
    }
}

/// Removes temporary files that killed runs left beside `target` (those whose process is gone).
pub fn remove_stale_temps(target: &Path) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return;
    };
    let prefix = format!(".{name}.lede-tmp-");
    let Ok(entries) = fs::read_dir(parent_dir(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let alive = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
        });
        if !alive {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A file name for a record id that stays inside its folder whatever the id holds: letters, digits,
/// `-`, `_` and inner `.` are kept, every other byte becomes `%XX` (so `/`, `\`, NUL and `%` itself
/// cannot survive, and two different ids never share a name); `.` and `..` are escaped; names
/// longer than the file system allows are cut and end in a hash of the whole id.
pub fn safe_file_name(id: &str, extension: &str) -> String {
    let mut name = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.is_empty() {
        name.push_str("%00empty");
    }
    const MAX: usize = 200;
    if name.len() > MAX {
        let hash = hex::encode(&Sha256::digest(id.as_bytes())[..8]);
        let mut cut = MAX - hash.len() - 1;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}~{hash}", &name[..cut]);
    }
    format!("{name}.{extension}")
}

/// `--in-place`: each input file is rewritten with its enriched records, atomically, and only when
/// some record's enrichment changed. A file in which any record could not be read or enriched
/// (Markdown) is never rewritten (it would lose that record), nor is a read-only file; each such file
/// is reported and the run goes on.
pub struct InPlace {
    current: Option<InPlaceFile>,
    markdown: MarkdownOptions,
    output_key: String,
    /// Files rewritten with their new enrichment.
    pub rewritten: usize,
    /// Files left alone because nothing in them changed.
    pub unchanged: usize,
    /// Files left as they were because some of their records could not be read, with the count.
    pub refused: Vec<(PathBuf, usize)>,
    /// Files that could not be rewritten, with why.
    pub failed: Vec<(PathBuf, String)>,
    /// Markdown files where an editor's value was kept in place of lede's, with the keys.
    pub kept: Vec<(PathBuf, Vec<String>)>,
}

struct InPlaceFile {
    path: PathBuf,
    format: &'static dyn Format,
    values: Vec<Option<Value>>,
    changed: bool,
    unreadable: usize,
}

impl InPlace {
    /// `markdown` says which front matter keys lede writes; `output_key` is where records hold their
    /// enrichment.
    pub fn new(markdown: MarkdownOptions, output_key: &str) -> InPlace {
        InPlace {
            current: None,
            markdown,
            output_key: output_key.to_string(),
            rewritten: 0,
            unchanged: 0,
            refused: Vec::new(),
            failed: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// One outcome of the file `path` (outcomes arrive file by file, in order).
    pub fn add(
        &mut self,
        path: &Path,
        format: &'static dyn Format,
        outcome: &Outcome,
    ) -> io::Result<()> {
        if self.current.as_ref().is_some_and(|f| f.path != path) {
            self.close()?;
        }
        let file = self.current.get_or_insert_with(|| InPlaceFile {
            path: path.to_path_buf(),
            format,
            values: Vec::new(),
            changed: false,
            unreadable: 0,
        });
        match (&outcome.output, &outcome.error) {
            (Some(v), None) => {
                file.values.push(Some(v.clone()));
                file.changed |= outcome.changed;
            }
            (output, _) => match format.on_failure(output.is_some()) {
                OnFailure::Keep => {
                    file.values.push(output.clone());
                    file.changed |= outcome.changed;
                }
                OnFailure::Skip => file.values.push(None),
                OnFailure::Refuse => file.unreadable += 1,
            },
        }
        Ok(())
    }

    /// Writes the file in hand, if it changed. A file that cannot be written is reported in
    /// `failed`; only an error that stops the whole run comes back as `Err`.
    pub fn close(&mut self) -> io::Result<()> {
        let Some(file) = self.current.take() else {
            return Ok(());
        };
        if file.unreadable > 0 {
            self.refused.push((file.path, file.unreadable));
            return Ok(());
        }
        if !file.changed {
            self.unchanged += 1;
            return Ok(());
        }
        let original = match fs::read(&file.path) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.failed
                    .push((file.path, format!("cannot read it again: {e}")));
                return Ok(());
            }
        };
        let bytes = match self.rendered(&file, &original) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.unchanged += 1;
                return Ok(());
            }
            Err(why) => {
                self.failed.push((file.path, why));
                return Ok(());
            }
        };
        if bytes == original {
            self.unchanged += 1;
            return Ok(());
        }
        // Renaming over a read-only file would succeed; its owner meant it not to change.
        if fs::metadata(&file.path).is_ok_and(|m| m.permissions().readonly()) {
            self.failed
                .push((file.path, "the file is read-only; not rewritten".into()));
            return Ok(());
        }
        // Through a symlink to its target: the link stays a link.
        let target = fs::canonicalize(&file.path).unwrap_or_else(|_| file.path.clone());
        match write_atomically(&target, &bytes) {
            Ok(()) => self.rewritten += 1,
            Err(e) => self
                .failed
                .push((file.path, format!("cannot rewrite it: {e}"))),
        }
        Ok(())
    }

    /// The file's new bytes in its own format; `None` when nothing in it changes; `Err` when the
    /// file cannot be written back as it is (it is reported, not written).
    fn rendered(&mut self, file: &InPlaceFile, original: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let mut options = WriteBack {
            markdown: &self.markdown,
            output_key: &self.output_key,
            kept: Vec::new(),
        };
        let bytes = file
            .format
            .write_back(original, &file.values, &mut options)?;
        if !options.kept.is_empty() {
            self.kept.push((file.path.clone(), options.kept));
        }
        Ok(bytes)
    }

    /// Stopped early: the file in hand is left as it was.
    pub fn abandon(&mut self) {
        self.current = None;
    }
}

#[derive(Clone)]
/// `--output-dir`: one pretty-printed `.json` file per record, named from its id (see
/// `safe_file_name`), written atomically and only when it changed. The folder doubles as the
/// earlier output: an article whose file holds its current enrichment is not recomputed.
pub struct OutputDir {
    /// The folder the files go in.
    pub dir: PathBuf,
    /// Key of the enrichment object in each record.
    pub output_key: String,
}

impl OutputDir {
    /// The file that holds the record with article id `id`.
    pub fn path_for(&self, id: &str) -> PathBuf {
        self.dir.join(safe_file_name(id, "json"))
    }

    /// Writes one enriched record; `false` when its file already held exactly these bytes.
    pub fn write(&self, id: &str, record: &Value) -> io::Result<bool> {
        let mut bytes = serde_json::to_vec_pretty(record)?;
        bytes.push(b'\n');
        write_if_changed(&self.path_for(id), &bytes)
    }
}

impl EarlierEnrichments for OutputDir {
    fn find(&self, id: &str, _content_hash: &str) -> Option<Map<String, Value>> {
        let bytes = fs::read(self.path_for(id)).ok()?;
        match serde_json::from_slice::<Value>(&bytes).ok()? {
            Value::Object(mut m) => match m.shift_remove(&self.output_key)? {
                Value::Object(e) => Some(e),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn hostile_ids_stay_inside_the_folder_and_stay_distinct() {
        let ids = [
            "../../etc/passwd",
            "/etc/passwd",
            "..",
            ".",
            "a\0b",
            "C:\\Windows\\system32",
            "%2E%2E",
            "..%2F",
            "",
            "ok-id_1.v2",
            "zażółć",
            &"x".repeat(1000),
            &"x".repeat(1001),
        ];
        let mut names = HashSet::new();
        for id in ids {
            let name = safe_file_name(id, "json");
            assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
            assert!(!name.starts_with('.'), "{name}");
            assert!(name.len() <= 210, "{}", name.len());
            let joined = Path::new("/out").join(&name);
            assert_eq!(joined.parent(), Some(Path::new("/out")), "{id:?} -> {name}");
            assert!(names.insert(name.clone()), "{id:?} collides as {name}");
        }
        assert_eq!(safe_file_name("ok-id_1.v2", "json"), "ok-id_1.v2.json");
    }

    #[test]
    fn atomic_file_replaces_whole_or_not_at_all_and_skips_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        fs::write(&target, b"old\n").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new\n").unwrap();
        assert_eq!(
            fs::read(&target).unwrap(),
            b"old\n",
            "not visible before commit"
        );
        assert!(f.commit().unwrap());
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
        let before = fs::metadata(&target).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&target, b"new\n").unwrap());
        assert_eq!(fs::metadata(&target).unwrap().modified().unwrap(), before);
        let f = AtomicFile::create(&target).unwrap();
        f.discard();
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
        // A temp file of a dead process is cleaned; the target is not.
        let stale = dir.path().join(".out.jsonl.lede-tmp-4000000000");
        fs::write(&stale, b"x").unwrap();
        remove_stale_temps(&target);
        assert!(!stale.exists() && target.exists());
    }
}
