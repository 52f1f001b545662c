//! The bridge between an open Automerge document (from [`crate::repo`]) and `model`'s typed
//! [`VillageDoc`]: reads hydrate views, writes run model operations in place.

use automerge::{Automerge, ROOT, ReadDoc, Value};
use model::{DocKind, OpError, SCHEMA_VERSION, VillageDoc, schema_version_of};

/// Why an edit did not happen; the document is unchanged in every case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The document has not arrived from the server yet (writing now would fork its schema).
    NotLoaded,
    /// The document is not a village document this app version can write.
    Unsupported,
    /// The operation refused (validation, permission, status).
    Op(OpError),
    /// Nobody is signed in: reading is open to all, sharing needs an account. Nothing was
    /// written; the form keeps what the resident typed.
    NotSignedIn,
}

/// Refuses an edit when nobody is signed in (the server would refuse it from an anonymous
/// connection); put in front of every local edit the resident makes.
pub fn gate() -> Result<(), EditError> {
    if crate::platform::identity::signed_in() {
        Ok(())
    } else {
        Err(EditError::NotSignedIn)
    }
}

impl From<OpError> for EditError {
    fn from(e: OpError) -> Self {
        EditError::Op(e)
    }
}

/// Whether the document holds a village (schema present, kind `village`, a version we know).
pub fn is_loaded_village(am: &Automerge) -> bool {
    let version = schema_version_of(am);
    let kind = match am.get(ROOT, model::schema::KEY_KIND) {
        Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_owned),
        _ => None,
    };
    version > 0 && version <= SCHEMA_VERSION && kind.as_deref() == Some(DocKind::Village.as_str())
}

/// Reads the village's views, or `None` while the document has not arrived. The document is
/// lent, not copied (a village of 5,000 posts is ~130,000 ops), and handed back with the result.
pub fn read<R>(am: Automerge, f: impl FnOnce(&VillageDoc) -> R) -> (Automerge, Option<R>) {
    if !is_loaded_village(&am) {
        return (am, None);
    }
    VillageDoc::lend(am, f)
}

/// Runs a model operation on the document in place. Nothing is written when it fails.
pub fn edit<R>(
    am: &mut Automerge,
    op: impl FnOnce(&mut VillageDoc) -> Result<R, OpError>,
) -> Result<R, EditError> {
    if schema_version_of(am) == 0 {
        return Err(EditError::NotLoaded);
    }
    if !is_loaded_village(am) {
        return Err(EditError::Unsupported);
    }
    // Checked above, so taking the document out cannot lose it: it goes back below.
    let mut doc =
        VillageDoc::from_automerge(std::mem::take(am)).map_err(|_| EditError::Unsupported)?;
    let result = op(&mut doc);
    if result.is_ok()
        && let Some(name) = crate::platform::identity::account_name()
    {
        sign_with(&mut doc, &name);
    }
    *am = doc.into_automerge();
    Ok(result?)
}

/// The account's display name is the name on what the resident shares: a resident without a
/// profile in this village gets one with `name` by this edit. A profile they saved themselves
/// is left as they chose it (an empty name there shows "a neighbour"). Best effort: the edit
/// stands even if the profile cannot be written.
fn sign_with(doc: &mut VillageDoc, name: &str) {
    let me = crate::platform::identity::current_user();
    let _ = doc.name_new_profile(&me, name, crate::platform::identity::now());
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use model::{HelpCategory, HelpDraft, HelpPostId, User, UserId, VillageId};

    fn draft(title: &str) -> HelpDraft {
        HelpDraft {
            category: HelpCategory::Garden,
            title: title.into(),
            description: String::new(),
            when: None,
        }
    }

    #[test]
    fn edits_in_place_and_reads_views() {
        let village = VillageDoc::new(&VillageId::new("ulft").unwrap(), ActorId::random(), 1);
        let mut am = village.into_automerge();
        let anna = User::resident(UserId::new("anna").unwrap());
        let id = HelpPostId::new("p1").unwrap();
        edit(&mut am, |d| {
            d.post_help_request(&anna, &id, &draft("Heg snoeien"), 2)
        })
        .unwrap();
        let heads = am.get_heads();
        let (am, titles) = read(am, |d| {
            d.open_requests()
                .into_iter()
                .map(|p| p.title)
                .collect::<Vec<_>>()
        });
        assert_eq!(titles, Some(vec!["Heg snoeien".to_owned()]));
        // The document comes back as it was lent.
        assert_eq!(am.get_heads(), heads);
    }

    #[test]
    fn a_refused_operation_leaves_the_document_as_it_was() {
        let village = VillageDoc::new(&VillageId::new("ulft").unwrap(), ActorId::random(), 1);
        let mut am = village.into_automerge();
        let heads = am.get_heads();
        let anna = User::resident(UserId::new("anna").unwrap());
        let err = edit(&mut am, |d| {
            d.post_help_request(&anna, &HelpPostId::new("p1").unwrap(), &draft("  "), 2)
        });
        assert!(matches!(err, Err(EditError::Op(OpError::EmptyText { .. }))));
        assert_eq!(am.get_heads(), heads);
        assert!(is_loaded_village(&am));
    }

    #[test]
    fn refuses_to_write_before_the_document_arrived() {
        let mut empty = Automerge::new();
        let anna = User::resident(UserId::new("anna").unwrap());
        let err = edit(&mut empty, |d| {
            d.post_help_request(&anna, &HelpPostId::new("p1").unwrap(), &draft("Hulp"), 2)
        });
        assert_eq!(err, Err(EditError::NotLoaded));
        let (empty, posts) = read(empty, |d| d.help_posts().len());
        assert_eq!(posts, None);
        assert!(empty.get_heads().is_empty());
    }
}
