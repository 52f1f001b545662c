//! "The validator is weaker than the app", growth: raw changes that make a collection or the
//! plan text grow beyond what the app's forms allow, sign a partner in someone else's name, or
//! make a time window end before it starts. Before these rules each was accepted.

mod common;

use common::*;
use model::automerge::transaction::Transactable;
use model::automerge::{Automerge, ObjType, ReadDoc};
use model::schema::limits;
use model::*;

const LATER: i64 = NOW + DAY;

fn too_long(r: Result<(), Violation>) -> bool {
    matches!(
        r,
        Err(Violation {
            reason: ViolationReason::BadValue("the text is longer than its limit (in bytes)"),
            ..
        })
    )
}

#[test]
fn collections_stop_growing_at_their_limit() {
    let v = rich_village();
    let va = v.automerge();
    // A profile covering more villages than the limit, in one change.
    let many = |n: usize| {
        raw(va, |tx, am| {
            let villages = tx
                .put_object(obj(am, "volunteers/anna"), "villages", ObjType::Map)
                .unwrap();
            for i in 0..n {
                tx.put(&villages, format!("v{i}"), true).unwrap();
            }
        })
    };
    assert_eq!(
        judge_both(
            va,
            DocKind::Village,
            &anna(),
            &many(limits::MAX_PROFILE_VILLAGES),
            LATER
        ),
        Ok(())
    );
    assert_eq!(
        judge_both(
            va,
            DocKind::Village,
            &anna(),
            &many(limits::MAX_PROFILE_VILLAGES + 1),
            LATER
        )
        .map_err(|v| v.reason),
        Err(ViolationReason::BadValue(
            "the collection is full: it holds as many entries as its limit allows"
        ))
    );
    // A conversation whose participants keep adding people beyond the limit.
    let mut c = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW);
    for i in 2..limits::MAX_PARTICIPANTS {
        c.add_participant(&anna(), &uid(&format!("u{i}")), NOW)
            .unwrap();
    }
    let one_more = raw(c.automerge(), |tx, am| {
        let p = tx
            .put_object(obj(am, "participants"), "one-too-many", ObjType::Map)
            .unwrap();
        tx.put(&p, "added_by", "anna").unwrap();
        tx.put(&p, "created_at", NOW).unwrap();
    });
    assert!(
        judge_both(
            c.automerge(),
            DocKind::Conversation,
            &anna(),
            &one_more,
            LATER
        )
        .is_err()
    );
}

#[test]
fn who_added_a_partner_is_the_sender() {
    let v = rich_village();
    let forged = raw(v.automerge(), |tx, am| {
        let p = tx
            .put_object(obj(am, "initiatives/i1/partners"), "vv-ulft", ObjType::Map)
            .unwrap();
        tx.put(&p, "added_by", "anna").unwrap();
        tx.put(&p, "created_at", NOW).unwrap();
    });
    assert_eq!(
        judge_both(
            v.automerge(),
            DocKind::Village,
            &sports_admin(),
            &forged,
            LATER
        )
        .map_err(|v| v.reason),
        Err(ViolationReason::BadValue("`added_by` must be the sender"))
    );
}

fn plan_len(am: &Automerge) -> usize {
    am.text(obj(am, "initiatives/i1/plan")).unwrap().len()
}

