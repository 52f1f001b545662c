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

        /// The text in `lang`.
        pub fn t(lang: Lang, text: Text) -> &'static str {
            match (text, lang) {
                $((Text::$key, Lang::Nl) => $nl, (Text::$key, Lang::En) => $en,)*
            }
        }
    };
}

catalogue! {
    AppName => ("Dorpskracht", "Dorpskracht"),
    SkipToContent => ("Naar de inhoud", "Skip to content"),
    // The toggle names the other language in that language, so each reader finds it.
    OtherLanguage => ("English", "Nederlands"),
    SwitchLanguage => ("Switch to English", "Schakel over naar het Nederlands"),
    ChooseVillage => ("Kies je dorp", "Choose your village"),
    Intro => (
        "Dorpskracht brengt inwoners en verenigingen van {municipality} samen: vraag en bied hulp, werk samen en denk mee over je dorp. Kies je dorp om te beginnen.",
        "Dorpskracht brings the residents and associations of {municipality} together: ask for and offer help, work together and have your say about your village. Choose your village to start."
    ),
    Villages => ("Dorpen", "Villages"),
    YourVillage => ("Jouw dorp: {village}", "Your village: {village}"),
    VillageChosen => ("Je dorp is nu {village}.", "Your village is now {village}."),
    ChangeLater => ("Je kunt je keuze altijd wijzigen.", "You can change your choice at any time."),
    Loading => ("De dorpen worden geladen…", "Loading the villages…"),
    OfflineCached => (
        "Geen verbinding met de server. Je ziet de dorpen van je vorige bezoek.",
        "No connection to the server. You are seeing the villages from your last visit."
    ),
    LoadFailed => (
        "De dorpen konden niet geladen worden. Controleer je verbinding en probeer het opnieuw.",
        "The villages could not be loaded. Check your connection and try again."
    ),
    Retry => ("Opnieuw proberen", "Try again"),
    Footer => ("Een initiatief van de gemeente {municipality}", "An initiative of the municipality of {municipality}"),
    NotFound => ("Deze pagina bestaat niet.", "This page does not exist."),
    ToVillage => ("Naar {village}", "Go to {village}"),
    AllVillages => ("Alle dorpen", "All villages"),
    UnknownVillage => ("Dit dorp kennen we niet.", "We do not know this village."),
    LoadingVillage => ("{village} wordt geladen…", "Loading {village}…"),
    // Sync status, always visible.
    Online => ("Online", "Online"),
    Offline => ("Offline", "Offline"),
    SavedOnDevice => ("Opgeslagen op dit apparaat", "Saved on this device"),
    NotSaved => ("Nog niet opgeslagen op dit apparaat", "Not yet saved on this device"),
    NotPersistent => (
        "Dit apparaat bewaart niets: wijzigingen gaan verloren bij sluiten",
        "This device keeps nothing: changes are lost when you close the app"
    ),
    Synced => ("Alles gesynchroniseerd", "Everything synced"),
    Waiting => ("{count} wijziging(en) wachten op verbinding", "{count} change(s) waiting for a connection"),
    StorageFull => (
        "De opslag van dit apparaat is vol. Je wijzigingen blijven bewaard zolang de app open is; maak ruimte vrij.",
        "This device's storage is full. Your changes are kept while the app is open; free up some space."
    ),
    // Help (hulp).
    HelpHeading => ("Hulp in {village}", "Help in {village}"),
    HelpIntro => (
        "Vraag hulp of bied hulp aan. Buren reageren met één tik.",
        "Ask for help or offer it. Neighbours respond with one tap."
    ),
    NewHelpPost => ("Hulp vragen of aanbieden", "Ask for or offer help"),
    KindQuestion => ("Wat wil je?", "What would you like?"),
    KindRequest => ("Ik vraag hulp", "I am asking for help"),
    KindOffer => ("Ik bied hulp aan", "I am offering help"),
    TitleLabel => ("Waarmee?", "With what?"),
    TitleHint => ("Bijvoorbeeld: boodschappen doen op dinsdag", "For example: groceries on Tuesday"),
    CategoryLabel => ("Soort hulp", "Kind of help"),
    DescriptionLabel => ("Toelichting (niet verplicht)", "Details (optional)"),
    Submit => ("Plaatsen", "Post"),
    Posted => ("Je bericht staat nu bij Hulp in {village}.", "Your post is now under Help in {village}."),
    ErrorEmpty => ("Vul dit in.", "Please fill this in."),
    ErrorTooLong => ("Dit is te lang: {len} tekens, hoogstens {max}.", "This is too long: {len} characters, at most {max}."),
    ErrorNotLoaded => (
        "Het dorp is nog niet geladen. Probeer het zo opnieuw.",
        "The village has not loaded yet. Please try again in a moment."
    ),
    ErrorRefused => ("Dat kan niet (meer): {reason}", "That is not possible (any more): {reason}"),
    NoHelpPosts => ("Nog geen hulpvragen of aanbod. Plaats de eerste!", "No requests or offers yet. Be the first!"),
    KindBadgeRequest => ("Hulpvraag", "Request"),
    KindBadgeOffer => ("Hulpaanbod", "Offer"),
    StatusOpen => ("Open", "Open"),
    StatusMatched => ("Gekoppeld", "Matched"),
    StatusDone => ("Klaar", "Done"),
    StatusWithdrawn => ("Ingetrokken", "Withdrawn"),
    ByYou => ("Van jou", "Yours"),
    ByNeighbour => ("Van een buurtbewoner", "From a neighbour"),
    RespondToRequest => ("Ik help", "I'll help"),
    RespondToOffer => ("Graag!", "Yes, please!"),
    // What a one-tap response says (model requires a message; the responder can add more later).
    ResponseMessageRequest => ("Ik kan je helpen!", "I can help you!"),
    ResponseMessageOffer => ("Ik maak graag gebruik van je aanbod.", "I would like to take up your offer."),
    Responded => ("Je hebt gereageerd.", "You responded."),
    RespondedStatus => ("Je reactie is geplaatst.", "Your response has been posted."),
    SuggestionsHeading => ("Dit aanbod past bij je vraag", "These offers fit your request"),
    ResponsesHeading => ("Reacties", "Responses"),
    NoResponses => ("Nog geen reacties.", "No responses yet."),
    ResponseFromNeighbour => ("Een buurtbewoner reageerde", "A neighbour responded"),
    Accept => ("Accepteren", "Accept"),
    AcceptedBadge => ("Geaccepteerd", "Accepted"),
    AcceptedStatus => ("Je hebt een reactie geaccepteerd.", "You accepted a response."),
    MarkDone => ("Markeer als klaar", "Mark as done"),
    DoneStatus => ("Fijn! Je hulpvraag is afgerond.", "Good! Your request is done."),
    Withdraw => ("Intrekken", "Withdraw"),
    WithdrawnStatus => ("Je bericht is ingetrokken.", "Your post has been withdrawn."),
    CategoryTransport => ("Vervoer", "Transport"),
    CategoryShopping => ("Boodschappen", "Shopping"),
    CategoryGarden => ("Tuin", "Garden"),
    CategoryOddJobs => ("Klusjes", "Odd jobs"),
    CategoryCompany => ("Gezelschap", "Company"),
    CategoryDigital => ("Computer en formulieren", "Computers and forms"),
    CategoryPets => ("Huisdieren", "Pets"),
    CategoryOther => ("Overig", "Other"),
    FilterLabel => ("Welke hulp tonen?", "Which help to show?"),
    FilterAll => ("Alle soorten", "All kinds"),
    HelpCountAll => ("Berichten: {count}", "Posts: {count}"),
    HelpCountSome => ("De nieuwste {shown} van {count} berichten", "The newest {shown} of {count} posts"),
    ShowMore => ("Meer tonen", "Show more"),
    NoHelpPostsOfKind => ("Geen berichten van deze soort.", "No posts of this kind."),
    ByName => ("Van {name}", "From {name}"),
    ResponseFrom => ("{name} reageerde", "{name} responded"),
    SendMessage => ("Stuur een bericht", "Send a message"),
    // ---- Navigation ----
    MainNav => ("Hoofdmenu", "Main menu"),
    NavMyVillage => ("Mijn dorp", "My village"),
    NavAssociations => ("Verenigingen", "Associations"),
    NavConsultations => ("Meedenken", "Have your say"),
    NavKnowledge => ("Kennisbank", "Knowledge"),
    NavMessages => ("Berichten", "Messages"),
    NavMe => ("Ik", "Me"),
    VillageTabs => ("Onderdelen van het dorp", "Parts of the village"),
    TabBoard => ("Prikbord", "Board"),
    TabHelp => ("Hulp", "Help"),
    TabAgenda => ("Agenda", "Agenda"),
    TabInitiatives => ("Initiatieven", "Initiatives"),
    LoadingDocument => ("Bezig met laden", "Loading"),
    // ---- Board (prikbord) ----
    BoardHeading => ("Prikbord van {village}", "{village}'s board"),
    // ---- Agenda ----
    AgendaHeading => ("Agenda van {village}", "What's on in {village}"),
    // ---- Initiatives (dorpswerkplaats) ----
    InitiativesHeading => ("Initiatieven in {village}", "Initiatives in {village}"),
    // ---- Associations (verenigingen) ----
    AssociationsHeading => ("Verenigingen", "Associations"),
    // ---- Consultations (meedenken) ----
    ConsultationsHeading => ("Meedenken", "Have your say"),
    // ---- Knowledge (kennisbank) ----
    KnowledgeHeading => ("Kennisbank", "Knowledge base"),
    // ---- Messages (berichten) ----
    MessagesHeading => ("Berichten", "Messages"),
    // ---- Me (ik) ----
    MeHeading => ("Ik", "Me"),
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
