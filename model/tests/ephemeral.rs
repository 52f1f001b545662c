//! Ephemeral messages carry whatever a peer puts in them to every other reader of a document;
//! `check_presence` is the shape the server relays: a small map saying who is where.

use minicbor::Encoder;
use model::schema::limits;
use model::{EphemeralError, Presence, UserId, check_presence};

fn map(entries: &[(&str, Value)]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(entries.len() as u64).unwrap();
    for (k, v) in entries {
        e.str(k).unwrap();
        match v {
            Value::Text(s) => e.str(s).unwrap(),
            Value::Num(n) => e.u64(*n).unwrap(),
        };
    }
    e.into_writer()
}

enum Value {
    Text(String),
    Num(u64),
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn anna() -> UserId {
    UserId::new("anna").unwrap()
}

#[test]
fn a_presence_message_passes() {
    let data = map(&[
        ("user", text("anna")),
        ("path", text("initiatives/i1/plan")),
        ("cursor", Value::Num(12)),
    ]);
    assert_eq!(
        check_presence(&data, Some(&anna())),
        Ok(Presence {
            user: anna(),
            path: Some("initiatives/i1/plan".into()),
            cursor: Some(12),
        })
    );
    assert!(check_presence(&map(&[("user", text("anna"))]), None).is_ok());
}

#[test]
fn anything_else_is_not_relayed() {
    let big = map(&[("user", text("anna")), ("path", text(&"a".repeat(600)))]);
    assert!(matches!(
        check_presence(&big, None),
        Err(EphemeralError::TooLarge { .. })
    ));
    let shape =
        |data: &[u8]| matches!(check_presence(data, None), Err(EphemeralError::BadShape(_)));
    // Other keys (a chat smuggled through presence), a missing user, a bad path or cursor.
    assert!(shape(&map(&[
        ("user", text("anna")),
        ("msg", text("koop nu!"))
    ])));
    assert!(shape(&map(&[("path", text("board/b1"))])));
    assert!(shape(&map(&[
        ("user", text("anna")),
        ("path", text("<img src=x>"))
    ])));
    assert!(shape(&map(&[
        ("user", text("anna")),
        ("cursor", Value::Num(limits::BODY as u64 + 1))
    ])));
    assert!(shape(&map(&[
        ("user", text("anna")),
        ("user", text("bert"))
    ])));
    // Not a map, or trailing bytes after it.
    assert!(shape(b"\x63abc"));
    let mut trailing = map(&[("user", text("anna"))]);
    trailing.push(0);
    assert!(shape(&trailing));
    // Speaking for someone else.
    assert_eq!(
        check_presence(&map(&[("user", text("bert"))]), Some(&anna())),
        Err(EphemeralError::NotTheSender)
    );
}
