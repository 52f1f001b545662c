//! [`Me`]: who the resident is, with the roles the municipality document and their account
//! give them.

use crate::docs::municipality_doc::Municipality;
use crate::platform::identity;
use crate::platform::session::Account;

use leptos::prelude::*;

/// The resident using the app with the roles the municipality document gives them (association
/// admin, broker); re-computed when that document changes. Operations take `me.get()`.
#[derive(Clone, Copy)]
pub struct Me(pub Memo<model::User>);

impl Me {
    pub fn start(municipality: Municipality, account: Account) -> Self {
        Me(Memo::new(move |_| {
            // Signing in or out changes who the resident is.
            account.0.track();
            let mut user = identity::current_user();
            // Municipality admin is known from the account only (not in the document).
            let admin = account
                .0
                .with(|s| s.as_ref().is_some_and(|s| s.municipality_admin));
            user.roles.municipality_admin = admin;
            if let Some(roles) = municipality.read(|m| m.roles_of(&user.id, admin)) {
                user.roles = roles;
            }
            user
        }))
    }
}
