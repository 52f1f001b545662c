//! Installs the tools the build and the tests need when they are missing, at the versions
//! the project pins.

use sha2::Digest;
use xshell::{Shell, cmd};

use crate::{Result, root, step};

/// Trunk 0.22 needs Rust 1.96; this is the newest that builds on the pinned 1.95.
const TRUNK_VERSION: &str = "0.21.14";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What `cargo xtask run` needs: the wasm32 target and rust-src, trunk, wasm-bindgen-cli matching
/// Cargo.lock, and wasm-opt (npm `binaryen`, in tests/node_modules).
pub fn ensure_build_tools(sh: &Shell) -> Result {
    let targets = cmd!(sh, "rustup target list --installed").read()?;
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        step("installing the wasm32-unknown-unknown target");
        cmd!(sh, "rustup target add wasm32-unknown-unknown").run()?;
    }
    // The release wasm compiles its own standard library from source (wasm::OWN_STD).
    let components = cmd!(sh, "rustup component list --installed").read()?;
    if !components.lines().any(|c| c == "rust-src") {
        step("installing the standard library's source (rust-src)");
        cmd!(sh, "rustup component add rust-src").run()?;
    }

    if !has_version(sh, "trunk", TRUNK_VERSION) {
        step(&format!(
            "installing trunk {TRUNK_VERSION} (a few minutes, once)"
        ));
        // Trunk's own release profile uses fat LTO: 16 min on 2 cores instead of 6.
        cmd!(sh, "cargo install --locked trunk@{TRUNK_VERSION}")
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .run()?;
    }

    let bindgen = wasm_bindgen_version()?;
    if !has_version(sh, "wasm-bindgen", &bindgen) {
        step(&format!(
            "installing wasm-bindgen-cli {bindgen} (a few minutes, once)"
        ));
        // Not --locked: its lock file names a crate version the registry here lacks.
        cmd!(
            sh,
            "cargo install --force wasm-bindgen-cli --version {bindgen}"
        )
        .run()?;
    }

    ensure_npm_packages(sh)
}

/// What `cargo xtask test` needs beyond the build tools: Chromium and its driver.
pub fn ensure_test_tools(sh: &Shell) -> Result {
    if std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    if cmd!(sh, "id -u").read()?.trim() != "0" {
        return Err(format!(
            "{CHROMIUM} or {CHROMEDRIVER} is missing; install them with \
             `sudo apt-get install -y chromium chromium-driver`"
        )
        .into());
    }
    step("installing Chromium and ChromeDriver from Debian's packages");
    cmd!(sh, "apt-get update").run()?;
    cmd!(sh, "apt-get install -y chromium chromium-driver")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    Ok(())
}

/// Minifies a JavaScript file in place with esbuild (npm `esbuild`, in tests/node_modules):
/// whitespace, comments and local names go, exports and imports stay as they are. Used for
/// what wasm-bindgen and the splitter write and for the service worker (Trunk minifies only
/// the HTML and CSS it builds).
pub fn minify_js(sh: &Shell, path: &std::path::Path) -> Result {
    let out = path.with_extension("min.js");
    cmd!(
        sh,
        "esbuild {path} --minify --legal-comments=none --log-level=warning --outfile={out}"
    )
    .env("PATH", path_with_node_bins()?)
    .run()?;
    std::fs::rename(&out, path)?;
    Ok(())
}

/// `npm install` in tests/ when package.json or its lock file changed since the last install.
///
/// Not `npm ci`: npm 11 leaves the platform-specific optional packages of cbor-extract (used by
/// automerge-repo) out of the lock file and then refuses it as out of sync. `npm install` with
/// the lock file installs the same locked versions.
pub fn ensure_npm_packages(sh: &Shell) -> Result {
    let tests = root().join("tests");
    let marker = tests.join("node_modules/.dorpskracht-installed");
    let fingerprint = || -> Result<String> {
        let mut both = std::fs::read(tests.join("package.json"))?;
        both.extend(std::fs::read(tests.join("package-lock.json"))?);
        Ok(format!("{:x}", sha2::Sha256::digest(&both)))
    };
    if std::fs::read_to_string(&marker).ok() == Some(fingerprint()?) {
        return Ok(());
    }
    if version_output(sh, "npm").is_none() {
        return Err(
            "npm is missing: install Node.js 20 or newer (Debian: apt-get install nodejs npm)"
                .into(),
        );
    }
    step("installing the npm packages of tests/");
    let _dir = sh.push_dir(&tests);
    cmd!(sh, "npm install --no-audit --no-fund").run()?;
    std::fs::write(&marker, fingerprint()?)?;
    Ok(())
}

/// PATH with tests/node_modules/.bin first, so Trunk finds binaryen's wasm-opt there.
pub fn path_with_node_bins() -> Result<std::ffi::OsString> {
    let mut paths = vec![root().join("tests/node_modules/.bin")];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(paths)?)
}

/// The wasm-bindgen version Cargo.lock resolved; the CLI must match it exactly.
fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))?;
    locked_version(&lock, "wasm-bindgen")
        .ok_or_else(|| "Cargo.lock has no wasm-bindgen package".into())
}

fn locked_version(lock: &str, package: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            let version = lines.next()?;
            return version
                .strip_prefix("version = \"")?
                .strip_suffix('"')
                .map(str::to_owned);
        }
    }
    None
}

/// Whether `program --version` prints exactly `<program> <version>`.
fn has_version(sh: &Shell, program: &str, version: &str) -> bool {
    version_output(sh, program).is_some_and(|v| v.trim() == format!("{program} {version}"))
}

fn version_output(sh: &Shell, program: &str) -> Option<String> {
    cmd!(sh, "{program} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::locked_version;

    #[test]
    fn reads_a_package_version_from_a_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.1\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "trunk"), None);
    }
}
