//! The permission table and the op-level change validator: allowed and forbidden edits,
//! including the ones `diff()` cannot see.

mod common;

use common::*;
use model::automerge::transaction::Transactable;
use model::automerge::{Automerge, ObjId, ObjType, ReadDoc};
use model::*;

fn check(
    doc: &VillageDoc,
    user: &User,
    changes: &[model::automerge::Change],
) -> Result<(), Violation> {
    judge_both(doc.automerge(), DocKind::Village, user, changes, NOW + DAY)
}

fn reason(r: Result<(), Violation>) -> ViolationReason {
    r.expect_err("expected a violation").reason
}

fn not_allowed(r: Result<(), Violation>) -> bool {
    matches!(
        reason(r),
        ViolationReason::Denied(DenyReason::NotAllowed { .. })
    )
}

// ---- the table, row by row ----------------------------------------------------------------

#[test]
fn permission_table_rows() {
    let mut d = village_with_request();
    d.create_initiative(
        &fanfare_admin(),
        &InitiativeId::new("i1").unwrap(),
        &InitiativeDraft {
            title: "Speeltuin".into(),
            plan: String::new(),
            lead_association: Some(AssociationId::new("fanfare").unwrap()),
        },
        NOW,
    )
    .unwrap();
    d.add_need(
        &fanfare_admin(),
        &InitiativeId::new("i1").unwrap(),
        &NeedId::new("n1").unwrap(),
        "Verf",
        NOW,
    )
    .unwrap();
    let am = d.automerge();
    use Action::*;
    let rows: &[(User, Action, &str, Option<&str>, bool)] = &[
        (carla(), Create, "help_posts/new", None, true),
        (anna(), Change, "help_posts/p1/title", None, true),
        (bert(), Change, "help_posts/p1/title", None, false),
        (broker(), Change, "help_posts/p1/title", None, false),
        (anna(), Delete, "help_posts/p1", None, true),
        (broker(), Delete, "help_posts/p1", None, true),
        (bert(), Delete, "help_posts/p1", None, false),
        (anna(), Change, "help_posts/p1/created_at", None, false),
        (anna(), Change, "help_posts/p1/author", None, false),
        (anna(), Change, "help_posts/p1/id", None, false),
        (
            anna(),
            Create,
            "help_posts/p1/accepted_response",
            None,
            true,
        ),
        (
            anna(),
            Change,
            "help_posts/p1/accepted_response",
            None,
            false,
        ),
        (bert(), Create, "help_posts/p1/done_at", None, false),
        (broker(), Create, "help_posts/p1/withdrawn_at", None, true),
        (anna(), Create, "help_posts/p1/hidden", None, false),
        (broker(), Create, "help_posts/p1/hidden", None, true),
        (anna(), Delete, "help_posts/p1/responses", None, false),
        (carla(), Create, "help_posts/p1/responses/r9", None, true),
        (
            bert(),
            Change,
            "help_posts/p1/responses/r1/message",
            None,
            true,
        ),
        (
            anna(),
            Change,
            "help_posts/p1/responses/r1/message",
            None,
            false,
        ),
        (anna(), Delete, "help_posts/p1/responses/r1", None, false),
        (bert(), Delete, "help_posts/p1/responses/r1", None, true),
        (broker(), Delete, "help_posts/p1/responses/r1", None, true),
        (anna(), Create, "initiatives/i1/needs/n2", None, false),
        (
            fanfare_admin(),
            Create,
            "initiatives/i1/needs/n2",
            None,
            true,
        ),
        (
            anna(),
            Create,
            "initiatives/i1/needs/n1/filled_by",
            Some("anna"),
            true,
        ),
        (
            anna(),
            Create,
            "initiatives/i1/needs/n1/filled_by",
            Some("bert"),
            false,
        ),
        (
            anna(),
            Create,
            "initiatives/i1/partners/fanfare",
            None,
            false,
        ),
        (
            sports_admin(),
            Create,
            "initiatives/i1/partners/vv-ulft",
            None,
            true,
        ),
        (
            sports_admin(),
            Create,
            "initiatives/i1/partners/fanfare",
            None,
            false,
        ),
        (anna(), Change, "initiatives/i1/plan", None, false),
        (fanfare_admin(), Change, "initiatives/i1/plan", None, true),
        (bert(), Create, "events/e1/signups/bert", None, true),
        (bert(), Create, "events/e1/signups/anna", None, false),
        (bert(), Create, "board/b1/reactions/bert", None, true),
        (bert(), Change, "board/b1/reactions/anna", None, false),
        (bert(), Create, "volunteers/bert", None, true),
        (bert(), Change, "volunteers/anna/categories", None, false),
        (muni_admin(), Change, "schema_version", None, false),
        (anna(), Create, "unknown/x", None, false),
    ];
    for (user, action, path, value, expected) in rows {
        let got = may(
            user,
            DocKind::Village,
            *action,
            &Path::parse(path),
            *value,
            am,
        );
        assert_eq!(
            got.is_ok(),
            *expected,
            "{} {action} {path}: {got:?}",
            user.id
        );
    }
    assert_eq!(
        may(
            &muni_admin(),
            DocKind::Village,
            Change,
            &Path::parse("schema_version"),
            None,
            am
        )
        .unwrap_err()
        .reason,
        DenyReason::OutsideSchema
    );
    assert_eq!(
        may(
            &anna(),
            DocKind::Village,
            Change,
            &Path::parse("help_posts/p1/created_at"),
            None,
            am
        )
        .unwrap_err()
        .reason,
        DenyReason::Immutable
    );
}

