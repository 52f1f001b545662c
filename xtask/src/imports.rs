//! Short names for the main module's imports from wasm-bindgen's JS glue.
//!
//! wasm-bindgen names each import `__wbg_<function>_<16 hex digits>`, and every name is written
//! twice: in the module's import section and as a key of the imports object in `app.js`. For the
//! app's 217 imports that was 5.3 KB of the first visit after brotli (hex digits do not
//! compress). The glue uses a name only as that key, so renaming it in both places, as a whole
//! word, keeps the two in step; the module's other imports (the split loader's) keep theirs.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};

use crate::Result;

/// The module name under which wasm-bindgen's glue provides its imports.
const GLUE: &str = "./app_bg.js";

/// `wasm` with its imports from the glue renamed, and `js` (the glue) with the same names.
pub fn shorten(wasm: &[u8], js: &str) -> Result<(Vec<u8>, String)> {
    let mut module = wasm_encoder::Module::new();
    let mut renamed: Vec<(String, String)> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let wasmparser::Payload::ImportSection(reader) = &payload {
            let mut imports = wasm_encoder::ImportSection::new();
            for import in reader.clone().into_imports() {
                let import = import?;
                let ty = RoundtripReencoder.entity_type(import.ty)?;
                if import.module == GLUE {
                    let short = short_name(renamed.len());
                    imports.import(import.module, &short, ty);
                    renamed.push((import.name.to_owned(), short));
                } else {
                    imports.import(import.module, import.name, ty);
                }
            }
            module.section(&imports);
        } else if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &wasm[range.start as usize..range.end as usize],
            });
        }
    }
    let js = rename_words(js, &renamed)?;
    Ok((module.finish(), js))
}

/// `a`, `b`, …, `Z`, `ba`, …: a JavaScript identifier for the `n`th import.
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[n % LETTERS.len()]);
        n /= LETTERS.len();
        if n == 0 {
            break;
        }
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

/// `js` with every identifier-like word that `renamed` lists replaced; fails if one of them
/// does not occur (the glue no longer looks as this expects).
fn rename_words(js: &str, renamed: &[(String, String)]) -> Result<String> {
    let map: std::collections::HashMap<&str, &str> = renamed
        .iter()
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(start) = rest.find(is_word) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c| !is_word(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        match map.get(word) {
            Some(new) => {
                out.push_str(new);
                seen.insert(word);
            }
            None => out.push_str(word),
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    if let Some((old, _)) = renamed.iter().find(|(old, _)| !seen.contains(old.as_str())) {
        return Err(format!("the wasm-bindgen glue does not name the import {old}").into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing two functions from the glue and one from the split loader.
    fn module() -> Vec<u8> {
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut imports = wasm_encoder::ImportSection::new();
        imports.import(
            GLUE,
            "__wbg_log_0123456789abcdef",
            wasm_encoder::EntityType::Function(0),
        );
        imports.import(
            "./__wasm_split.js",
            "__wasm_split_load_me",
            wasm_encoder::EntityType::Function(0),
        );
        imports.import(
            GLUE,
            "__wbg_now_fedcba9876543210",
            wasm_encoder::EntityType::Function(0),
        );
        let custom = wasm_encoder::CustomSection {
            name: "note".into(),
            data: b"kept".as_slice().into(),
        };
        let mut module = wasm_encoder::Module::new();
        module.section(&types).section(&imports);
        module.section(&custom);
        module.finish()
    }

    fn import_names(wasm: &[u8]) -> Vec<(String, String)> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    names.push((import.module.to_owned(), import.name.to_owned()));
                }
            }
        }
        names
    }

    #[test]
    fn renames_the_glue_imports_in_the_module_and_the_glue_alike() {
        let js = "const import0 = { __wbg_log_0123456789abcdef: function(a) { console.log(a) },\n\
                  __wbg_now_fedcba9876543210: () => Date.now(), x__wbg_now_fedcba9876543210y: 1 };";
        let (wasm, js) = shorten(&module(), js).unwrap();
        wasmparser::validate(&wasm).unwrap();
        assert_eq!(
            import_names(&wasm),
            [
                (GLUE.to_owned(), "a".to_owned()),
                (
                    "./__wasm_split.js".to_owned(),
                    "__wasm_split_load_me".to_owned()
                ),
                (GLUE.to_owned(), "b".to_owned()),
            ]
        );
        assert_eq!(
            js,
            "const import0 = { a: function(a) { console.log(a) },\n\
             b: () => Date.now(), x__wbg_now_fedcba9876543210y: 1 };"
        );
        assert!(
            wasm.windows(4).any(|w| w == b"kept"),
            "other sections are kept"
        );
    }

    #[test]
    fn refuses_glue_that_lacks_a_name() {
        assert!(
            shorten(
                &module(),
                "const import0 = { __wbg_log_0123456789abcdef: f };"
            )
            .is_err()
        );
    }

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(names[0], "a");
        assert_eq!(names[52], "ba");
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_alphabetic()))
        );
    }
}
