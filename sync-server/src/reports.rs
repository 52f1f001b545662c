//! Reports (meldingen): a signed-in resident reports a post, response, comment, event or
//! initiative with a reason; the village's broker sees the open reports of their village and
//! resolves each one — by hiding the item in the village document (the broker's reason goes
//! into the item's moderation log there, see `model::VillageDoc::hide_for_moderation`) or by
//! dismissing the report. Reports are private: they live in the server's database, never in a
//! document, so nobody but brokers learns who reported what.
//!
//! - `POST /api/reports` `{village, target, reason}` → 201 `{id}`; 409 `already_reported`
//!   when this resident has an open report on the same item; 429 `too_many_reports` after
//!   [`MAX_PER_DAY`] in a day.
//! - `GET /api/reports?village=<id>` → `{reports: [{id, target, reason, reporter, created_at}]}`,
//!   the open ones, oldest first; for the village's broker or a municipality admin.
//! - `POST /api/reports/<id>/resolve` `{resolution: "hidden" | "dismissed"}` → 204; who and when
//!   are kept with the report.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use model::{User, VillageId, schema::limits};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::json;

use crate::trust::Identities;

/// Most reports one resident files in 24 hours: enough for honest use, too few to flood a
/// broker.
pub const MAX_PER_DAY: i64 = 30;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What can be reported: the paths of moderatable objects in a village document.
const TARGETS: &[&[&str]] = &[
    &["help_posts", "*"],
    &["help_posts", "*", "responses", "*"],
    &["board", "*"],
    &["board", "*", "comments", "*"],
    &["events", "*"],
    &["initiatives", "*"],
];

/// Whether `target` names a moderatable object (`board/<id>/comments/<id>`, …).
pub fn is_target(target: &str) -> bool {
    let segs: Vec<&str> = target.split('/').collect();
    TARGETS.iter().any(|pattern| {
        pattern.len() == segs.len()
            && pattern.iter().zip(&segs).all(|(p, s)| {
                if *p == "*" {
                    !s.is_empty()
                        && s.len() <= 64
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                } else {
                    p == s
                }
            })
    })
}

/// An open report as a broker sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub id: i64,
    pub target: String,
    pub reason: String,
    pub reporter: String,
    pub created_at: i64,
}

/// Why a report request is refused; the code is what the app translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("sign in first")]
    NotSignedIn,
    #[error("only the village's broker may do this")]
    Forbidden,
    #[error("unknown village")]
    UnknownVillage,
    #[error("not something that can be reported")]
    BadTarget,
    #[error("a reason of 1 to 2,000 characters is needed")]
    BadReason,
    #[error("you already reported this")]
    AlreadyReported,
    #[error("too many reports today")]
    TooMany,
    #[error("no such open report")]
    NotFound,
    #[error("the database failed")]
    Database,
}

impl ReportError {
    fn code(self) -> &'static str {
        match self {
            ReportError::NotSignedIn => "not_signed_in",
            ReportError::Forbidden => "forbidden",
            ReportError::UnknownVillage => "unknown_village",
            ReportError::BadTarget => "bad_target",
            ReportError::BadReason => "bad_reason",
            ReportError::AlreadyReported => "already_reported",
            ReportError::TooMany => "too_many_reports",
            ReportError::NotFound => "not_found",
            ReportError::Database => "internal",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ReportError::NotSignedIn => StatusCode::UNAUTHORIZED,
            ReportError::Forbidden => StatusCode::FORBIDDEN,
            ReportError::UnknownVillage | ReportError::BadTarget | ReportError::BadReason => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ReportError::AlreadyReported => StatusCode::CONFLICT,
            ReportError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            ReportError::NotFound => StatusCode::NOT_FOUND,
            ReportError::Database => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ReportError {
    fn into_response(self) -> Response {
        if self == ReportError::Database {
            tracing::error!("reports: the database failed");
        }
        (self.status(), Json(json!({ "error": self.code() }))).into_response()
    }
}

impl From<rusqlite::Error> for ReportError {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!("reports: {e}");
        ReportError::Database
    }
}

/// The reports table and the rules around it. Calls block (SQLite): run them off the async
/// workers.
pub struct ReportStore {
    conn: Mutex<Connection>,
    villages: Vec<String>,
}

impl ReportStore {
    /// Opens the server's database file (migrated by `db::Db::open`), for the municipality's
    /// `villages`.
    pub fn open(file: &std::path::Path, villages: Vec<String>) -> Result<Self, rusqlite::Error> {
        let conn = Connection::open(file)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Self::new(conn, villages))
    }

