//! The municipality seed: the file a deployment starts from ([`MunicipalitySeed`]: villages,
//! neighbours, brokers, knowledge pages, running consultations), its checks, and the
//! [`MunicipalityDoc`] made from it, with the brokers' public contact details.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId, ObjType, ReadDoc};
use serde::Deserialize;

use crate::doc::{MunicipalityDoc, new_object};
use crate::error::check_text;
use crate::ids::{ConsultationId, KnowledgeId, UserId};
use crate::migration::migrate;
use crate::read::{get_obj, get_str};
use crate::schema::{DocKind, limits};

/// A municipality as its seed file describes it: the data a deployment starts from, so another
/// municipality is another file, not other code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalitySeed {
    /// Stable slug, e.g. `oude-ijsselstreek`.
    pub id: String,
    /// Display name, e.g. `Oude IJsselstreek`.
    pub name: String,
    /// The villages (`[[village]]` tables in the seed file).
    #[serde(rename = "village")]
    pub villages: Vec<VillageSeed>,
    /// Knowledge pages the deployment ships (`[[knowledge]]`, optional).
    #[serde(default, rename = "knowledge")]
    pub knowledge: Vec<KnowledgeSeed>,
    /// The area brokers' public contact details (`[[broker]]`, optional).
    #[serde(default, rename = "broker")]
    pub brokers: Vec<BrokerSeed>,
    /// Consultations already under way when the deployment starts (`[[consultation]]`,
    /// optional).
    #[serde(default, rename = "consultation")]
    pub consultations: Vec<ConsultationSeed>,
}

/// A knowledge page (kennisbank) written by the municipality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeSeed {
    /// Stable slug, e.g. `initiatief-starten`.
    pub id: String,
    /// Title (at most a title's length).
    pub title: String,
    /// Text; paragraphs separated by an empty line.
    pub body: String,
    /// The village it is about, if one.
    #[serde(default)]
    pub village: Option<String>,
}

/// An area broker (gebiedsmakelaar) and how residents reach them. Only public, work contact
/// details belong here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerSeed {
    /// Name as residents know them.
    pub name: String,
    /// The villages they work for (at least one).
    pub villages: Vec<String>,
    /// Their user id in the app, if they have one: makes them broker of those villages.
    #[serde(default)]
    pub user: Option<String>,
    /// Work e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Work phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// When or where to find them, e.g. a walk-in hour.
    #[serde(default)]
    pub note: Option<String>,
}

/// A consultation (meedenken) the municipality already runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationSeed {
    /// Stable slug.
    pub id: String,
    /// The village asked.
    pub village: String,
    /// The question.
    pub question: String,
    /// Background.
    #[serde(default)]
    pub explanation: String,
    /// The last day responses are taken, `YYYY-MM-DD` (it closes at the end of that day, UTC).
    pub closes_on: String,
    /// What the municipality did with the responses, once it closed.
    #[serde(default)]
    pub outcome: Option<String>,
}

impl ConsultationSeed {
    /// When it closes (ms since the Unix epoch), or `None` if `closes_on` is not a date.
    pub fn closes_at(&self) -> Option<i64> {
        end_of_day(&self.closes_on)
    }
}

/// The end of the UTC day `date` (`YYYY-MM-DD`) names, in ms since the Unix epoch: when a
/// consultation that is open "until and including" that day closes. `None` if it is no date.
pub fn end_of_day(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days + 1) * 86_400_000)
}

/// One village (kern) of the municipality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VillageSeed {
    /// Stable slug, e.g. `ulft`.
    pub id: String,
    /// Display name, e.g. `Ulft`.
    pub name: String,
    /// Slugs of the villages next to this one; help matching looks there after the village itself.
    #[serde(default)]
    pub neighbours: Vec<String>,
}

