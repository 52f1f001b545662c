use std::{fmt, str::FromStr};

/// The id of one Automerge document, as automerge-repo names it: 16 random bytes, written as
/// base58check (the checksum catches a mistyped or truncated link) and in URLs as
/// `automerge:<base58check>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

/// Why a string is not a document id or automerge URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadDocumentId {
    #[error("not base58check: {0}")]
    Encoding(String),
    #[error("a document id has 16 bytes, this one has {0}")]
    Length(usize),
    #[error("an automerge URL starts with `automerge:`")]
    NotAnAutomergeUrl,
}

impl DocumentId {
    const URL_PREFIX: &'static str = "automerge:";

    /// A document id from 16 bytes the caller got from a good random source.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `automerge:<id>`, the form automerge-repo clients share and look documents up by.
    pub fn to_url(&self) -> String {
        format!("{}{self}", Self::URL_PREFIX)
    }

    /// Parses `automerge:<id>`.
    pub fn from_url(url: &str) -> Result<Self, BadDocumentId> {
        url.strip_prefix(Self::URL_PREFIX)
            .ok_or(BadDocumentId::NotAnAutomergeUrl)?
            .parse()
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::base58check::encode(&self.0))
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = BadDocumentId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = crate::base58check::decode(s).map_err(BadDocumentId::Encoding)?;
        let len = bytes.len();
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| BadDocumentId::Length(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_url() {
        let id = DocumentId::from_bytes(*b"0123456789abcdef");
        assert_eq!(id.to_string().parse::<DocumentId>(), Ok(id));
        assert_eq!(DocumentId::from_url(&id.to_url()), Ok(id));
        assert!(id.to_url().starts_with("automerge:"));
    }

    #[test]
    fn rejects_a_mistyped_id() {
        let text = DocumentId::from_bytes(*b"0123456789abcdef").to_string();
        let last = text.chars().last().unwrap();
        let typo = format!(
            "{}{}",
            &text[..text.len() - 1],
            if last == 'x' { 'y' } else { 'x' }
        );
        assert!(matches!(
            typo.parse::<DocumentId>(),
            Err(BadDocumentId::Encoding(_))
        ));
        assert_eq!(
            DocumentId::from_url(&text),
            Err(BadDocumentId::NotAnAutomergeUrl)
        );
    }
}
