//! `cargo xtask fuzz [--seconds N] [target...]`: coverage-guided fuzzing with libFuzzer on the
//! pinned stable toolchain, with no tool to install.
//!
//! The targets live in `fuzz/` (a cargo workspace of its own, excluded from the main one). They
//! use the `libfuzzer-sys` crate, which compiles libFuzzer from its C++ sources with the system
//! compiler and provides `main`. The coverage instrumentation is the one `cargo fuzz` adds,
//! spelled with stable flags only ([`RUSTFLAGS`]): `cargo fuzz` itself defaults to
//! `-Zsanitizer=address`, which needs nightly, and nightly is not available here. Without
//! AddressSanitizer a Rust target still catches what matters for safe code: panics,
//! overflows (`-Coverflow-checks`), debug assertions, out-of-memory (`-malloc_limit_mb`) and
//! hangs (`-timeout`).
//!
//! The flags apply only to crates built for `--target <host>`: cargo then builds build
//! scripts and proc macros without them (as `cargo fuzz` does), which libFuzzer's runtime
//! symbols would otherwise be missing from.
//!
//! Each target runs for `--seconds` (default 60) on two corpus folders: `target/fuzz/corpus/
//! <target>` (what libFuzzer finds; kept between runs, never committed) and the seed corpus
//! `fuzz/corpus/<target>` (in the repository, read only). A crash, a timeout or an allocation
//! over the limit fails the command, leaving the input under `target/fuzz/artifacts/<target>/`;
//! the output names the file and the command that reproduces it. Inputs of known, unfixed
//! bugs are kept in `fuzz/regressions/<target>/` with a README.md each; they are not run here,
//! and the targets step around those bugs unless `DORPSKRACHT_FUZZ_STRICT=1` is set
//! (`fuzz/README.md`).
//!
//! `--write-seeds` rewrites the seed corpus's real inputs (messages, changes, saved documents
//! of the seeded village) with the `validate_change` binary.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::{Result, root, step, target_dir};

/// The fuzz targets, in the order they run.
pub const TARGETS: &[&str] = &[
    "message_decode",
    "split_changes",
    "validate_change",
    "load_chunks",
];

/// The instrumentation `cargo fuzz` adds (its `--sanitizer none`), all stable `-C` flags:
/// sanitizer coverage as 8-bit counters with a PC table (libFuzzer's coverage feedback) and
/// traced comparisons (libFuzzer's value profile and its dictionary from compared constants);
/// `--cfg fuzzing` as libfuzzer-sys and other crates expect; debug assertions and overflow
/// checks on in the release profile, so the fuzzer finds what tests would.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// libFuzzer's limits: resident memory, one allocation, and seconds per input (generous, so a
/// busy CI machine does not report a slow input as a hang).
const LIMITS: &[&str] = &["-rss_limit_mb=2048", "-malloc_limit_mb=512", "-timeout=30"];

pub fn run(args: &[String]) -> Result {
    let mut seconds: u64 = 60;
    let mut write_seeds = false;
    let mut targets: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = rest.next().ok_or("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds: not a number: {value}"))?;
            }
            "--write-seeds" => write_seeds = true,
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(target) => targets.push(target),
                None => {
                    return Err(format!(
                        "unknown fuzz target {name}; the targets are {}",
                        TARGETS.join(", ")
                    )
                    .into());
                }
            },
        }
    }
    if write_seeds {
        return self::write_seeds();
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    let bins = build(&targets)?;
    let mut summaries = Vec::new();
    for target in &targets {
        summaries.push(run_target(&bins, target, seconds)?);
    }
    println!();
    for summary in &summaries {
        println!("{summary}");
    }
    Ok(())
}

/// `--write-seeds`: (re)writes the real inputs of the seed corpus in `fuzz/corpus/` (the
/// sync messages, changes and saved documents of `validate_change`'s seeded village, made by
/// `dorpskracht_fuzz::write_seeds`); inputs kept from fuzzing runs stay as they are.
fn write_seeds() -> Result {
    let bins = build(&["validate_change"])?;
    let status = Command::new(bins.join("validate_change"))
        .env("DORPSKRACHT_FUZZ_WRITE_SEEDS", root().join("fuzz/corpus"))
        .status()?;
    if !status.success() {
        return Err("writing the seed corpus failed".into());
    }
    println!("wrote the seed corpus into fuzz/corpus/");
    Ok(())
}