/// Why a seed cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    /// The seed lists no village.
    NoVillages,
    /// Two villages share this id.
    DuplicateVillage(String),
    /// A village names a neighbour that is not in the seed.
    UnknownNeighbour {
        /// The village.
        village: String,
        /// The unknown neighbour it names.
        neighbour: String,
    },
    /// A knowledge page, broker or consultation names a village that is not in the seed.
    UnknownVillage {
        /// What names it (`knowledge`, `broker`, `consultation`).
        what: &'static str,
        /// The unknown village.
        village: String,
    },
    /// An id is not a valid slug, or appears twice.
    BadId {
        /// Whose id.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// A required text is empty or too long.
    BadText {
        /// Which field.
        field: &'static str,
        /// The object it belongs to.
        id: String,
    },
    /// A broker works for no village.
    BrokerWithoutVillage(String),
    /// `closes_on` is not a `YYYY-MM-DD` date.
    BadDate(String),
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::NoVillages => f.write_str("the municipality has no villages"),
            SeedError::DuplicateVillage(id) => write!(f, "village `{id}` appears twice"),
            SeedError::UnknownNeighbour { village, neighbour } => {
                write!(
                    f,
                    "village `{village}` names unknown neighbour `{neighbour}`"
                )
            }
            SeedError::UnknownVillage { what, village } => {
                write!(f, "a {what} names unknown village `{village}`")
            }
            SeedError::BadId { what, id } => write!(f, "{what} id `{id}` is invalid or repeated"),
            SeedError::BadText { field, id } => {
                write!(f, "`{field}` of `{id}` is empty or too long")
            }
            SeedError::BrokerWithoutVillage(name) => {
                write!(f, "broker `{name}` works for no village")
            }
            SeedError::BadDate(date) => write!(f, "`{date}` is not a YYYY-MM-DD date"),
        }
    }
}

impl std::error::Error for SeedError {}

impl MunicipalitySeed {
    /// Checks what the type system cannot: at least one village, unique ids, and neighbours
    /// that exist.
    pub fn validate(&self) -> Result<(), SeedError> {
        if self.villages.is_empty() {
            return Err(SeedError::NoVillages);
        }
        let mut seen = std::collections::BTreeSet::new();
        for v in &self.villages {
            if !seen.insert(v.id.as_str()) {
                return Err(SeedError::DuplicateVillage(v.id.clone()));
            }
        }
        for v in &self.villages {
            if let Some(n) = v.neighbours.iter().find(|n| !seen.contains(n.as_str())) {
                return Err(SeedError::UnknownNeighbour {
                    village: v.id.clone(),
                    neighbour: n.clone(),
                });
            }
        }
        let village = |what: &'static str, v: &str| {
            if seen.contains(v) {
                Ok(())
            } else {
                Err(SeedError::UnknownVillage {
                    what,
                    village: v.to_owned(),
                })
            }
        };
        let text = |field: &'static str, id: &str, value: &str, max: usize, required: bool| {
            check_text(field, value, max, required).map_err(|_| SeedError::BadText {
                field,
                id: id.to_owned(),
            })
        };
        let mut ids = std::collections::BTreeSet::new();
        for k in &self.knowledge {
            if KnowledgeId::new(k.id.clone()).is_err() || !ids.insert(k.id.as_str()) {
                return Err(SeedError::BadId {
                    what: "knowledge",
                    id: k.id.clone(),
                });
            }
            text("title", &k.id, &k.title, limits::TITLE, true)?;
            text("body", &k.id, &k.body, limits::BODY, true)?;
            if let Some(v) = &k.village {
                village("knowledge", v)?;
            }
        }
        for b in &self.brokers {
            text("name", &b.name, &b.name, limits::TITLE, true)?;
            for (field, value) in [("email", &b.email), ("phone", &b.phone), ("note", &b.note)] {
                if let Some(value) = value {
                    text(field, &b.name, value, limits::LINE, true)?;
                }
            }
            if b.villages.is_empty() {
                return Err(SeedError::BrokerWithoutVillage(b.name.clone()));
            }
            for v in &b.villages {
                village("broker", v)?;
            }
            if let Some(user) = &b.user
                && UserId::new(user.clone()).is_err()
            {
                return Err(SeedError::BadId {
                    what: "broker user",
                    id: user.clone(),
                });
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.consultations {
            if ConsultationId::new(c.id.clone()).is_err() || !ids.insert(c.id.as_str()) {
                return Err(SeedError::BadId {
                    what: "consultation",
                    id: c.id.clone(),
                });
            }
            village("consultation", &c.village)?;
            text("question", &c.id, &c.question, limits::QUESTION, true)?;
            text("explanation", &c.id, &c.explanation, limits::BODY, false)?;
            if let Some(outcome) = &c.outcome {
                text("outcome", &c.id, outcome, limits::BODY, true)?;
            }
            if c.closes_at().is_none() {
                return Err(SeedError::BadDate(c.closes_on.clone()));
            }
        }
        Ok(())
    }
}

