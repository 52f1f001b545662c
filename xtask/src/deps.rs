//! `cargo xtask deps`: the structure rules, checked on the source as text (no compiler needed).
//!
//! A file *imports* another when it names a path into it: `crate::a::b` (also inside
//! `use crate::{a::{b, c}}` groups), `super::x` or `self::x`. Declaring a child module
//! (`mod x;`) or re-exporting from it is not an import, and the crate root (`lib.rs`), the
//! crate's table of contents, imports nothing. A path is resolved to the deepest module file
//! it reaches.
//!
//! The rules, for every crate in [`CRATES`]:
//! - no import circle between the files of a crate;
//! - none between its top-level modules either (a folder counts as one module from outside);
//! - in the app, the layers import downwards only ([`APP_LAYERS`]), and a screen (a top-level
//!   entry of `app/src/screens`) never imports another screen.
//!
//! `cargo xtask test` runs these checks first; `cargo xtask deps` prints the module graph too.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

use crate::{Result, root};

/// The crates whose structure is checked, by source folder.
const CRATES: &[&str] = &[
    "app/src",
    "model/src",
    "sync/src",
    "sync-server/src",
    "repo/src",
];

/// The app's layers, bottom first: a module may import from its own layer and those before it.
/// Modules not named here (the crate root, `shell`, `lazy`) sit on top and may import anything.
const APP_LAYERS: &[&[&str]] = &[
    &["i18n", "route", "repo"],
    &["platform"],
    &["docs"],
    &["ui"],
    &["screens"],
];

/// One crate's modules (by path, `""` for the crate root) and the modules each imports.
#[derive(Debug, Default)]
pub struct Graph {
    pub imports: BTreeMap<String, BTreeSet<String>>,
}

/// Runs every check; `verbose` also prints each crate's top-level graph.
pub fn check(verbose: bool) -> Result {
    let mut problems = Vec::new();
    for dir in CRATES {
        let src = root().join(dir);
        if !src.exists() {
            continue;
        }
        let graph = Graph::read(&src)?;
        if verbose {
            println!("{dir}: {} files", graph.imports.len());
            for (from, to) in graph.top_level().imports {
                let to: Vec<_> = to.into_iter().collect();
                println!("  {} -> {}", display(&from), to.join(", "));
            }
        }
        problems.extend(
            graph
                .problems(dir.starts_with("app/"))
                .into_iter()
                .map(|p| format!("{dir}: {p}")),
        );
    }
    if problems.is_empty() {
        println!(
            "deps: no import circles, layers and screens apart ({} crates)",
            CRATES.len()
        );
        Ok(())
    } else {
        for p in &problems {
            eprintln!("deps: {p}");
        }
        Err(format!("{} structure problem(s)", problems.len()).into())
    }
}

fn display(module: &str) -> &str {
    if module.is_empty() {
        "(crate root)"
    } else {
        module
    }
}

impl Graph {
    /// Reads every `.rs` file below `src` (a crate's source folder).
    pub fn read(src: &Path) -> Result<Graph> {
        let mut files = BTreeMap::new();
        collect(src, src, &mut files)?;
        Ok(Graph::from_sources(&files))
    }

    /// The graph of `files` (module path → source).
    pub fn from_sources(files: &BTreeMap<String, String>) -> Graph {
        let modules: BTreeSet<&str> = files.keys().map(String::as_str).collect();
        let mut imports = BTreeMap::new();
        for (module, source) in files {
            let mut to = BTreeSet::new();
            for path in paths(module, source) {
                if let Some(target) = resolve(&modules, &path)
                    && target != module
                    // A parent naming its own children (`mod`, re-exports) is not an import,
                    // and the crate root is the crate's table of contents.
                    && !is_ancestor(module, target)
                {
                    to.insert(target.to_owned());
                }
            }
            imports.insert(module.clone(), to);
        }
        Graph { imports }
    }

    /// The same graph with every module folded into its top-level module.
    pub fn top_level(&self) -> Graph {
        let top = |m: &str| m.split("::").next().unwrap_or("").to_owned();
        let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in &self.imports {
            let entry = imports.entry(top(from)).or_default();
            entry.extend(to.iter().map(|t| top(t)).filter(|t| *t != top(from)));
        }
        Graph { imports }
    }

    /// Every rule this graph breaks, in words.
    pub fn problems(&self, app: bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .cycles()
            .into_iter()
            .map(|c| format!("import circle between files: {}", c.join(" -> ")))
            .collect();
        out.extend(self.top_level().cycles().into_iter().map(|c| {
            format!(
                "import circle between top-level modules: {}",
                c.join(" -> ")
            )
        }));
        if app {
            out.extend(self.app_problems());
        }
        out
    }

    fn app_problems(&self) -> Vec<String> {
        let layer = |m: &str| {
            let top = m.split("::").next().unwrap_or("");
            APP_LAYERS.iter().position(|l| l.contains(&top))
        };
        fn screen(m: &str) -> Option<&str> {
            let mut parts = m.split("::");
            (parts.next() == Some("screens"))
                .then(|| parts.next())
                .flatten()
        }
        let mut out = Vec::new();
        for (from, to) in &self.imports {
            for target in to {
                if let (Some(a), Some(b)) = (layer(from), layer(target))
                    && b > a
                {
                    out.push(format!("{from} imports {target}, a layer above it"));
                }
                if let (Some(a), Some(b)) = (screen(from), screen(target))
                    && a != b
                {
                    out.push(format!("screen {from} imports screen {target}"));
                }
            }
        }
        out
    }

