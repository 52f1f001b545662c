//! "The validator is weaker than the app": raw changes (no typed operation) that write what the
//! app's forms never would. Every text field, on creation and on every edit, keeps its limit in
//! bytes; enum fields take their values only; unknown fields, wrong types, lists and growing
//! collections are refused; the plan text keeps its limit after a splice. Before the shape
//! rules (`model::shape`) every one of these forgeries was accepted.

mod common;

use common::*;
use model::automerge::transaction::Transactable;
use model::automerge::{Automerge, Change, ObjType};
use model::schema::limits;
use model::*;

const LATER: i64 = NOW + DAY;

/// The municipality with the fanfare (Arie admin), Bea's news `n1`, Gerda's knowledge page
/// `k1`, Bea's consultation `c1` (open until long after `LATER`) and Anna's answer `a1`.
fn rich_municipality() -> MunicipalityDoc {
    let mut m = municipality();
    m.register_association(
        &fanfare_admin(),
        &AssociationId::new("fanfare").unwrap(),
        &AssociationDraft {
            name: "Fanfare".into(),
            category: AssociationCategory::Music,
            villages: vec![ulft()],
            description: String::new(),
            contacts: vec![(ContactChannel::Email, "info@fanfare.nl".into())],
            website: String::new(),
        },
        NOW,
    )
    .unwrap();
    let art = ArticleDraft {
        title: "Titel".into(),
        body: "Tekst".into(),
        village: None,
    };
    m.publish_news(&broker(), &NewsId::new("n1").unwrap(), &art, NOW)
        .unwrap();
    m.write_knowledge_page(&muni_admin(), &KnowledgeId::new("k1").unwrap(), &art, NOW)
        .unwrap();
    let c1 = ConsultationId::new("c1").unwrap();
    m.open_consultation(
        &broker(),
        &c1,
        &ConsultationDraft {
            village: ulft(),
            question: "Waar komt het bankje?".into(),
            explanation: String::new(),
            closes_at: NOW + 30 * DAY,
        },
        NOW,
    )
    .unwrap();
    m.respond_to_consultation(
        &anna(),
        &c1,
        &ConsultationResponseId::new("a1").unwrap(),
        "Bij de kerk",
        None,
        NOW,
    )
    .unwrap();
    m
}

