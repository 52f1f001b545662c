//! Why an accounts request failed, with the code the HTTP API answers it by.

use super::password::WeakPassword;

/// Why an accounts request failed. [`AccountError::code`] is the `error` of the JSON answer.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the e-mail address is not valid")]
    InvalidEmail,
    #[error("the display name is empty or too long")]
    InvalidDisplayName,
    #[error("the password is too weak: {}", .0.code())]
    WeakPassword(WeakPassword),
    #[error("an account with this e-mail address exists")]
    EmailTaken,
    #[error("wrong e-mail address or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins; retry after {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    #[error("not signed in")]
    NotSignedIn,
    #[error("not allowed")]
    Forbidden,
    #[error("the actor id is not hex of 1 to 64 bytes")]
    InvalidActor,
    #[error("the actor id belongs to another user")]
    ActorTaken,
    #[error("too many actors for this user")]
    TooManyActors,
    #[error("the invite's kind or target is not valid")]
    InvalidInvite,
    #[error("no such invite")]
    InviteNotFound,
    #[error("the invite was used already")]
    InviteUsed,
    #[error("the invite expired")]
    InviteExpired,
    #[error("the invite's village or association does not exist")]
    UnknownTarget,
    #[error("the role's kind or target is not valid")]
    InvalidRole,
    #[error("the user does not hold that role")]
    RoleNotFound,
    #[error("the association's last admin cannot be removed")]
    LastAdmin,
    #[error("the user id already names someone in the public documents")]
    UserIdInUse,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AccountError {
    /// The machine-readable code the app translates.
    pub fn code(&self) -> &'static str {
        match self {
            AccountError::InvalidEmail => "invalid_email",
            AccountError::InvalidDisplayName => "invalid_display_name",
            AccountError::WeakPassword(w) => w.code(),
            AccountError::EmailTaken => "email_taken",
            AccountError::InvalidCredentials => "invalid_credentials",
            AccountError::TooManyAttempts { .. } => "too_many_attempts",
            AccountError::NotSignedIn => "not_signed_in",
            AccountError::Forbidden => "forbidden",
            AccountError::InvalidActor => "invalid_actor",
            AccountError::ActorTaken => "actor_taken",
            AccountError::TooManyActors => "too_many_actors",
            AccountError::InvalidInvite => "invalid_invite",
            AccountError::InviteNotFound => "invite_not_found",
            AccountError::InviteUsed => "invite_used",
            AccountError::InviteExpired => "invite_expired",
            AccountError::UnknownTarget => "unknown_target",
            AccountError::InvalidRole => "invalid_role",
            AccountError::RoleNotFound => "role_not_found",
            AccountError::LastAdmin => "last_admin",
            AccountError::UserIdInUse => "user_id_in_use",
            AccountError::Internal(_) => "internal",
        }
    }
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Internal(format!("database: {e}"))
    }
}
