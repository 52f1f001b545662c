//! How a server that checks changes tells a peer it refused some: automerge-repo's `error`
//! message, whose text this module formats and parses, so that a client can tell which document
//! (and, where the server knows it, which change) to recover.
//!
//! The text reads `"<document id>: change refused: <reason>"`, or with the first offending
//! change named, `"<document id>: change <hash> refused: <reason>"`. Other `error` messages
//! (protocol failures, limits) do not parse as a [`Refusal`].

use std::fmt;

use automerge::ChangeHash;

use crate::DocumentId;

/// Changes to one document that the server refused: it stored none of the message's changes,
/// passed none on, and closed the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub document_id: DocumentId,
    /// The first change that broke a rule, where the server names it. Changes built on it are
    /// refused with it.
    pub change: Option<ChangeHash>,
    /// Why, for people (English, from the server's rules).
    pub reason: String,
}

impl Refusal {
    /// The refusal an `error` message's text describes, if it describes one.
    pub fn parse(text: &str) -> Option<Self> {
        let (document, rest) = text.split_once(": change ")?;
        let document_id = document.parse().ok()?;
        let (change, reason) = if let Some(reason) = rest.strip_prefix("refused: ") {
            (None, reason)
        } else {
            let (hash, reason) = rest.split_once(" refused: ")?;
            (Some(hash.parse().ok()?), reason)
        };
        Some(Self {
            document_id,
            change,
            reason: reason.to_owned(),
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Some(hash) => write!(
                f,
                "{}: change {hash} refused: {}",
                self.document_id, self.reason
            ),
            None => write!(f, "{}: change refused: {}", self.document_id, self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> DocumentId {
        DocumentId::from_bytes([9; 16])
    }

    #[test]
    fn a_refusal_reads_back_as_written_with_and_without_its_change() {
        let hash = ChangeHash([0xab; 32]);
        for change in [None, Some(hash)] {
            let refusal = Refusal {
                document_id: id(),
                change,
                reason: "rule `posts/*/title` does not allow it: change refused".into(),
            };
            assert_eq!(Refusal::parse(&refusal.to_string()), Some(refusal));
        }
    }

    #[test]
    fn other_error_messages_are_not_refusals() {
        for text in [
            "",
            "text frames are not part of the protocol",
            "more than 64 documents open on one connection",
            "not-an-id: change refused: x",
            &format!("{}: change nothex refused: x", id()),
            &format!("{}: something else", id()),
        ] {
            assert_eq!(Refusal::parse(text), None, "{text:?}");
        }
    }
}
