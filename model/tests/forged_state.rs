//! "The validator is weaker than the app", state rules: raw changes that skip what the typed
//! operations check before they write. A late or second consultation answer, an early outcome,
//! an inbox flood, a response to one's own or a closed post, a sign-up beyond the room left,
//! a comment under a hidden post: each was accepted by the validator before, each is refused
//! now with a reason, and the honest variant next to it still passes.

mod common;

use common::*;
use model::automerge::transaction::Transactable;
use model::automerge::{Automerge, Change, ObjType};
use model::schema::limits;
use model::*;

fn c1() -> ConsultationId {
    ConsultationId::new("c1").unwrap()
}

/// A consultation in Ulft closing at `NOW + DAY`.
fn with_consultation() -> MunicipalityDoc {
    let mut m = municipality();
    m.open_consultation(
        &broker(),
        &c1(),
        &ConsultationDraft {
            village: ulft(),
            question: "Waar komt het bankje?".into(),
            explanation: String::new(),
            closes_at: NOW + DAY,
        },
        NOW,
    )
    .unwrap();
    m
}

/// A raw answer `id` by `author` (on behalf of `behalf`).
fn answer(doc: &Automerge, id: &str, author: &str, behalf: &str) -> Vec<Change> {
    raw(doc, |tx, am| {
        let r = tx
            .put_object(obj(am, "consultations/c1/responses"), id, ObjType::Map)
            .unwrap();
        tx.put(&r, "author", author).unwrap();
        tx.put(&r, "created_at", NOW).unwrap();
        tx.put(&r, "body", "Bij de kerk").unwrap();
        tx.put(&r, "on_behalf_of", behalf).unwrap();
    })
}

fn refused_because(r: Result<(), Violation>, why: &str) -> bool {
    matches!(r, Err(Violation { reason: ViolationReason::BadValue(w), .. }) if w == why)
}

#[test]
fn an_answer_to_a_closed_consultation_is_refused() {
    let m = with_consultation();
    let ma = m.automerge();
    let forged = answer(ma, "a1", "anna", "");
    let muni = DocKind::Municipality;
    // While open: fine. After `closes_at` (the server's clock): refused.
    assert_eq!(judge_both(ma, muni, &anna(), &forged, NOW + HOUR), Ok(()));
    assert!(refused_because(
        judge_both(ma, muni, &anna(), &forged, NOW + 2 * DAY),
        "the consultation is closed: it takes no answers"
    ));
    // Editing one's own answer: while open yes, once closed no.
    let mut answered = m.clone();
    answered
        .respond_to_consultation(
            &anna(),
            &c1(),
            &ConsultationResponseId::new("a1").unwrap(),
            "Bij de kerk",
            None,
            NOW,
        )
        .unwrap();
    let aa = answered.automerge();
    let edit = raw(aa, |tx, am| {
        tx.put(
            obj(am, "consultations/c1/responses/a1"),
            "body",
            "Bij de school",
        )
        .unwrap();
    });
    assert_eq!(judge_both(aa, muni, &anna(), &edit, NOW + HOUR), Ok(()));
    assert!(refused_because(
        judge_both(aa, muni, &anna(), &edit, NOW + 2 * DAY),
        "the consultation is closed: it takes no answers"
    ));
}

#[test]
fn one_answer_per_resident_per_consultation() {
    let mut m = with_consultation();
    m.respond_to_consultation(
        &fanfare_admin(),
        &c1(),
        &ConsultationResponseId::new("a1").unwrap(),
        "Bij de kerk",
        None,
        NOW,
    )
    .unwrap();
    let ma = m.automerge();
    let muni = DocKind::Municipality;
    let twice = "you already answered this consultation (edit your answer instead)";
    // A second answer of his own: refused.
    let second = answer(ma, "a2", "arie", "");
    assert!(refused_because(
        judge_both(ma, muni, &fanfare_admin(), &second, NOW + HOUR),
        twice
    ));
    // Two answers in one change, from a resident who had none: refused.
    let double = raw(ma, |tx, am| {
        for id in ["a3", "a4"] {
            let r = tx
                .put_object(obj(am, "consultations/c1/responses"), id, ObjType::Map)
                .unwrap();
            tx.put(&r, "author", "anna").unwrap();
            tx.put(&r, "created_at", NOW).unwrap();
            tx.put(&r, "body", "Ja").unwrap();
        }
    });
    assert!(refused_because(
        judge_both(ma, muni, &anna(), &double, NOW + HOUR),
        twice
    ));
    // The association's answer, given by its admin, is the association's (as the app counts).
    let for_fanfare = answer(ma, "a5", "arie", "fanfare");
    assert_eq!(
        judge_both(ma, muni, &fanfare_admin(), &for_fanfare, NOW + HOUR),
        Ok(())
    );
}

