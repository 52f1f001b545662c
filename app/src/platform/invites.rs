//! What an invite link grants, as the server names it (`GET /api/invites/<token>`).

use crate::platform::http::failure_of;
use crate::route::{Page, VillageTab};

use crate::i18n::Text;
use crate::platform::http::Failure;
use crate::platform::http::field;
use wasm_bindgen::JsValue;

/// What an invite grants: a role and the association or village it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    AssociationMember(String),
    AssociationAdmin(String),
    Broker(String),
}

impl Grant {
    /// From the server's `kind` and `target`; `None` for a kind this app does not know.
    pub fn parse(kind: &str, target: &str) -> Option<Grant> {
        let target = target.to_owned();
        Some(match kind {
            "association_member" => Grant::AssociationMember(target),
            "association_admin" => Grant::AssociationAdmin(target),
            "broker" => Grant::Broker(target),
            _ => return None,
        })
    }

    /// What accepting does ("you become …") and the role as Ik names it.
    pub fn texts(&self) -> (Text, Text) {
        match self {
            Grant::AssociationMember(_) => (Text::InviteGrantsMember, Text::RoleMemberOf),
            Grant::AssociationAdmin(_) => (Text::InviteGrantsAdmin, Text::RoleAdminOf),
            Grant::Broker(_) => (Text::InviteGrantsBroker, Text::RoleBrokerOf),
        }
    }

    /// Where the role is used: the association's page, or the village's.
    pub fn href(&self) -> String {
        match self {
            Grant::AssociationMember(a) | Grant::AssociationAdmin(a) => {
                Page::Association(a.clone()).href()
            }
            Grant::Broker(v) => Page::village(v.clone(), VillageTab::Board).href(),
        }
    }
}

/// What a link's answer says: the grant, or why there is none.
pub fn grant_of(answer: Result<(u16, JsValue), Failure>) -> Result<Grant, Failure> {
    let (status, body) = answer?;
    if status == 200 {
        let kind = field(&body, "kind").and_then(|k| k.as_string());
        let target = field(&body, "target").and_then(|k| k.as_string());
        return match (kind, target) {
            (Some(kind), Some(target)) => {
                Grant::parse(&kind, &target).ok_or(Failure::Code("invalid_invite".into()))
            }
            _ => Err(Failure::Code("invalid_invite".into())),
        };
    }
    Err(failure_of(status, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::i18n::t;
    use crate::platform::http::failure_text;

    #[test]
    fn grants_parse_as_the_server_names_them() {
        assert_eq!(
            Grant::parse("association_admin", "fanfare"),
            Some(Grant::AssociationAdmin("fanfare".into()))
        );
        assert_eq!(
            Grant::parse("broker", "ulft").map(|g| g.href()),
            Some("/dorp/ulft".to_owned())
        );
        assert_eq!(
            Grant::parse("association_member", "fanfare").map(|g| g.href()),
            Some("/verenigingen/fanfare".to_owned())
        );
        assert_eq!(Grant::parse("municipality_admin", ""), None);
    }

    #[test]
    fn invite_failures_have_their_own_texts() {
        for code in [
            "invite_not_found",
            "invite_used",
            "invite_expired",
            "unknown_target",
        ] {
            let text = failure_text(Lang::Nl, &Failure::Code(code.into()));
            assert_ne!(text, t(Lang::Nl, Text::AccountErrOther), "{code}");
        }
    }
}
