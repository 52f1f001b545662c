//! Inboxes (how a recipient learns of a conversation) and conversation subjects: the happy
//! paths, every error path, the permission rules, and that two devices creating the same inbox
//! offline end up with one document.

mod common;

use common::*;
use model::automerge::ActorId;
use model::*;

fn cid(s: &str) -> ConversationId {
    ConversationId::new(s).unwrap()
}

/// Anna's inbox as a device holds it: the shared first changes, then its own actor.
fn inbox_on_device(owner: &str, n: u8) -> InboxDoc {
    InboxDoc::new(&uid(owner)).fork(actor(n))
}

#[test]
fn every_device_makes_the_same_inbox() {
    let a = InboxDoc::new(&uid("anna"));
    let b = InboxDoc::new(&uid("anna"));
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.save(), b.save());
    assert_eq!(a.owner().as_deref(), Some("anna"));
    assert!(a.conversations().is_empty());
    assert_ne!(InboxDoc::new(&uid("bert")).heads(), a.heads());
    assert_eq!(a.schema_version(), SCHEMA_VERSION);
}

#[test]
fn sender_and_owner_create_the_inbox_offline_and_merge_into_one() {
    // Bert sends Anna a message while offline: he makes her inbox and adds the conversation.
    let mut berts_copy = inbox_on_device("anna", 2);
    assert!(
        berts_copy
            .add_conversation(&bert(), &cid("c1"), NOW)
            .unwrap()
    );
    // Anna, also offline, started a conversation with Carla and noted it in her own inbox.
    let mut annas_copy = inbox_on_device("anna", 1);
    annas_copy
        .add_conversation(&anna(), &cid("c2"), NOW + 1)
        .unwrap();
    annas_copy.merge(&mut berts_copy).unwrap();
    let entries = annas_copy.conversations();
    let ids: Vec<_> = entries.iter().map(|e| e.conversation.as_str()).collect();
    assert_eq!(ids, vec!["c2", "c1"], "newest first");
    assert_eq!(entries[1].added_by, "bert");
    assert_eq!(entries[1].added_at, NOW);
    assert_eq!(entries[1].read_at, None);
    assert_eq!(annas_copy.owner().as_deref(), Some("anna"));
}

#[test]
fn adding_a_conversation_twice_writes_nothing() {
    let mut inbox = inbox_on_device("anna", 1);
    assert!(inbox.add_conversation(&bert(), &cid("c1"), NOW).unwrap());
    let heads = inbox.heads();
    assert!(
        !inbox
            .add_conversation(&carla(), &cid("c1"), NOW + 1)
            .unwrap()
    );
    assert_eq!(inbox.heads(), heads);
    assert_eq!(inbox.conversations()[0].added_by, "bert");
}

#[test]
fn only_the_owner_marks_read_and_marks_only_move_forward() {
    let mut inbox = inbox_on_device("anna", 1);
    inbox.add_conversation(&bert(), &cid("c1"), NOW).unwrap();
    assert!(matches!(
        inbox.mark_read(&bert(), &cid("c1"), NOW + 5, NOW + 5),
        Err(OpError::Denied(_))
    ));
    inbox
        .mark_read(&anna(), &cid("c1"), NOW + 5, NOW + 5)
        .unwrap();
    assert_eq!(inbox.conversations()[0].read_at, Some(NOW + 5));
    // A second owner's change (the mark exists now) is still allowed, an older one ignored.
    let heads = inbox.heads();
    inbox
        .mark_read(&anna(), &cid("c1"), NOW + 1, NOW + 6)
        .unwrap();
    assert_eq!(inbox.heads(), heads);
    inbox
        .mark_read(&anna(), &cid("c1"), NOW + 9, NOW + 9)
        .unwrap();
    assert_eq!(inbox.conversations()[0].read_at, Some(NOW + 9));
    assert!(matches!(
        inbox.mark_read(&bert(), &cid("c1"), NOW + 20, NOW + 20),
        Err(OpError::Denied(_))
    ));
}

#[test]
fn an_inbox_that_has_not_arrived_refuses_writes() {
    // A bare document (as `find` gives before anything arrived) is not writable.
    let mut bare = InboxDoc::from_automerge(model::automerge::Automerge::new()).unwrap();
    assert!(matches!(
        bare.add_conversation(&anna(), &cid("c1"), NOW),
        Err(OpError::OutdatedSchema { .. })
    ));
    assert!(matches!(
        bare.mark_read(&anna(), &cid("c1"), NOW, NOW),
        Err(OpError::OutdatedSchema { .. })
    ));
    assert!(bare.conversations().is_empty());
    assert_eq!(bare.owner(), None);
}

#[test]
fn the_server_judges_inbox_changes_by_the_rules() {
    let server = inbox_on_device("anna", 9);
    // Bert adds a conversation: allowed.
    let mut berts = server.fork(actor(2));
    let before = berts.heads();
    berts.add_conversation(&bert(), &cid("c1"), NOW).unwrap();
    let changes = berts.changes_since(&before);
    assert!(server.validate_changes(&bert(), &changes, NOW).is_ok());
    // The same change claimed by Carla: the entry's author must be its sender.
    assert!(server.validate_changes(&carla(), &changes, NOW).is_err());
    // Anna's read mark is hers alone.
    let mut annas = berts.fork(actor(1));
    let before = annas.heads();
    annas.mark_read(&anna(), &cid("c1"), NOW, NOW).unwrap();
    let mark = annas.changes_since(&before);
    let mut with_entry = server.clone();
    with_entry.apply_changes(changes).unwrap();
    assert!(with_entry.validate_changes(&anna(), &mark, NOW).is_ok());
    assert!(with_entry.validate_changes(&bert(), &mark, NOW).is_err());
}

#[test]
fn an_inbox_is_not_another_kind_of_document() {
    let bytes = InboxDoc::new(&uid("anna")).save();
    assert!(matches!(
        ConversationDoc::load(&bytes),
        Err(SchemaError::WrongKind { .. })
    ));
    assert!(InboxDoc::load(&bytes).is_ok());
}

#[test]
fn a_conversation_has_a_subject_set_once_at_its_start() {
    let c = ConversationDoc::with_subject(
        &anna(),
        &[uid("bert")],
        "  Boodschappen dinsdag ",
        ActorId::random(),
        NOW,
    )
    .unwrap();
    assert_eq!(c.subject(), "Boodschappen dinsdag");
    assert_eq!(c.participants(), vec!["anna", "bert"]);
    let long = "x".repeat(121);
    assert!(matches!(
        ConversationDoc::with_subject(&anna(), &[uid("bert")], &long, ActorId::random(), NOW),
        Err(OpError::TextTooLong {
            field: "subject",
            ..
        })
    ));
    let none = ConversationDoc::new(&anna(), &[uid("bert")], ActorId::random(), NOW);
    assert_eq!(none.subject(), "");
}
