//! Roles in the municipality document: who is area broker of which village and admin or member
//! of which association, and the server granting and revoking them.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc};

use crate::doc::MunicipalityDoc;
use crate::error::OpError;
use crate::ids::{AssociationId, UserId, VillageId};
use crate::read::{get_obj, has_key};
use crate::user::Roles;

impl MunicipalityDoc {
    /// The roles `user` holds according to this document: broker of the villages that list
    /// them, admin and member of the associations that list them. `municipality_admin` comes from the
    /// server's accounts.
    pub fn roles_of(&self, user: &UserId, municipality_admin: bool) -> Roles {
        let d = &self.am;
        let mut roles = Roles {
            municipality_admin,
            ..Roles::default()
        };
        for v in self.villages() {
            if v.brokers.iter().any(|b| b == user.as_str())
                && let Ok(id) = VillageId::new(v.id)
            {
                roles.broker_of.insert(id);
            }
        }
        if let Some(coll) = get_obj(d, &ObjId::Root, "associations") {
            for item in d.map_range(&coll, ..) {
                let admins = get_obj(d, &item.id(), "admins");
                let members = get_obj(d, &item.id(), "members");
                let Ok(id) = AssociationId::new(item.key.to_string()) else {
                    continue;
                };
                if admins.is_some_and(|a| has_key(d, &a, user.as_str())) {
                    roles.admin_of.insert(id.clone());
                }
                if members.is_some_and(|m| has_key(d, &m, user.as_str())) {
                    roles.member_of.insert(id);
                }
            }
        }
        roles
    }

    /// The server grants `broker` the area broker role of `village` (role data is written by
    /// the server only: no client's change may touch it, see [`crate::RULES`]). Returns whether
    /// anything was written (false: they already were).
    pub fn grant_broker(
        &mut self,
        village: &VillageId,
        broker: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let v = self.find("villages", village.as_str(), "village")?;
        let brokers = self.child_map(&v, "brokers", "brokers", village.as_str())?;
        if has_key(&self.am, &brokers, broker.as_str()) {
            return Ok(false);
        }
        self.write(now, |tx| tx.put(&brokers, broker.as_str(), true))?;
        Ok(true)
    }

    /// The server makes `user` an admin of `association` (see [`Self::grant_broker`]).
    pub fn grant_association_admin(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.grant_in_association(association, "admins", user, now)
    }

    /// The server makes `user` a member of `association` (see [`Self::grant_broker`]).
    pub fn grant_association_member(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.grant_in_association(association, "members", user, now)
    }

    fn grant_in_association(
        &mut self,
        association: &AssociationId,
        list: &'static str,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let o = self.find("associations", association.as_str(), "association")?;
        let existing = get_obj(&self.am, &o, list);
        if existing
            .as_ref()
            .is_some_and(|m| has_key(&self.am, m, user.as_str()))
        {
            return Ok(false);
        }
        self.write(now, |tx| {
            let map = match existing {
                Some(m) => m,
                None => tx.put_object(&o, list, ObjType::Map)?,
            };
            tx.put(&map, user.as_str(), true)
        })?;
        Ok(true)
    }

    /// The server takes the area broker role of `village` from `broker` (role data is written
    /// by the server only, like [`Self::grant_broker`]). Returns whether anything was removed
    /// (false: the document did not list them).
    pub fn revoke_broker(
        &mut self,
        village: &VillageId,
        broker: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let v = self.find("villages", village.as_str(), "village")?;
        self.remove_role(get_obj(&self.am, &v, "brokers"), broker, now)
    }

    /// The server takes the admin role of `association` from `user` (see
    /// [`Self::revoke_broker`]).
    pub fn revoke_association_admin(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.revoke_in_association(association, "admins", user, now)
    }

    /// The server ends `user`'s membership of `association` (see [`Self::revoke_broker`]).
    pub fn revoke_association_member(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.revoke_in_association(association, "members", user, now)
    }

    fn revoke_in_association(
        &mut self,
        association: &AssociationId,
        list: &'static str,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let o = self.find("associations", association.as_str(), "association")?;
        self.remove_role(get_obj(&self.am, &o, list), user, now)
    }

    /// Deletes `user`'s key from the role list `list`, if it has one.
    fn remove_role(
        &mut self,
        list: Option<ObjId>,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        let Some(list) = list.filter(|l| has_key(&self.am, l, user.as_str())) else {
            return Ok(false);
        };
        self.write(now, |tx| tx.delete(&list, user.as_str()))?;
        Ok(true)
    }
}
