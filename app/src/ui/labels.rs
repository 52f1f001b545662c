//! The words for the model's categories and statuses, in one place.

use crate::i18n::Text;

use model::{AssociationCategory, HelpCategory, HelpStatus, InitiativeStatus};

/// A help post's status.
pub fn help_status_text(status: HelpStatus) -> Text {
    match status {
        HelpStatus::Open => Text::StatusOpen,
        HelpStatus::Matched => Text::StatusMatched,
        HelpStatus::Done => Text::StatusDone,
        HelpStatus::Withdrawn => Text::StatusWithdrawn,
    }
}

/// A kind of help.
pub fn help_category_text(c: HelpCategory) -> Text {
    match c {
        HelpCategory::Transport => Text::CategoryTransport,
        HelpCategory::Shopping => Text::CategoryShopping,
        HelpCategory::Garden => Text::CategoryGarden,
        HelpCategory::OddJobs => Text::CategoryOddJobs,
        HelpCategory::Company => Text::CategoryCompany,
        HelpCategory::Digital => Text::CategoryDigital,
        HelpCategory::Pets => Text::CategoryPets,
        HelpCategory::Other => Text::CategoryOther,
    }
}

/// A kind of association.
pub fn association_category_text(c: AssociationCategory) -> Text {
    match c {
        AssociationCategory::Sports => Text::AssocSports,
        AssociationCategory::Music => Text::AssocMusic,
        AssociationCategory::Culture => Text::AssocCulture,
        AssociationCategory::VillageCouncil => Text::AssocVillageCouncil,
        AssociationCategory::Care => Text::AssocCare,
        AssociationCategory::Youth => Text::AssocYouth,
        AssociationCategory::Nature => Text::AssocNature,
        AssociationCategory::Other => Text::AssocOther,
    }
}

/// An initiative's status.
pub fn initiative_status_text(status: InitiativeStatus) -> Text {
    match status {
        InitiativeStatus::Idea => Text::InitiativeStatusIdea,
        InitiativeStatus::Running => Text::InitiativeStatusRunning,
        InitiativeStatus::Done => Text::InitiativeStatusDone,
    }
}
