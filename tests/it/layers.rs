//! Dependencies run one way: a module uses only modules drawn below it in
//! ARCHITECTURE.md's picture ([`LAYERS`], top first), and no two sibling files or
//! folders (`report::metrics` and `report::okrs`, `engine::derived` and
//! `engine::lazy`) use each other, directly or around a loop.
//!
//! Read from the source: every `use` statement (braces expanded) and every inline
//! `crate::…`/`super::…` path outside comments, resolved to the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::repo_root;

/// The top-level modules, top of the picture first. A module may use the ones
/// after it, never one before it. Several names on a line are one layer (they do
/// not use each other).
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["serve"],
    &["bench"],
    &["demo"],
    &["pipeline"],
    &["history"],
    &["report"],
    &["window"],
    &["engine"],
    &["enrich"],
    &["collect"],
    &["billing"],
    &["import"],
    &["config"],
    &["lake"],
    &["atomic_file"],
    &["error"],
];

/// Upward uses not removed yet, each with why: a billing source's `format` is the
/// billing module's enum of file formats (one list of formats, parsed once).
const KNOWN_UPWARD: &[(&str, &str)] = &[("config", "billing")];

/// module path (`report::okrs`) → the module paths its code names.
fn references() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = repo_root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut out = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module.is_empty() {
            continue; // lib.rs and main.rs: the roots
        }
        let text = std::fs::read_to_string(file).expect("read source");
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = without_strings(&code);
        let mut found = BTreeSet::new();
        for path in paths(&code) {
            let mut segments: Vec<&str> = path.split("::").collect();
            let mut absolute: Vec<String> = match segments.first() {
                Some(&"crate") => Vec::new(),
                Some(&"super") => {
                    // The parent of the file's module (of `report::chart` for
                    // `report/chart/mod.rs`, of `report::okrs` for `report/okrs.rs`).
                    let mut base = module.clone();
                    base.pop();
                    base
                }
                _ => continue,
            };
            segments.remove(0);
            while segments.first() == Some(&"super") {
                absolute.pop();
                segments.remove(0);
            }
            absolute.extend(segments.iter().map(|s| s.to_string()));
            // The longest prefix that is a module.
            while !absolute.is_empty() && !modules.contains(&absolute) {
                absolute.pop();
            }
            if !absolute.is_empty() && absolute != module {
                found.insert(absolute);
            }
        }
        out.entry(module)
            .or_insert_with(BTreeSet::new)
            .extend(found);
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/report/okrs.rs` → `[report, okrs]`; `src/report/chart/mod.rs` →
/// `[report, chart]`; `src/lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// `code` with the text of its string literals removed (an error message may
/// name a module without using it).
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_string = false;
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (false, '\'') if chars.peek() == Some(&'"') => {
                // The char literal '"'.
                out.push(c);
                out.push(chars.next().unwrap_or_default());
            }
            (false, '"') => {
                in_string = true;
                out.push(c);
            }
            (true, '\\') => {
                chars.next();
            }
            (true, '"') => {
                in_string = false;
                out.push(c);
            }
            (true, _) => {}
            (false, _) => out.push(c),
        }
    }
    out
}

/// Every `crate::…`/`super::…` path of `code`: `use` statements with their braces
/// expanded, and paths written inline.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let preceded_ok = at == 0
            || !rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if preceded_ok {
            expand(after[..end].trim(), &mut out);
        }
        rest = &after[end.min(after.len())..];
    }
    for (i, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let tail: String = code[i..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        out.push(tail.trim_end_matches(':').to_string());
    }
    out
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (`self` and `as` handled).
fn expand(tree: &str, out: &mut Vec<String>) {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or_default().trim();
        out.push(path.trim_end_matches("::self").to_string());
        return;
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = tree[open + 1..].trim_end().trim_end_matches('}');
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    for item in items.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        if item == "self" {
            out.push(prefix.to_string());
        } else {
            expand(&format!("{prefix}::{item}"), out);
        }
    }
}

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| {
            panic!("src/{module}: not in LAYERS (add it where ARCHITECTURE.md draws it)")
        })
}

#[test]
fn no_module_uses_one_drawn_above_it() {
    let mut upward = Vec::new();
    for (from, targets) in references() {
        for to in targets {
            let (a, b) = (from[0].as_str(), to[0].as_str());
            if a != b && layer(b) <= layer(a) && !KNOWN_UPWARD.contains(&(a, b)) {
                upward.push(format!("{} uses {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "upward uses:\n{}", upward.join("\n"));
}

#[test]
fn the_layers_are_the_tree() {
    let src = repo_root().join("src");
    let mut on_disk: Vec<String> = std::fs::read_dir(&src)
        .expect("src")
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|n| n != "lib" && n != "main")
        .collect();
    on_disk.sort();
    let mut drawn: Vec<String> = LAYERS
        .iter()
        .flat_map(|l| l.iter().map(|s| s.to_string()))
        .collect();
    drawn.sort();
    assert_eq!(drawn, on_disk);
    let architecture = std::fs::read_to_string(repo_root().join("ARCHITECTURE.md")).expect("doc");
    for module in &on_disk {
        assert!(
            architecture.contains(&format!("| `{module}` |")),
            "ARCHITECTURE.md's module table has no row for `{module}`"
        );
    }
}

#[test]
fn sibling_modules_do_not_use_each_other_in_a_loop() {
    // Sibling edges: a file in a's subtree names b or inside it, a and b children
    // of one parent (the parent's own mod.rs is not a sibling).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, targets) in references() {
        for to in targets {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            let upward = KNOWN_UPWARD.contains(&(from[0].as_str(), to[0].as_str()));
            if common < from.len() && common < to.len() && !upward {
                edges
                    .entry(from[..=common].to_vec())
                    .or_default()
                    .insert(to[..=common].to_vec());
            }
        }
    }
    let mut loops = Vec::new();
    for (start, _) in edges.iter() {
        // Depth-first from `start`: a way back to it is a loop.
        let mut stack: Vec<Vec<Vec<String>>> = vec![vec![start.clone()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = path.last().cloned().unwrap_or_default();
            for next in edges.get(&last).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                    loops.push(format!("{} → {}", names.join(" → "), start.join("::")));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    assert!(loops.is_empty(), "sibling loops:\n{}", loops.join("\n"));
}
