//! Issue #16, hole 1: whole-object replacement. A change that writes a collection entry with an
//! empty `pred` where the document already holds one is no create: Automerge keeps it beside
//! the owner's object, as a conflict it may win, so every reader would show the forgery. For
//! every collection, an attacker's object (and a scalar) put with an empty `pred` at the key of
//! someone else's object is refused, while the owner's honest create and edit still pass.

mod common;

use common::*;
use model::automerge::transaction::Transactable;
use model::automerge::{Automerge, Change, ObjId, ObjType, ReadDoc};
use model::*;

/// An honest operation on a document, by a user.
type Op = Box<dyn Fn(&mut Automerge, &User)>;

/// One collection entry: the document before it exists, the owner's operation that makes it,
/// where it lands, and who tries to replace it.
struct Case {
    name: &'static str,
    kind: DocKind,
    before: Automerge,
    owner: User,
    create: Op,
    path: &'static str,
    attacker: User,
    /// Extra fields the forged object carries (what the rules demand of a new one of its kind).
    forged_fields: &'static [(&'static str, &'static str)],
    /// Whether the owner may edit the object afterwards (an inbox entry is never changed).
    editable: bool,
}

fn village_op(op: impl Fn(&mut VillageDoc, &User) + 'static) -> Op {
    Box::new(move |am, user| {
        let mut d = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
        op(&mut d, user);
        *am = d.into_automerge();
    })
}

fn municipality_op(op: impl Fn(&mut MunicipalityDoc, &User) + 'static) -> Op {
    Box::new(move |am, user| {
        let mut d = MunicipalityDoc::from_automerge(std::mem::take(am)).unwrap();
        op(&mut d, user);
        *am = d.into_automerge();
    })
}

fn broker_of(name: &str, village: &str) -> User {
    let mut u = resident(name);
    u.roles.broker_of.insert(VillageId::new(village).unwrap());
    u
}

fn article() -> ArticleDraft {
    ArticleDraft {
        title: "Nieuws".into(),
        body: "Tekst".into(),
        village: None,
    }
}

