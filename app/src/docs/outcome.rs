//! The outcome of an edit as the resident reads it: done (role="status") or failed
//! (role="alert"), and what went wrong in words.

use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use model::OpError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Done(String),
    Failed(String),
}

pub fn edit_error_text(lang: Lang, e: &EditError) -> String {
    match e {
        EditError::NotLoaded | EditError::Unsupported => t(lang, Text::ErrorNotLoaded).to_owned(),
        EditError::NotSignedIn => t(lang, Text::SignInToShare).to_owned(),
        EditError::Op(OpError::EmptyText { .. }) => t(lang, Text::ErrorEmpty).to_owned(),
        EditError::Op(OpError::TextTooLong { max, len, .. }) => tf(
            lang,
            Text::ErrorTooLong,
            &[("len", &len.to_string()), ("max", &max.to_string())],
        ),
        EditError::Op(other) => tf(lang, Text::ErrorRefused, &[("reason", &other.to_string())]),
    }
}

/// What went wrong, in words.
pub fn error_text(lang: Lang, e: &EditError) -> String {
    match e {
        EditError::NotLoaded | EditError::Unsupported => t(lang, Text::MuniNotLoaded).to_owned(),
        EditError::NotSignedIn => t(lang, Text::SignInToShare).to_owned(),
        other => edit_error_text(lang, other),
    }
}
