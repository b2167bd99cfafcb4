//! Two jobs before the crate compiles:
//!
//! - Stamps the binary with a hash of its sources (`NORTHSTAR_SOURCE_HASH`): derived
//!   tables kept in the lake are named by it, so a binary whose enrichment or SQL
//!   differs never reads another build's results as its own.
//! - Discovers every `queries/<folder>/*.sql` (but `custom/`, read at run time) and
//!   writes the query registry (`$OUT_DIR/registry.rs`, included by
//!   `src/engine/queries.rs`) from the files' headers. A file is registered by being
//!   there; a header that lacks what its folder needs fails the build, naming the file.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

#[path = "src/engine/header.rs"]
#[allow(dead_code)]
mod header;

/// The folders of built-in queries and the header keys each requires (besides
/// `name` and `description`, which every file has).
const FOLDERS: &[(&str, &[&str])] = &[
    ("staging", &["phase"]),
    (
        "dora",
        &[
            "unit",
            "grains",
            "scopes",
            "empty_zero",
            "empty_null",
            "headline",
        ],
    ),
    ("north_star", &["unit", "grains", "scopes"]),
    ("cost", &["unit", "grains", "scopes"]),
    ("scorecards", &["unit"]),
    ("focus", &[]),
];

/// Every key a built-in header may have (a typo is an error, not a silent default).
const KEYS: &[&str] = &[
    "name",
    "description",
    "unit",
    "grains",
    "scopes",
    "order",
    "phase",
    "empty_zero",
    "empty_null",
    "headline",
    "gauge",
];

fn main() {
    let mut files = Vec::new();
    for dir in ["src", "queries"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(Path::new(dir), &mut files);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    files.push(PathBuf::from("Cargo.lock"));
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in &files {
        hasher.write(file.to_string_lossy().as_bytes());
        hasher.write(&fs::read(file).unwrap_or_default());
    }
    println!(
        "cargo:rustc-env=NORTHSTAR_SOURCE_HASH={:016x}",
        hasher.finish()
    );
    let registry = match registry(&files) {
        Ok(text) => text,
        Err(message) => panic!("query registry: {message}"),
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    fs::write(out.join("registry.rs"), registry).expect("write registry.rs");
}

/// One built-in query as read from its file.
struct Entry {
    id: String,
    folder: String,
    name: String,
    order: u32,
    header: Vec<(String, String)>,
    path: PathBuf,
}

/// The Rust source of the registry: `&[Query]`, by folder, `order`, then name.
fn registry(files: &[PathBuf]) -> Result<String, String> {
    let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    for path in files.iter().filter(|p| p.starts_with("queries")) {
        if path.extension().is_none_or(|x| x != "sql") {
            continue;
        }
        let rel = path.strip_prefix("queries").map_err(|e| e.to_string())?;
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let [folder, file] = parts.as_slice() else {
            return Err(format!(
                "{}: a query lives in queries/<folder>/<name>.sql",
                path.display()
            ));
        };
        if folder == "custom" {
            continue;
        }
        let Some((_, required)) = FOLDERS.iter().find(|(f, _)| f == folder) else {
            let known: Vec<&str> = FOLDERS.iter().map(|(f, _)| *f).collect();
            return Err(format!(
                "{}: unknown folder `{folder}` (known: {}, custom)",
                path.display(),
                known.join(", ")
            ));
        };
        let stem = file.trim_end_matches(".sql").to_string();
        let sql = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header = header::parse(&sql);
        let get = |key: &str| header.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        for (key, _) in &header {
            if !KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "{}: unknown header `-- {key}:` (known: {})",
                    path.display(),
                    KEYS.join(", ")
                ));
            }
        }
        for key in ["name", "description"].iter().chain(required.iter()) {
            if get(key).is_none_or(|v| v.is_empty()) {
                return Err(format!(
                    "{}: the header lacks `-- {key}:` (see ARCHITECTURE.md, \"Add a metric\")",
                    path.display()
                ));
            }
        }
        if get("name").is_some_and(|n| *n != stem) {
            return Err(format!(
                "{}: `-- name:` must be the file name, `{stem}`",
                path.display()
            ));
        }
        let order = match get("order") {
            Some(o) => o
                .parse()
                .map_err(|_| format!("{}: `-- order: {o}` is not a number", path.display()))?,
            None => u32::MAX,
        };
        entries.push(Entry {
            id: format!("{folder}/{stem}"),
            folder: folder.clone(),
            name: stem,
            order,
            header,
            path: Path::new(&root).join(path),
        });
    }
    let folder_rank = |f: &str| FOLDERS.iter().position(|(name, _)| *name == f);
    entries.sort_by(|a, b| {
        (folder_rank(&a.folder), a.order, &a.name).cmp(&(folder_rank(&b.folder), b.order, &b.name))
    });
    let mut out = String::from("&[\n");
    for e in &entries {
        let header: Vec<String> = e
            .header
            .iter()
            .map(|(k, v)| format!("({k:?}, {v:?})"))
            .collect();
        let _ = writeln!(
            out,
            "    Query {{ id: {:?}, folder: {:?}, name: {:?}, header: &[{}], sql: include_str!({:?}) }},",
            e.id,
            e.folder,
            e.name,
            header.join(", "),
            e.path.to_string_lossy()
        );
    }
    out.push(']');
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