#[test]
fn municipality_table_rows() {
    let mut m = municipality();
    m.register_association(
        &fanfare_admin(),
        &AssociationId::new("fanfare").unwrap(),
        &AssociationDraft {
            name: "Fanfare".into(),
            category: AssociationCategory::Music,
            villages: vec![ulft()],
            description: String::new(),
            contacts: vec![],
            website: String::new(),
        },
        NOW,
    )
    .unwrap();
    let am = m.automerge();
    use Action::*;
    let rows: &[(User, Action, &str, bool)] = &[
        (fanfare_admin(), Change, "associations/fanfare/name", true),
        (sports_admin(), Change, "associations/fanfare/name", false),
        (muni_admin(), Change, "associations/fanfare/name", true),
        (bert(), Create, "associations/fanfare/admins/bert", false),
        // Role data is the server's: not even an admin or a municipality admin writes it.
        (
            fanfare_admin(),
            Create,
            "associations/fanfare/admins/bert",
            false,
        ),
        (
            muni_admin(),
            Create,
            "associations/fanfare/admins/bert",
            false,
        ),
        (
            fanfare_admin(),
            Delete,
            "associations/fanfare/admins/anna",
            false,
        ),
        (
            muni_admin(),
            Create,
            "associations/fanfare/members/bert",
            false,
        ),
        (bert(), Create, "associations/new-club", true),
        (broker(), Change, "villages/ulft/brokers/bea", false),
        (muni_admin(), Change, "villages/ulft/brokers/bea", false),
        (muni_admin(), Create, "villages/ulft/brokers/bea", false),
        (muni_admin(), Change, "villages/ulft/name", true),
        (anna(), Create, "news/n1", false),
        (broker(), Create, "news/n1", true),
        (anna(), Create, "knowledge/k1", false),
        (anna(), Create, "consultations/c1", false),
        (broker(), Create, "consultations/c1", true),
    ];
    for (user, action, path, expected) in rows {
        let got = may(
            user,
            DocKind::Municipality,
            *action,
            &Path::parse(path),
            None,
            am,
        );
        assert_eq!(
            got.is_ok(),
            *expected,
            "{} {action} {path}: {got:?}",
            user.id
        );
    }
}

#[test]
fn deepest_rule_wins() {
    let (rule, depth) = find_rule(
        DocKind::Village,
        &Path::parse("help_posts/p/responses/r/message"),
    )
    .unwrap();
    assert_eq!((rule.pattern, depth), ("help_posts/*/responses/*", 4));
    assert!(find_rule(DocKind::Village, &Path::parse("kind")).is_none());
    assert!(find_rule(DocKind::Conversation, &Path::parse("help_posts/p")).is_none());
}

// ---- the validator ------------------------------------------------------------------------

#[test]
fn an_honest_edit_passes() {
    let d = village_with_request();
    let changes = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "title", "Boodschappen (dinsdag)")
            .unwrap();
    });
    assert_eq!(check(&d, &anna(), &changes), Ok(()));
}

#[test]
fn editing_someone_elses_post_is_refused_with_its_path() {
    let d = village_with_request();
    let changes = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "title", "Gratis fietsen")
            .unwrap();
    });
    let v = check(&d, &bert(), &changes).unwrap_err();
    assert_eq!(v.path, Path::parse("help_posts/p1/title"));
    assert_eq!(v.change, changes[0].hash());
    assert_eq!(v.op, 0);
    assert!(matches!(
        v.reason,
        ViolationReason::Denied(DenyReason::NotAllowed {
            rule: "help_posts/*"
        })
    ));
}

#[test]
fn edit_then_delete_in_one_change_is_caught_though_diff_shows_only_the_delete() {
    let d = village_with_request();
    // The broker may delete a post but not edit it.
    let changes = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "title", "Kwaadaardig")
            .unwrap();
        tx.delete(obj(am, "help_posts"), "p1").unwrap();
    });
    let mut after = d.automerge().clone();
    let before = after.get_heads();
    after.apply_changes(changes.clone()).unwrap();
    let patches = after.diff(&before, &after.get_heads());
    assert_eq!(
        patches.len(),
        1,
        "the diff shows only the delete: {patches:?}"
    );
    let v = check(&d, &broker(), &changes).unwrap_err();
    assert_eq!(
        (v.op, v.path.to_string()),
        (0, "help_posts/p1/title".to_string())
    );
    // Deleting alone is fine for the broker.
    let delete_only = raw(d.automerge(), |tx, am| {
        tx.delete(obj(am, "help_posts"), "p1").unwrap()
    });
    assert_eq!(check(&d, &broker(), &delete_only), Ok(()));
}

