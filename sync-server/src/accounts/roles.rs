//! Roles into the municipality document: the server writes them (with its own actor) through
//! the document's task, so connected apps receive them like any change. No client may write
//! role data (`model`'s rules); the one exception is a new association's creating change,
//! which names its creator as first admin — [`Accounts::association_registered`] records that
//! in the accounts (durably, while the change is validated, before it is stored). The accounts'
//! `role` table is the only source of roles: [`reconcile`] writes it into the document at start
//! and never reads roles back from the document, whose contents a non-admin could have written
//! (issue #16: an object forged over someone's association named its forger as admin, and a
//! restart used to make that a role). Revoked roles ([`revoke`]) leave the document the same
//! way.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use automerge::{ActorId, Automerge, ObjId, ReadDoc};
use model::{AssociationId, MunicipalityDoc, MunicipalitySeed, UserId, VillageId};
use sha2::{Digest, Sha256};
use sync::DocumentId;

use super::{error::AccountError, grant::Grant, seeded::SeedInvite, store::Accounts};
use crate::{hub::Hub, storage::DocumentStore};

/// The actor id the server writes role data with: derived from its storage id, so it stays
/// the same across restarts and is nobody's registered actor.
pub(crate) fn server_actor(storage_id: &str) -> ActorId {
    let digest = Sha256::digest(format!("dorpskracht-server:{storage_id}").as_bytes());
    ActorId::from(&digest[..16])
}

/// Writes the roles in `grants` into the municipality document (those it already shows are
/// skipped) and waits until the change is durable. Municipality admin is not written: the
/// document has no place for it (the app learns it from `GET /api/session`).
pub(crate) async fn write(
    hub: &Hub,
    doc: DocumentId,
    actor: ActorId,
    grants: Vec<(UserId, Grant)>,
    now: i64,
) -> Result<bool, String> {
    hub.change(
        doc,
        Box::new(move |am: &mut Automerge| {
            with_municipality(am, actor, |m| Ok(grant_all(m, &grants, now)))
        }),
    )
    .await
}

/// Removes the roles in `revocations` from the municipality document (those it does not show
/// are skipped) and waits until the change is durable.
pub(crate) async fn revoke(
    hub: &Hub,
    doc: DocumentId,
    actor: ActorId,
    revocations: Vec<(UserId, Grant)>,
    now: i64,
) -> Result<bool, String> {
    hub.change(
        doc,
        Box::new(move |am: &mut Automerge| {
            with_municipality(am, actor, |m| Ok(revoke_all(m, &revocations, now)))
        }),
    )
    .await
}

/// Whether the municipality document has association `id` (an invite for it can be accepted).
pub(crate) async fn association_exists(
    hub: &Hub,
    doc: DocumentId,
    id: &AssociationId,
) -> Result<bool, AccountError> {
    let found = Arc::new(Mutex::new(false));
    let (out, id) = (found.clone(), id.clone());
    hub.change(
        doc,
        Box::new(move |am: &mut Automerge| {
            let exists = am
                .get(&ObjId::Root, "associations")
                .ok()
                .flatten()
                .and_then(|(_, coll)| am.get(&coll, id.as_str()).ok().flatten())
                .is_some();
            *out.lock().unwrap_or_else(PoisonError::into_inner) = exists;
            Ok(false)
        }),
    )
    .await
    .map_err(AccountError::Internal)?;
    Ok(*found.lock().unwrap_or_else(PoisonError::into_inner))
}

