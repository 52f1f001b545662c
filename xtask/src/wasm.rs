//! The app's wasm, split so that screens load when first opened (app/src/lazy.rs).
//!
//! Trunk builds everything else (index.html, CSS, copied files); it cannot split a wasm
//! (trunk-rs/trunk#1022), so the wasm step is ours:
//!
//! 1. cargo builds the app with `DORPSKRACHT_WASM_SPLIT=1` (app/build.rs: `--cfg wasm_split`
//!    and `--emit-relocs`);
//! 2. `wasm_split_cli_support` splits the linked wasm at the `#[wasm_split]` points into a
//!    main module, one module per split (plus modules shared by several splits) and a small JS
//!    loader `__wasm_split.js` that fetches a module the first time a split needs it;
//! 3. wasm-bindgen runs on the main module only (`--keep-lld-exports`: the split modules
//!    import the main module's functions by their linker names);
//! 4. the main module's imports from the glue get short names (imports.rs), wasm-opt shrinks
//!    every module and esbuild the two scripts;
//! 5. all of it lands in `dist/wasm-<hash>/` (the hash covers every file, so a new build is a
//!    new folder and the loader's relative URLs stay right), and index.html gets the script
//!    that starts the app.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

use crate::{Result, root, step, target_dir, tools};

/// The English texts' file, next to the modules (english.rs).
const ENGLISH: &str = "en.txt";

/// What the build wrote into `dist/`, as URL paths.
#[derive(Debug, Default)]
pub struct Wasm {
    /// Split modules and the English texts: fetched when a screen is first opened or English
    /// chosen, never on a first visit.
    pub lazy: Vec<String>,
}

/// wasm-opt's flags for every module. What counts is the size after brotli (the app is
/// downloaded over 4G): `-O2` makes a larger file than `-Oz` (+4 %) that compresses better
/// (main module −2,300 B brotli; `-Os` −1,972 B, `-O3` −2,151 B; docs/performance.md), and its
/// code is the faster one.
const WASM_OPT: &[&str] = &[
    "-O2",
    // Repeats the passes while they still shrink the module: −475 B brotli for a first visit
    // (2026-12-06; `--gufa` and `-O3` with it were larger).
    "--converge",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--low-memory-unused",
    "--strip-producers",
    "--strip-target-features",
];

/// The release wasm is built with a standard library of its own (cargo's `build-std`), compiled
/// with `-Cpanic=immediate-abort` and std's `optimize_for_size`: a panic becomes a trap at the
/// spot, so the panic machinery (messages, locations, the `Debug` and float formatting only
/// panics reach) is not in the download. 559,086 → 508,220 B brotli for a first visit
/// (docs/performance.md). Behaviour does not change: the release build aborts on a panic either
/// way, and wasm32-unknown-unknown has nowhere to print the message (the panic hook that does
/// is linked in debug builds only).
///
/// Both are unstable; `RUSTC_BOOTSTRAP=1` lets the pinned stable compiler (rust-toolchain.toml)
/// use them for this one build, so the app's wasm and everything else come from the same
/// compiler. The decision and its way back are in ARCHITECTURE.md.
pub const OWN_STD: [(&str, &str); 4] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    // Added to the wasm32 rustflags of .cargo/config.toml (cargo merges the two lists).
    // `-Zlocation-detail=none`: no file, line or column in `Location`s, which an aborting
    // panic never shows (−206 B brotli on one pair of builds: within the noise, see
    // docs/performance.md; kept because it removes what is never read).
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none",
    ),
];

