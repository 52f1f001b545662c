//! `cargo xtask`: the project's two commands for a newcomer.
//!
//! - `cargo xtask run [--addr A] [--data D]`: installs what is missing, builds the app in
//!   release mode (Trunk for the page, `wasm.rs` for the split wasm) and starts the sync server
//!   serving it.
//! - `cargo xtask test`: installs what is missing and runs every check CI runs: rustfmt,
//!   clippy, the workspace's tests, the app's wasm tests in headless Chromium and the
//!   end-to-end tests in `tests/`, then a short fuzzing pass (`fuzz --seconds 20`).
//! - `cargo xtask screenshots`: the end-to-end tests, writing the screenshots in `docs/` (a
//!   test run leaves the work tree as it was).
//! - `cargo xtask deps`: the structure rules (no import circles; in the app, layers and screens
//!   apart), which `test` also checks (`deps.rs`).
//! - `cargo xtask bench sync`: the sync server's fan-out benchmark against a stock JS
//!   automerge-repo sync server (`bench.rs`).
//! - `cargo xtask soak [--minutes 10]`: the sync server killed and restarted at random under
//!   honest and hostile clients; checks nothing acknowledged is lost (`soak.rs`).
//! - `cargo xtask fuzz [--seconds N] [target...]`: builds the fuzz targets in `fuzz/` with
//!   libFuzzer's coverage instrumentation on the pinned stable toolchain and runs each for N
//!   seconds (default 60); fails on a crash, naming its input (`fuzz.rs`).
//!
//! Tools are installed into the usual places only: `~/.cargo/bin` (trunk, wasm-bindgen-cli),
//! Debian packages (chromium, chromium-driver) and `tests/node_modules` (Playwright, axe,
//! binaryen's wasm-opt, the JS automerge-repo).

mod bench;
mod deps;
mod dist;
mod english;
mod fuzz;
mod imports;
mod soak;
mod tools;
mod wasm;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use xshell::{Shell, cmd};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "\
usage:
  cargo xtask run [--addr HOST:PORT] [--data DIR]   build the app and serve it with the sync server
  cargo xtask test                                 run every test (what CI runs)
  cargo xtask dist                                 only build the app into dist/
  cargo xtask deps                                 check the structure rules (no import circles)
  cargo xtask screenshots                          run the e2e tests, writing the docs' screenshots
  cargo xtask bench sync [--clients 100,1000] [--seconds 10] [--targets ours,js]
                                                   sync fan-out benchmark, ours against JS
  cargo xtask soak [--minutes 10] [--residents 200] [--attackers 70]
                                                   kill/restart the server under load; check it
  cargo xtask fuzz [--seconds 60] [target...]      fuzz each target for N seconds (libFuzzer);
                                                   targets: message_decode, split_changes,
                                                   validate_change, load_chunks
  cargo xtask fuzz --write-seeds                   rewrite the seed corpus's real inputs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("deps") => deps::check(true),
        Some("screenshots") => screenshots(),
        Some("dist") => shell().and_then(|sh| {
            tools::ensure_build_tools(&sh)?;
            check_budget(&build_app(&sh)?)
        }),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The repository's root folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the root")
        .to_path_buf()
}

fn shell() -> Result<Shell> {
    let sh = Shell::new()?;
    sh.change_dir(root());
    Ok(sh)
}

fn run(args: &[String]) -> Result {
    let mut server_args = Vec::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--addr" | "--data" => {
                let value = rest.next().ok_or(format!("{flag} needs a value"))?;
                server_args.extend([flag.clone(), value.clone()]);
            }
            other => return Err(format!("unknown flag {other}\n{USAGE}").into()),
        }
    }
    let sh = shell()?;
    tools::ensure_build_tools(&sh)?;
    build_app(&sh)?;
    step("starting the sync server (Ctrl-C stops it)");
    cmd!(
        sh,
        "cargo run --release --package sync-server -- --dist dist {server_args...}"
    )
    .run()?;
    Ok(())
}

