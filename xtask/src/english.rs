//! The app's English texts as `en.txt`, which the release wasm fetches when a resident chooses
//! English (app/src/i18n.rs, `--cfg english_apart`): most residents read Dutch, so the English
//! half of the catalogue stays out of the first visit's download.
//!
//! The texts come from the app's catalogue itself (`app/src/i18n/texts.rs`, included here as
//! the app includes it), so the file cannot disagree with the `Text` enum's order.

macro_rules! catalogue {
    ($($key:ident => ($nl:literal, $en:literal),)*) => {
        /// Every English text, in the order of the app's `Text` enum.
        const ENGLISH: &[&str] = &[$($en,)*];
    };
}

include!("../../app/src/i18n/texts.rs");

/// One text per line, in the order of the app's `Text` enum.
pub fn file() -> crate::Result<String> {
    if let Some(text) = ENGLISH.iter().find(|text| text.contains('\n')) {
        return Err(format!("a text of the catalogue has a line break: {text:?}").into());
    }
    Ok(ENGLISH.join("\n"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_per_text() {
        let file = super::file().unwrap();
        assert_eq!(file.lines().count(), super::ENGLISH.len());
        assert!(file.starts_with("Dorpskracht\nSkip to content\n"));
    }
}