fn cases() -> Vec<Case> {
    let initiative = InitiativeId::new("i1").unwrap();
    let mut with_initiative = village();
    with_initiative
        .create_initiative(
            &anna(),
            &initiative,
            &InitiativeDraft {
                title: "Speeltuin".into(),
                plan: String::new(),
                lead_association: None,
            },
            NOW,
        )
        .unwrap();
    with_initiative
        .join_initiative_as_partner(
            &sports_admin(),
            &initiative,
            &AssociationId::new("vv-ulft").unwrap(),
            NOW,
        )
        .unwrap();
    let mut with_board = village();
    with_board
        .post(&anna(), &BoardPostId::new("b1").unwrap(), "Hallo", NOW)
        .unwrap();
    let mut with_event = village();
    with_event
        .create_event(
            &anna(),
            &EventId::new("e1").unwrap(),
            &EventDraft {
                title: "Feest".into(),
                description: String::new(),
                when: TimeWindow {
                    start: NOW + DAY,
                    end: NOW + DAY + HOUR,
                },
                place: String::new(),
                volunteers_needed: 2,
                organiser: None,
            },
            NOW,
        )
        .unwrap();
    let consultation = ConsultationId::new("c1").unwrap();
    let mut with_consultation = municipality();
    with_consultation
        .open_consultation(
            &broker(),
            &consultation,
            &ConsultationDraft {
                village: ulft(),
                question: "Waar komt het bankje?".into(),
                explanation: String::new(),
                closes_at: NOW + 7 * DAY,
            },
            NOW,
        )
        .unwrap();
    let conversation = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW - DAY);
    let inbox = InboxDoc::new(&uid("carla"));
    vec![
        Case {
            name: "help post",
            kind: DocKind::Village,
            before: village().into_automerge(),
            owner: anna(),
            create: village_op(|d, u| {
                d.post_help_request(
                    u,
                    &pid("p1"),
                    &help("Boodschappen", HelpCategory::Shopping),
                    NOW,
                )
                .unwrap()
            }),
            path: "help_posts/p1",
            attacker: bert(),
            forged_fields: &[
                ("kind", "request"),
                ("category", "shopping"),
                ("title", "Vervalst"),
            ],
            editable: true,
        },
        Case {
            name: "help response",
            kind: DocKind::Village,
            before: {
                let mut d = village();
                d.post_help_request(
                    &anna(),
                    &pid("p1"),
                    &help("Boodschappen", HelpCategory::Shopping),
                    NOW,
                )
                .unwrap();
                d.into_automerge()
            },
            owner: bert(),
            create: village_op(|d, u| {
                d.respond(u, &pid("p1"), &rid("r1"), "Ik help", NOW)
                    .unwrap()
            }),
            path: "help_posts/p1/responses/r1",
            attacker: carla(),
            forged_fields: &[("message", "Vervalst")],
            editable: true,
        },
        Case {
            name: "initiative",
            kind: DocKind::Village,
            before: village().into_automerge(),
            owner: anna(),
            create: village_op(|d, u| {
                d.create_initiative(
                    u,
                    &InitiativeId::new("i9").unwrap(),
                    &InitiativeDraft {
                        title: "Speeltuin".into(),
                        plan: String::new(),
                        lead_association: None,
                    },
                    NOW,
                )
                .unwrap()
            }),
            path: "initiatives/i9",
            attacker: bert(),
            forged_fields: &[("title", "Vervalst")],
            editable: true,
        },
        Case {
            name: "initiative update",
            kind: DocKind::Village,
            before: with_initiative.automerge().clone(),
            owner: anna(),
            create: village_op(|d, u| {
                d.post_update(
                    u,
                    &InitiativeId::new("i1").unwrap(),
                    &UpdateId::new("u1").unwrap(),
                    "Begonnen",
                    NOW,
                )
                .unwrap()
            }),
            path: "initiatives/i1/updates/u1",
            // A partner's admin may post updates but not remove the initiator's.
            attacker: sports_admin(),
            forged_fields: &[("body", "Vervalst")],
            editable: true,
        },
        Case {
            name: "event",
            kind: DocKind::Village,
            before: village().into_automerge(),
            owner: anna(),
            create: village_op(|d, u| {
                d.create_event(
                    u,
                    &EventId::new("e9").unwrap(),
                    &EventDraft {
                        title: "Feest".into(),
                        description: String::new(),
                        when: TimeWindow {
                            start: NOW + DAY,
                            end: NOW + DAY + HOUR,
                        },
                        place: String::new(),
                        volunteers_needed: 0,
                        organiser: None,
                    },
                    NOW,
                )
                .unwrap()
            }),
            path: "events/e9",
            attacker: bert(),
            forged_fields: &[("title", "Vervalst")],
            editable: true,
        },
        Case {
            name: "event sign-up",
            kind: DocKind::Village,
            before: with_event.automerge().clone(),
            owner: bert(),
            create: village_op(|d, u| d.sign_up(u, &EventId::new("e1").unwrap(), NOW).unwrap()),
            path: "events/e1/signups/bert",
            attacker: carla(),
            forged_fields: &[],
            editable: false,
        },
        Case {
            name: "board post",
            kind: DocKind::Village,
            before: village().into_automerge(),
            owner: anna(),
            create: village_op(|d, u| {
                d.post(u, &BoardPostId::new("b9").unwrap(), "Hallo", NOW)
                    .unwrap()
            }),
            path: "board/b9",
            attacker: bert(),
            forged_fields: &[("body", "Vervalst")],
            editable: true,
        },
        Case {
            name: "board comment",
            kind: DocKind::Village,
            before: with_board.automerge().clone(),
            owner: bert(),
            create: village_op(|d, u| {
                d.comment(
                    u,
                    &BoardPostId::new("b1").unwrap(),
                    &CommentId::new("c1").unwrap(),
                    "Mooi",
                    NOW,
                )
                .unwrap()
            }),
            path: "board/b1/comments/c1",
            attacker: carla(),
            forged_fields: &[("body", "Vervalst")],
            editable: true,
        },
        Case {
            name: "volunteer profile",
            kind: DocKind::Village,
            before: village().into_automerge(),
            owner: bert(),
            create: village_op(|d, u| {
                d.set_volunteer_profile(
                    u,
                    &VolunteerProfile {
                        display_name: "Bert".into(),
                        categories: vec![HelpCategory::Shopping],
                        villages: vec![ulft()],
                        availability: Vec::new(),
                    },
                    NOW,
                )
                .unwrap()
            }),
            path: "volunteers/bert",
            attacker: carla(),
            forged_fields: &[("display_name", "Vervalst")],
            editable: true,
        },
        Case {
            name: "association",
            kind: DocKind::Municipality,
            before: municipality().into_automerge(),
            owner: fanfare_admin(),
            create: municipality_op(|d, u| {
                d.register_association(
                    u,
                    &AssociationId::new("fanfare").unwrap(),
                    &AssociationDraft {
                        name: "Fanfare".into(),
                        category: AssociationCategory::Music,
                        villages: vec![ulft()],
                        description: String::new(),
                        contacts: Vec::new(),
                        website: String::new(),
                    },
                    NOW,
                )
                .unwrap()
            }),
            path: "associations/fanfare",
            attacker: bert(),
            forged_fields: &[("name", "Fanfare"), ("category", "music")],
            editable: true,
        },
        Case {
            name: "consultation",
            kind: DocKind::Municipality,
            before: municipality().into_automerge(),
            owner: broker(),
            create: municipality_op(|d, u| {
                d.open_consultation(
                    u,
                    &ConsultationId::new("c9").unwrap(),
                    &ConsultationDraft {
                        village: ulft(),
                        question: "Waar komt het bankje?".into(),
                        explanation: String::new(),
                        closes_at: NOW + 7 * DAY,
                    },
                    NOW,
                )
                .unwrap()
            }),
            path: "consultations/c9",
            // Another village's broker may open consultations, for their own village.
            attacker: broker_of("vera", "varsselder"),
            forged_fields: &[("village", "varsselder"), ("question", "Vervalst")],
            editable: true,
        },
        Case {
            name: "consultation response",
            kind: DocKind::Municipality,
            before: with_consultation.automerge().clone(),
            owner: anna(),
            create: municipality_op(|d, u| {
                d.respond_to_consultation(
                    u,
                    &ConsultationId::new("c1").unwrap(),
                    &ConsultationResponseId::new("a1").unwrap(),
                    "Bij de kerk",
                    None,
                    NOW,
                )
                .unwrap()
            }),
            path: "consultations/c1/responses/a1",
            attacker: bert(),
            forged_fields: &[("body", "Vervalst")],
            editable: true,
        },
        Case {
            name: "news",
            kind: DocKind::Municipality,
            before: municipality().into_automerge(),
            owner: broker(),
            create: municipality_op(|d, u| {
                d.publish_news(u, &NewsId::new("n1").unwrap(), &article(), NOW)
                    .unwrap()
            }),
            path: "news/n1",
            attacker: broker_of("vera", "varsselder"),
            forged_fields: &[("title", "Vervalst")],
            editable: true,
        },
        Case {
            name: "knowledge page",
            kind: DocKind::Municipality,
            before: municipality().into_automerge(),
            owner: broker(),
            create: municipality_op(|d, u| {
                d.write_knowledge_page(u, &KnowledgeId::new("k1").unwrap(), &article(), NOW)
                    .unwrap()
            }),
            path: "knowledge/k1",
            attacker: broker_of("vera", "varsselder"),
            forged_fields: &[("title", "Vervalst")],
            editable: true,
        },
        Case {
            name: "conversation message",
            kind: DocKind::Conversation,
            before: conversation.automerge().clone(),
            owner: anna(),
            create: Box::new(|am, u| {
                let mut d = ConversationDoc::from_automerge(std::mem::take(am)).unwrap();
                d.send_message(u, &MessageId::new("m1").unwrap(), "Hoi", NOW)
                    .unwrap();
                *am = d.into_automerge();
            }),
            path: "messages/m1",
            attacker: bert(),
            forged_fields: &[("body", "Vervalst")],
            editable: true,
        },
        Case {
            name: "inbox entry",
            kind: DocKind::Inbox,
            before: inbox.automerge().clone(),
            owner: anna(),
            create: Box::new(|am, u| {
                let mut d = InboxDoc::from_automerge(std::mem::take(am)).unwrap();
                d.add_conversation(u, &ConversationId::new("conv1").unwrap(), NOW)
                    .unwrap();
                *am = d.into_automerge();
            }),
            path: "entries/conv1",
            attacker: bert(),
            forged_fields: &[],
            editable: false,
        },
    ]
}

