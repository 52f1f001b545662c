//! Accounts as people see them: what sign-up takes ([`SignUp`]), what `GET /api/session`
//! shows ([`Account`]), and the municipality admin made on the command line.

use model::{AssociationId, Roles, UserId, VillageId};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{
    credentials::{check_display_name, normalize_email},
    error::AccountError,
    grant::{Grant, insert_role},
    password::{self, Password},
    store::{Accounts, random_bytes, write_tx},
};

/// A signed-in user as `GET /api/session` shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub roles: RolesView,
}

/// The roles in an [`Account`], as JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct RolesView {
    pub municipality_admin: bool,
    pub broker_of: Vec<String>,
    pub admin_of: Vec<String>,
    pub member_of: Vec<String>,
}

impl From<&Roles> for RolesView {
    fn from(r: &Roles) -> Self {
        let strings = |s: &mut dyn Iterator<Item = &str>| s.map(str::to_owned).collect();
        Self {
            municipality_admin: r.municipality_admin,
            broker_of: strings(&mut r.broker_of.iter().map(VillageId::as_str)),
            admin_of: strings(&mut r.admin_of.iter().map(AssociationId::as_str)),
            member_of: strings(&mut r.member_of.iter().map(AssociationId::as_str)),
        }
    }
}

/// What sign-up takes.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignUp {
    pub email: String,
    pub password: Password,
    pub display_name: String,
    /// The app's local profile id, kept if it is well-formed and no account has it (another
    /// account's id gets a random one instead). One that already names someone in the public
    /// documents but has no account is refused (`user_id_in_use`, checked by the HTTP layer
    /// before this: see `claims.rs`).
    #[serde(default)]
    pub user_id: Option<String>,
    /// The invite bound to a reserved `user_id` (a seed's broker: `seeded.rs`), without which
    /// that id is refused (`user_id_in_use`). Ignored for other ids.
    #[serde(default)]
    pub invite: Option<String>,
}

impl Accounts {
    /// The checks of [`Self::sign_up`] that need no hashing and no database, so a request
    /// they refuse costs nothing more.
    pub(crate) fn check_sign_up(req: &SignUp) -> Result<(), AccountError> {
        let email = normalize_email(&req.email)?;
        check_display_name(&req.display_name)?;
        password::check_strength(&req.password, &email).map_err(AccountError::WeakPassword)
    }

    /// The account of `user` with its roles now.
    pub async fn account(&self, user: UserId) -> Result<Option<Account>, AccountError> {
        let roles = self.roles(&user);
        self.with_db(move |conn, _| {
            Ok(conn
                .query_row(
                    "SELECT email, display_name FROM account WHERE user_id = ?1",
                    [user.as_str()],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
                .map(|(email, display_name)| Account {
                    id: user.to_string(),
                    display_name,
                    email,
                    roles: RolesView::from(&roles),
                }))
        })
        .await
    }

    /// Whether an account has user id `user`.
    pub async fn has_account(&self, user: &UserId) -> Result<bool, AccountError> {
        let id = user.clone();
        self.with_db(move |conn, _| {
            Ok(conn
                .query_row(
                    "SELECT 1 FROM account WHERE user_id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
        .await
    }

    /// Creates an account that is municipality admin (`sync-server admin create`). Blocking.
    pub fn create_admin_blocking(
        &self,
        email: &str,
        display_name: &str,
        password: &Password,
    ) -> Result<UserId, AccountError> {
        let email = normalize_email(email)?;
        let display_name = check_display_name(display_name)?;
        password::check_strength(password, &email).map_err(AccountError::WeakPassword)?;
        let hash = password::hash(password).map_err(AccountError::Internal)?;
        let now = self.inner.clock.now_ms();
        let mut conn = self.conn();
        let tx = write_tx(&mut conn)?;
        if tx
            .query_row("SELECT 1 FROM account WHERE email = ?1", [&email], |_| {
                Ok(())
            })
            .optional()?
            .is_some()
        {
            return Err(AccountError::EmailTaken);
        }
        let id = UserId::from_random(random_bytes()?);
        tx.execute(
            "INSERT INTO account (user_id, email, display_name, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.as_str(), email, display_name, hash, now],
        )?;
        insert_role(&tx, &id, &Grant::MunicipalityAdmin, now)?;
        tx.commit()?;
        drop(conn);
        Grant::MunicipalityAdmin.add_to(self.cache_mut().roles.entry(id.clone()).or_default());
        Ok(id)
    }
}
