//! Views of the municipality document: villages, the association directory, consultations with
//! their responses, news and knowledge pages.

use automerge::{Automerge, ObjId, ReadDoc};

use super::shared::{consultation_status, each, opt, sorted_keys};
use crate::doc::MunicipalityDoc;
use crate::read::{get_i64, get_obj, get_str};
use crate::schema::{AssociationCategory, ConsultationStatus};

/// An association's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationView {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: AssociationCategory,
    /// Villages it is active in, sorted.
    pub villages: Vec<String>,
    /// Description.
    pub description: String,
    /// Public contact channels: (channel, value), sorted.
    pub contacts: Vec<(String, String)>,
    /// Website.
    pub website: String,
    /// Admins, sorted.
    pub admins: Vec<String>,
}

/// A village as the municipality document knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageView {
    /// Slug.
    pub id: String,
    /// Name.
    pub name: String,
    /// Neighbouring villages, sorted.
    pub neighbours: Vec<String>,
    /// Area brokers, sorted.
    pub brokers: Vec<String>,
}

/// A consultation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationView {
    /// Its id.
    pub id: String,
    /// The village asked.
    pub village: String,
    /// The question.
    pub question: String,
    /// Background.
    pub explanation: String,
    /// When it closes.
    pub closes_at: i64,
    /// Derived status at the `now` given.
    pub status: ConsultationStatus,
    /// Responses, oldest first.
    pub responses: Vec<ConsultationResponseView>,
    /// The municipality's published outcome.
    pub outcome: Option<String>,
}

/// A response to a consultation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationResponseView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// The association it speaks for, if any.
    pub on_behalf_of: Option<String>,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

/// A news item or knowledge page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The village it is about, if one.
    pub village: Option<String>,
}

impl MunicipalityDoc {
    /// The villages, sorted by id.
    pub fn villages(&self) -> Vec<VillageView> {
        let d = &self.am;
        each(d, "villages", |key, o| {
            Some(VillageView {
                id: key.to_owned(),
                name: get_str(d, o, "name").unwrap_or_default(),
                neighbours: sorted_keys(d, o, "neighbours"),
                brokers: sorted_keys(d, o, "brokers"),
            })
        })
    }

    /// An association's page.
    pub fn association(&self, id: &str) -> Option<AssociationView> {
        let coll = get_obj(&self.am, &ObjId::Root, "associations")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_association(&self.am, id, &obj)
    }

    /// The association directory, sorted by name then id.
    pub fn associations(&self) -> Vec<AssociationView> {
        let mut v = each(&self.am, "associations", |key, o| {
            hydrate_association(&self.am, key, o)
        });
        v.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// One consultation, its status judged at `now`.
    pub fn consultation(&self, id: &str, now: i64) -> Option<ConsultationView> {
        let coll = get_obj(&self.am, &ObjId::Root, "consultations")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_consultation(&self.am, id, &obj, now)
    }

    /// Consultations of one village, closing soonest first.
    pub fn consultations_for(&self, village: &str, now: i64) -> Vec<ConsultationView> {
        let mut v: Vec<_> = each(&self.am, "consultations", |key, o| {
            hydrate_consultation(&self.am, key, o, now)
        })
        .into_iter()
        .filter(|c| c.village == village)
        .collect();
        v.sort_by(|a, b| a.closes_at.cmp(&b.closes_at).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// News, newest first.
    pub fn news(&self) -> Vec<ArticleView> {
        self.articles("news")
    }

    /// Knowledge pages, by title.
    pub fn knowledge(&self) -> Vec<ArticleView> {
        let mut v = self.articles("knowledge");
        v.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.id.cmp(&b.id)));
        v
    }

    fn articles(&self, root: &str) -> Vec<ArticleView> {
        let d = &self.am;
        let mut v = each(d, root, |key, o| {
            Some(ArticleView {
                id: key.to_owned(),
                author: get_str(d, o, "author").unwrap_or_default(),
                created_at: get_i64(d, o, "created_at").unwrap_or_default(),
                title: get_str(d, o, "title").unwrap_or_default(),
                body: get_str(d, o, "body").unwrap_or_default(),
                village: opt(get_str(d, o, "village")),
            })
        });
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }
}

fn hydrate_association(d: &Automerge, id: &str, o: &ObjId) -> Option<AssociationView> {
    let contacts = get_obj(d, o, "contacts")
        .map(|c| {
            d.keys(&c)
                .filter_map(|k| get_str(d, &c, &k).map(|v| (k, v)))
                .collect()
        })
        .unwrap_or_default();
    Some(AssociationView {
        id: id.to_owned(),
        name: get_str(d, o, "name").unwrap_or_default(),
        category: get_str(d, o, "category")
            .and_then(|c| c.parse().ok())
            .unwrap_or(AssociationCategory::Other),
        villages: sorted_keys(d, o, "villages"),
        description: get_str(d, o, "description").unwrap_or_default(),
        contacts,
        website: get_str(d, o, "website").unwrap_or_default(),
        admins: sorted_keys(d, o, "admins"),
    })
}

fn hydrate_consultation(d: &Automerge, id: &str, o: &ObjId, now: i64) -> Option<ConsultationView> {
    let mut responses: Vec<_> = get_obj(d, o, "responses")
        .map(|r| {
            d.map_range(&r, ..)
                .map(|it| {
                    let o = it.id();
                    ConsultationResponseView {
                        id: it.key.to_string(),
                        author: get_str(d, &o, "author").unwrap_or_default(),
                        on_behalf_of: opt(get_str(d, &o, "on_behalf_of")),
                        created_at: get_i64(d, &o, "created_at").unwrap_or_default(),
                        body: get_str(d, &o, "body").unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    responses.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Some(ConsultationView {
        id: id.to_owned(),
        village: get_str(d, o, "village").unwrap_or_default(),
        question: get_str(d, o, "question").unwrap_or_default(),
        explanation: get_str(d, o, "explanation").unwrap_or_default(),
        closes_at: get_i64(d, o, "closes_at").unwrap_or_default(),
        status: consultation_status(d, o, now),
        responses,
        outcome: get_obj(d, o, "outcome").and_then(|x| get_str(d, &x, "body")),
    })
}
