//! Publishing on the municipality document: news items and knowledge pages.

use automerge::transaction::Transactable;

use crate::doc::MunicipalityDoc;
use crate::error::{OpError, check_text};
use crate::ids::{KnowledgeId, NewsId, VillageId};
use crate::permission::Path;
use crate::schema::limits;
use crate::user::User;

/// A news item or knowledge page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    /// Title (required).
    pub title: String,
    /// Text (required).
    pub body: String,
    /// The village it is about, if one.
    pub village: Option<VillageId>,
}

impl MunicipalityDoc {
    /// A municipality admin or broker publishes news.
    pub fn publish_news(
        &mut self,
        user: &User,
        id: &NewsId,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.article("news", user, id.as_str(), draft, now)
    }

    /// A municipality admin or broker writes a knowledge page.
    pub fn write_knowledge_page(
        &mut self,
        user: &User,
        id: &KnowledgeId,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.article("knowledge", user, id.as_str(), draft, now)
    }

    fn article(
        &mut self,
        root: &'static str,
        user: &User,
        id: &str,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("body", &draft.body, limits::BODY, true)?;
        if let Some(v) = &draft.village {
            self.known_village(v)?;
        }
        let coll = self.root_map(root)?;
        self.absent(&coll, id, "article")?;
        self.create_child(user, &coll, &Path::new([root, id]), now, |tx, o| {
            tx.put(o, "title", draft.title.trim())?;
            tx.put(o, "body", draft.body.trim())?;
            let village = draft.village.as_ref().map_or("", |v| v.as_str());
            tx.put(o, "village", village)?;
            Ok(())
        })
    }
}