    /// One cycle per strongly connected component of more than one module.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        let mut done = BTreeSet::new();
        for start in self.imports.keys() {
            if done.contains(start) {
                continue;
            }
            if let Some(cycle) = self.cycle_through(start) {
                done.extend(cycle.iter().cloned());
                found.push(cycle);
            }
            done.insert(start.clone());
        }
        found
    }

    /// A shortest way from `start` back to itself, if there is one (breadth first).
    fn cycle_through(&self, start: &str) -> Option<Vec<String>> {
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(at) = queue.pop_front() {
            for next in self.imports.get(at).into_iter().flatten() {
                if next == start {
                    let mut path = vec![display(at).to_owned()];
                    let mut cur = at;
                    while cur != start {
                        cur = came_from[cur];
                        path.push(display(cur).to_owned());
                    }
                    path.reverse();
                    path.push(display(start).to_owned());
                    return Some(path);
                }
                if !came_from.contains_key(next.as_str()) && next != start {
                    came_from.insert(next, at);
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

/// Reads `dir`'s `.rs` files into `files`, keyed by module path relative to `src`.
fn collect(src: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> Result {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(src, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src)?.with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            // A file included by another (`include!`) is not a module of its own; neither is
            // `main.rs` next to `lib.rs` (a binary using the library, not part of it).
            let source = fs::read_to_string(&path)?;
            if relative.ends_with("main") && src.join("lib.rs").exists() {
                continue;
            }
            files.insert(parts.join("::"), source);
        }
    }
    Ok(())
}

/// Whether `module` is a strict ancestor of `other` (the crate root is everyone's).
fn is_ancestor(module: &str, other: &str) -> bool {
    module.is_empty() || other.starts_with(&format!("{module}::"))
}

/// The absolute module paths `source` (the file of `module`) names, as `a::b::c`.
fn paths(module: &str, source: &str) -> Vec<String> {
    let code = strip_comments(source);
    let mut out = Vec::new();
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    for (prefix, base) in [("crate::", ""), ("super::", parent), ("self::", module)] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for tail in expand(rest).into_iter().filter(|t| !t.is_empty()) {
                out.push(join(base, &tail));
            }
        }
    }
    out
}

/// The paths a `use` tree starting at `rest` names: `a::{b, c::d}` → `a::b`, `a::c::d`.
fn expand(rest: &str) -> Vec<String> {
    let mut head = String::new();
    for (i, c) in rest.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            head.push(c);
        } else if c == '{' && (head.is_empty() || head.ends_with("::")) {
            let inner = &rest[i + 1..];
            let end = matching_brace(inner);
            let mut out = Vec::new();
            for item in split_top(&inner[..end]) {
                for tail in expand(item.trim()) {
                    out.push(format!("{head}{tail}"));
                }
            }
            if out.is_empty() {
                out.push(head.trim_end_matches("::").to_owned());
            }
            return out;
        } else {
            break;
        }
    }
    vec![head.trim_end_matches("::").to_owned()]
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn join(base: &str, tail: &str) -> String {
    match (base.is_empty(), tail.is_empty()) {
        (true, _) => tail.to_owned(),
        (_, true) => base.to_owned(),
        _ => format!("{base}::{tail}"),
    }
}

/// The deepest module `path` reaches (`None` when it names none of them but the root's items).
fn resolve<'a>(modules: &BTreeSet<&'a str>, path: &str) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (0..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|candidate| modules.get(candidate.as_str()).copied())
}

/// `source` without its comments (doc links name paths that are not imports).
fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        Graph::from_sources(
            &files
                .iter()
                .map(|(m, s)| ((*m).to_owned(), (*s).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn reads_imports_in_groups_and_paths() {
        let g = graph(&[
            ("", "mod a; mod b; mod c;"),
            ("a", "use crate::{b::{X, y}, c};\nfn f() { crate::c::z(); }"),
            (
                "b",
                "use super::c::Thing; // crate::a in a comment is no import",
            ),
            ("c", "pub struct Thing;"),
        ]);
        assert_eq!(g.imports["a"], BTreeSet::from(["b".into(), "c".into()]));
        assert_eq!(g.imports["b"], BTreeSet::from(["c".into()]));
        assert!(
            g.imports[""].is_empty(),
            "declaring children is not importing them"
        );
        assert!(g.problems(false).is_empty());
    }

    #[test]
    fn finds_a_circle_between_files_and_between_folders() {
        let g = graph(&[
            ("", ""),
            ("a", ""),
            ("a::x", "use crate::b::y;"),
            ("b", ""),
            ("b::y", "use crate::a::z;"),
            ("a::z", ""),
        ]);
        assert!(g.cycles().is_empty(), "no circle between files");
        let problems = g.problems(false);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("top-level modules: a -> b -> a"),
            "{problems:?}"
        );

        let g = graph(&[
            ("a", "use crate::b::f;"),
            ("b", "use crate::c::g;"),
            ("c", "use super::a;"),
        ]);
        assert_eq!(
            g.cycles(),
            vec![vec!["a".to_owned(), "b".into(), "c".into(), "a".into()]]
        );
    }

    #[test]
    fn a_screen_importing_another_or_a_lower_layer_importing_a_higher_is_refused() {
        let g = graph(&[
            ("screens::me", "use crate::screens::messages::OpenDocs;"),
            ("screens::messages", "use crate::ui::notice::Notice;"),
            ("ui::notice", ""),
            ("platform::http", "use crate::docs::outcome::Notice;"),
            ("docs::outcome", ""),
        ]);
        let problems = g.problems(true);
        assert!(
            problems
                .iter()
                .any(|p| p == "screen screens::me imports screen screens::messages"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("platform::http imports docs::outcome")),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
