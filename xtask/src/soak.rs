//! `cargo xtask soak [--minutes 10] [--residents 200] [--attackers 70] [--docs 20]
//! [--max-rss-mib 128] [--seed N] [--non-canonical]`: the sync server killed (SIGKILL) and restarted at random
//! moments under honest residents and attackers (`sync-server/benches/soak/`), in release
//! mode. Prints its figures; fails on any lost acknowledged change, any attacker change that got
//! in, or a peak RSS over the bound.

use xshell::cmd;

use crate::{Result, shell, step};

const FLAGS: [&str; 6] = [
    "--minutes",
    "--residents",
    "--attackers",
    "--docs",
    "--max-rss-mib",
    "--seed",
];

pub fn run(args: &[String]) -> Result {
    let mut rest = args.iter();
    let mut pass = Vec::new();
    while let Some(flag) = rest.next() {
        if flag == "--non-canonical" {
            pass.push(flag.clone());
            continue;
        }
        if !FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown flag {flag}\n{}", crate::USAGE).into());
        }
        let value = rest.next().ok_or(format!("{flag} needs a value"))?;
        pass.push(flag.clone());
        pass.push(value.clone());
    }
    let sh = shell()?;
    step("soak: the sync server killed and restarted under load (release build)");
    cmd!(
        sh,
        "cargo bench --package sync-server --bench soak -- {pass...}"
    )
    .run()?;
    Ok(())
}