#[test]
fn set_and_revert_is_caught_though_nothing_visible_changes() {
    let d = village_with_request();
    let changes = raw(d.automerge(), |tx, am| {
        let p = obj(am, "help_posts/p1");
        tx.put(&p, "title", "Iets anders").unwrap();
        tx.put(&p, "title", "Boodschappen").unwrap();
    });
    let mut after = d.automerge().clone();
    let before = after.get_heads();
    after.apply_changes(changes.clone()).unwrap();
    let _ = before;
    let p1 = obj(&after, "help_posts/p1");
    assert_eq!(
        after.get(&p1, "title").unwrap().unwrap().0.as_str(),
        Some("Boodschappen")
    );
    assert!(not_allowed(check(&d, &bert(), &changes)));
}

#[test]
fn a_losing_concurrent_write_is_still_judged() {
    let base = village_with_request();
    // Anna edits her title on the server; Bert, concurrently, forges an edit that loses.
    let mut server = base.fork(ActorId::from(vec![0xff; 16]));
    server
        .edit_help_post(
            &anna(),
            &pid("p1"),
            &help("Boodschappen!", HelpCategory::Shopping),
            NOW + 5,
        )
        .unwrap();
    let mut bert_doc = base
        .automerge()
        .fork()
        .with_actor(ActorId::from(vec![0x01; 16]));
    let before = bert_doc.get_heads();
    let mut tx = bert_doc.transaction();
    tx.put(obj(base.automerge(), "help_posts/p1"), "title", "Verloren")
        .unwrap();
    tx.commit();
    let changes = bert_doc.get_changes(&before);
    let mut merged = server.automerge().clone();
    merged.apply_changes(changes.clone()).unwrap();
    let p1 = obj(&merged, "help_posts/p1");
    assert_eq!(
        merged.get(&p1, "title").unwrap().unwrap().0.as_str(),
        Some("Boodschappen!")
    );
    assert!(not_allowed(judge_both(
        server.automerge(),
        DocKind::Village,
        &bert(),
        &changes,
        NOW + DAY
    )));
}

use model::automerge::ActorId;

#[test]
fn an_authors_offline_edit_of_a_post_the_broker_deleted_is_judged_by_the_old_author() {
    let base = village_with_request();
    let mut server = base.fork(actor(50));
    let del = raw(server.automerge(), |tx, am| {
        tx.delete(obj(am, "help_posts"), "p1").unwrap()
    });
    server.apply_changes(del).unwrap();
    assert!(server.help_post("p1").is_none());
    let edit = raw_as(98, base.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "description", "Nog steeds nodig")
            .unwrap();
    });
    assert_eq!(
        judge_both(
            server.automerge(),
            DocKind::Village,
            &anna(),
            &edit,
            NOW + DAY
        ),
        Ok(())
    );
    assert!(not_allowed(judge_both(
        server.automerge(),
        DocKind::Village,
        &bert(),
        &edit,
        NOW + DAY
    )));
}

#[test]
fn backdating_created_at_is_refused() {
    let d = village_with_request();
    let changes = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "created_at", NOW - 365 * DAY)
            .unwrap()
    });
    assert_eq!(
        reason(check(&d, &anna(), &changes)),
        ViolationReason::Denied(DenyReason::Immutable)
    );
}

#[test]
fn new_objects_must_carry_their_senders_name_and_a_sane_time() {
    let d = village_with_request();
    let make = |author: &str, created_at: i64, extra: Option<(&str, &str)>| {
        raw(d.automerge(), |tx, am| {
            let posts = obj(am, "help_posts");
            let p = tx.put_object(&posts, "p9", ObjType::Map).unwrap();
            tx.put(&p, "id", "p9").unwrap();
            tx.put(&p, "author", author).unwrap();
            tx.put(&p, "created_at", created_at).unwrap();
            tx.put(&p, "title", "x").unwrap();
            if let Some((k, v)) = extra {
                tx.put(&p, k, v).unwrap();
            }
        })
    };
    assert_eq!(check(&d, &bert(), &make("bert", NOW, None)), Ok(()));
    assert!(matches!(
        reason(check(&d, &bert(), &make("anna", NOW, None))),
        ViolationReason::BadValue(_)
    ));
    assert!(matches!(
        reason(check(&d, &bert(), &make("bert", NOW + 30 * DAY, None))),
        ViolationReason::BadValue(_)
    ));
    assert!(matches!(
        reason(check(
            &d,
            &bert(),
            &make("bert", NOW, Some(("accepted_response", "r1")))
        )),
        ViolationReason::BadValue(_)
    ));
    // A response in Bert's name written by Carla.
    let forged = raw(d.automerge(), |tx, am| {
        let rs = obj(am, "help_posts/p1/responses");
        let r = tx.put_object(&rs, "r7", ObjType::Map).unwrap();
        tx.put(&r, "author", "bert").unwrap();
    });
    assert!(matches!(
        reason(check(&d, &carla(), &forged)),
        ViolationReason::BadValue(_)
    ));
}

#[test]
fn deleting_another_residents_response_is_refused() {
    let d = village_with_request();
    let changes = raw(d.automerge(), |tx, am| {
        tx.delete(obj(am, "help_posts/p1/responses"), "r1").unwrap()
    });
    // Not even the post's author may delete Bert's response.
    assert!(not_allowed(check(&d, &anna(), &changes)));
    assert_eq!(check(&d, &bert(), &changes), Ok(()));
    // Nor wipe all responses by replacing the map.
    let wipe = raw(d.automerge(), |tx, am| {
        tx.put_object(obj(am, "help_posts/p1"), "responses", ObjType::Map)
            .unwrap();
    });
    assert!(not_allowed(check(&d, &anna(), &wipe)));
}