/// The object at `a/b/c`.
fn at(am: &Automerge, path: &str) -> ObjId {
    path.split('/').fold(model::automerge::ROOT, |o, seg| {
        am.get(&o, seg)
            .unwrap()
            .unwrap_or_else(|| panic!("no {seg} in {path}"))
            .1
    })
}

/// What a tampered client sends: forked at `before` (where the key is still free), it puts its
/// own object (or a scalar) at `path` with the attacker's actor, so the op's `pred` is empty.
fn forged(case: &Case, scalar: bool) -> Vec<Change> {
    let mut am = case.before.fork().with_actor(actor(77));
    let heads = am.get_heads();
    let (parent, key) = case.path.rsplit_once('/').unwrap();
    let parent = at(&am, parent);
    let me = case.attacker.id.as_str();
    let mut tx = am.transaction();
    if scalar {
        tx.put(&parent, key, "vervalst").unwrap();
    } else {
        let o = tx.put_object(&parent, key, ObjType::Map).unwrap();
        tx.put(&o, "author", me).unwrap();
        tx.put(&o, "created_at", NOW).unwrap();
        for (k, v) in case.forged_fields {
            tx.put(&o, *k, *v).unwrap();
        }
        if case.kind == DocKind::Municipality && case.path.starts_with("associations/") {
            // The forged association names the attacker as its admin.
            let admins = tx.put_object(&o, "admins", ObjType::Map).unwrap();
            tx.put(&admins, me, true).unwrap();
        }
    }
    tx.commit();
    let changes = am.get_changes(&heads);
    assert_eq!(changes.len(), 1);
    changes
}