/// `--remap-path-prefix` for each of this machine's registry source folders, so panic locations
/// in the wasm name `automerge-0.12.0/src/...` instead of where this machine keeps its crates:
/// the build does not depend on the machine (and the wasm is 8.6 KB smaller raw, ~0.1 KB
/// brotli). Cargo's `trim-paths` would do this but is not stable yet. The standard library's
/// paths (`/rustc/<commit>/...`) come precompiled and cannot be remapped.
fn remap_registry() -> String {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(sources) = cargo_home.map(|h| h.join("registry/src")) else {
        return String::new();
    };
    std::fs::read_dir(sources)
        .into_iter()
        .flatten()
        .flatten()
        .map(|dir| format!("--remap-path-prefix={}/=", dir.path().display()))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn build(sh: &Shell, dist: &Path) -> Result<Wasm> {
    step("building the app's wasm (cargo, profile wasm-release, own std, split points on)");
    cmd!(
        sh,
        "cargo build --offline --package app --bin app --target wasm32-unknown-unknown --profile wasm-release"
    )
    .env("DORPSKRACHT_WASM_SPLIT", "1")
    .envs(OWN_STD)
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        format!("{} {}", OWN_STD[3].1, remap_registry()),
    )
    .run()?;
    let linked = target_dir().join("wasm32-unknown-unknown/wasm-release/app.wasm");

    step("splitting the wasm (wasm_split_cli_support)");
    let work = target_dir().join("wasm-split");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let main_split = work.join("app_split.wasm");
    let input = std::fs::read(&linked)?;
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &work;
        opts.main_out_path = &main_split;
        opts.link_name = "./__wasm_split.js";
        opts.main_module = "./app.js";
        opts
    })
    .map_err(|e| format!("splitting the wasm failed: {e:?}"))?;

    step("wasm-bindgen on the main module");
    cmd!(
        sh,
        "wasm-bindgen --target web --keep-lld-exports --no-demangle --no-typescript --out-name app --out-dir {work} {main_split}"
    )
    .run()?;
    std::fs::remove_file(&main_split)?;
    let (wasm, js) = crate::imports::shorten(
        &std::fs::read(work.join("app_bg.wasm"))?,
        &std::fs::read_to_string(work.join("app.js"))?,
    )?;
    std::fs::write(work.join("app_bg.wasm"), wasm)?;
    std::fs::write(work.join("app.js"), js)?;
    for script in ["app.js", "__wasm_split.js"] {
        tools::minify_js(sh, &work.join(script))?;
    }
    // The English texts, fetched when chosen (english.rs); a split file like the modules.
    std::fs::write(work.join(ENGLISH), crate::english::file()?)?;

    // The main module keeps its function names until wasm-opt: a copy outside `dist/` lets
    // `twiggy top target/wasm-names/app_bg.wasm` say what the first visit downloads.
    let names = target_dir().join("wasm-names");
    std::fs::create_dir_all(&names)?;
    std::fs::copy(work.join("app_bg.wasm"), names.join("app_bg.wasm"))?;

    step("wasm-opt on every module");
    let path = tools::path_with_node_bins()?;
    let mut modules = vec![work.join("app_bg.wasm")];
    modules.extend(split.split_modules.iter().cloned());
    for module in &modules {
        let out = module.with_extension("opt.wasm");
        cmd!(sh, "wasm-opt {WASM_OPT...} {module} -o {out}")
            .env("PATH", &path)
            .run()?;
        std::fs::rename(&out, module)?;
    }

    // One hash over every file names the folder.
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![work.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        hasher.update(file.strip_prefix(&work)?.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(file)?);
    }
    let hash: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let folder = format!("wasm-{hash}");
    let out_dir = dist.join(&folder);
    for file in &files {
        let to = out_dir.join(file.strip_prefix(&work)?);
        std::fs::create_dir_all(to.parent().ok_or("a file without a folder")?)?;
        std::fs::copy(file, &to)?;
    }
    let dir = format!("/{folder}");
    let mut lazy: Vec<String> = split
        .split_modules
        .iter()
        .chain([&work.join(ENGLISH)])
        .map(|module| {
            let name = module
                .file_name()
                .ok_or("a split module without a name")?
                .to_string_lossy();
            Ok(format!("{dir}/{name}"))
        })
        .collect::<Result<_>>()?;
    lazy.sort();

    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path)?;
    std::fs::write(&index_path, start_script(&index, &dir)?)?;
    Ok(Wasm { lazy })
}

/// index.html with the tags that fetch the main module early and start the app.
fn start_script(index: &str, dir: &str) -> Result<String> {
    const MARKER: &str = "</head>";
    if !index.contains(MARKER) {
        return Err("index.html has no </head>".into());
    }
    let tags = format!(
        "<meta name=\"dorpskracht-assets\" content=\"{dir}\" />\n\
         <link rel=\"modulepreload\" href=\"{dir}/app.js\" />\n\
         <link rel=\"preload\" href=\"{dir}/app_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin />\n\
         <script type=\"module\">import init from \"{dir}/app.js\"; init({{ module_or_path: \"{dir}/app_bg.wasm\" }});</script>\n\
         {MARKER}"
    );
    Ok(index.replacen(MARKER, &tags, 1))
}

/// The repository's `app/index.html` must tell Trunk not to build the wasm as well (without a
/// skipped rust link, Trunk builds the Cargo project next to it).
pub fn check_index_template() -> Result {
    let index = std::fs::read_to_string(root().join("app/index.html"))?;
    if !index.contains("data-trunk-skip") {
        return Err(
            "app/index.html lacks `<link data-trunk rel=\"rust\" ... data-trunk-skip />`; \
             xtask builds the wasm (xtask/src/wasm.rs)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_script_goes_into_the_head() {
        let out = start_script(
            "<html><head><title>x</title></head><body></body></html>",
            "/wasm-ab",
        )
        .unwrap();
        assert!(out.contains(
            "<script type=\"module\">import init from \"/wasm-ab/app.js\"; init({ module_or_path: \"/wasm-ab/app_bg.wasm\" });</script>\n</head>"
        ));
        assert!(out.find("modulepreload").unwrap() < out.find("<body>").unwrap());
        // The app finds `en.txt` through it (app/src/i18n.rs).
        assert!(out.contains("<meta name=\"dorpskracht-assets\" content=\"/wasm-ab\" />"));
        assert!(start_script("<html>", "/wasm-ab").is_err());
    }
}