fn test() -> Result {
    let started = Instant::now();
    let sh = shell()?;
    tools::ensure_build_tools(&sh)?;
    tools::ensure_test_tools(&sh)?;

    step("rustfmt");
    cmd!(sh, "cargo fmt --all --check").run()?;
    step("structure (no import circles, screens apart)");
    deps::check(false)?;
    step("clippy");
    cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings").run()?;
    step("workspace tests");
    cmd!(sh, "cargo test --workspace").run()?;

    step("the app's and the repo's wasm tests in headless Chromium");
    let webdriver_json = root().join("app/webdriver.json");
    for (package, test) in [("app", "web"), ("repo", "repo")] {
        cmd!(
            sh,
            "cargo test --package {package} --target wasm32-unknown-unknown --test {test}"
        )
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
        .run()?;
    }

    check_budget(&build_app(&sh)?)?;
    step("end-to-end tests in headless Chromium");
    let (server_bin, dist) = end_to_end(&sh, false)?;
    sh.change_dir(root().join("tests"));
    step("interop with JS automerge-repo clients");
    // A refused JS client keeps reconnecting after `shutdown()`; once every test has ended,
    // exit rather than wait for its timers.
    cmd!(sh, "node --test --test-force-exit interop/")
        .env("DORPSKRACHT_SERVER_BIN", &server_bin)
        .env("DORPSKRACHT_DIST", &dist)
        .run()?;

    step("a short fuzzing pass (cargo xtask fuzz --seconds 20)");
    fuzz::run(&["--seconds".into(), "20".into()])?;

    step(&format!(
        "all tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Builds the server and runs the Playwright tests against it and
/// `dist/`; with `screenshots` they also write the docs' screenshots. Returns the server binary
/// and `dist/`, for the interop tests.
fn end_to_end(sh: &Shell, screenshots: bool) -> Result<(PathBuf, PathBuf)> {
    // The same package selection as `cargo test --workspace`, so the server is the one that
    // step already built (a narrower selection unifies features differently and rebuilds).
    cmd!(sh, "cargo build --workspace --tests").run()?;
    let server_bin = target_dir().join("debug/sync-server");
    let dist = root().join("dist");
    let _tests = sh.push_dir(root().join("tests"));
    let mut run = cmd!(sh, "npx --no-install playwright test")
        .env("DORPSKRACHT_SERVER_BIN", &server_bin)
        .env("DORPSKRACHT_DIST", &dist);
    if screenshots {
        run = run.env("DORPSKRACHT_SCREENSHOTS", "1");
    }
    run.run()?;
    Ok((server_bin, dist))
}

/// `cargo xtask screenshots`: the end-to-end tests that take the docs' screenshots, writing them
/// into `docs/` (a plain test run takes them without writing).
fn screenshots() -> Result {
    let sh = shell()?;
    tools::ensure_build_tools(&sh)?;
    tools::ensure_test_tools(&sh)?;
    build_app(&sh)?;
    step("end-to-end tests, writing docs/screenshot.png and docs/screenshots/");
    end_to_end(&sh, true)?;
    Ok(())
}

/// Builds the app in release mode into `dist/`: Trunk the page, CSS and copied files, then
/// xtask the split wasm (wasm.rs); then writes the service worker's lists and the compressed
/// copies the server serves.
fn build_app(sh: &Shell) -> Result<dist::Report> {
    wasm::check_index_template()?;
    step("building the app's page (trunk build --release)");
    // Trunk and the wasm build run cargo with --offline: fetch every crate first.
    cmd!(sh, "cargo fetch").run()?;
    // ... and the crates of the standard library the wasm build compiles (wasm::OWN_STD).
    cmd!(sh, "cargo fetch --target wasm32-unknown-unknown")
        .envs(wasm::OWN_STD)
        .run()?;
    cmd!(sh, "trunk build --release --offline")
        .env("PATH", tools::path_with_node_bins()?)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .run()?;
    let dist = root().join("dist");
    let wasm = wasm::build(sh, &dist)?;
    let report = dist::finalize(&dist, &wasm.lazy, |path| tools::minify_js(sh, path))?;
    println!("{report}");
    Ok(report)
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` when set (relative to the project, as
/// cargo reads it from here), else `target/`. Tests must run the server this build produced,
/// never an older one left in another folder.
fn target_dir() -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Says how a first visit compares with the 500 KB target, and fails when it exceeds the
/// ceiling (in `dist` and `test`; `cargo xtask run` still starts a build that is over it).
fn check_budget(report: &dist::Report) -> Result {
    let size = report.brotli_bytes;
    if size > dist::FIRST_VISIT_TARGET {
        println!(
            "first visit: {size} bytes with brotli, {} over the {}-byte target \
             (docs/performance.md)",
            size - dist::FIRST_VISIT_TARGET,
            dist::FIRST_VISIT_TARGET
        );
    } else {
        println!(
            "first visit: {size} bytes with brotli, {} under the {}-byte target",
            dist::FIRST_VISIT_TARGET - size,
            dist::FIRST_VISIT_TARGET
        );
    }
    if size > dist::FIRST_VISIT_CEILING {
        return Err(format!(
            "a first visit would transfer {size} bytes with brotli, over the ceiling of {} \
             (xtask/src/dist.rs, docs/performance.md)",
            dist::FIRST_VISIT_CEILING
        )
        .into());
    }
    Ok(())
}

/// Prints a step's name with the seconds since the first step, so slow steps show in CI logs.
fn step(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let started = START.get_or_init(Instant::now);
    println!("\n==> [{:>4} s] {what}", started.elapsed().as_secs());
}