#[test]
fn the_plan_text_keeps_its_limit_after_every_splice() {
    let v = rich_village();
    let va = v.automerge();
    let have = plan_len(va);
    // Typed into the plan up to the limit: fine; one byte more: refused.
    let splice = |n: usize| {
        raw(va, |tx, am| {
            tx.splice_text(obj(am, "initiatives/i1/plan"), 0, 0, &"x".repeat(n))
                .unwrap();
        })
    };
    assert_eq!(
        judge_both(
            va,
            DocKind::Village,
            &anna(),
            &splice(limits::BODY - have),
            LATER
        ),
        Ok(())
    );
    assert!(too_long(judge_both(
        va,
        DocKind::Village,
        &anna(),
        &splice(limits::BODY - have + 1),
        LATER
    )));
    // One forged element carrying a whole book is measured in bytes too.
    let book = raw(va, |tx, am| {
        let plan = obj(am, "initiatives/i1/plan");
        tx.insert(&plan, 0, "x".repeat(100_000)).unwrap();
    });
    assert!(judge_both(va, DocKind::Village, &anna(), &book, LATER).is_err());
    // A new initiative whose plan is over the limit from the start.
    let big = raw(va, |tx, am| {
        let i = tx
            .put_object(obj(am, "initiatives"), "i9", ObjType::Map)
            .unwrap();
        tx.put(&i, "author", "anna").unwrap();
        tx.put(&i, "created_at", NOW).unwrap();
        let plan = tx.put_object(&i, "plan", ObjType::Text).unwrap();
        tx.splice_text(&plan, 0, 0, &"x".repeat(limits::BODY + 1))
            .unwrap();
    });
    assert!(too_long(judge_both(
        va,
        DocKind::Village,
        &anna(),
        &big,
        LATER
    )));
}

#[test]
fn a_plan_over_its_limit_after_a_merge_may_still_shrink() {
    // Two editors each typed up to the limit concurrently: merged, the plan is over it. Nobody
    // is locked out: an edit that makes it shorter passes, one that grows it does not.
    let v = rich_village();
    let fill = |actor_byte: u8| {
        raw_as(actor_byte, v.automerge(), |tx, am| {
            let have = plan_len(am);
            tx.splice_text(
                obj(am, "initiatives/i1/plan"),
                0,
                0,
                &"y".repeat(limits::BODY - have),
            )
            .unwrap();
        })
    };
    let mut merged = v.automerge().clone();
    merged.apply_changes(fill(51)).unwrap();
    merged.apply_changes(fill(52)).unwrap();
    assert!(plan_len(&merged) > limits::BODY);
    let shrink = raw(&merged, |tx, am| {
        tx.splice_text(obj(am, "initiatives/i1/plan"), 0, 10, "")
            .unwrap();
    });
    assert_eq!(
        judge_both(&merged, DocKind::Village, &anna(), &shrink, LATER),
        Ok(())
    );
    let grow = raw(&merged, |tx, am| {
        tx.splice_text(obj(am, "initiatives/i1/plan"), 0, 0, "z")
            .unwrap();
    });
    assert!(too_long(judge_both(
        &merged,
        DocKind::Village,
        &anna(),
        &grow,
        LATER
    )));
}

#[test]
fn a_time_window_never_ends_before_it_starts() {
    let v = rich_village();
    let va = v.automerge();
    let reversed = ViolationReason::BadValue("the end lies before the start");
    // Anna moves her event's end before its start.
    let end = raw(va, |tx, am| {
        tx.put(obj(am, "events/e1"), "end", NOW).unwrap();
    });
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &end, LATER).map_err(|v| v.reason),
        Err(reversed.clone())
    );
    // A help post with a window the wrong way round, created in one go.
    let post = raw(va, |tx, am| {
        let p = tx
            .put_object(obj(am, "help_posts"), "p9", ObjType::Map)
            .unwrap();
        tx.put(&p, "author", "anna").unwrap();
        tx.put(&p, "created_at", NOW).unwrap();
        tx.put(&p, "title", "Later").unwrap();
        tx.put(&p, "when_start", NOW + DAY).unwrap();
        tx.put(&p, "when_end", NOW).unwrap();
    });
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &post, LATER).map_err(|v| v.reason),
        Err(reversed)
    );
    // Moving both, in order: fine.
    let moved = raw(va, |tx, am| {
        let e = obj(am, "events/e1");
        tx.put(&e, "start", NOW + 2 * DAY).unwrap();
        tx.put(&e, "end", NOW + 2 * DAY + HOUR).unwrap();
    });
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &moved, LATER),
        Ok(())
    );
}