fn put_str(doc: &Automerge, path: &str, key: &str, value: &str) -> Vec<Change> {
    raw(doc, |tx, am| {
        tx.put(obj(am, path), key, value).unwrap();
    })
}

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
fn every_text_field_keeps_its_byte_limit_on_every_edit() {
    let v = rich_village();
    let m = rich_municipality();
    let c = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW);
    let (va, ma) = (v.automerge(), m.automerge());
    use DocKind::{Conversation as C, Municipality as M, Village as V};
    let cases: Vec<(&Automerge, DocKind, User, &str, &str, usize)> = vec![
        (va, V, anna(), "help_posts/p1", "title", limits::TITLE),
        (va, V, anna(), "help_posts/p1", "description", limits::BODY),
        (
            va,
            V,
            bert(),
            "help_posts/p1/responses/r1",
            "message",
            limits::SHORT_BODY,
        ),
        (va, V, anna(), "initiatives/i1", "title", limits::TITLE),
        (
            va,
            V,
            anna(),
            "initiatives/i1/needs/n1",
            "title",
            limits::TITLE,
        ),
        (
            va,
            V,
            anna(),
            "initiatives/i1/updates/u1",
            "body",
            limits::BODY,
        ),
        (va, V, anna(), "events/e1", "title", limits::TITLE),
        (va, V, anna(), "events/e1", "description", limits::BODY),
        (va, V, anna(), "events/e1", "place", limits::LINE),
        (va, V, anna(), "board/b1", "body", limits::BODY),
        (
            va,
            V,
            bert(),
            "board/b1/comments/c1",
            "body",
            limits::SHORT_BODY,
        ),
        (
            va,
            V,
            anna(),
            "volunteers/anna",
            "display_name",
            limits::TITLE,
        ),
        (
            ma,
            M,
            fanfare_admin(),
            "associations/fanfare",
            "name",
            limits::TITLE,
        ),
        (
            ma,
            M,
            fanfare_admin(),
            "associations/fanfare",
            "description",
            limits::BODY,
        ),
        (
            ma,
            M,
            fanfare_admin(),
            "associations/fanfare",
            "website",
            limits::LINE,
        ),
        (
            ma,
            M,
            fanfare_admin(),
            "associations/fanfare/contacts",
            "email",
            limits::LINE,
        ),
        (ma, M, broker(), "news/n1", "title", limits::TITLE),
        (ma, M, broker(), "news/n1", "body", limits::BODY),
        (ma, M, muni_admin(), "knowledge/k1", "title", limits::TITLE),
        (ma, M, muni_admin(), "knowledge/k1", "body", limits::BODY),
        (
            ma,
            M,
            broker(),
            "consultations/c1",
            "question",
            limits::QUESTION,
        ),
        (
            ma,
            M,
            broker(),
            "consultations/c1",
            "explanation",
            limits::BODY,
        ),
        (
            ma,
            M,
            anna(),
            "consultations/c1/responses/a1",
            "body",
            limits::BODY,
        ),
    ];
    for (doc, kind, user, path, field, max) in cases {
        let at_limit = put_str(doc, path, field, &"é".repeat(max / 2));
        assert_eq!(
            judge_both(doc, kind, &user, &at_limit, LATER),
            Ok(()),
            "{path}/{field}: {max} bytes are fine"
        );
        // One byte over: a 2-byte character at the end.
        let over = put_str(doc, path, field, &format!("{}é", "x".repeat(max - 1)));
        assert!(
            too_long(judge_both(doc, kind, &user, &over, LATER)),
            "{path}/{field}: {} bytes are refused",
            max + 1
        );
    }
    // A message's body, written by its author.
    let mut c = c;
    c.send_message(&anna(), &MessageId::new("m1").unwrap(), "Hoi", NOW)
        .unwrap();
    let over = put_str(
        c.automerge(),
        "messages/m1",
        "body",
        &"x".repeat(limits::SHORT_BODY + 1),
    );
    assert!(too_long(judge_both(
        c.automerge(),
        C,
        &anna(),
        &over,
        LATER
    )));
}

#[test]
fn a_new_object_with_an_over_long_text_is_refused() {
    let v = village();
    let forged = raw(v.automerge(), |tx, am| {
        let b = tx.put_object(obj(am, "board"), "b9", ObjType::Map).unwrap();
        tx.put(&b, "author", "anna").unwrap();
        tx.put(&b, "created_at", NOW).unwrap();
        tx.put(&b, "body", "x".repeat(limits::BODY + 1)).unwrap();
    });
    assert!(too_long(judge_both(
        v.automerge(),
        DocKind::Village,
        &anna(),
        &forged,
        LATER
    )));
}

#[test]
fn enum_fields_take_their_values_only() {
    let v = rich_village();
    let m = rich_municipality();
    let (va, ma) = (v.automerge(), m.automerge());
    let bad_value = |r: Result<(), Violation>| {
        matches!(
            r,
            Err(Violation {
                reason: ViolationReason::BadValue(_),
                ..
            })
        )
    };
    let cases: Vec<(&Automerge, DocKind, User, &str, &str, &str)> = vec![
        (
            va,
            DocKind::Village,
            anna(),
            "help_posts/p1",
            "kind",
            "urgent",
        ),
        (
            va,
            DocKind::Village,
            anna(),
            "help_posts/p1",
            "category",
            "weapons",
        ),
        (
            va,
            DocKind::Village,
            bert(),
            "board/b1/reactions",
            "bert",
            "poop",
        ),
        (
            va,
            DocKind::Village,
            anna(),
            "volunteers/anna/categories",
            "astrology",
            "",
        ),
        (
            ma,
            DocKind::Municipality,
            fanfare_admin(),
            "associations/fanfare",
            "category",
            "cult",
        ),
        (
            ma,
            DocKind::Municipality,
            fanfare_admin(),
            "associations/fanfare/contacts",
            "fax",
            "0315",
        ),
    ];
    for (doc, kind, user, path, key, value) in cases {
        let forged = if value.is_empty() {
            raw(doc, |tx, am| {
                tx.put(obj(am, path), key, true).map(|_| ()).unwrap()
            })
        } else {
            put_str(doc, path, key, value)
        };
        assert!(
            bad_value(judge_both(doc, kind, &user, &forged, LATER)),
            "{path}/{key} = {value:?} is refused"
        );
    }
    // The allowed values pass.
    let honest = put_str(va, "help_posts/p1", "category", "garden");
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &honest, LATER),
        Ok(())
    );
}

