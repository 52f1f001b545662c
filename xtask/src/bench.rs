//! `cargo xtask bench sync [--clients 100,1000] [--seconds 10] [--targets ours,js]`: the sync
//! server's fan-out benchmark (`sync-server/benches/sync.rs`), ours against a stock JS
//! automerge-repo sync server in the same run. Installs the npm packages the JS server needs,
//! then runs the benchmark in release mode; the table it prints goes into docs/performance.md.

use xshell::cmd;

use crate::{Result, shell, step, tools};

pub fn run(args: &[String]) -> Result {
    let mut rest = args.iter();
    match rest.next().map(String::as_str) {
        Some("sync") => {}
        _ => return Err(format!("which benchmark?\n{}", crate::USAGE).into()),
    }
    // Flags become the benchmark's environment variables.
    let mut env = Vec::new();
    while let Some(flag) = rest.next() {
        let var = match flag.as_str() {
            "--clients" => "BENCH_CLIENTS",
            "--seconds" => "BENCH_SECONDS",
            "--targets" => "BENCH_TARGETS",
            other => return Err(format!("unknown flag {other}\n{}", crate::USAGE).into()),
        };
        let value = rest.next().ok_or(format!("{flag} needs a value"))?;
        env.push((var, value.clone()));
    }
    let sh = shell()?;
    tools::ensure_npm_packages(&sh)?;
    step("benchmark: sync fan-out, ours against JS automerge-repo (release build)");
    let mut bench = cmd!(sh, "cargo bench --package sync-server --bench sync");
    for (var, value) in env {
        bench = bench.env(var, value);
    }
    bench.run()?;
    Ok(())
}
