//! Accounts: sign-up, sign-in with rate limiting, sessions, registered actors, invites and
//! roles, in the server's SQLite database (tables in `db.rs`'s migration 3).
//!
//! Secrets never stored in the clear: passwords as argon2id PHC strings ([`password`]),
//! session and invite tokens (256 random bits, base64url) as their SHA-256. Sessions last
//! [`SESSION_TTL_MS`] (30 days) from sign-in, not sliding: signing in again starts a new one;
//! expired sessions are refused and pruned. Roles in the `role` table are the truth the sync
//! endpoint enforces ([`Identities::user`]); the server also writes them into the municipality
//! document (`roles.rs`) so the app can show them.
//!
//! Roles are taken away through [`Accounts::revoke_role`] (`DELETE /api/roles`): the row goes
//! from `role`, a row in `role_revocation` remembers it (so the start's reconciliation in
//! `roles.rs` neither grants it again from the seed or the document nor leaves it in the
//! document), and the server writes the removal into the municipality document.
//!
//! [`Accounts`] keeps the roles and the actor registry in memory, in step with the database
//! (written to the database first, then to memory), so [`Identities::user`] and
//! [`Identities::actor_owner`] do no I/O.
//!
//! The files, by concern: `store.rs` (the database connection and the cache in memory),
//! `account.rs` (sign-up's checks and what an account shows), `sessions.rs` (sign-up,
//! sign-in, sign-out, password changes), `session_end.rs` (closing the sockets of a session
//! that ended), `actors.rs`, `invites.rs`, `seeded.rs` (the
//! seed's roles as invites bound to their user id; ids nobody may take), `grant.rs` (a role
//! as stored) and `granting.rs`
//! (granting and revoking roles), `identities.rs` (the [`Identities`] the sync endpoint asks),
//! `password.rs`, `hashing.rs` (the threads that hash), `limit.rs` (rate limits, in the
//! database), `client_ip.rs` (whose address a request counts under), `claims.rs` (user ids
//! already named in public documents), `roles.rs` (roles written into the municipality
//! document) and `http.rs` with `http_roles.rs` (the HTTP API). They import one another by file
//! (`super::store::Accounts`), never through this module, so that they form no cycle.

mod account;
mod actors;
mod claims;
mod client_ip;
mod clock;
mod credentials;
mod error;
mod grant;
mod granting;
mod hashing;
pub(crate) mod http;
mod http_roles;
mod identities;
mod invites;
mod limit;
mod password;
mod request_session;
pub(crate) mod roles;
mod seeded;
mod session_end;
mod sessions;
mod store;

pub use account::{Account, RolesView, SignUp};
pub(crate) use client_ip::{client_addr, forwarded_for};
pub use clock::Clock;
pub use error::AccountError;
pub use grant::Grant;
pub use invites::INVITE_TTL_MS;
pub use limit::{ACCOUNT_LIMIT, IP_LIMIT, SIGN_UP_IP_LIMIT, SIGN_UP_WINDOW_MS, WINDOW_MS};
pub use password::{Password, WeakPassword};
pub use request_session::session_token;
pub use seeded::SeedInvite;
pub use session_end::SessionEnd;
pub use sessions::{SESSION_COOKIE, SESSION_TTL_MS, SessionToken};
pub use store::Accounts;

#[cfg(doc)]
use crate::trust::Identities;