#[test]
fn status_stamps_are_write_once_and_accepted_responses_must_exist() {
    let mut d = village_with_request();
    let stamp = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "done_at", NOW).unwrap()
    });
    assert!(not_allowed(check(&d, &bert(), &stamp)));
    let ghost = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "accepted_response", "r404")
            .unwrap()
    });
    assert!(matches!(
        reason(check(&d, &anna(), &ghost)),
        ViolationReason::BadValue(_)
    ));
    d.accept_response(&anna(), &pid("p1"), &rid("r1"), NOW + 2)
        .unwrap();
    let rematch = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "help_posts/p1"), "matched_at", NOW + 3)
            .unwrap()
    });
    assert!(not_allowed(check(&d, &anna(), &rematch)));
    let unmatch = raw(d.automerge(), |tx, am| {
        tx.delete(obj(am, "help_posts/p1"), "matched_at").unwrap()
    });
    assert!(not_allowed(check(&d, &anna(), &unmatch)));
}

#[test]
fn promoting_yourself_to_admin_and_editing_a_foreign_association_are_refused() {
    let mut m = municipality();
    m.register_association(
        &fanfare_admin(),
        &AssociationId::new("fanfare").unwrap(),
        &AssociationDraft {
            name: "Fanfare".into(),
            category: AssociationCategory::Music,
            villages: vec![ulft()],
            description: String::new(),
            contacts: vec![],
            website: String::new(),
        },
        NOW,
    )
    .unwrap();
    let promote = raw(m.automerge(), |tx, am| {
        tx.put(obj(am, "associations/fanfare/admins"), "bert", true)
            .unwrap()
    });
    let v = judge_both(m.automerge(), DocKind::Municipality, &bert(), &promote, NOW).unwrap_err();
    assert_eq!(v.path.to_string(), "associations/fanfare/admins/bert");
    let edit = raw(m.automerge(), |tx, am| {
        tx.put(
            obj(am, "associations/fanfare"),
            "website",
            "https://spam.example",
        )
        .unwrap()
    });
    assert!(
        judge_both(
            m.automerge(),
            DocKind::Municipality,
            &sports_admin(),
            &edit,
            NOW
        )
        .is_err()
    );
    assert_eq!(
        judge_both(
            m.automerge(),
            DocKind::Municipality,
            &fanfare_admin(),
            &edit,
            NOW
        ),
        Ok(())
    );
    // A new association whose admins include someone else.
    let sneaky = raw(m.automerge(), |tx, am| {
        let a = tx
            .put_object(obj(am, "associations"), "club", ObjType::Map)
            .unwrap();
        tx.put(&a, "id", "club").unwrap();
        tx.put(&a, "author", "bert").unwrap();
        let admins = tx.put_object(&a, "admins", ObjType::Map).unwrap();
        tx.put(&admins, "anna", true).unwrap();
    });
    assert!(matches!(
        judge_both(m.automerge(), DocKind::Municipality, &bert(), &sneaky, NOW)
            .unwrap_err()
            .reason,
        ViolationReason::BadValue(_)
    ));
    // A new association that makes its creator a member (role data is the server's).
    let member = raw(m.automerge(), |tx, am| {
        let a = tx
            .put_object(obj(am, "associations"), "club", ObjType::Map)
            .unwrap();
        tx.put(&a, "id", "club").unwrap();
        tx.put(&a, "author", "bert").unwrap();
        let members = tx.put_object(&a, "members", ObjType::Map).unwrap();
        tx.put(&members, "bert", true).unwrap();
    });
    assert!(matches!(
        judge_both(m.automerge(), DocKind::Municipality, &bert(), &member, NOW)
            .unwrap_err()
            .reason,
        ViolationReason::BadValue("only the server grants roles")
    ));
    // Making oneself broker by writing into a village's brokers, even as municipality admin.
    let broker = raw(m.automerge(), |tx, am| {
        tx.put(obj(am, "villages/ulft/brokers"), "bert", true)
            .unwrap()
    });
    for user in [bert(), muni_admin()] {
        assert!(judge_both(m.automerge(), DocKind::Municipality, &user, &broker, NOW).is_err());
    }
    // Making yourself broker.
    let broker_me = raw(m.automerge(), |tx, am| {
        tx.put(obj(am, "villages/ulft/brokers"), "bert", true)
            .unwrap()
    });
    assert!(
        judge_both(
            m.automerge(),
            DocKind::Municipality,
            &bert(),
            &broker_me,
            NOW
        )
        .is_err()
    );
}