/// At start, before any peer can reach the document: each role the seed names (a broker with a
/// user id) that is neither held, revoked nor offered yet gets an invite bound to that user id
/// (returned, for the operator: `seeded.rs`), then every role of the
/// accounts is written into the document and every revoked one removed from it (if not yet), so
/// the two agree again after a crash between one write and the other. Roles only go from the
/// accounts (and the operator's seed) into the document, never the other way: an association's
/// creator is its admin because the server recorded it when it accepted the creating change
/// ([`Accounts::association_registered`]), not because the document says so now.
pub(crate) async fn reconcile(
    accounts: &Accounts,
    store: &DocumentStore,
    doc: DocumentId,
    actor: ActorId,
    seed: &MunicipalitySeed,
) -> Result<Vec<SeedInvite>, crate::Error> {
    // The seed's brokers get their role through an invite bound to their user id, never by
    // the id alone, which anyone could have signed up with first (`seeded.rs`).
    let mut wanted = Vec::new();
    for broker in &seed.brokers {
        let Some(user) = broker.user.as_deref().and_then(|u| UserId::new(u).ok()) else {
            continue;
        };
        for v in &broker.villages {
            if let Ok(v) = VillageId::new(v.clone()) {
                wanted.push((
                    broker.name.trim().to_owned(),
                    user.clone(),
                    Grant::Broker(v),
                ));
            }
        }
    }
    let this = accounts.clone();
    let (revoked, invites) = tokio::task::spawn_blocking(move || {
        let revoked: HashSet<(UserId, Grant)> = this.revocations_blocking()?.into_iter().collect();
        let invites = this.seed_invites_blocking(wanted, &revoked)?;
        Ok::<_, AccountError>((revoked, invites))
    })
    .await
    .map_err(|_| crate::Error::TaskFailed)?
    .map_err(|e| crate::Error::Io {
        what: "recording roles".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let Some(mut am) = store.load_document(doc).await? else {
        return Ok(invites);
    };
    let before = am.get_heads();
    let grants = accounts.document_roles();
    let now = accounts.clock().now_ms();
    let revoked: Vec<(UserId, Grant)> = revoked.into_iter().collect();
    let wrote = with_municipality(&mut am, actor, |m| {
        let granted = grant_all(m, &grants, now);
        let removed = revoke_all(m, &revoked, now);
        Ok(granted || removed)
    })
    .map_err(|e| crate::Error::Io {
        what: "writing roles into the municipality document".into(),
        source: std::io::Error::other(e),
    })?;
    if wrote {
        store.save_incremental(doc, &am, &before).await?;
        tracing::info!("brought the municipality document's roles in line with the accounts");
    }
    store.forget(doc);
    Ok(invites)
}

/// Writes each grant the document does not show yet; returns whether it wrote any.
fn grant_all(m: &mut MunicipalityDoc, grants: &[(UserId, Grant)], now: i64) -> bool {
    let mut wrote = false;
    for (user, grant) in grants {
        let result = match grant {
            Grant::MunicipalityAdmin => Ok(false),
            Grant::Broker(v) => m.grant_broker(v, user, now),
            Grant::AssociationAdmin(a) => m.grant_association_admin(a, user, now),
            Grant::AssociationMember(a) => m.grant_association_member(a, user, now),
        };
        match result {
            Ok(w) => wrote |= w,
            // A role for an association the document lost is kept in the accounts.
            Err(e) => tracing::warn!(user = %user, "writing a role: {e}"),
        }
    }
    wrote
}

/// Removes each revoked role the document still shows; returns whether it removed any.
fn revoke_all(m: &mut MunicipalityDoc, revocations: &[(UserId, Grant)], now: i64) -> bool {
    let mut wrote = false;
    for (user, grant) in revocations {
        let result = match grant {
            Grant::MunicipalityAdmin => Ok(false),
            Grant::Broker(v) => m.revoke_broker(v, user, now),
            Grant::AssociationAdmin(a) => m.revoke_association_admin(a, user, now),
            Grant::AssociationMember(a) => m.revoke_association_member(a, user, now),
        };
        match result {
            Ok(w) => wrote |= w,
            // The village or association is gone from the document: nothing to remove.
            Err(e) => tracing::warn!(user = %user, "removing a role: {e}"),
        }
    }
    wrote
}

/// Runs `f` on the document as a [`MunicipalityDoc`] written with `actor`, putting it back.
fn with_municipality(
    am: &mut Automerge,
    actor: ActorId,
    f: impl FnOnce(&mut MunicipalityDoc) -> Result<bool, String>,
) -> Result<bool, String> {
    let mut m = MunicipalityDoc::from_automerge(std::mem::take(am))
        .map_err(|e| format!("not a municipality document: {e}"))?;
    let previous = m.automerge().get_actor().clone();
    m.set_actor(actor);
    let result = f(&mut m);
    m.set_actor(previous);
    *am = m.into_automerge();
    result
}