#[test]
fn nobody_replaces_someone_elses_object_by_creating_it_again() {
    let mut refused_before_fix_would_pass = Vec::new();
    for case in cases() {
        // The owner's honest create is accepted.
        let mut after = case.before.fork().with_actor(actor(40));
        let heads = after.get_heads();
        (case.create)(&mut after, &case.owner);
        let create = after.get_changes(&heads);
        assert_eq!(
            judge_both(&case.before, case.kind, &case.owner, &create, NOW + DAY),
            Ok(()),
            "{}: the owner's create",
            case.name
        );
        // So is their honest edit of it (automerge names the value it replaces in `pred`).
        if case.editable {
            let edit = raw_as(41, &after, |tx, am| {
                tx.put(at(am, case.path), "updated_at", NOW + 1).unwrap();
            });
            assert_eq!(
                judge_both(&after, case.kind, &case.owner, &edit, NOW + DAY),
                Ok(()),
                "{}: the owner's edit",
                case.name
            );
        }
        for scalar in [false, true] {
            let forgery = forged(&case, scalar);
            // In the attacker's own past the key was free: there, it is an honest create...
            let alone = judge_both(&case.before, case.kind, &case.attacker, &forgery, NOW + DAY);
            // ...but on the server the key holds the owner's object: refused.
            let verdict = judge_both(&after, case.kind, &case.attacker, &forgery, NOW + DAY);
            let what = if scalar { "scalar" } else { "object" };
            let Err(v) = verdict else {
                panic!(
                    "{}: a forged {what} replacing the owner's is refused",
                    case.name
                )
            };
            assert!(
                matches!(v.reason, ViolationReason::Denied(_)),
                "{}: {what}: {v}",
                case.name
            );
            assert_eq!(v.path, Path::parse(case.path), "{}: {what}", case.name);
            if alone.is_ok() {
                refused_before_fix_would_pass.push(format!("{} ({what})", case.name));
            } else if scalar {
                // A scalar where an object belongs is refused by its shape anyway (where the
                // permission table did not already).
                assert!(alone.is_err(), "{}: {what}: {alone:?}", case.name);
            }
            // Merged anyway, the forgery sits beside the owner's object as a conflict (and may
            // show instead of it): what the validator keeps out.
            let mut merged = after.clone();
            merged.apply_changes(forgery).unwrap();
            let (parent, key) = case.path.rsplit_once('/').unwrap();
            assert_eq!(
                merged.get_all(at(&merged, parent), key).unwrap().len(),
                2,
                "{}: {what}",
                case.name
            );
        }
    }
    // Most of these collections let anyone (or any broker, or any participant) create, so the
    // forged create is valid in the attacker's own past: only judging it against the document
    // as the server holds it refuses it. (A forged scalar is refused by its shape, `model::shape`,
    // wherever it lands.)
    assert!(
        refused_before_fix_would_pass.len() >= 12,
        "{refused_before_fix_would_pass:?}"
    );
}