#[test]
fn only_the_server_takes_roles_away() {
    let fanfare = AssociationId::new("fanfare").unwrap();
    let mut server = municipality();
    server
        .register_association(
            &fanfare_admin(),
            &fanfare,
            &AssociationDraft {
                name: "Fanfare".into(),
                category: AssociationCategory::Music,
                villages: vec![ulft()],
                description: String::new(),
                contacts: vec![],
                website: String::new(),
            },
            NOW,
        )
        .unwrap();
    server.grant_broker(&ulft(), &uid("bea"), NOW).unwrap();
    server
        .grant_association_admin(&fanfare, &uid("bert"), NOW)
        .unwrap();
    server
        .grant_association_member(&fanfare, &uid("carla"), NOW)
        .unwrap();
    let judge = |user: &User, changes: &[model::automerge::Change]| {
        judge_both(
            server.automerge(),
            DocKind::Municipality,
            user,
            changes,
            NOW,
        )
    };
    let refused_at = |r: Result<(), Violation>, path: &str| {
        let v = r.expect_err("a client's revocation is refused");
        assert_eq!(v.path.to_string(), path);
        assert!(
            matches!(
                v.reason,
                ViolationReason::Denied(DenyReason::NotAllowed { .. })
            ),
            "{v}"
        );
    };
    let carla_member = {
        let mut u = carla();
        u.roles.member_of.insert(fanfare.clone());
        u
    };
    // Each revocation made with the model's own operation on a client's copy, by whoever
    // would be allowed to ask the server for it: the association's admin, the municipality
    // admin, the member leaving.
    type Revoke<'a> = Box<dyn Fn(&mut MunicipalityDoc) + 'a>;
    let attempts: [(User, &str, Revoke); 4] = [
        (
            fanfare_admin(),
            "associations/fanfare/admins/bert",
            Box::new(|m| {
                m.revoke_association_admin(&fanfare, &uid("bert"), NOW)
                    .unwrap();
            }),
        ),
        (
            muni_admin(),
            "associations/fanfare/members/carla",
            Box::new(|m| {
                m.revoke_association_member(&fanfare, &uid("carla"), NOW)
                    .unwrap();
            }),
        ),
        (
            carla_member,
            "associations/fanfare/members/carla",
            Box::new(|m| {
                m.revoke_association_member(&fanfare, &uid("carla"), NOW)
                    .unwrap();
            }),
        ),
        (
            muni_admin(),
            "villages/ulft/brokers/bea",
            Box::new(|m| {
                m.revoke_broker(&ulft(), &uid("bea"), NOW).unwrap();
            }),
        ),
    ];
    for (user, path, revoke) in &attempts {
        let mut phone = server.fork(actor(80));
        let heads = phone.heads();
        revoke(&mut phone);
        let changes = phone.changes_since(&heads);
        assert_eq!(changes.len(), 1);
        refused_at(judge(user, &changes), path);
    }
    // Nor may a client drop a whole role list.
    let wipe = raw(server.automerge(), |tx, am| {
        tx.delete(obj(am, "associations/fanfare"), "admins")
            .unwrap()
    });
    refused_at(
        judge(&fanfare_admin(), &wipe),
        "associations/fanfare/admins",
    );

    // The server's own revocation is what the app reads.
    assert!(
        server
            .roles_of(&uid("bert"), false)
            .admin_of
            .contains(&fanfare)
    );
    server
        .revoke_association_admin(&fanfare, &uid("bert"), NOW + 1)
        .unwrap();
    server.revoke_broker(&ulft(), &uid("bea"), NOW + 1).unwrap();
    assert!(server.roles_of(&uid("bert"), false).admin_of.is_empty());
    assert!(server.roles_of(&uid("bea"), false).broker_of.is_empty());
    assert!(
        server
            .roles_of(&uid("carla"), false)
            .member_of
            .contains(&fanfare)
    );
    assert!(
        server
            .roles_of(&uid("arie"), false)
            .admin_of
            .contains(&fanfare)
    );
}

#[test]
fn a_broker_cannot_open_a_consultation_for_another_village() {
    let m = municipality();
    let mut other = resident("otto");
    other
        .roles
        .broker_of
        .insert(VillageId::new("varsseveld").unwrap());
    let c = raw(m.automerge(), |tx, am| {
        let c = tx
            .put_object(obj(am, "consultations"), "c1", ObjType::Map)
            .unwrap();
        tx.put(&c, "id", "c1").unwrap();
        tx.put(&c, "author", "otto").unwrap();
        tx.put(&c, "village", "ulft").unwrap();
    });
    assert!(matches!(
        judge_both(m.automerge(), DocKind::Municipality, &other, &c, NOW)
            .unwrap_err()
            .reason,
        ViolationReason::BadValue(_)
    ));
    assert_eq!(
        judge_both(m.automerge(), DocKind::Municipality, &broker(), &c, NOW).map_err(|v| v.reason),
        Err(ViolationReason::BadValue("the author must be the sender"))
    );
}

