//! The checks of what a person types when signing up: e-mail address and display name.

use super::error::AccountError;

/// Trimmed and lowercased; one `@` with something on both sides, no spaces, at most 254 bytes.
pub(super) fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') && domain.contains('.'));
    if ok {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

/// Trimmed, 1 to 80 characters, no control characters.
pub(super) fn check_display_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    let n = name.chars().count();
    if (1..=80).contains(&n) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(AccountError::InvalidDisplayName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Anna@Example.NL ").unwrap(),
            "anna@example.nl"
        );
        for bad in ["anna", "@x.nl", "a@", "a b@x.nl", "a@b@c.nl", "a@localhost"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