/// An area broker's public contact details, as the knowledge base shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerContactView {
    /// Name.
    pub name: String,
    /// Work e-mail address (empty if none).
    pub email: String,
    /// Work phone number (empty if none).
    pub phone: String,
    /// When or where to find them (empty if none).
    pub note: String,
}

impl MunicipalityDoc {
    /// A new municipality document from its seed (created once, by the server).
    pub fn new(seed: &MunicipalitySeed, actor: ActorId, now: i64) -> MunicipalityDoc {
        let mut am = Automerge::new().with_actor(actor);
        migrate(&mut am, DocKind::Municipality, now).expect("a new document migrates");
        let mut doc = MunicipalityDoc { am };
        doc.write(now, |tx| {
            tx.put(ObjId::Root, "municipality_id", seed.id.as_str())?;
            tx.put(ObjId::Root, "name", seed.name.as_str())?;
            let villages = get_obj(tx, &ObjId::Root, "villages").expect("migrated");
            for v in &seed.villages {
                let obj = tx.put_object(&villages, v.id.as_str(), ObjType::Map)?;
                tx.put(&obj, "id", v.id.as_str())?;
                tx.put(&obj, "name", v.name.as_str())?;
                tx.put(&obj, "created_at", now)?;
                let n = tx.put_object(&obj, "neighbours", ObjType::Map)?;
                for nb in &v.neighbours {
                    tx.put(&n, nb.as_str(), true)?;
                }
                let brokers = tx.put_object(&obj, "brokers", ObjType::Map)?;
                let contacts = tx.put_object(&obj, "broker_contacts", ObjType::Map)?;
                for (n, b) in seed.brokers.iter().enumerate() {
                    if !b.villages.contains(&v.id) {
                        continue;
                    }
                    if let Some(user) = &b.user {
                        tx.put(&brokers, user.as_str(), true)?;
                    }
                    let c = tx.put_object(&contacts, format!("{n:04}").as_str(), ObjType::Map)?;
                    tx.put(&c, "name", b.name.trim())?;
                    for (key, value) in
                        [("email", &b.email), ("phone", &b.phone), ("note", &b.note)]
                    {
                        tx.put(&c, key, value.as_deref().unwrap_or_default().trim())?;
                    }
                }
            }
            // What the municipality already has: its knowledge pages and running consultations.
            let author = seed.id.as_str();
            let knowledge = get_obj(tx, &ObjId::Root, "knowledge").expect("migrated");
            for k in &seed.knowledge {
                let o = new_object(tx, &knowledge, k.id.as_str(), author, now)?;
                tx.put(&o, "title", k.title.trim())?;
                tx.put(&o, "body", k.body.trim())?;
                tx.put(&o, "village", k.village.as_deref().unwrap_or_default())?;
            }
            let consultations = get_obj(tx, &ObjId::Root, "consultations").expect("migrated");
            for c in &seed.consultations {
                let o = new_object(tx, &consultations, c.id.as_str(), author, now)?;
                tx.put(&o, "village", c.village.as_str())?;
                tx.put(&o, "question", c.question.trim())?;
                tx.put(&o, "explanation", c.explanation.trim())?;
                tx.put(&o, "closes_at", c.closes_at().unwrap_or(now))?;
                tx.put_object(&o, "responses", ObjType::Map)?;
                if let Some(outcome) = &c.outcome {
                    let out = tx.put_object(&o, "outcome", ObjType::Map)?;
                    tx.put(&out, "author", author)?;
                    tx.put(&out, "created_at", now)?;
                    tx.put(&out, "body", outcome.trim())?;
                }
            }
            Ok(())
        })
        .expect("writing the root of a new document");
        doc
    }

    /// The public contact details of `village`'s brokers, in seed order.
    pub fn broker_contacts(&self, village: &str) -> Vec<BrokerContactView> {
        let d = &self.am;
        let Some(list) = get_obj(d, &ObjId::Root, "villages")
            .and_then(|vs| get_obj(d, &vs, village))
            .and_then(|v| get_obj(d, &v, "broker_contacts"))
        else {
            return Vec::new();
        };
        // Keys are zero-padded seed positions, so the map's order is the seed's.
        d.map_range(&list, ..)
            .map(|it| {
                let o = it.id();
                let field = |k: &str| get_str(d, &o, k).unwrap_or_default();
                BrokerContactView {
                    name: field("name"),
                    email: field("email"),
                    phone: field("phone"),
                    note: field("note"),
                }
            })
            .collect()
    }
}