#[test]
fn filling_a_need_for_someone_else_or_twice_is_refused() {
    let mut d = village();
    let i = InitiativeId::new("i1").unwrap();
    d.create_initiative(
        &anna(),
        &i,
        &InitiativeDraft {
            title: "x".into(),
            plan: "plan".into(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    d.add_need(&anna(), &i, &NeedId::new("n1").unwrap(), "Verf", NOW)
        .unwrap();
    let for_carla = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "initiatives/i1/needs/n1"), "filled_by", "carla")
            .unwrap()
    });
    assert!(not_allowed(check(&d, &bert(), &for_carla)));
    d.fill_need(&carla(), &i, &NeedId::new("n1").unwrap(), NOW)
        .unwrap();
    let overwrite = raw(d.automerge(), |tx, am| {
        tx.put(obj(am, "initiatives/i1/needs/n1"), "filled_by", "bert")
            .unwrap()
    });
    assert!(not_allowed(check(&d, &bert(), &overwrite)));
    // Text edits of the plan are ops on a text object: judged at the plan's path.
    let scribble = raw(d.automerge(), |tx, am| {
        tx.splice_text(obj(am, "initiatives/i1/plan"), 0, 0, "XX")
            .unwrap()
    });
    let v = check(&d, &bert(), &scribble).unwrap_err();
    assert_eq!(v.path.to_string(), "initiatives/i1/plan");
    assert_eq!(check(&d, &anna(), &scribble), Ok(()));
}

#[test]
fn root_keys_are_outside_every_rule() {
    let d = village();
    let bump = raw(d.automerge(), |tx, _| {
        tx.put(ObjId::Root, "schema_version", 99_u64).unwrap()
    });
    assert_eq!(
        reason(check(&d, &muni_admin(), &bump)),
        ViolationReason::Denied(DenyReason::OutsideSchema)
    );
}

#[test]
fn a_batch_is_judged_in_order_and_the_bad_change_is_named() {
    let d = village_with_request();
    let mut am = d.automerge().fork().with_actor(actor(77));
    let before = am.get_heads();
    let mut tx = am.transaction();
    tx.put(
        obj(d.automerge(), "help_posts/p1/responses/r1"),
        "message",
        "Ik kan dinsdag",
    )
    .unwrap();
    tx.commit();
    let mut tx = am.transaction();
    tx.put(obj(d.automerge(), "help_posts/p1"), "title", "Gekaapt")
        .unwrap();
    tx.commit();
    let changes = am.get_changes(&before);
    assert_eq!(changes.len(), 2);
    let v = check(&d, &bert(), &changes).unwrap_err();
    assert_eq!(v.change, changes[1].hash());
    assert_eq!(check(&d, &bert(), &changes[..1]), Ok(()));
    // Changes already in the document are skipped; a change whose dependency is missing is not.
    assert_eq!(check(&d, &bert(), &d.changes_since(&[])), Ok(()));
    assert_eq!(
        reason(check(&d, &bert(), &changes[1..])),
        ViolationReason::MissingDependencies
    );
}

#[test]
fn conversation_messages_need_a_participant() {
    let c = ConversationDoc::new(&anna(), &[uid("bert")], actor(3), NOW);
    let msg = |author: &str| {
        raw(c.automerge(), |tx, am| {
            let m = tx
                .put_object(obj(am, "messages"), "m1", ObjType::Map)
                .unwrap();
            tx.put(&m, "id", "m1").unwrap();
            tx.put(&m, "author", author).unwrap();
            tx.put(&m, "created_at", NOW).unwrap();
            tx.put(&m, "body", "hoi").unwrap();
        })
    };
    assert_eq!(
        judge_both(
            c.automerge(),
            DocKind::Conversation,
            &bert(),
            &msg("bert"),
            NOW
        ),
        Ok(())
    );
    assert!(
        judge_both(
            c.automerge(),
            DocKind::Conversation,
            &carla(),
            &msg("carla"),
            NOW
        )
        .is_err()
    );
    let join = raw(c.automerge(), |tx, am| {
        tx.put_object(obj(am, "participants"), "carla", ObjType::Map)
            .unwrap();
    });
    assert!(judge_both(c.automerge(), DocKind::Conversation, &carla(), &join, NOW).is_err());
}

#[allow(dead_code)]
fn unused(_: &Automerge) {}

#[test]
fn nobody_is_signed_up_or_made_partner_by_someone_else_at_creation() {
    let d = village();
    let event = |signup: &str| {
        raw(d.automerge(), |tx, am| {
            let e = tx
                .put_object(obj(am, "events"), "e1", ObjType::Map)
                .unwrap();
            tx.put(&e, "author", "anna").unwrap();
            tx.put(&e, "created_at", NOW).unwrap();
            let s = tx.put_object(&e, "signups", ObjType::Map).unwrap();
            tx.put_object(&s, signup, ObjType::Map).unwrap();
        })
    };
    assert_eq!(check(&d, &anna(), &event("anna")), Ok(()));
    assert!(matches!(
        reason(check(&d, &anna(), &event("bert"))),
        ViolationReason::BadValue(_)
    ));
    let initiative = raw(d.automerge(), |tx, am| {
        let i = tx
            .put_object(obj(am, "initiatives"), "i1", ObjType::Map)
            .unwrap();
        tx.put(&i, "author", "anna").unwrap();
        let p = tx.put_object(&i, "partners", ObjType::Map).unwrap();
        tx.put_object(&p, "vv-ulft", ObjType::Map).unwrap();
    });
    assert!(matches!(
        reason(check(&d, &anna(), &initiative)),
        ViolationReason::BadValue(_)
    ));
}

