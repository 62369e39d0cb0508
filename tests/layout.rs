//! The layout of src/: imports run one way. A test of our own over the `crate::…` and `super::…`
//! paths of every file (test modules aside): no two files of src/ may reach each other, directly
//! or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `src/a/b.rs` and `src/a/b/mod.rs` → `["a", "b"]`; `src/lib.rs` → `[]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file's text without comments and without `#[cfg(test)]` modules.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0;
    let mut pending_test = false;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        if skip_depth.is_none() && code.trim() == "#[cfg(test)]" {
            pending_test = true;
            continue;
        }
        let opens = code.matches('{').count() as i32;
        let closes = code.matches('}').count() as i32;
        if pending_test && code.trim_start().starts_with("mod ") {
            skip_depth = Some(depth);
            pending_test = false;
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        pending_test = false;
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every module path a `crate::…`/`super::…` reference in `code` names, brace groups expanded.
fn references(code: &str, here: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let ident = |i: usize| -> (String, usize) {
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        (String::from_utf8_lossy(&bytes[i..j]).into_owned(), j)
    };
    // Read `a::b::{c, d::e}` starting at i; push every full path.
    fn walk(code: &str, mut i: usize, prefix: Vec<String>, found: &mut Vec<Vec<String>>) -> usize {
        let b = code.as_bytes();
        let mut path = prefix;
        loop {
            if b[i..].starts_with(b"{") {
                i += 1;
                loop {
                    while i < b.len() && (b[i] == b' ' || b[i] == b'\n' || b[i] == b',') {
                        i += 1;
                    }
                    if i >= b.len() || b[i] == b'}' {
                        found.push(path.clone());
                        return i + 1;
                    }
                    i = walk(code, i, path.clone(), found);
                    while i < b.len() && b[i] != b',' && b[i] != b'}' {
                        i += 1;
                    }
                }
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if start == i {
                found.push(path);
                return i;
            }
            path.push(String::from_utf8_lossy(&b[start..i]).into_owned());
            if b[i..].starts_with(b"::") {
                i += 2;
            } else {
                found.push(path);
                return i;
            }
        }
    }
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        let (word, end) = ident(i);
        if word.is_empty() {
            i += 1;
            continue;
        }
        if boundary && (word == "crate" || word == "super") && bytes[end..].starts_with(b"::") {
            let mut base: Vec<String> = if word == "crate" {
                vec![]
            } else {
                // super of a file module is its parent; of mod.rs, the parent of its folder.
                let mut p = here.to_vec();
                p.pop();
                p
            };
            let mut j = end + 2;
            // super::super::…
            while word == "super" && bytes[j..].starts_with(b"super::") {
                base.pop();
                j += 7;
            }
            let _ = is_mod_file;
            i = walk(code, j, base, &mut found);
            continue;
        }
        i = end;
    }
    found
}

#[test]
fn no_import_cycle_between_files_of_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&src).unwrap().to_path_buf();
        if rel.extension().is_some_and(|x| x == "rs") && rel != Path::new("main.rs") {
            files.insert(module_of(&rel), rel.display().to_string());
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, rel) in &files {
        let text = std::fs::read_to_string(src.join(rel)).unwrap();
        let is_mod = rel.ends_with("mod.rs");
        for path in references(&code_of(&text), module, is_mod) {
            // The deepest file module the path names.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| files.contains_key(p));
            if let Some(t) = target
                && t != *module
                && !t.is_empty()
            {
                edges
                    .entry(rel.clone())
                    .or_default()
                    .insert(files[&t].clone());
            }
        }
    }
    // Reachability: a file that reaches itself through another is in a cycle.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(f) = todo.pop() {
            for t in edges.get(&f).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let mut cycles = Vec::new();
    for (a, targets) in &edges {
        for b in targets {
            if reach(b).contains(a) {
                cycles.push(format!("{a} -> {b} -> … -> {a}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files of src/:\n{}",
        cycles.join("\n")
    );
    // The test reads something: the crate has many files and edges.
    assert!(files.len() > 20 && edges.values().map(BTreeSet::len).sum::<usize>() > 40);
}
