//! The initiative plan as a textarea sees it: UTF-16 and character indexes, carets carried
//! across others' changes with Automerge cursors, and writing what the textarea holds as a
//! splice made at the heads the writer saw. Pure: no browser; tested natively.

use automerge::{
    Automerge, ChangeHash, CursorPosition, MoveCursor, ObjId, ObjType, ROOT, ReadDoc, Value,
};
use model::{InitiativeId, User};

use crate::docs::village_doc::{self, EditError};

/// What the textarea showed when it last agreed with the document: the text, and the
/// document's heads at which the plan was exactly that text.
#[derive(Default)]
pub struct Shown {
    pub text: String,
    pub heads: Vec<ChangeHash>,
    /// An input method is composing: the textarea is not rewritten until it ends.
    pub composing: bool,
}

/// The plan's Automerge text object.
pub fn plan_obj(am: &Automerge, initiative: &str) -> Option<ObjId> {
    let (_, coll) = am.get(ROOT, "initiatives").ok()??;
    let (_, o) = am.get(&coll, initiative).ok()??;
    match am.get(&o, "plan").ok()?? {
        (Value::Object(ObjType::Text), text) => Some(text),
        _ => None,
    }
}

pub fn char_index(s: &str, utf16: u32) -> usize {
    let mut units = 0;
    for (i, c) in s.chars().enumerate() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    s.chars().count()
}

pub fn utf16_index(s: &str, chars: usize) -> u32 {
    s.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

/// Where a caret at `index` in the plan as it was at `heads` is in the plan now. The caret
/// sticks to the character before it, so a writer keeps typing after their own text when
/// someone else inserts at the same place.
pub fn map_caret(
    am: &Automerge,
    text: &ObjId,
    heads: &[ChangeHash],
    index: usize,
) -> Option<usize> {
    if index == 0 {
        return Some(0);
    }
    let cursor = am
        .get_cursor_moving(
            text,
            CursorPosition::Index(index - 1),
            Some(heads),
            MoveCursor::Before,
        )
        .ok()?;
    am.get_cursor_position(text, &cursor, None)
        .ok()
        .map(|p| p + 1)
}

/// Applies what the textarea now holds (`value`) to the plan. When the plan changed since the
/// textarea last agreed with it (a remote change not yet shown), the edit is made at the heads
/// the writer saw and merged, so it lands as a concurrent splice instead of undoing the other
/// change. Returns the heads at which the plan equals `value`.
pub fn write_plan(
    am: &mut Automerge,
    shown: &Shown,
    user: &User,
    initiative: &InitiativeId,
    value: &str,
    now: i64,
) -> Result<Vec<ChangeHash>, EditError> {
    let current = plan_obj(am, initiative.as_str()).and_then(|t| am.text(&t).ok());
    if current.as_deref() == Some(shown.text.as_str()) || shown.heads.is_empty() {
        village_doc::edit(am, |d| d.edit_plan(user, initiative, value, now))?;
        return Ok(am.get_heads());
    }
    let mut fork = am.fork_at(&shown.heads).map_err(|_| EditError::NotLoaded)?;
    village_doc::edit(&mut fork, |d| d.edit_plan(user, initiative, value, now))?;
    let heads = fork.get_heads();
    am.merge(&mut fork).map_err(|_| EditError::Unsupported)?;
    Ok(heads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use model::{InitiativeDraft, UserId, VillageDoc, VillageId};

    #[test]
    fn utf16_and_char_indexes_round_trip() {
        let s = "a😀b";
        assert_eq!(char_index(s, 0), 0);
        assert_eq!(char_index(s, 1), 1);
        assert_eq!(char_index(s, 3), 2);
        assert_eq!(utf16_index(s, 2), 3);
        assert_eq!(char_index(s, 99), 3);
    }

    fn village_with_plan(plan: &str) -> (Automerge, User, InitiativeId) {
        let doc = VillageDoc::new(&VillageId::new("ulft").unwrap(), ActorId::random(), 1);
        let mut am = doc.into_automerge();
        let anna = User::resident(UserId::new("anna").unwrap());
        let id = InitiativeId::new("speeltuin").unwrap();
        let draft = InitiativeDraft {
            title: "Speeltuin".into(),
            plan: plan.into(),
            lead_association: None,
        };
        village_doc::edit(&mut am, |d| d.create_initiative(&anna, &id, &draft, 2)).unwrap();
        (am, anna, id)
    }

    fn plan(am: &Automerge) -> String {
        am.text(plan_obj(am, "speeltuin").unwrap()).unwrap()
    }

    #[test]
    fn an_edit_made_on_a_stale_view_merges_with_the_change_it_did_not_see() {
        let (mut am, anna, id) = village_with_plan("Begin.\n");
        let shown = Shown {
            text: plan(&am),
            heads: am.get_heads(),
            composing: false,
        };
        // Someone else's paragraph arrives before the textarea shows it.
        let mut other = am.fork();
        village_doc::edit(&mut other, |d| {
            d.edit_plan(&anna, &id, "Begin.\nVan Bert.\n", 3)
        })
        .unwrap();
        am.merge(&mut other).unwrap();
        // Anna's textarea still shows the old plan plus what she typed.
        let heads = write_plan(&mut am, &shown, &anna, &id, "Van Anna.\nBegin.\n", 4).unwrap();
        assert_eq!(plan(&am), "Van Anna.\nBegin.\nVan Bert.\n");
        // At the returned heads the plan is exactly what Anna's textarea held.
        let text = plan_obj(&am, "speeltuin").unwrap();
        assert_eq!(am.text_at(&text, &heads).unwrap(), "Van Anna.\nBegin.\n");
        // Her caret after "Van Anna.\n" stays there.
        assert_eq!(map_caret(&am, &text, &heads, 10), Some(10));
    }

    #[test]
    fn the_caret_sticks_to_the_text_before_it() {
        let (mut am, anna, id) = village_with_plan("Plan");
        let heads = am.get_heads();
        village_doc::edit(&mut am, |d| d.edit_plan(&anna, &id, "Het Plan!", 3)).unwrap();
        let text = plan_obj(&am, "speeltuin").unwrap();
        // A caret at the end of "Plan" stays after "Plan", before the new "!".
        assert_eq!(map_caret(&am, &text, &heads, 4), Some(8));
        assert_eq!(map_caret(&am, &text, &heads, 0), Some(0));
    }
}