#[test]
fn the_outcome_waits_until_the_consultation_closed() {
    let m = with_consultation();
    let ma = m.automerge();
    let outcome = raw(ma, |tx, am| {
        let o = tx
            .put_object(obj(am, "consultations/c1"), "outcome", ObjType::Map)
            .unwrap();
        tx.put(&o, "author", "bea").unwrap();
        tx.put(&o, "created_at", NOW).unwrap();
        tx.put(&o, "body", "Het wordt de kerk").unwrap();
    });
    let muni = DocKind::Municipality;
    assert!(refused_because(
        judge_both(ma, muni, &broker(), &outcome, NOW + HOUR),
        "the outcome is published once the consultation closed"
    ));
    assert_eq!(
        judge_both(ma, muni, &broker(), &outcome, NOW + 2 * DAY),
        Ok(())
    );
}

/// A raw inbox entry for conversation `conv`, authored by `who`.
fn entry(doc: &Automerge, conv: &str, who: &str) -> Vec<Change> {
    raw(doc, |tx, am| {
        let e = tx
            .put_object(obj(am, "entries"), conv, ObjType::Map)
            .unwrap();
        tx.put(&e, "author", who).unwrap();
        tx.put(&e, "created_at", NOW).unwrap();
    })
}

#[test]
fn one_sender_cannot_flood_an_inbox() {
    let mut inbox = InboxDoc::new(&uid("anna"));
    let cap = limits::MAX_INBOX_ENTRIES_PER_SENDER;
    for i in 0..cap {
        let conv = ConversationId::new(format!("conv{i}")).unwrap();
        inbox.add_conversation(&bert(), &conv, NOW).unwrap();
    }
    let ia = inbox.automerge();
    let flood = "you have as many entries in this inbox as one sender may";
    let one_more = entry(ia, "conv-x", "bert");
    assert!(refused_because(
        judge_both(ia, DocKind::Inbox, &bert(), &one_more, NOW),
        flood
    ));
    // Many in one change, from someone who had none: refused as well.
    let burst = raw(ia, |tx, am| {
        for i in 0..=cap {
            let e = tx
                .put_object(obj(am, "entries"), format!("c-carla-{i}"), ObjType::Map)
                .unwrap();
            tx.put(&e, "author", "carla").unwrap();
            tx.put(&e, "created_at", NOW).unwrap();
        }
    });
    assert!(refused_because(
        judge_both(ia, DocKind::Inbox, &carla(), &burst, NOW),
        flood
    ));
    // Another sender, and the owner, still get through.
    let other = entry(ia, "conv-c", "carla");
    assert_eq!(
        judge_both(ia, DocKind::Inbox, &carla(), &other, NOW),
        Ok(())
    );
    let own = entry(ia, "conv-a", "anna");
    assert_eq!(judge_both(ia, DocKind::Inbox, &anna(), &own, NOW), Ok(()));
}

#[test]
fn an_inbox_never_lists_more_conversations_than_a_connection_may_open() {
    // Many senders together (each within their own cap) stop at the inbox's limit, which lies
    // below the server's documents-per-connection cap: the owner can always open them all.
    let mut inbox = InboxDoc::new(&uid("anna"));
    let per = limits::MAX_INBOX_ENTRIES_PER_SENDER;
    for i in 0..limits::MAX_INBOX_ENTRIES {
        let sender = resident(&format!("s{}", i / per));
        let conv = ConversationId::new(format!("conv{i}")).unwrap();
        inbox.add_conversation(&sender, &conv, NOW).unwrap();
    }
    let ia = inbox.automerge();
    let one_more = entry(ia, "conv-x", "newcomer");
    assert!(refused_because(
        judge_both(ia, DocKind::Inbox, &resident("newcomer"), &one_more, NOW),
        "the collection is full: it holds as many entries as its limit allows"
    ));
}

