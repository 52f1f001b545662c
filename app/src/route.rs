//! Which screen the URL names. The app has a dozen paths, so it matches them itself with one
//! `match` instead of leptos_router's `<Routes>` tree, whose generic route tuples cost more wasm
//! than all the screens' matching put together; leptos_router still keeps the URL, the history
//! and the links (`<A>`).

use leptos::prelude::*;
use leptos_router::{
    hooks::use_location,
    location::{BrowserUrl, LocationProvider},
};

/// A screen of the app and the ids its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`: choose your village.
    Villages,
    /// `/dorp/:village/…`.
    Village {
        village: String,
        tab: VillageTab,
    },
    /// `/verenigingen`.
    Associations,
    /// `/verenigingen/:association`.
    Association(String),
    /// `/meedenken`.
    Consultations,
    /// `/kennisbank`.
    Knowledge,
    /// `/berichten`.
    Messages,
    /// `/berichten/nieuw` (who and what from the query).
    NewConversation,
    /// `/berichten/:conversation`.
    Conversation(String),
    /// `/ik`.
    Me,
    /// `/inloggen`.
    SignIn,
    /// `/aanmelden`.
    SignUp,
    /// `/uitnodiging/:token`: an invite link.
    Invite(String),
    NotFound,
}

/// A village's tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VillageTab {
    /// `/dorp/:village`: the board (prikbord).
    Board,
    /// `/dorp/:village/hulp`.
    Help,
    /// `/dorp/:village/agenda`.
    Agenda,
    /// `/dorp/:village/initiatieven`.
    Initiatives,
    /// `/dorp/:village/initiatieven/:initiative`.
    Initiative(String),
    /// `/dorp/:village/meldingen`: reports, for the village's broker.
    Reports,
    NotFound,
}

impl Page {
    /// The page a path names; a trailing slash and empty segments are ignored.
    pub fn parse(path: &str) -> Page {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let owned = |s: &str| s.to_owned();
        match segments.as_slice() {
            [] => Page::Villages,
            ["dorp", village, rest @ ..] => Page::Village {
                village: owned(village),
                tab: match rest {
                    [] => VillageTab::Board,
                    ["hulp"] => VillageTab::Help,
                    ["agenda"] => VillageTab::Agenda,
                    ["initiatieven"] => VillageTab::Initiatives,
                    ["initiatieven", id] => VillageTab::Initiative(owned(id)),
                    ["meldingen"] => VillageTab::Reports,
                    _ => VillageTab::NotFound,
                },
            },
            ["verenigingen"] => Page::Associations,
            ["verenigingen", id] => Page::Association(owned(id)),
            ["meedenken"] => Page::Consultations,
            ["kennisbank"] => Page::Knowledge,
            ["berichten"] => Page::Messages,
            ["berichten", "nieuw"] => Page::NewConversation,
            ["berichten", id] => Page::Conversation(owned(id)),
            ["ik"] => Page::Me,
            ["inloggen"] => Page::SignIn,
            ["aanmelden"] => Page::SignUp,
            ["uitnodiging", token] => Page::Invite(owned(token)),
            _ => Page::NotFound,
        }
    }
    /// The path of this page: the one place paths are built (`Page::parse(&p.href()) == p`).
    pub fn href(&self) -> String {
        match self {
            Page::Villages => "/".to_owned(),
            Page::Village { village, tab } => {
                let tab = match tab {
                    VillageTab::Board => String::new(),
                    VillageTab::Help => "/hulp".to_owned(),
                    VillageTab::Agenda => "/agenda".to_owned(),
                    VillageTab::Initiatives => "/initiatieven".to_owned(),
                    VillageTab::Initiative(id) => format!("/initiatieven/{id}"),
                    VillageTab::Reports => "/meldingen".to_owned(),
                    VillageTab::NotFound => "/niet-gevonden".to_owned(),
                };
                format!("/dorp/{village}{tab}")
            }
            Page::Associations => "/verenigingen".to_owned(),
            Page::Association(id) => format!("/verenigingen/{id}"),
            Page::Consultations => "/meedenken".to_owned(),
            Page::Knowledge => "/kennisbank".to_owned(),
            Page::Messages => "/berichten".to_owned(),
            Page::NewConversation => "/berichten/nieuw".to_owned(),
            Page::Conversation(id) => format!("/berichten/{id}"),
            Page::Me => "/ik".to_owned(),
            Page::SignIn => "/inloggen".to_owned(),
            Page::SignUp => "/aanmelden".to_owned(),
            Page::Invite(token) => format!("/uitnodiging/{token}"),
            Page::NotFound => "/niet-gevonden".to_owned(),
        }
    }

    /// A village's tab.
    pub fn village(village: impl Into<String>, tab: VillageTab) -> Page {
        Page::Village {
            village: village.into(),
            tab,
        }
    }
}

/// A new conversation with `users` about `subject`: `/berichten/nieuw?met=<ids>&over=<subject>`.
pub fn message_link(users: &[&str], subject: &str) -> String {
    format!(
        "{}?met={}&over={}",
        Page::NewConversation.href(),
        encode_component(&users.join(",")),
        encode_component(subject)
    )
}

/// `page` with `?terug=<back>`: the path to return to after signing in or up (a path of the
/// app, kept as it is).
pub fn with_return(page: &Page, back: &str) -> String {
    format!("{}?terug={back}", page.href())
}

