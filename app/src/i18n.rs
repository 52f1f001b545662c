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
    // A screen whose code loads when first opened (lazy.rs).
    ScreenLoading => ("Dit scherm wordt geladen…", "Loading this screen…"),
    ScreenUnavailable => (
        "Dit scherm kon niet geladen worden. Het werkt zonder verbinding zodra de app één keer opnieuw met verbinding is gestart. Controleer je verbinding en probeer het opnieuw.",
        "This screen could not be loaded. It works without a connection once the app has been started again with a connection. Check your connection and try again."
    ),
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
    Refused => (
        "De server heeft een wijziging van je niet aangenomen: {reason}. Die wijziging is teruggedraaid; je andere wijzigingen blijven staan en worden verstuurd.",
        "The server did not accept one of your changes: {reason}. That change was undone; your other changes stay and are sent."
    ),
    RefusedDetails => ("Wat de server zei", "What the server said"),
    RefusedNotAllowed => ("je mag dit niet (meer) wijzigen", "you may not (or no longer) change this"),
    RefusedSignIn => ("je bent niet (meer) ingelogd", "you are not (or no longer) signed in"),
    Dismiss => ("Sluiten", "Close"),
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
    HelpPreviewStale => (
        "Zo stond het er bij je vorige bezoek; bijwerken…",
        "As it was at your last visit; updating…"
    ),
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
    BoardIntro => (
        "Deel nieuws, vraag iets of laat iets weten aan je dorpsgenoten.",
        "Share news, ask something or let your neighbours know."
    ),
    NewBoardPost => ("Nieuw bericht", "New post"),
    BoardBodyLabel => ("Wat wil je delen?", "What would you like to share?"),
    BoardBodyHint => (
        "Bijvoorbeeld: zwarte kat gevonden bij de kerk",
        "For example: found a black cat near the church"
    ),
    BoardPosted => ("Je bericht staat op het prikbord.", "Your post is on the board."),
    NoBoardPosts => ("Nog geen berichten. Plaats het eerste!", "No posts yet. Be the first!"),
    // An author's name where none was chosen, and the resident themselves.
    NameYou => ("Jij", "You"),
    NameNeighbour => ("Een buurtbewoner", "A neighbour"),
    NameYouInline => ("jij", "you"),
    NameNeighbourInline => ("een buurtbewoner", "a neighbour"),
    ReactionLike => ("Duim omhoog", "Thumbs up"),
    ReactionHeart => ("Hartje", "Heart"),
    ReactionThanks => ("Bedankt", "Thanks"),
    // A reaction button's accessible name.
    ReactionCount => ("{reaction}, {count}", "{reaction}, {count}"),
    ReactionsGroup => ("Reageer met een emoji", "React with an emoji"),
    ReactionAdded => ("{reaction} gegeven. Nu {count}.", "{reaction} given. Now {count}."),
    ReactionRemoved => ("{reaction} weggehaald. Nu {count}.", "{reaction} removed. Now {count}."),
    CommentsHeading => ("Reacties ({count})", "Comments ({count})"),
    CommentLabel => ("Schrijf een reactie", "Write a comment"),
    CommentSubmit => ("Reageren", "Comment"),
    CommentPosted => ("Je reactie staat bij het bericht.", "Your comment is under the post."),
    // ---- Agenda ----
    AgendaHeading => ("Agenda van {village}", "What's on in {village}"),
    AgendaIntro => (
        "Wat er de komende weken te doen is. Help mee waar vrijwilligers nodig zijn.",
        "What is happening in the coming weeks. Lend a hand where volunteers are needed."
    ),
    NewEvent => ("Activiteit toevoegen", "Add an activity"),
    EventTitleLabel => ("Naam van de activiteit", "Name of the activity"),
    EventDateLabel => ("Datum", "Date"),
    EventStartLabel => ("Begintijd", "Start time"),
    EventEndLabel => ("Eindtijd (niet verplicht)", "End time (optional)"),
    EventPlaceLabel => ("Plaats", "Place"),
    EventPlaceHint => ("Bijvoorbeeld: Dorpshuis, Kerkstraat 1", "For example: village hall, Kerkstraat 1"),
    VolunteersNeededLabel => ("Hoeveel vrijwilligers zoek je?", "How many volunteers do you need?"),
    VolunteersNeededHint => ("0 als je geen hulp zoekt", "0 if you need no help"),
    OrganiserLabel => ("Namens", "On behalf of"),
    OrganiserSelf => ("Mijzelf", "Myself"),
    EventSubmit => ("Toevoegen aan de agenda", "Add to the agenda"),
    EventCreated => ("{title} staat in de agenda.", "{title} is in the agenda."),
    ErrorDate => ("Kies een datum.", "Choose a date."),
    ErrorTime => ("Kies een tijd.", "Choose a time."),
    ErrorPast => ("Dit moment is al voorbij.", "This moment has already passed."),
    ErrorEndBeforeStart => ("De eindtijd ligt voor de begintijd.", "The end time is before the start time."),
    ErrorVolunteers => ("Kies een aantal van 0 tot en met {max}.", "Choose a number from 0 to {max}."),
    NoEvents => (
        "Er staat nog niets in de agenda. Voeg de eerste activiteit toe!",
        "Nothing in the agenda yet. Add the first activity!"
    ),
    EventPlace => ("Waar: {place}", "Where: {place}"),
    OrganisedBy => ("Organisatie: {name}", "Organised by: {name}"),
    VolunteersCount => ("{signed} van {needed} vrijwilligers aangemeld", "{signed} of {needed} volunteers signed up"),
    VolunteersNames => ("Aangemeld: {names}", "Signed up: {names}"),
    EventFullBadge => ("Vol", "Full"),
    EventFullLine => ("Er zijn genoeg vrijwilligers. Bedankt!", "There are enough volunteers. Thank you!"),
    EventCancelledBadge => ("Afgelast", "Cancelled"),
    SignUp => ("Ik help mee", "I'll lend a hand"),
    SignedUpLine => ("Je helpt mee.", "You are lending a hand."),
    CancelSignUp => ("Afmelden", "Cancel my sign-up"),
    SignedUpStatus => ("Je helpt mee bij {title}. Bedankt!", "You are lending a hand at {title}. Thank you!"),
    SignUpCancelledStatus => ("Je bent afgemeld voor {title}.", "You are no longer signed up for {title}."),
    CancelEvent => ("Afgelasten", "Cancel the activity"),
    ConfirmCancelEvent => ("Weet je zeker dat je {title} wilt afgelasten?", "Are you sure you want to cancel {title}?"),
    ConfirmCancelYes => ("Ja, afgelasten", "Yes, cancel it"),
    ErrorEventFull => ("Helaas, er zijn al genoeg vrijwilligers.", "Sorry, there are already enough volunteers."),
    TimeRange => ("{start} tot {end}", "{start} to {end}"),
    EventCancelledStatus => ("{title} is afgelast.", "{title} has been cancelled."),
    PastEvents => ("Afgelopen en afgelaste activiteiten ({count})", "Past and cancelled activities ({count})"),
    // ---- Initiatives (dorpswerkplaats) ----
    InitiativesHeading => ("Initiatieven in {village}", "Initiatives in {village}"),
    InitiativesIntro => (
        "De dorpswerkplaats: plannen van inwoners en verenigingen. Kijk wat er loopt, sluit aan of begin zelf iets.",
        "The village workshop: plans of residents and associations. See what is going on, join in or start something yourself."
    ),
    NoInitiatives => ("Nog geen initiatieven. Begin het eerste!", "No initiatives yet. Start the first one!"),
    NewInitiative => ("Een initiatief starten", "Start an initiative"),
    InitiativeTitleLabel => ("Naam van het initiatief", "Name of the initiative"),
    InitiativeTitleHint => ("Bijvoorbeeld: speeltuin opknappen aan de Dorpsstraat", "For example: fix up the playground on Dorpsstraat"),
    PlanLabel => ("Plan", "Plan"),
    PlanHint => (
        "Wat wil je doen, waarom en wanneer? Anderen kunnen het plan later samen met je aanvullen.",
        "What do you want to do, why and when? Others can add to the plan with you later."
    ),
    LeadLabel => ("Namens", "On behalf of"),
    LeadNone => ("Mezelf, als inwoner", "Myself, as a resident"),
    StartInitiative => ("Initiatief starten", "Start initiative"),
    InitiativeCreated => ("Je initiatief staat nu in de dorpswerkplaats.", "Your initiative is now in the village workshop."),
    InitiativeStatusIdea => ("Idee", "Idea"),
    InitiativeStatusRunning => ("Loopt", "Under way"),
    InitiativeStatusDone => ("Afgerond", "Completed"),
    OpenNeeds => ("{count} open", "{count} open"),
    LeadBy => ("Trekker: {name}", "Led by: {name}"),
    StartedByResident => ("Gestart door {name}", "Started by {name}"),
    PartnersLine => ("Partners: {names}", "Partners: {names}"),
    NoPartners => ("Nog geen partners.", "No partners yet."),
    You => ("jou", "you"),
    ANeighbour => ("een buurtbewoner", "a neighbour"),
    NeedsHeading => ("Wat is er nodig?", "What is needed?"),
    NoNeeds => ("Er wordt nu niets gevraagd.", "Nothing is needed right now."),
    FillNeed => ("Ik doe mee", "I'll join in"),
    NeedFilled => ("Je doet mee. Dank je wel!", "You are joining in. Thank you!"),
    FilledByYou => ("Jij doet mee", "You are joining in"),
    FilledBy => ("{name} doet mee", "{name} is joining in"),
    JoinAsPartner => ("Meedoen als partner met {name}", "Join as a partner with {name}"),
    JoinedAsPartner => ("{name} is nu partner.", "{name} is now a partner."),
    AllInitiatives => ("Alle initiatieven", "All initiatives"),
    InitiativeNotFound => ("Dit initiatief bestaat niet (meer).", "This initiative does not exist (any more)."),
    PlanHeading => ("Het plan", "The plan"),
    PlanEmpty => ("Er staat nog geen plan.", "There is no plan yet."),
    PlanEditorsAuthor => ("Alleen wie het initiatief startte, kan het plan bewerken.", "Only the person who started the initiative can edit the plan."),
    PlanEditorsMany => (
        "Het plan bewerken kunnen: wie het initiatief startte en de beheerders van {names}.",
        "Who can edit the plan: the person who started the initiative and the admins of {names}."
    ),
    PlanLive => (
        "Je typt samen: wat anderen schrijven verschijnt terwijl je typt. Alles wordt meteen bewaard, ook zonder verbinding.",
        "You write together: what others write appears while you type. Everything is saved at once, even without a connection."
    ),
    AddNeedLabel => ("Nieuwe vraag", "New need"),
    AddNeedHint => ("Bijvoorbeeld: twee mensen met een aanhanger op zaterdag", "For example: two people with a trailer on Saturday"),
    AddNeed => ("Toevoegen", "Add"),
    NeedAdded => ("De vraag is toegevoegd.", "The need has been added."),
    UpdatesHeading => ("Nieuws", "Updates"),
    NoUpdates => ("Nog geen nieuws.", "No updates yet."),
    UpdateLabel => ("Nieuws delen", "Share an update"),
    PostUpdate => ("Plaatsen", "Post"),
    UpdatePosted => ("Je nieuws is geplaatst.", "Your update has been posted."),
    UpdateBy => ("{name}, {date}", "{name}, {date}"),
    StartRunning => ("Het initiatief gaat van start", "The initiative gets going"),
    Started => ("Het initiatief loopt nu.", "The initiative is now under way."),
    Complete => ("Markeer als afgerond", "Mark as completed"),
    Completed => ("Het initiatief is afgerond. Goed gedaan!", "The initiative is completed. Well done!"),
    // ---- Associations (verenigingen) ----
    AssociationsHeading => ("Verenigingen", "Associations"),
    AssociationsIntro => (
        "Alle verenigingen van de gemeente. Zoek op naam of onderwerp, of kies een dorp of soort.",
        "Every association in the municipality. Search by name or topic, or choose a village or kind."
    ),
    MuniLoading => ("De gegevens van de gemeente worden geladen…", "Loading the municipality's information…"),
    MuniNotLoaded => (
        "De gegevens van de gemeente zijn nog niet geladen. Probeer het zo opnieuw.",
        "The municipality's information has not loaded yet. Please try again in a moment."
    ),
    SearchLabel => ("Zoeken", "Search"),
    SearchHint => ("Bijvoorbeeld: fanfare, voetbal, dorpsraad", "For example: brass band, football, village council"),
    FilterVillage => ("Dorp", "Village"),
    FilterCategory => ("Soort", "Kind"),
    AllCategories => ("Alle soorten", "All kinds"),
    AssociationsFound => ("{count} vereniging(en) gevonden", "{count} association(s) found"),
    NoAssociations => (
        "Geen verenigingen gevonden. Probeer een ander woord, dorp of soort.",
        "No associations found. Try another word, village or kind."
    ),
    AssocSports => ("Sport", "Sports"),
    AssocMusic => ("Muziek", "Music"),
    AssocCulture => ("Cultuur", "Culture"),
    AssocVillageCouncil => ("Dorpsraad en belangen", "Village council"),
    AssocCare => ("Zorg en welzijn", "Care and welfare"),
    AssocYouth => ("Jeugd", "Youth"),
    AssocNature => ("Natuur en milieu", "Nature"),
    AssocOther => ("Overig", "Other"),
    RegisterHeading => ("Vereniging aanmelden", "Register an association"),
    RegisterIntro => (
        "Iedereen kan een vereniging aanmelden. Jij beheert daarna het profiel.",
        "Anyone can register an association. You will manage its profile."
    ),
    AssocNameLabel => ("Naam van de vereniging", "Name of the association"),
    AssocCategoryLabel => ("Soort vereniging", "Kind of association"),
    AssocVillagesLabel => ("Actief in", "Active in"),
    AssocDescriptionLabel => ("Wat doet de vereniging? (niet verplicht)", "What does the association do? (optional)"),
    ContactLegend => ("Openbare contactgegevens (niet verplicht)", "Public contact details (optional)"),
    ContactEmail => ("E-mail", "Email"),
    ContactPhone => ("Telefoon", "Phone"),
    ContactWebsite => ("Website", "Website"),
    ContactSocial => ("Sociale media", "Social media"),
    RegisterSubmit => ("Aanmelden", "Register"),
    SaveProfile => ("Profiel opslaan", "Save profile"),
    Registered => ("{name} staat nu bij de verenigingen.", "{name} is now listed among the associations."),
    ProfileSaved => ("Het profiel is opgeslagen.", "The profile has been saved."),
    ErrorNoVillage => ("Kies minstens één dorp.", "Choose at least one village."),
    AllAssociations => ("Alle verenigingen", "All associations"),
    UnknownAssociation => ("Deze vereniging kennen we niet.", "We do not know this association."),
    ActiveIn => ("Actief in {villages}", "Active in {villages}"),
    ContactHeading => ("Contact", "Contact"),
    ContactViaApp => ("Stuur een bericht", "Send a message"),
    ContactViaAppHint => ("Via de app, aan de beheerders van {name}.", "Through the app, to the admins of {name}."),
    ActivityHeading => ("Activiteiten en initiatieven", "Events and initiatives"),
    ActivityIn => ("In {village}", "In {village}"),
    NoActivityIn => ("Nog niets in {village}.", "Nothing in {village} yet."),
    BadgeEvent => ("Activiteit", "Event"),
    BadgeInitiative => ("Initiatief", "Initiative"),
    RoleOrganiser => ("Organisator", "Organiser"),
    RoleLead => ("Trekker", "Lead"),
    RolePartner => ("Partner", "Partner"),
    EditProfileHeading => ("Profiel bewerken", "Edit the profile"),
    YouManage => ("Je beheert deze vereniging.", "You manage this association."),
    // ---- Consultations (meedenken) ----
    ConsultationsHeading => ("Meedenken", "Have your say"),
    ConsultationsIntro => (
        "Wat de gemeente aan de dorpen vraagt. Reageer vóór de sluitingsdatum; daarna lees je wat de gemeente met de reacties deed.",
        "What the municipality asks the villages. Respond before the closing date; afterwards you can read what the municipality did with the responses."
    ),
    ConsultationsIn => ("Vragen aan {village}", "Questions to {village}"),
    ConsultationsAll => ("Vragen aan alle dorpen", "Questions to all villages"),
    NoConsultations => ("Er loopt nu niets. Kijk later nog eens.", "Nothing is running now. Check again later."),
    ConsOpen => ("Open", "Open"),
    ConsClosed => ("Gesloten", "Closed"),
    ConsReported => ("Uitkomst bekend", "Outcome published"),
    OpenUntil => ("Reageren kan tot en met {date}.", "You can respond until {date}, inclusive."),
    ClosedOn => ("Gesloten na {date}.", "Closed after {date}."),
    ResponseCount => ("{count} reactie(s)", "{count} response(s)"),
    YourResponseLabel => ("Jouw reactie", "Your response"),
    YourResponseHint => (
        "Je reageert één keer per vraag. De gemeente en je dorpsgenoten kunnen je reactie lezen.",
        "You respond once per question. The municipality and your neighbours can read your response."
    ),
    SendResponse => ("Reactie versturen", "Send response"),
    ResponseSent => ("Dank je wel! Je reactie is verstuurd.", "Thank you! Your response has been sent."),
    YouResponded => ("Jouw reactie", "Your response"),
    OutcomeHeading => ("Wat de gemeente ermee deed", "What the municipality did with it"),
    OutcomePending => (
        "De gemeente verwerkt de reacties en laat hier weten wat ermee gebeurt.",
        "The municipality is working through the responses and will report back here."
    ),
    BrokerOf => ("Je bent gebiedsmakelaar van {village}.", "You are the area broker of {village}."),
    NewConsultationHeading => ("Nieuwe vraag aan {village}", "New question to {village}"),
    QuestionLabel => ("Vraag", "Question"),
    ExplanationLabel => ("Toelichting (niet verplicht)", "Explanation (optional)"),
    ClosingDateLabel => ("Reageren kan tot en met", "Responses until (inclusive)"),
    OpenConsultation => ("Vraag uitzetten", "Ask the question"),
    ConsultationOpened => ("De vraag staat nu open voor {village}.", "The question is now open for {village}."),
    ErrorClosingDate => ("Kies een datum vanaf vandaag.", "Choose a date from today on."),
    ResponsesList => ("Reacties", "Responses"),
    OutcomeLabel => ("Uitkomst: wat doet de gemeente met de reacties?", "Outcome: what does the municipality do with the responses?"),
    PublishOutcome => ("Uitkomst publiceren", "Publish the outcome"),
    OutcomePublished => ("De uitkomst is gepubliceerd.", "The outcome has been published."),
    // ---- Knowledge (kennisbank) ----
    KnowledgeHeading => ("Kennisbank", "Knowledge base"),
    KnowledgeIntro => (
        "Wie je verder helpt en hoe je iets aanpakt in je dorp. Ook zonder internet te lezen.",
        "Who can help you and how to get things done in your village. Readable without internet too."
    ),
    YourBroker => ("Jouw gebiedsmakelaar", "Your area broker"),
    BrokerIntro => (
        "De gebiedsmakelaar is je aanspreekpunt bij de gemeente voor alles wat met je dorp te maken heeft.",
        "The area broker is your contact at the municipality for everything about your village."
    ),
    BrokerFor => ("Gebiedsmakelaar van {village}", "Area broker of {village}"),
    NoBroker => (
        "Voor {village} staat nog geen gebiedsmakelaar in de app. Neem contact op met de gemeente.",
        "No area broker for {village} is in the app yet. Please contact the municipality."
    ),
    ChooseVillageFirst => ("Kies eerst je dorp, dan zie je wie je gebiedsmakelaar is.", "Choose your village first to see who your area broker is."),
    StartInitiativeHeading => ("Zelf iets beginnen", "Start something yourself"),
    StartInitiativeText => (
        "Een idee voor je dorp? Zet het bij de initiatieven van je dorp, zoek medestanders en vraag je gebiedsmakelaar om mee te denken.",
        "An idea for your village? Add it to your village's initiatives, find people to join and ask your area broker to help think it through."
    ),
    ToInitiatives => ("Naar de initiatieven van {village}", "Go to {village}'s initiatives"),
    PagesHeading => ("Artikelen", "Articles"),
    NoPages => ("Nog geen artikelen.", "No articles yet."),
    AboutVillage => ("Over {village}", "About {village}"),
    // ---- Messages (berichten) ----
    MessagesHeading => ("Berichten", "Messages"),
    MessagesIntro => ("Je privégesprekken met buurtbewoners. Alleen wie meedoet aan een gesprek leest het.", "Your private conversations with neighbours. Only those taking part in a conversation read it."),
    MessagesUnreadCount => ("Nieuwe berichten in {count} gesprek(ken)", "New messages in {count} conversation(s)"),
    MessagesLoading => ("Berichten laden…", "Loading messages…"),
    MessagesEmpty => ("Nog geen berichten. Stuur een buurtbewoner een bericht vanaf een hulpvraag of de pagina van een vereniging.", "No messages yet. Message a neighbour from a help post or an association's page."),
    MessagesWith => ("Met {names}", "With {names}"),
    MessagesUnread => ("Nieuw", "New"),
    MessagesYou => ("Jij", "You"),
    MessagesNeighbour => ("een buurtbewoner", "a neighbour"),
    MessagesBack => ("← Alle berichten", "← All messages"),
    MessagesNewHeading => ("Nieuw bericht", "New message"),
    MessagesNoRecipient => ("Dit bericht heeft geen ontvanger. Kies bij een hulpvraag of een vereniging aan wie je wilt schrijven.", "This message has no recipient. Choose whom to write to from a help post or an association."),
    MessagesTo => ("Aan: {names}", "To: {names}"),
    MessagesAbout => ("Over: {subject}", "About: {subject}"),
    MessagesFirstLabel => ("Je bericht", "Your message"),
    MessagesReplyLabel => ("Je antwoord", "Your reply"),
    MessagesSend => ("Versturen", "Send"),
    MessagesNotFound => ("Dit gesprek bestaat niet", "This conversation does not exist"),
    MessagesConversation => ("Gesprek", "Conversation"),
    MessagesNotYours => ("Dit gesprek is alleen voor wie eraan meedoet.", "Only those taking part can read this conversation."),
    MessagesLog => ("Berichten in dit gesprek", "Messages in this conversation"),
    // ---- Me (ik) ----
    MeHeading => ("Ik", "Me"),
    MeProfileHeading => ("Mijn profiel", "My profile"),
    MeProfileIntro => ("Buren zien je naam bij wat je plaatst; je categorieën en tijden helpen om vraag en aanbod bij elkaar te brengen.", "Neighbours see your name on what you post; your categories and times help match requests and offers."),
    MeVillageLabel => ("Mijn dorp", "My village"),
    MeVillageNone => ("Kies je dorp", "Choose your village"),
    MeChooseVillageFirst => ("Kies eerst je dorp: je profiel staat in het dorp waar je woont.", "Choose your village first: your profile lives in the village where you live."),
    MeProfileLoading => ("Je dorp laden…", "Loading your village…"),
    MeNameLabel => ("Naam die buren zien", "Name neighbours see"),
    MeNameHint => ("Bijvoorbeeld je voornaam. Leeg laten mag: dan staat er \"een buurtbewoner\".", "For example your first name. You may leave it empty: then it says \"a neighbour\"."),
    MeCategoriesLegend => ("Waarmee help je graag?", "What do you like to help with?"),
    MeAvailabilityLegend => ("Wanneer kun je helpen?", "When can you help?"),
    MeAvailabilityHint => ("Geen tijden: wanneer het uitkomt.", "No times: whenever it suits."),
    MeWindowDate => ("Datum", "Date"),
    MeWindowFrom => ("Van", "From"),
    MeWindowTo => ("Tot", "Until"),
    MeAddWindow => ("Tijd toevoegen", "Add time"),
    MeRemove => ("Verwijderen", "Remove"),
    MeRemoveWindow => ("{window} verwijderen", "Remove {window}"),
    MeWindowIncomplete => ("Vul een datum en een begin- en eindtijd in.", "Fill in a date and a start and end time."),
    MeWindowOrder => ("De eindtijd moet na de begintijd liggen.", "The end time must be after the start time."),
    MeSaveProfile => ("Profiel opslaan", "Save profile"),
    MeProfileSaved => ("Je profiel is opgeslagen.", "Your profile is saved."),
    MePostsHeading => ("Wat ik plaatste", "What I posted"),
    MeNoPosts => ("Je hebt nog niets geplaatst.", "You have not posted anything yet."),
    MeResponsesHeading => ("Waar ik op reageerde", "What I responded to"),
    MeNoResponses => ("Je hebt nog nergens op gereageerd.", "You have not responded to anything yet."),
    MeResponseAccepted => ("Je hulp is aangenomen", "Your help was accepted"),
    MeResponseWaiting => ("Wacht op antwoord", "Waiting for a reply"),
    MeBoardPost => ("Prikbord", "Board"),
    MeOnBoard => ("Geplaatst", "Posted"),
    MeSettingsHeading => ("Instellingen", "Settings"),
    MeLanguageLegend => ("Taal", "Language"),
    MeLanguageNl => ("Nederlands", "Nederlands"),
    MeLanguageEn => ("English", "English"),
    MeFollowLegend => ("Dorpen die ik volg", "Villages I follow"),
    MeFollowHint => ("Hun nieuws en hulpvragen staan dan ook op dit apparaat, ook zonder internet.", "Their news and help posts are then on this device too, even without internet."),
    MeAccountHeading => ("Account", "Account"),
    ModerateSummary => ("Verbergen (gebiedsmakelaar)", "Hide (area broker)"),
    ModerateReasonLabel => ("Waarom verberg je dit? Dit wordt vastgelegd.", "Why do you hide this? This is recorded."),
    ModerateReasonMissing => ("Geef een reden op.", "Give a reason."),
    ModerateButton => ("Verbergen", "Hide"),
    ModerateDone => ("Verborgen. De reden is vastgelegd.", "Hidden. The reason is recorded."),
    TabReports => ("Meldingen", "Reports"),
    ReportSummary => ("Melden", "Report"),
    ReportReasonLabel => ("Wat is er mis mee? Alleen de gebiedsmakelaar ziet je melding.", "What is wrong with it? Only the area broker sees your report."),
    ReportButton => ("Melding versturen", "Send report"),
    ReportSent => ("Bedankt. De gebiedsmakelaar bekijkt je melding.", "Thank you. The area broker will look at your report."),
    ReportAlready => ("Je hebt dit al gemeld.", "You already reported this."),
    ReportsHeading => ("Meldingen", "Reports"),
    ReportsOnlyBroker => ("Alleen de gebiedsmakelaar van dit dorp ziet de meldingen.", "Only this village's area broker sees the reports."),
    ReportsCount => ("Open meldingen: {count}", "Open reports: {count}"),
    ReportBy => ("{name} meldt: {reason}", "{name} reports: {reason}"),
    ReportDismiss => ("Afwijzen", "Dismiss"),
    ByNeighbourShort => ("Een buurtbewoner", "A neighbour"),
    SignInToShare => ("Log in om dit met je dorp te delen (via Ik of Inloggen bovenaan). Wat je schreef blijft staan.", "Sign in to share this with your village (through Me or Sign in at the top). What you wrote stays."),
    MessagesSignIn => ("Berichten zijn privé: log in om ze te lezen en te sturen.", "Messages are private: sign in to read and send them."),
    SignInHeading => ("Inloggen", "Sign in"),
    SignUpHeading => ("Account aanmaken", "Create an account"),
    SignInButton => ("Inloggen", "Sign in"),
    SignUpButton => ("Account aanmaken", "Create an account"),
    SignOutButton => ("Uitloggen", "Sign out"),
    SignedInAs => ("Ingelogd als", "Signed in as"),
    AccountNameLabel => ("Je naam, zoals buren die zien", "Your name, as neighbours see it"),
    EmailLabel => ("E-mailadres", "Email address"),
    PasswordLabel => ("Wachtwoord", "Password"),
    PasswordHint => ("Minstens 10 tekens, geen veelgebruikt wachtwoord en niet je e-mailadres.", "At least 10 characters, not a common password and not your email address."),
    NoAccountYet => ("Nog geen account? Maak er een aan.", "No account yet? Create one."),
    HaveAccount => ("Heb je al een account? Log in.", "Already have an account? Sign in."),
    AccountAnonymous => ("Je bent niet ingelogd. Lezen kan altijd; log in om mee te doen. Wat je op dit apparaat maakt, blijft van jou.", "You are not signed in. You can always read; sign in to take part. What you make on this device stays yours."),
    AccountErrWrong => ("E-mailadres of wachtwoord klopt niet.", "Email address or password is not right."),
    AccountErrWeak => ("Kies een sterker wachtwoord: minstens 10 tekens, geen veelgebruikt wachtwoord en niet je e-mailadres.", "Choose a stronger password: at least 10 characters, not a common password and not your email address."),
    AccountErrTaken => ("Er is al een account met dit e-mailadres. Log in.", "There already is an account with this email address. Sign in."),
    AccountErrEmail => ("Vul een geldig e-mailadres in.", "Enter a valid email address."),
    AccountErrName => ("Vul je naam in.", "Enter your name."),
    AccountErrTooMany => ("Te vaak geprobeerd. Wacht een kwartier en probeer het opnieuw.", "Too many attempts. Wait a quarter of an hour and try again."),
    AccountErrOffline => ("Geen verbinding met de server. Probeer het opnieuw zodra je online bent.", "No connection to the server. Try again once you are online."),
    AccountErrOther => ("Dat lukte niet. Probeer het later opnieuw.", "That did not work. Try again later."),
    InviteHeading => ("Uitnodiging", "Invitation"),
    InviteGrantsMember => ("Je wordt lid van {name}.", "You become a member of {name}."),
    InviteGrantsAdmin => ("Je wordt beheerder van {name}.", "You become an admin of {name}."),
    InviteGrantsBroker => ("Je wordt gebiedsmakelaar van {name}.", "You become the area broker of {name}."),
    InviteDone => ("Gelukt! Je nieuwe rol: {role}.", "Done! Your new role: {role}."),
    InviteSignInFirst => ("Log in of maak een account aan om de uitnodiging aan te nemen; daarna kom je hier terug.", "Sign in or create an account to accept the invitation; then you come back here."),
    InviteAccept => ("Uitnodiging aannemen", "Accept the invitation"),
    InviteErrNotFound => ("Deze uitnodiging bestaat niet. Klopt de link?", "This invitation does not exist. Is the link right?"),
    InviteErrUsed => ("Deze uitnodiging is al gebruikt. Vraag om een nieuwe link.", "This invitation has been used already. Ask for a new link."),
    InviteErrExpired => ("Deze uitnodiging is verlopen. Vraag om een nieuwe link.", "This invitation has expired. Ask for a new link."),
    InviteErrUnknownTarget => ("De vereniging of het dorp van deze uitnodiging bestaat niet (meer).", "The association or village of this invitation does not exist (any more)."),
    InviteErrForbidden => ("Dat mag alleen een beheerder of gebiedsmakelaar.", "Only an admin or area broker may do that."),
    InviteErrSignedOut => ("Je bent niet ingelogd. Log in en probeer het opnieuw.", "You are not signed in. Sign in and try again."),
    InviteMakeHeading => ("Nodig iemand uit", "Invite someone"),
    InviteBrokerHeading => ("Nodig een gebiedsmakelaar uit", "Invite an area broker"),
    InviteMakeIntro => ("Eén persoon kan de link één keer gebruiken, 7 dagen lang. Stuur hem zelf door.", "One person can use the link once, for 7 days. Send it on yourself."),
    InviteAsLegend => ("Uitnodigen als", "Invite as"),
    InviteAsMember => ("Lid", "Member"),
    InviteAsAdmin => ("Beheerder: mag het profiel bewerken en uitnodigen", "Admin: may edit the profile and invite"),
    InviteMakeButton => ("Maak een uitnodigingslink", "Make an invitation link"),
    InviteLinkLabel => ("Uitnodigingslink", "Invitation link"),
    InviteCopy => ("Kopieer de link", "Copy the link"),
    InviteCopied => ("De link is gekopieerd.", "The link has been copied."),
    InviteCopyFailed => ("Kopiëren lukte niet: kopieer de geselecteerde link zelf.", "Copying did not work: copy the selected link yourself."),
    RolesHeading => ("Je rollen", "Your roles"),
    RoleMunicipalityAdmin => ("Beheerder van de gemeente", "Municipality admin"),
    RoleBrokerOf => ("Gebiedsmakelaar van {name}", "Area broker of {name}"),
    RoleAdminOf => ("Beheerder van {name}", "Admin of {name}"),
    RoleMemberOf => ("Lid van {name}", "Member of {name}"),
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
