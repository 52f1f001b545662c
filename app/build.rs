//! `cargo xtask` builds the release wasm with `DORPSKRACHT_WASM_SPLIT=1`: the app then marks its
//! lazily loaded screens as split points (`--cfg wasm_split`, see src/lazy.rs) and the linker
//! keeps the relocations the splitter needs (`--emit-relocs`). Set here rather than in
//! RUSTFLAGS so that only this crate is rebuilt, never its dependencies.
//!
//! The same build keeps the English texts out of the wasm (`--cfg english_apart`, see
//! src/i18n.rs): xtask writes them into `en.txt` next to it, fetched when a resident chooses
//! English.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasm_split)");
    println!("cargo::rustc-check-cfg=cfg(english_apart)");
    println!("cargo::rerun-if-env-changed=DORPSKRACHT_WASM_SPLIT");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let split = std::env::var_os("DORPSKRACHT_WASM_SPLIT").is_some_and(|v| v == "1");
    if wasm && split {
        println!("cargo::rustc-cfg=wasm_split");
        println!("cargo::rustc-cfg=english_apart");
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
