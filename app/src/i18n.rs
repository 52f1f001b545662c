//! Every text the app shows, in Dutch first and English second, from this one catalogue.
//!
//! The [`catalogue!`] macro makes a missing translation a compile error: each entry names its
//! Dutch and its English text, and views only ever show `tr(lang, Text::…)` (or `t`/`tf` inside closures).

use leptos::prelude::*;

/// The languages the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    /// BCP 47 code, for `<html lang>` and storage.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the toggle switches to.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

macro_rules! catalogue {
    ($($key:ident => ($nl:literal, $en:literal),)*) => {
        /// A text of the app; see [`t`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($key,)* }

        impl Text {
            /// Every text, for checks over the whole catalogue.
            pub const ALL: &'static [Text] = &[$(Text::$key,)*];
        }

        /// Every Dutch text, one after the other (a table of `&str`s, or a `match`, costs the
        /// download more than this and [`ends`]).
        const NL: Texts = Texts {
            all: concat!($($nl,)*),
            ends: &ends([$($nl.len(),)*]),
        };

        #[cfg(not(english_apart))]
        const EN: Texts = Texts {
            all: concat!($($en,)*),
            ends: &ends([$($en.len(),)*]),
        };
    };
}

include!("i18n/texts.rs");

/// The texts of one language, concatenated in the order of [`Text`].
struct Texts {
    all: &'static str,
    /// Where each text ends in `all`.
    ends: &'static [u16],
}

impl Texts {
    fn get(&self, text: Text) -> &'static str {
        let i = text as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.all[start..self.ends[i] as usize]
    }
}

/// Running sums of `lens`, at compile time.
const fn ends<const N: usize>(lens: [usize; N]) -> [u16; N] {
    let mut out = [0; N];
    let (mut i, mut end) = (0, 0);
    while i < N {
        end += lens[i];
        assert!(
            end <= u16::MAX as usize,
            "the catalogue outgrew u16 offsets"
        );
        out[i] = end as u16;
        i += 1;
    }
    out
}

/// The text in `lang`. In a build with the English texts apart (the release wasm,
/// `--cfg english_apart`) it is the Dutch text until [`load_english`] has fetched them.
pub fn t(lang: Lang, text: Text) -> &'static str {
    match lang {
        Lang::Nl => NL.get(text),
        Lang::En => english(text),
    }
}

#[cfg(not(english_apart))]
fn english(text: Text) -> &'static str {
    EN.get(text)
}

#[cfg(english_apart)]
fn english(text: Text) -> &'static str {
    match apart::ENGLISH.get() {
        Some(texts) => texts[text as usize],
        None => NL.get(text),
    }
}

/// Whether [`t`] has the texts of `lang` at hand now.
pub fn ready(lang: Lang) -> bool {
    #[cfg(english_apart)]
    if lang == Lang::En {
        return apart::ENGLISH.get().is_some();
    }
    let _ = lang;
    true
}

/// Makes the English texts ready (see [`ready`]): a no-op unless they are apart, else one fetch
/// of `en.txt` next to the app's wasm (`cargo xtask` writes it there; the service worker keeps
/// it once fetched, and fetches it on the app's next start). `false` when it cannot be fetched.
pub async fn load_english() -> bool {
    #[cfg(english_apart)]
    return apart::load().await.is_ok();
    #[cfg(not(english_apart))]
    true
}

/// Sets `lang` to `to`, once its texts are ready; `false` (and `lang` unchanged) when they
/// cannot be had (offline before the English texts were ever fetched).
pub async fn switch(lang: RwSignal<Lang>, to: Lang) -> bool {
    let ok = ready(to) || load_english().await;
    if ok {
        lang.set(to);
    }
    ok
}

#[cfg(english_apart)]
mod apart {
    use std::sync::OnceLock;

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::Text;

    /// The English texts, in the order of [`Text`], once fetched.
    pub static ENGLISH: OnceLock<Box<[&'static str]>> = OnceLock::new();

    pub async fn load() -> Result<(), JsValue> {
        if ENGLISH.get().is_some() {
            return Ok(());
        }
        let window = web_sys::window().ok_or("no window")?;
        // index.html names the folder of this build's wasm (`cargo xtask`, wasm.rs).
        let assets = window
            .document()
            .and_then(|d| {
                d.query_selector("meta[name=dorpskracht-assets]")
                    .ok()
                    .flatten()
            })
            .and_then(|meta| meta.get_attribute("content"))
            .ok_or("no dorpskracht-assets meta")?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str(&format!("{assets}/en.txt")))
                .await?
                .dyn_into()?;
        if !response.ok() {
            return Err("en.txt not found".into());
        }
        let body = JsFuture::from(response.text()?).await?;
        let body = body.as_string().ok_or("en.txt is not text")?;
        let texts: Box<[&'static str]> = body.leak().split('\n').collect();
        // A file of another build would put texts in the wrong places: better Dutch.
        if texts.len() != Text::ALL.len() {
            return Err("en.txt is of another build".into());
        }
        let _ = ENGLISH.set(texts);
        Ok(())
    }
}

/// The text in the reactive `lang`, for views. Every text shares this one type, so a view with
/// fifty texts compiles its rendering code once instead of fifty times (wasm size matters).
pub fn tr(lang: RwSignal<Lang>, text: Text) -> Signal<&'static str> {
    Signal::derive(move || t(lang.get(), text))
}

/// `t(lang, text)` with each `{name}` replaced by its value.
pub fn tf(lang: Lang, text: Text, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(t(lang, text).to_owned(), |out, (name, value)| {
            out.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn every_text_has_both_languages_with_the_same_placeholders() {
        for &text in Text::ALL {
            let (nl, en) = (t(Lang::Nl, text), t(Lang::En, text));
            assert!(!nl.trim().is_empty() && !en.trim().is_empty(), "{text:?}");
            assert_eq!(placeholders(nl), placeholders(en), "{text:?}");
        }
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            tf(Lang::Nl, Text::YourVillage, &[("village", "Ulft")]),
            "Jouw dorp: Ulft"
        );
        assert_eq!(
            tf(Lang::En, Text::VillageChosen, &[("village", "Etten")]),
            "Your village is now Etten."
        );
    }

    #[test]
    fn language_codes_round_trip() {
        for lang in [Lang::Nl, Lang::En] {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert_eq!(lang.other().other(), lang);
        }
        assert_eq!(Lang::from_code("de"), None);
    }
}
