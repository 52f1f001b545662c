//! Who is signed in on this device: the [`Account`] context, kept in localStorage so the app
//! starts signed in offline too, and checked against `GET /api/session` on every start; and
//! registering this device's actors with the account.

use crate::platform::http::field;
use crate::platform::http::object;
use crate::platform::http::request;
use crate::platform::identity;
use crate::platform::storage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

const CACHE_KEY: &str = "dorpskracht.account";

/// Who is signed in on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account's user id: the `author` of what they make.
    pub id: String,
    pub display_name: String,
    pub email: String,
    /// A municipality admin (the accounts know; the municipality document does not say).
    pub municipality_admin: bool,
}

impl Session {
    pub(crate) fn from_json(value: &JsValue) -> Option<Session> {
        let user = field(value, "user")?;
        let municipality_admin = field(&user, "roles")
            .and_then(|r| field(&r, "municipality_admin"))
            .and_then(|a| a.as_bool())
            .unwrap_or(false);
        Some(Session {
            id: field(&user, "id")?.as_string()?,
            display_name: field(&user, "display_name")?.as_string()?,
            email: field(&user, "email")?.as_string()?,
            municipality_admin,
        })
    }

    fn to_cache(&self) -> String {
        let admin = if self.municipality_admin { "admin" } else { "" };
        [&self.id, &self.display_name, &self.email]
            .map(String::as_str)
            .join("\n")
            + "\n"
            + admin
    }

    fn from_cache(s: &str) -> Option<Session> {
        let mut parts = s.splitn(4, '\n').map(str::to_owned);
        Some(Session {
            id: parts.next()?,
            display_name: parts.next()?,
            email: parts.next()?,
            // Absent in a copy from before roles were cached.
            municipality_admin: parts.next().is_some_and(|a| a == "admin"),
        })
    }
}

/// The signed-in account (`None`: reading only), in context for every screen; the second field
/// counts sign-ins and sign-outs on this page, so an answer to an earlier question about the
/// session cannot undo a later one.
#[derive(Clone, Copy)]
pub struct Account(pub RwSignal<Option<Session>>, StoredValue<u32>);

impl Account {
    /// Starts from the device's copy and asks the server whether the session still holds.
    pub fn start() -> Account {
        let cached = storage::get(CACHE_KEY).and_then(|s| Session::from_cache(&s));
        identity::set_signed_in(cached.as_ref().map(|s| s.display_name.clone()));
        let account = Account(RwSignal::new(cached), StoredValue::new(0));
        spawn_local(async move {
            let asked = account.1.get_value();
            let answer = request("GET", SESSION, None).await;
            if account.1.get_value() != asked {
                // The resident signed in or out meanwhile: that is newer than this answer.
                return;
            }
            match answer {
                Ok((200, body)) => account.signed_in(Session::from_json(&body)),
                Ok((401, _)) => account.signed_in(None),
                // Offline or the server is away: keep what the device knew.
                _ => {}
            }
        });
        account
    }

    /// Who is signed in from now on (`None`: nobody), as an answer from the server says.
    pub(crate) fn signed_in(self, session: Option<Session>) {
        self.1.update_value(|n| *n += 1);
        identity::set_signed_in(session.as_ref().map(|s| s.display_name.clone()));
        match &session {
            Some(s) => {
                storage::set(CACHE_KEY, &s.to_cache());
                // The account's id is who the resident is from now on on this device.
                identity::adopt(&s.id);
            }
            None => storage::remove(CACHE_KEY),
        }
        self.0.set(session);
    }
}

pub const SESSION: &str = "/api/session";
pub const ACCOUNT: &str = "/api/accounts";

const ACTORS: &str = "/api/actors";

/// Registers the actors this device made changes as with the signed-in account, so the server
/// accepts those changes as the resident's. Returns whether none is left waiting.
pub async fn register_pending_actors() -> bool {
    // This page load's actor first: it makes every change from now on.
    identity::session_actor_used();
    for actor in identity::pending_actors() {
        match request("POST", ACTORS, Some(object(&[("actor", &actor)]))).await {
            Ok((status, _)) if (200..300).contains(&status) => identity::actor_registered(&actor),
            // Registered to someone else (`actor_taken`) or not an actor at all: nothing on
            // this device can be shared as that actor; stop asking.
            Ok((409 | 400, _)) => identity::actor_registered(&actor),
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::i18n::Text;
    use crate::i18n::t;
    use crate::platform::http::Failure;
    use crate::platform::http::failure_text;

    #[test]
    fn a_session_survives_the_device_cache() {
        let s = Session {
            id: "u1".into(),
            display_name: "Anna de Vries".into(),
            email: "anna@example.nl".into(),
            municipality_admin: true,
        };
        assert_eq!(Session::from_cache(&s.to_cache()), Some(s.clone()));
        let resident = Session {
            municipality_admin: false,
            ..s
        };
        assert_eq!(Session::from_cache(&resident.to_cache()), Some(resident));
        // A copy cached before roles were (id, name, e-mail) still reads.
        assert_eq!(
            Session::from_cache("u1\nAnna\nanna@example.nl").map(|s| s.municipality_admin),
            Some(false)
        );
        assert_eq!(Session::from_cache("only-an-id"), None);
    }

    #[test]
    fn failures_have_texts_in_both_languages() {
        for code in [
            "invalid_credentials",
            "weak_password",
            "email_taken",
            "nope",
        ] {
            let f = Failure::Code(code.into());
            assert!(!failure_text(Lang::Nl, &f).is_empty());
            assert_ne!(failure_text(Lang::Nl, &f), failure_text(Lang::En, &f));
        }
        assert_eq!(
            failure_text(Lang::En, &Failure::Code("password_too_short".into())),
            t(Lang::En, Text::AccountErrWeak)
        );
    }
}