/// `s` encoded as JavaScript's `encodeURIComponent` does (UTF-8, every byte but
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as `%XX`): in the browser by the browser itself (no code in
/// the download), natively (tests) by [`encode_natively`].
pub fn encode_component(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::encode_uri_component(s).into();
    #[cfg(not(target_arch = "wasm32"))]
    encode_natively(s)
}

/// [`encode_component`] written out, for native builds.
#[cfg(not(target_arch = "wasm32"))]
fn encode_natively(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The current page, parsed once per navigation; in context for every screen.
#[derive(Clone, Copy)]
pub struct CurrentPage(pub Memo<Page>);

impl CurrentPage {
    /// Follows the router's location. Call inside `<Router>`.
    ///
    /// A link click changes the location at once but leaves the address bar (history entry,
    /// scroll) for whoever renders routes to confirm; without `<Routes>` that is us, once the
    /// new page has rendered.
    pub fn track() -> Self {
        let location = use_location();
        let page = Memo::new(move |_| location.pathname.with(|p| Page::parse(p)));
        let browser = use_context::<BrowserUrl>();
        Effect::new(move || {
            location.pathname.track();
            if let Some(browser) = &browser {
                browser.ready_to_complete();
            }
        });
        CurrentPage(page)
    }
}

/// The id a page's path carries under `name` ("village", "initiative", "association",
/// "conversation", "invite"), empty when it has none; re-read when the URL changes.
pub fn use_param(name: &'static str) -> Signal<String> {
    let page = expect_context::<CurrentPage>().0;
    Signal::derive(move || {
        page.with(|p| match (name, p) {
            ("village", Page::Village { village, .. }) => village.clone(),
            (
                "initiative",
                Page::Village {
                    tab: VillageTab::Initiative(id),
                    ..
                },
            ) => id.clone(),
            ("association", Page::Association(id)) => id.clone(),
            ("conversation", Page::Conversation(id)) => id.clone(),
            ("invite", Page::Invite(token)) => token.clone(),
            _ => String::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_screen() {
        let village = |tab| Page::Village {
            village: "ulft".into(),
            tab,
        };
        for (path, page) in [
            ("/", Page::Villages),
            ("", Page::Villages),
            ("/dorp/ulft", village(VillageTab::Board)),
            ("/dorp/ulft/", village(VillageTab::Board)),
            ("/dorp/ulft/hulp", village(VillageTab::Help)),
            ("/dorp/ulft/agenda", village(VillageTab::Agenda)),
            ("/dorp/ulft/initiatieven", village(VillageTab::Initiatives)),
            (
                "/dorp/ulft/initiatieven/i1",
                village(VillageTab::Initiative("i1".into())),
            ),
            ("/dorp/ulft/nope", village(VillageTab::NotFound)),
            ("/verenigingen", Page::Associations),
            ("/verenigingen/fanfare", Page::Association("fanfare".into())),
            ("/meedenken", Page::Consultations),
            ("/kennisbank", Page::Knowledge),
            ("/berichten", Page::Messages),
            ("/berichten/nieuw", Page::NewConversation),
            ("/berichten/abc", Page::Conversation("abc".into())),
            ("/ik", Page::Me),
            ("/inloggen", Page::SignIn),
            ("/aanmelden", Page::SignUp),
            ("/uitnodiging/abc", Page::Invite("abc".into())),
            ("/uitnodiging", Page::NotFound),
            ("/ik/extra", Page::NotFound),
            ("/elders", Page::NotFound),
        ] {
            assert_eq!(Page::parse(path), page, "{path}");
        }
    }

    #[test]
    fn every_page_round_trips_through_its_href() {
        let village = |tab| Page::village("ulft", tab);
        for page in [
            Page::Villages,
            village(VillageTab::Board),
            village(VillageTab::Help),
            village(VillageTab::Agenda),
            village(VillageTab::Initiatives),
            village(VillageTab::Initiative("i-1".into())),
            village(VillageTab::Reports),
            village(VillageTab::NotFound),
            Page::Associations,
            Page::Association("fanfare".into()),
            Page::Consultations,
            Page::Knowledge,
            Page::Messages,
            Page::NewConversation,
            Page::Conversation("4YwtTVr58KPD".into()),
            Page::Me,
            Page::SignIn,
            Page::SignUp,
            Page::Invite("abc".into()),
            Page::NotFound,
        ] {
            assert_eq!(Page::parse(&page.href()), page, "{}", page.href());
        }
        assert_eq!(village(VillageTab::Help).href(), "/dorp/ulft/hulp");
    }

    #[test]
    fn query_values_are_encoded_as_encode_uri_component_does() {
        assert_eq!(encode_component("a b&c=d/é?"), "a%20b%26c%3Dd%2F%C3%A9%3F");
        assert_eq!(encode_component("Ik-help_(1)!~*'."), "Ik-help_(1)!~*'.");
        assert_eq!(
            message_link(&["u-1", "u-2"], "Boodschappen & meer"),
            "/berichten/nieuw?met=u-1%2Cu-2&over=Boodschappen%20%26%20meer"
        );
        assert_eq!(
            with_return(&Page::SignIn, "/dorp/ulft"),
            "/inloggen?terug=/dorp/ulft"
        );
    }
}
