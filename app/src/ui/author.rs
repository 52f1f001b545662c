//! Who wrote something, as the board and the agenda name them.

use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use model::VillageDoc;

/// Who wrote something, as the board and the agenda name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Author {
    You,
    Named(String),
    Neighbour,
}

impl Author {
    /// `user` as `me` sees them: "you", the display name they chose, or "a neighbour".
    pub(crate) fn of(doc: &VillageDoc, user: &str, me: &str) -> Author {
        if user == me {
            Author::You
        } else {
            doc.display_name(user)
                .map_or(Author::Neighbour, Author::Named)
        }
    }

    /// The name to show; `inline` in the middle of a sentence (lower case).
    pub(crate) fn name(&self, lang: Lang, inline: bool) -> String {
        let text = match (self, inline) {
            (Author::Named(name), _) => return name.clone(),
            (Author::You, false) => Text::NameYou,
            (Author::You, true) => Text::NameYouInline,
            (Author::Neighbour, false) => Text::NameNeighbour,
            (Author::Neighbour, true) => Text::NameNeighbourInline,
        };
        t(lang, text).to_owned()
    }
}