/// A raw response `id` by `who` to help post `p1`.
fn response(doc: &Automerge, id: &str, who: &str) -> Vec<Change> {
    raw(doc, |tx, am| {
        let r = tx
            .put_object(obj(am, "help_posts/p1/responses"), id, ObjType::Map)
            .unwrap();
        tx.put(&r, "author", who).unwrap();
        tx.put(&r, "created_at", NOW).unwrap();
        tx.put(&r, "message", "Ik kom").unwrap();
    })
}

#[test]
fn responses_follow_the_apps_rules() {
    let d = village_with_request();
    let va = d.automerge();
    let v = DocKind::Village;
    let at = NOW + HOUR;
    assert!(refused_because(
        judge_both(va, v, &anna(), &response(va, "r2", "anna"), at),
        "you cannot respond to your own post"
    ));
    assert!(refused_because(
        judge_both(va, v, &bert(), &response(va, "r2", "bert"), at),
        "you already responded to this post"
    ));
    assert_eq!(
        judge_both(va, v, &carla(), &response(va, "r2", "carla"), at),
        Ok(())
    );
    let mut matched = d.clone();
    matched
        .accept_response(&anna(), &pid("p1"), &rid("r1"), NOW)
        .unwrap();
    let ma = matched.automerge();
    assert!(refused_because(
        judge_both(ma, v, &carla(), &response(ma, "r2", "carla"), at),
        "the help post is no longer open"
    ));
}

#[test]
fn sign_ups_stop_when_the_event_is_full() {
    let mut d = village();
    let e1 = EventId::new("e1").unwrap();
    d.create_event(
        &anna(),
        &e1,
        &EventDraft {
            title: "Feest".into(),
            description: String::new(),
            when: TimeWindow {
                start: NOW + DAY,
                end: NOW + DAY + HOUR,
            },
            place: String::new(),
            volunteers_needed: 1,
            organiser: None,
        },
        NOW,
    )
    .unwrap();
    d.sign_up(&bert(), &e1, NOW).unwrap();
    let da = d.automerge();
    let sign_up = raw(da, |tx, am| {
        let s = tx
            .put_object(obj(am, "events/e1/signups"), "carla", ObjType::Map)
            .unwrap();
        tx.put(&s, "created_at", NOW).unwrap();
    });
    assert!(refused_because(
        judge_both(da, DocKind::Village, &carla(), &sign_up, NOW),
        "the event needs no more volunteers"
    ));
}

#[test]
fn nobody_comments_under_a_hidden_board_post() {
    let mut d = village();
    let b1 = BoardPostId::new("b1").unwrap();
    d.post(&anna(), &b1, "Hallo", NOW).unwrap();
    d.hide_for_moderation(
        &broker(),
        &ModerationTarget::BoardPost(b1),
        true,
        "spam",
        NOW,
    )
    .unwrap();
    let da = d.automerge();
    let comment = raw(da, |tx, am| {
        let c = tx
            .put_object(obj(am, "board/b1/comments"), "c1", ObjType::Map)
            .unwrap();
        tx.put(&c, "author", "bert").unwrap();
        tx.put(&c, "created_at", NOW).unwrap();
        tx.put(&c, "body", "Toch nog").unwrap();
    });
    assert!(refused_because(
        judge_both(da, DocKind::Village, &bert(), &comment, NOW),
        "the board post is hidden by a moderator"
    ));
}

#[test]
fn the_owner_makes_room_by_removing_entries() {
    let mut full = InboxDoc::new(&uid("anna"));
    for i in 0..limits::MAX_INBOX_ENTRIES_PER_SENDER {
        let conv = ConversationId::new(format!("conv{i}")).unwrap();
        full.add_conversation(&bert(), &conv, NOW).unwrap();
    }
    let conv0 = ConversationId::new("conv0").unwrap();
    assert!(
        full.clone()
            .remove_conversation(&bert(), &conv0, NOW)
            .is_err()
    );
    let mut inbox = full.clone();
    assert_eq!(inbox.remove_conversation(&anna(), &conv0, NOW), Ok(true));
    let removal = inbox.changes_since(&full.heads());
    // The server takes the removal from the owner only...
    let fa = full.automerge();
    assert_eq!(
        judge_both(fa, DocKind::Inbox, &anna(), &removal, NOW),
        Ok(())
    );
    assert!(judge_both(fa, DocKind::Inbox, &bert(), &removal, NOW).is_err());
    // ...after which Bert may add one again.
    let ia = inbox.automerge();
    let again = entry(ia, "conv-new", "bert");
    assert_eq!(judge_both(ia, DocKind::Inbox, &bert(), &again, NOW), Ok(()));
}