    /// Over a connection to a migrated database, for the municipality's `villages`.
    pub fn new(conn: Connection, villages: Vec<String>) -> Self {
        Self {
            conn: Mutex::new(conn),
            villages,
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves nothing half-written (each call is one
        // statement or transaction), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Files a report by `reporter` at `now`.
    pub fn file(
        &self,
        reporter: &User,
        village: &str,
        target: &str,
        reason: &str,
        now: i64,
    ) -> Result<i64, ReportError> {
        if !self.villages.iter().any(|v| v == village) {
            return Err(ReportError::UnknownVillage);
        }
        if !is_target(target) {
            return Err(ReportError::BadTarget);
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > limits::SHORT_BODY {
            return Err(ReportError::BadReason);
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let today: i64 = tx.query_row(
            "SELECT COUNT(*) FROM report WHERE reporter = ?1 AND created_at > ?2",
            params![reporter.id.as_str(), now - DAY_MS],
            |r| r.get(0),
        )?;
        if today >= MAX_PER_DAY {
            return Err(ReportError::TooMany);
        }
        let inserted = tx.execute(
            "INSERT INTO report (village, target, reason, reporter, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![village, target, reason, reporter.id.as_str(), now],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(ReportError::AlreadyReported);
            }
            other => {
                other?;
            }
        }
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// The open reports of `village`, oldest first, for its broker.
    pub fn open_reports(&self, user: &User, village: &str) -> Result<Vec<Report>, ReportError> {
        self.may_moderate(user, village)?;
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, target, reason, reporter, created_at FROM report
             WHERE village = ?1 AND resolution IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map(params![village], |r| {
            Ok(Report {
                id: r.get(0)?,
                target: r.get(1)?,
                reason: r.get(2)?,
                reporter: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Closes an open report: the item was hidden, or the report dismissed.
    pub fn resolve(&self, user: &User, id: i64, hidden: bool, now: i64) -> Result<(), ReportError> {
        let conn = self.conn();
        let village: Option<String> = conn
            .query_row(
                "SELECT village FROM report WHERE id = ?1 AND resolution IS NULL",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        let village = village.ok_or(ReportError::NotFound)?;
        self.may_moderate(user, &village)?;
        conn.execute(
            "UPDATE report SET resolution = ?2, resolved_by = ?3, resolved_at = ?4
             WHERE id = ?1 AND resolution IS NULL",
            params![
                id,
                if hidden { "hidden" } else { "dismissed" },
                user.id.as_str(),
                now
            ],
        )?;
        Ok(())
    }

    fn may_moderate(&self, user: &User, village: &str) -> Result<(), ReportError> {
        if !self.villages.iter().any(|v| v == village) {
            return Err(ReportError::UnknownVillage);
        }
        let broker = VillageId::new(village).is_ok_and(|v| user.is_broker_of(&v));
        if broker || user.roles.municipality_admin {
            Ok(())
        } else {
            Err(ReportError::Forbidden)
        }
    }
}

/// What the routes need.
#[derive(Clone)]
pub struct ReportsApi {
    pub store: Arc<ReportStore>,
    pub identities: Arc<dyn Identities>,
}

/// The routes, to nest under `/api`.
pub fn router(api: ReportsApi) -> Router {
    Router::new()
        .route("/reports", post(file).get(list))
        .route("/reports/{id}/resolve", post(resolve))
        .with_state(api)
}

/// The session token in the `dk_session` cookie, if any.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("dk_session="))
        .filter(|t| !t.is_empty())
}

async fn signed_in(api: &ReportsApi, headers: &HeaderMap) -> Result<User, ReportError> {
    let token = session_token(headers).ok_or(ReportError::NotSignedIn)?;
    let id = api
        .identities
        .session_user(token)
        .await
        .ok_or(ReportError::NotSignedIn)?;
    Ok(api.identities.user(&id))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ReportError> + Send + 'static,
) -> Result<T, ReportError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ReportError::Database)?
}

#[derive(Deserialize)]
struct NewReport {
    village: String,
    target: String,
    reason: String,
}

async fn file(
    State(api): State<ReportsApi>,
    headers: HeaderMap,
    Json(body): Json<NewReport>,
) -> Result<impl IntoResponse, ReportError> {
    let user = signed_in(&api, &headers).await?;
    let store = api.store.clone();
    let id =
        blocking(move || store.file(&user, &body.village, &body.target, &body.reason, now_ms()))
            .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct VillageQuery {
    village: String,
}

async fn list(
    State(api): State<ReportsApi>,
    headers: HeaderMap,
    Query(q): Query<VillageQuery>,
) -> Result<impl IntoResponse, ReportError> {
    let user = signed_in(&api, &headers).await?;
    let store = api.store.clone();
    let reports = blocking(move || store.open_reports(&user, &q.village)).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "reports": reports })),
    ))
}

#[derive(Deserialize)]
struct Resolution {
    resolution: String,
}

async fn resolve(
    State(api): State<ReportsApi>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<Resolution>,
) -> Result<impl IntoResponse, ReportError> {
    let user = signed_in(&api, &headers).await?;
    let hidden = match body.resolution.as_str() {
        "hidden" => true,
        "dismissed" => false,
        _ => return Err(ReportError::BadReason),
    };
    let store = api.store.clone();
    blocking(move || store.resolve(&user, id, hidden, now_ms())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::UserId;

    fn store() -> ReportStore {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::db::REPORTS_MIGRATION).unwrap();
        ReportStore::new(conn, vec!["ulft".into(), "etten".into()])
    }

    fn user(id: &str) -> User {
        User::resident(UserId::new(id).unwrap())
    }

    fn broker_of(id: &str, village: &str) -> User {
        let mut u = user(id);
        u.roles.broker_of.insert(VillageId::new(village).unwrap());
        u
    }

    #[test]
    fn only_moderatable_paths_are_targets() {
        for ok in [
            "help_posts/p1",
            "help_posts/p1/responses/r-2",
            "board/b_1/comments/c1",
        ] {
            assert!(is_target(ok), "{ok}");
        }
        for bad in [
            "",
            "help_posts",
            "volunteers/u1",
            "help_posts/p1/title",
            "board/b1/comments",
            "board//comments/c1",
            "board/../x",
        ] {
            assert!(!is_target(bad), "{bad}");
        }
    }

    #[test]
    fn a_report_reaches_the_villages_broker_only_and_is_resolved_once() {
        let s = store();
        let anna = user("anna");
        let id = s
            .file(
                &anna,
                "ulft",
                "board/b1",
                "  Reclame voor een webshop ",
                1_000,
            )
            .unwrap();
        assert_eq!(
            s.file(&anna, "ulft", "board/b1", "nog een keer", 2_000),
            Err(ReportError::AlreadyReported)
        );
        // Someone else may report the same post.
        s.file(&user("bert"), "ulft", "board/b1", "spam", 3_000)
            .unwrap();

        assert_eq!(s.open_reports(&anna, "ulft"), Err(ReportError::Forbidden));
        assert_eq!(
            s.open_reports(&broker_of("bea", "etten"), "ulft"),
            Err(ReportError::Forbidden)
        );
        let bea = broker_of("bea", "ulft");
        let open = s.open_reports(&bea, "ulft").unwrap();
        assert_eq!(open.len(), 2);
        assert_eq!(
            (
                open[0].id,
                open[0].reason.as_str(),
                open[0].reporter.as_str()
            ),
            (id, "Reclame voor een webshop", "anna")
        );
        assert_eq!(
            s.resolve(&broker_of("eef", "etten"), id, true, 4_000),
            Err(ReportError::Forbidden)
        );
        s.resolve(&bea, id, true, 4_000).unwrap();
        assert_eq!(
            s.resolve(&bea, id, false, 5_000),
            Err(ReportError::NotFound)
        );
        assert_eq!(s.open_reports(&bea, "ulft").unwrap().len(), 1);
        // Once resolved, the same resident may report the item again.
        s.file(&anna, "ulft", "board/b1", "weer reclame", 6_000)
            .unwrap();
    }

    #[test]
    fn bad_reports_are_refused_and_floods_are_capped() {
        let s = store();
        let anna = user("anna");
        assert_eq!(
            s.file(&anna, "nergens", "board/b1", "x", 0),
            Err(ReportError::UnknownVillage)
        );
        assert_eq!(
            s.file(&anna, "ulft", "volunteers/anna", "x", 0),
            Err(ReportError::BadTarget)
        );
        assert_eq!(
            s.file(&anna, "ulft", "board/b1", "   ", 0),
            Err(ReportError::BadReason)
        );
        let long = "x".repeat(limits::SHORT_BODY + 1);
        assert_eq!(
            s.file(&anna, "ulft", "board/b1", &long, 0),
            Err(ReportError::BadReason)
        );
        for i in 0..MAX_PER_DAY {
            s.file(&anna, "ulft", &format!("board/b{i}"), "spam", 1_000 + i)
                .unwrap();
        }
        assert_eq!(
            s.file(&anna, "ulft", "board/bx", "spam", 2_000),
            Err(ReportError::TooMany)
        );
        // A day later the count starts again.
        s.file(&anna, "ulft", "board/bx", "spam", 1_000 + DAY_MS + 100)
            .unwrap();
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; dk_session=tok123; b=2".parse().unwrap(),
        );
        assert_eq!(session_token(&h), Some("tok123"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "dk_session=".parse().unwrap());
        assert_eq!(session_token(&h), None);
    }
}
