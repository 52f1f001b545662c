//! The bridge between the open municipality document and `model`'s typed [`MunicipalityDoc`]:
//! reads hydrate views, writes run model operations in place. The twin of
//! [`crate::docs::village_doc`].

use automerge::{Automerge, ROOT, ReadDoc, Value};
use model::{DocKind, MunicipalityDoc, OpError, SCHEMA_VERSION, schema_version_of};

use crate::docs::{live_doc::LiveDoc, village_doc::EditError};

/// Whether the document holds a municipality this app version can read.
pub fn is_loaded_municipality(am: &Automerge) -> bool {
    let version = schema_version_of(am);
    let kind = match am.get(ROOT, model::schema::KEY_KIND) {
        Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_owned),
        _ => None,
    };
    version > 0
        && version <= SCHEMA_VERSION
        && kind.as_deref() == Some(DocKind::Municipality.as_str())
}

/// Reads the municipality's views, or `None` while the document has not arrived.
pub fn read<R>(am: &Automerge, f: impl FnOnce(&MunicipalityDoc) -> R) -> Option<R> {
    if !is_loaded_municipality(am) {
        return None;
    }
    MunicipalityDoc::from_automerge(am.clone())
        .ok()
        .map(|doc| f(&doc))
}

/// Runs a model operation on the document in place. Nothing is written when it fails.
pub fn edit<R>(
    am: &mut Automerge,
    op: impl FnOnce(&mut MunicipalityDoc) -> Result<R, OpError>,
) -> Result<R, EditError> {
    if schema_version_of(am) == 0 {
        return Err(EditError::NotLoaded);
    }
    if !is_loaded_municipality(am) {
        return Err(EditError::Unsupported);
    }
    // Checked above, so taking the document out cannot lose it: it goes back below.
    let mut doc =
        MunicipalityDoc::from_automerge(std::mem::take(am)).map_err(|_| EditError::Unsupported)?;
    let result = op(&mut doc);
    *am = doc.into_automerge();
    Ok(result?)
}

/// The municipality's document (associations, consultations, knowledge, brokers), opened once
/// for the whole app.
#[derive(Clone, Copy)]
pub struct Municipality(pub LiveDoc);

impl Municipality {
    /// Reads the municipality's views (tracked); `None` until the document has arrived.
    pub fn read<R>(&self, f: impl FnOnce(&model::MunicipalityDoc) -> R) -> Option<R> {
        self.0.with(|am| read(am, f)).flatten()
    }

    /// The display name of association `id` (tracked), or its id while the document has not
    /// arrived or lacks it.
    pub fn association_name(&self, id: &str) -> String {
        self.read(|m| m.association(id).map(|a| a.name))
            .flatten()
            .unwrap_or_else(|| id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use model::{
        AssociationCategory, AssociationDraft, AssociationId, MunicipalitySeed, User, UserId,
        VillageId, VillageSeed,
    };

    fn municipality() -> Automerge {
        let seed = MunicipalitySeed {
            id: "oude-ijsselstreek".into(),
            name: "Oude IJsselstreek".into(),
            villages: vec![VillageSeed {
                id: "ulft".into(),
                name: "Ulft".into(),
                neighbours: vec![],
            }],
            knowledge: vec![],
            brokers: vec![],
            consultations: vec![],
        };
        MunicipalityDoc::new(&seed, ActorId::random(), 1).into_automerge()
    }

    #[test]
    fn edits_in_place_and_reads_roles() {
        let mut am = municipality();
        let anna = User::resident(UserId::new("anna").unwrap());
        let fanfare = AssociationId::new("fanfare").unwrap();
        let draft = AssociationDraft {
            name: "Fanfare Ulft".into(),
            category: AssociationCategory::Music,
            villages: vec![VillageId::new("ulft").unwrap()],
            description: String::new(),
            contacts: vec![],
            website: String::new(),
        };
        edit(&mut am, |m| {
            m.register_association(&anna, &fanfare, &draft, 2)
        })
        .unwrap();
        let roles = read(&am, |m| m.roles_of(&anna.id, false)).unwrap();
        assert!(roles.admin_of.contains(&fanfare));
        // A refused operation writes nothing.
        let heads = am.get_heads();
        let err = edit(&mut am, |m| {
            m.register_association(&anna, &fanfare, &draft, 3)
        });
        assert!(matches!(err, Err(EditError::Op(_))));
        assert_eq!(am.get_heads(), heads);
    }

    #[test]
    fn refuses_before_the_document_arrived_and_other_kinds() {
        let mut empty = Automerge::new();
        assert_eq!(read(&empty, |m| m.villages().len()), None);
        assert_eq!(
            edit(&mut empty, |m| Ok(m.villages().len())),
            Err(EditError::NotLoaded)
        );
        let village =
            model::VillageDoc::new(&VillageId::new("ulft").unwrap(), ActorId::random(), 1);
        let mut village = village.into_automerge();
        assert!(!is_loaded_municipality(&village));
        assert_eq!(
            edit(&mut village, |m| Ok(m.villages().len())),
            Err(EditError::Unsupported)
        );
    }
}