#[test]
fn unknown_fields_wrong_types_and_lists_are_refused() {
    let v = rich_village();
    let va = v.automerge();
    let judge =
        |changes: &[Change], user: &User| judge_both(va, DocKind::Village, user, changes, LATER);
    let shape = |r: Result<(), Violation>| {
        matches!(
            r,
            Err(Violation {
                reason: ViolationReason::BadValue(_),
                ..
            })
        )
    };
    // A field the schema does not have, on one's own post.
    assert!(shape(judge(
        &put_str(va, "help_posts/p1", "payload", "x"),
        &anna()
    )));
    // A title that is a number; a number of volunteers out of range.
    let t = raw(va, |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "title", 7).unwrap()
    });
    assert!(shape(judge(&t, &anna())));
    let n = raw(va, |tx, am| {
        tx.put(obj(am, "events/e1"), "volunteers_needed", 1_000_000)
            .unwrap()
    });
    assert!(shape(judge(&n, &anna())));
    // A list inside a new board post (a growable sequence the schema never has).
    let l = raw(va, |tx, am| {
        let b = tx.put_object(obj(am, "board"), "b9", ObjType::Map).unwrap();
        tx.put(&b, "author", "anna").unwrap();
        tx.put(&b, "created_at", NOW).unwrap();
        let list = tx.put_object(&b, "body", ObjType::List).unwrap();
        tx.insert(&list, 0, "x").unwrap();
    });
    assert!(shape(judge(&l, &anna())));
    // An id field that is no id.
    let s = put_str(va, "initiatives/i1/needs/n1", "filled_by", "<script>");
    assert!(judge(&s, &carla()).is_err());
}

#[test]
fn articles_are_about_a_village_the_municipality_has() {
    let m = rich_municipality();
    let ma = m.automerge();
    let muni = DocKind::Municipality;
    let unknown = ViolationReason::BadValue("the village must be one of the municipality's");
    // An edit of Bea's news item, and a new knowledge page, about a village nobody has.
    let edit = put_str(ma, "news/n1", "village", "atlantis");
    assert_eq!(
        judge_both(ma, muni, &broker(), &edit, LATER).map_err(|v| v.reason),
        Err(unknown.clone())
    );
    let page = raw(ma, |tx, am| {
        let k = tx
            .put_object(obj(am, "knowledge"), "k9", ObjType::Map)
            .unwrap();
        tx.put(&k, "author", "gerda").unwrap();
        tx.put(&k, "created_at", NOW).unwrap();
        tx.put(&k, "title", "Titel").unwrap();
        tx.put(&k, "village", "atlantis").unwrap();
    });
    assert_eq!(
        judge_both(ma, muni, &muni_admin(), &page, LATER).map_err(|v| v.reason),
        Err(unknown)
    );
    // A village it has, or none: fine.
    for v in ["ulft", ""] {
        let ok = put_str(ma, "news/n1", "village", v);
        assert_eq!(judge_both(ma, muni, &broker(), &ok, LATER), Ok(()));
    }
}

#[test]
fn a_required_text_is_never_blanked_or_removed() {
    let v = rich_village();
    let va = v.automerge();
    let blank = put_str(va, "help_posts/p1", "title", "   ");
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &blank, LATER).map_err(|v| v.reason),
        Err(ViolationReason::BadValue("a required text is not empty"))
    );
    let removed = raw(va, |tx, am| tx.delete(obj(am, "board/b1"), "body").unwrap());
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &removed, LATER).map_err(|v| v.reason),
        Err(ViolationReason::BadValue("a required text is not removed"))
    );
    // An optional one may be emptied.
    let emptied = put_str(va, "help_posts/p1", "description", "");
    assert_eq!(
        judge_both(va, DocKind::Village, &anna(), &emptied, LATER),
        Ok(())
    );
}