#[test]
fn a_forged_association_naming_its_forger_admin_is_refused() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "association")
        .unwrap();
    let mut after = case.before.fork().with_actor(actor(40));
    (case.create)(&mut after, &case.owner);
    let forgery = forged(&case, false);
    assert!(judge_both(&after, case.kind, &bert(), &forgery, NOW + DAY).is_err());
    // Had it been stored, it would win the conflict (same counter, larger actor) and every
    // reader would see Bert as the fanfare's author and only admin.
    let mut merged = after.clone();
    merged.apply_changes(forgery).unwrap();
    let m = MunicipalityDoc::from_automerge(merged).unwrap();
    assert_eq!(
        m.association("fanfare").unwrap().admins,
        vec!["bert".to_string()]
    );
    assert!(
        m.roles_of(&uid("bert"), false)
            .admin_of
            .contains(&AssociationId::new("fanfare").unwrap())
    );
}

#[test]
fn a_concurrent_honest_edit_by_the_owner_is_still_accepted() {
    // Anna edits her post's title on her phone while her laptop's edit already reached the
    // server: her phone's op names the old title, not the laptop's, yet she may change it.
    let d = village_with_request();
    let mut laptop = d.fork(actor(20));
    let phone = d.fork(actor(21));
    laptop
        .edit_help_post(
            &anna(),
            &pid("p1"),
            &help("Laptop", HelpCategory::Shopping),
            NOW + 1,
        )
        .unwrap();
    let edit = raw_as(21, phone.automerge(), |tx, am| {
        tx.put(at(am, "help_posts/p1"), "title", "Telefoon")
            .unwrap();
    });
    assert_eq!(
        judge_both(
            laptop.automerge(),
            DocKind::Village,
            &anna(),
            &edit,
            NOW + DAY
        ),
        Ok(())
    );
    // Bert's op of the same shape is refused.
    assert!(
        judge_both(
            laptop.automerge(),
            DocKind::Village,
            &bert(),
            &edit,
            NOW + DAY
        )
        .is_err()
    );
}