/// A tidy check of the table itself: every condition refers to a segment or object that the
/// pattern has, and self-keyed rules end in a wildcard.
#[test]
fn the_rules_are_well_formed() {
    for r in RULES {
        let segs: Vec<&str> = r.pattern.split('/').collect();
        assert!(segs.iter().all(|s| !s.is_empty()), "{}", r.pattern);
        for who in r.create.iter().chain(r.change).chain(r.delete) {
            let ok = match *who {
                Who::Author(d)
                | Who::PartnerAdmin(d)
                | Who::FieldIsSelf(d, _)
                | Who::BrokerOfField(d, _)
                | Who::AdminOfField(d, _) => d >= 1 && d <= segs.len() && segs[d - 1] == "*",
                Who::AdminOfKey(n) => n >= 1 && n <= segs.len() && segs[n - 1] == "*",
                Who::KeyIsSelf => segs.last() == Some(&"*"),
                Who::SelfWhenEmpty => true,
                Who::Anyone
                | Who::Broker
                | Who::AnyBroker
                | Who::MunicipalityAdmin
                | Who::Participant
                | Who::Owner => true,
            };
            assert!(
                ok,
                "rule {} has a condition {who:?} that does not fit its pattern",
                r.pattern
            );
        }
        // Every pattern starts at a root collection of its document kind.
        assert!(
            r.kind.root_maps().contains(&segs[0]),
            "{} is not under a root map",
            r.pattern
        );
    }
}