/// The host's target triple (`rustc -vV`).
fn host() -> Result<String> {
    let out = Command::new("rustc").arg("-vV").output()?;
    String::from_utf8(out.stdout)?
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Builds the targets, instrumented, in release mode into `target/fuzz`; returns the folder
/// holding the binaries.
fn build(targets: &[&str]) -> Result<PathBuf> {
    let host = host()?;
    let target_dir = fuzz_dir();
    step(&format!("building fuzz targets: {}", targets.join(", ")));
    let started = Instant::now();
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(root())
        // `fuzz/Cargo.lock` is committed and never rewritten by a test run: after a dependency
        // of model, sync or sync-server changes, `cargo update -w --manifest-path
        // fuzz/Cargo.toml` updates it (this build says so when it is stale).
        .args([
            "build",
            "--release",
            "--locked",
            "--manifest-path",
            "fuzz/Cargo.toml",
        ])
        .args(["--target", &host])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", RUSTFLAGS)
        // Anything set for the main build must not reach this one.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS");
    for target in targets {
        cargo.args(["--bin", target]);
    }
    let status = cargo.status()?;
    if !status.success() {
        return Err("building the fuzz targets failed".into());
    }
    println!(
        "built the fuzz targets in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(target_dir.join(host).join("release"))
}

/// `target/fuzz` (under `CARGO_TARGET_DIR` when that is set).
fn fuzz_dir() -> PathBuf {
    target_dir().join("fuzz")
}

/// Runs one target for `seconds`; returns its one-line summary, or an error naming the crash.
fn run_target(bins: &Path, target: &str, seconds: u64) -> Result<String> {
    let work_corpus = fuzz_dir().join("corpus").join(target);
    let seeds = root().join("fuzz/corpus").join(target);
    let artifacts = fuzz_dir().join("artifacts").join(target);
    std::fs::create_dir_all(&work_corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    step(&format!("fuzzing {target} for {seconds} s"));
    let binary = bins.join(target);
    let mut fuzzer = Command::new(&binary);
    fuzzer
        .arg(format!("-max_total_time={seconds}"))
        .args(LIMITS)
        .arg("-print_final_stats=1")
        // libFuzzer wants the trailing slash: the prefix is prepended to `crash-<sha1>`.
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&work_corpus);
    if seeds.is_dir() {
        fuzzer.arg(&seeds);
    }
    let mut child = fuzzer
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let stderr = child.stderr.take().expect("stderr is piped");
    // libFuzzer reports on stderr; keep its status lines and everything after a failure.
    let mut last_status = String::new();
    let mut stats = Stats::default();
    let mut tail: Vec<String> = Vec::new();
    let mut crash_file = None;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if line.starts_with('#') && line.contains("cov:") {
            // libFuzzer's sparse progress lines (at 2^n executions), so a long run shows life.
            if line.contains("INITED") || line.contains("pulse") {
                println!("{line}");
            }
            last_status = line.clone();
        }
        stats.read(&line);
        if let Some(path) = line.split("Test unit written to ").nth(1) {
            crash_file = Some(path.trim().to_owned());
        }
        tail.push(line);
        if tail.len() > 80 {
            tail.remove(0);
        }
    }
    let status = child.wait()?;
    let corpus = std::fs::read_dir(&work_corpus)?.count();
    if !status.success() {
        for line in &tail {
            eprintln!("{line}");
        }
        let mut why = format!("fuzz target {target} failed ({status})");
        if let Some(file) = crash_file {
            why += &format!(
                "\n  input: {file}\n  reproduce: {} {file}",
                binary.display()
            );
        }
        return Err(why.into());
    }
    println!("{last_status}");
    Ok(format!(
        "{target:<16} {} execs ({} /s), cov: {}, ft: {}, corpus: {corpus} files in {}",
        stats.execs,
        stats.execs_per_sec,
        field(&last_status, "cov:"),
        field(&last_status, "ft:"),
        work_corpus.display()
    ))
}

/// libFuzzer's final statistics (`-print_final_stats=1`).
#[derive(Default)]
struct Stats {
    execs: String,
    execs_per_sec: String,
}

impl Stats {
    fn read(&mut self, line: &str) {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            self.execs = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.execs_per_sec = v.trim().to_owned();
        }
    }
}

/// The value after `name` in a libFuzzer status line (`#123 DONE cov: 456 ft: 789 …`).
fn field<'a>(status: &'a str, name: &str) -> &'a str {
    let mut words = status.split_whitespace();
    words.find(|w| *w == name);
    words.next().unwrap_or("?")
}
