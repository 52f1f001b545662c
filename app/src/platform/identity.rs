//! Who is using the app: a user id kept in localStorage. A resident starts as a local profile
//! on this device (a random id); signing up makes that id the account's, and signing in adopts
//! the account's id ([`crate::platform::session`]), so everything made on the device before stays the
//! resident's. Everything else asks this module who the resident is.

use crate::platform::storage;

use model::{User, UserId};

const KEY: &str = "dorpskracht.user";

/// The resident using this device, creating their local profile on first use.
pub fn current_user() -> User {
    let id = storage::get(KEY)
        .and_then(|id| UserId::new(id).ok())
        .unwrap_or_else(|| {
            let id = UserId::from_random(random_bytes());
            storage::set(KEY, id.as_str());
            id
        });
    User::resident(id)
}

thread_local! {
    /// The signed-in account's display name; `None` while nobody is signed in.
    static SIGNED_IN: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Whether an account is signed in on this device (kept by [`crate::platform::session::Account`]).
pub fn signed_in() -> bool {
    SIGNED_IN.with(|s| s.borrow().is_some())
}

/// The signed-in account's display name: the name on what the resident shares wherever their
/// village profile names none (see [`crate::docs::village_doc::edit`]).
pub fn account_name() -> Option<String> {
    SIGNED_IN.with(|s| s.borrow().clone())
}

/// Who is signed in now: the account's display name, or `None`.
pub(crate) fn set_signed_in(account_name: Option<String>) {
    SIGNED_IN.with(|s| *s.borrow_mut() = account_name);
}

const PENDING_ACTORS: &str = "dorpskracht.actors.pending";

/// This page load's actor id: fresh per load, so two tabs never share one.
pub fn session_actor() -> automerge::ActorId {
    thread_local! {
        static ACTOR: automerge::ActorId = automerge::ActorId::from(random_bytes().as_slice());
    }
    ACTOR.with(Clone::clone)
}

/// This page load's actor made a change: it waits to be registered with the resident's
/// account (at once when signed in, else at the next sign-in) until [`actor_registered`].
pub fn session_actor_used() {
    thread_local! {
        static RECORDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if RECORDED.with(|r| r.replace(true)) {
        return;
    }
    let mut pending = pending_actors();
    pending.push(session_actor().to_hex_string());
    storage::set(PENDING_ACTORS, &pending.join(","));
}

/// Actor ids of this device's changes not yet registered with an account (hex).
pub fn pending_actors() -> Vec<String> {
    storage::get(PENDING_ACTORS)
        .map(|s| {
            s.split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The server has registered `actor` to the signed-in account.
pub fn actor_registered(actor: &str) {
    let rest: Vec<String> = pending_actors()
        .into_iter()
        .filter(|a| a != actor)
        .collect();
    storage::set(PENDING_ACTORS, &rest.join(","));
}

/// The signed-in account's id is who the resident is on this device from now on.
pub fn adopt(id: &str) {
    if UserId::new(id).is_ok() {
        storage::set(KEY, id);
    }
}

/// After signing out: the next person on this device starts a local profile of their own.
pub fn start_new_profile() {
    storage::set(KEY, UserId::from_random(random_bytes()).as_str());
}

/// 16 random bytes from the browser's `crypto.getRandomValues` (through `Math.random` where
/// that is missing); ids need to be unique, not secret.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok()) {
        return bytes;
    }
    for b in &mut bytes {
        *b = (js_sys::Math::random() * 256.0) as u8;
    }
    bytes
}

/// Milliseconds since the Unix epoch, the time model operations take.
pub fn now() -> i64 {
    js_sys::Date::now() as i64
}