#[test]
fn a_fill_arriving_after_another_is_refused_and_the_first_filler_stays() {
    let mut base = village();
    let i = InitiativeId::new("i1").unwrap();
    let n = NeedId::new("n1").unwrap();
    base.create_initiative(
        &anna(),
        &i,
        &InitiativeDraft {
            title: "x".into(),
            plan: String::new(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    base.add_need(&anna(), &i, &n, "Verf", NOW).unwrap();
    let mut server = base.fork(actor(60));
    let mut phone = base.fork(actor(61));
    let mut bert_phone = base.fork(actor(62));
    let heads = phone.heads();
    server.fill_need(&bert(), &i, &n, NOW + 1).unwrap();
    phone.fill_need(&carla(), &i, &n, NOW + 1).unwrap();
    bert_phone.fill_need(&bert(), &i, &n, NOW + 2).unwrap();
    // Carla saw no filler when she filled it, but only the first write of a key is a create:
    // on the server Bert filled it first, and her write would replace him (it may win the
    // merge), so it is refused...
    let carla_fill = phone.changes_since(&heads);
    assert!(not_allowed(judge_both(
        server.automerge(),
        DocKind::Village,
        &carla(),
        &carla_fill,
        NOW + DAY
    )));
    // ...while Bert filling it again from his other device replaces nothing and is accepted.
    let bert_again = bert_phone.changes_since(&heads);
    assert_eq!(
        judge_both(
            server.automerge(),
            DocKind::Village,
            &bert(),
            &bert_again,
            NOW + DAY
        ),
        Ok(())
    );
    server.apply_changes(bert_again).unwrap();
    assert_eq!(
        server.initiative("i1").unwrap().needs[0]
            .filled_by
            .as_deref(),
        Some("bert")
    );
}

#[test]
fn roles_come_from_the_municipality_document() {
    let mut m = municipality();
    m.grant_broker(&ulft(), &uid("bea"), NOW).unwrap();
    let bea = User {
        id: uid("bea"),
        roles: m.roles_of(&uid("bea"), false),
    };
    let d = village_with_request();
    let mut phone = d.fork(actor(71));
    let heads = phone.heads();
    phone
        .hide_for_moderation(
            &bea,
            &ModerationTarget::HelpPost(pid("p1")),
            true,
            "spam",
            NOW,
        )
        .unwrap();
    let hide = phone.changes_since(&heads);
    assert_eq!(check(&d, &bea, &hide), Ok(()));
    let plain_bea = User {
        id: uid("bea"),
        roles: municipality().roles_of(&uid("bea"), false),
    };
    assert!(not_allowed(check(&d, &plain_bea, &hide)));
}

#[test]
fn a_batch_may_edit_what_its_earlier_changes_made() {
    let d = village();
    let mut phone = d.fork(actor(70));
    let heads = phone.heads();
    phone
        .post_help_request(
            &anna(),
            &pid("p1"),
            &help("Tuin", HelpCategory::Garden),
            NOW,
        )
        .unwrap();
    phone
        .edit_help_post(
            &anna(),
            &pid("p1"),
            &help("Tuin en heg", HelpCategory::Garden),
            NOW + 1,
        )
        .unwrap();
    let batch = phone.changes_since(&heads);
    assert_eq!(batch.len(), 2);
    assert_eq!(check(&d, &anna(), &batch), Ok(()));
    let v = check(&d, &bert(), &batch).unwrap_err();
    assert_eq!(v.change, batch[0].hash());
}

// ---- moderation: the audit trail ------------------------------------------------------------

/// A broker's change hiding `help_posts/p1`, made by hand: `hidden` plus, if `entry` is given,
/// a log entry `(action, reason)` under `moderation/<key>`.
fn hide_raw(d: &VillageDoc, entry: Option<(&str, &str)>) -> Vec<model::automerge::Change> {
    raw(d.automerge(), |tx, am| {
        let post = obj(am, "help_posts/p1");
        tx.put(&post, "hidden", true).unwrap();
        if let Some((action, reason)) = entry {
            let log = tx.put_object(&post, "moderation", ObjType::Map).unwrap();
            let e = tx.put_object(&log, "k1", ObjType::Map).unwrap();
            tx.put(&e, "author", "bea").unwrap();
            tx.put(&e, "created_at", NOW).unwrap();
            tx.put(&e, "action", action).unwrap();
            tx.put(&e, "reason", reason).unwrap();
        }
    })
}

#[test]
fn hiding_without_a_logged_reason_is_refused() {
    let d = village_with_request();
    assert_eq!(
        reason(check(&d, &broker(), &hide_raw(&d, None))),
        ViolationReason::BadValue("hiding or showing is logged in the same change, with a reason")
    );
    assert!(matches!(
        reason(check(&d, &broker(), &hide_raw(&d, Some(("hide", "  "))))),
        ViolationReason::BadValue("a moderation entry gives a reason")
    ));
    assert!(matches!(
        reason(check(&d, &broker(), &hide_raw(&d, Some(("erase", "spam"))))),
        ViolationReason::BadValue("a moderation entry hides or shows")
    ));
    // A log saying "show" does not cover a write that hides.
    assert!(matches!(
        reason(check(&d, &broker(), &hide_raw(&d, Some(("show", "spam"))))),
        ViolationReason::BadValue(_)
    ));
    // The entry names its author: a broker cannot log in someone else's name.
    let mut not_bea = broker();
    not_bea.id = uid("bob");
    assert!(matches!(
        reason(check(&d, &not_bea, &hide_raw(&d, Some(("hide", "spam"))))),
        ViolationReason::BadValue("the author must be the sender")
    ));
}

#[test]
fn the_moderation_log_is_append_only_and_for_the_broker() {
    let mut d = village_with_request();
    let t = ModerationTarget::HelpPost(pid("p1"));
    d.hide_for_moderation(&broker(), &t, true, "Reclame", NOW + 1)
        .unwrap();
    d.hide_for_moderation(&broker(), &t, false, "Toch in orde", NOW + 2)
        .unwrap();
    let log = d.moderation_log(&t);
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[0].by.as_str(),
            log[0].at,
            log[0].hidden,
            log[0].reason.as_str()
        ),
        (broker().id.as_str(), NOW + 1, true, "Reclame")
    );
    assert_eq!(
        (log[1].hidden, log[1].reason.as_str()),
        (false, "Toch in orde")
    );
    assert!(!d.help_post("p1").unwrap().hidden);
    // Nobody rewrites or removes the record, not even the broker.
    let rewrite = raw(d.automerge(), |tx, am| {
        let log = obj(am, "help_posts/p1/moderation");
        let first = am.keys(&log).next().unwrap();
        let e = am.get(&log, &first).unwrap().unwrap().1;
        tx.put(&e, "reason", "niets aan de hand").unwrap();
    });
    assert!(not_allowed(check(&d, &broker(), &rewrite)));
    let erase = raw(d.automerge(), |tx, am| {
        let log = obj(am, "help_posts/p1/moderation");
        let first = am.keys(&log).next().unwrap();
        tx.delete(&log, &first).unwrap();
    });
    assert!(not_allowed(check(&d, &broker(), &erase)));
    // A resident can neither hide nor write a log entry.
    assert!(matches!(
        d.hide_for_moderation(&anna(), &t, true, "weg", NOW + 3),
        Err(OpError::Denied(_))
    ));
    let forged = raw(d.automerge(), |tx, am| {
        let log = obj(am, "help_posts/p1/moderation");
        let e = tx.put_object(&log, "k9", ObjType::Map).unwrap();
        tx.put(&e, "author", "anna").unwrap();
        tx.put(&e, "created_at", NOW).unwrap();
        tx.put(&e, "action", "show").unwrap();
        tx.put(&e, "reason", "mag weer").unwrap();
    });
    assert!(not_allowed(check(&d, &anna(), &forged)));
    // A reason is required by the operation too.
    assert!(matches!(
        d.hide_for_moderation(&broker(), &t, true, " ", NOW + 4),
        Err(OpError::EmptyText { field: "reason" })
    ));
}

#[test]
fn an_author_cannot_later_make_their_object_speak_for_an_association() {
    let mut d = village();
    d.create_initiative(
        &anna(),
        &InitiativeId::new("i1").unwrap(),
        &InitiativeDraft {
            title: "Speeltuin".into(),
            plan: String::new(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    let lead = |a: &str| {
        let a = a.to_owned();
        raw(d.automerge(), move |tx, am| {
            tx.put(obj(am, "initiatives/i1"), "lead_association", a.as_str())
                .unwrap();
        })
    };
    // Anna may edit her initiative, but naming the fanfare its lead (which would hand its
    // admins her initiative, and show it as theirs) takes an admin of the fanfare.
    assert_eq!(
        reason(check(&d, &anna(), &lead("fanfare"))),
        ViolationReason::BadValue("only an admin of an association may act on its behalf")
    );
    assert_eq!(check(&d, &anna(), &lead("")), Ok(()));
}
