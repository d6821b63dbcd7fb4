//! Users, refresh sessions and revocations: the domain's `UserRepository`
//! and `SessionRepository` over SQLite and PostgreSQL (its `KeyRepository`
//! is in `api_keys`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ytvc_domain::accounts::{Role, User, UserChange};
use ytvc_domain::auth::{RefreshRecord, RotateOutcome, SessionRepository, UserRepository};
use ytvc_domain::ids::{SessionId, TokenId, UserId};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::Email;
use ytvc_quota::{AnchorDay, PlanName};

use crate::schema::{refresh_tokens, revocations, users};
use crate::tx::write_transaction;
use crate::{AnyConnection, Database, DbError};

pub(crate) fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub(crate) fn repo(e: diesel::result::Error) -> RepoError {
    RepoError::from(DbError::from(e))
}

type UserRow = (
    String,
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    NaiveDateTime,
);

fn user_from_row(row: UserRow) -> Result<User, RepoError> {
    let (id, email, password_hash, role, plan, anchor, created_at, updated_at) = row;
    let corrupt = |what: &str| RepoError::Other(format!("corrupt user row: {what}"));
    Ok(User {
        id: id.parse().map_err(|_| corrupt("id"))?,
        email: Email::parse(&email).map_err(|_| corrupt("email"))?,
        password_hash,
        role: Role::parse("role", &role).map_err(|_| corrupt("role"))?,
        plan: PlanName::parse(&plan).map_err(|_| corrupt("plan"))?,
        billing_anchor_day: u8::try_from(anchor)
            .ok()
            .and_then(|d| AnchorDay::new(d).ok())
            .ok_or_else(|| corrupt("anchor"))?,
        created_at: utc(created_at),
        updated_at: utc(updated_at),
    })
}

const USER_COLUMNS: (
    users::id,
    users::email,
    users::password_hash,
    users::role,
    users::plan,
    users::billing_anchor_day,
    users::created_at,
    users::updated_at,
) = (
    users::id,
    users::email,
    users::password_hash,
    users::role,
    users::plan,
    users::billing_anchor_day,
    users::created_at,
    users::updated_at,
);

/// The SQL accounts store: users, refresh sessions, revocations and API keys.
#[derive(Clone, Debug)]
pub struct SqlAccounts {
    db: Database,
}

impl SqlAccounts {
    /// Wraps the database.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub(crate) fn conn(&self) -> Result<crate::PooledConn, RepoError> {
        self.db.conn().map_err(RepoError::from)
    }

    /// Deletes expired refresh tokens and revocations; returns how many rows went.
    ///
    /// # Errors
    /// Storage errors.
    pub fn purge_expired(&self, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let mut conn = self.conn()?;
        let a =
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(naive(now))))
                .execute(&mut *conn)
                .map_err(repo)?;
        let b = diesel::delete(revocations::table.filter(revocations::expires_at.lt(naive(now))))
            .execute(&mut *conn)
            .map_err(repo)?;
        Ok(a + b)
    }
}

impl UserRepository for SqlAccounts {
    fn insert(&self, user: &User) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        diesel::insert_into(users::table)
            .values((
                users::id.eq(user.id.to_string()),
                users::email.eq(user.email.as_str()),
                users::password_hash.eq(&user.password_hash),
                users::role.eq(user.role.as_str()),
                users::plan.eq(user.plan.as_str()),
                users::billing_anchor_day.eq(i32::from(user.billing_anchor_day.get())),
                users::created_at.eq(naive(user.created_at)),
                users::updated_at.eq(naive(user.updated_at)),
            ))
            .execute(&mut *conn)
            .map_err(|e| match repo(e) {
                RepoError::Duplicate(_) => RepoError::Duplicate("email".into()),
                other => other,
            })?;
        Ok(())
    }

    fn by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        let mut conn = self.conn()?;
        users::table
            .filter(users::email.eq(email.as_str()))
            .select(USER_COLUMNS)
            .first::<UserRow>(&mut *conn)
            .optional()
            .map_err(repo)?
            .map(user_from_row)
            .transpose()
    }

    fn by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let mut conn = self.conn()?;
        users::table
            .filter(users::id.eq(id.to_string()))
            .select(USER_COLUMNS)
            .first::<UserRow>(&mut *conn)
            .optional()
            .map_err(repo)?
            .map(user_from_row)
            .transpose()
    }

    fn update(
        &self,
        id: UserId,
        change: &UserChange,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError> {
        let mut conn = self.conn()?;
        let key = id.to_string();
        let n = match (&change.plan, change.role) {
            (Some(plan), Some(role)) => diesel::update(users::table.filter(users::id.eq(&key)))
                .set((
                    users::plan.eq(plan.as_str()),
                    users::role.eq(role.as_str()),
                    users::updated_at.eq(naive(now)),
                ))
                .execute(&mut *conn),
            (Some(plan), None) => diesel::update(users::table.filter(users::id.eq(&key)))
                .set((
                    users::plan.eq(plan.as_str()),
                    users::updated_at.eq(naive(now)),
                ))
                .execute(&mut *conn),
            (None, Some(role)) => diesel::update(users::table.filter(users::id.eq(&key)))
                .set((
                    users::role.eq(role.as_str()),
                    users::updated_at.eq(naive(now)),
                ))
                .execute(&mut *conn),
            (None, None) => users::table
                .filter(users::id.eq(&key))
                .count()
                .get_result::<i64>(&mut *conn)
                .map(|c| c as usize),
        }
        .map_err(repo)?;
        drop(conn);
        if n == 0 { Ok(None) } else { self.by_id(id) }
    }
}

fn revoke_session_in(
    conn: &mut AnyConnection,
    session: SessionId,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let sid = session.to_string();
    diesel::update(refresh_tokens::table.filter(refresh_tokens::session_id.eq(&sid)))
        .set(refresh_tokens::status.eq("revoked"))
        .execute(conn)?;
    record_revocation(conn, &sid, "session", until, now)
}

/// Inserts a revocation once (a second one for the same subject is a no-op).
fn record_revocation(
    conn: &mut AnyConnection,
    subject: &str,
    kind: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let exists = revocations::table
        .filter(revocations::subject.eq(subject))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        diesel::insert_into(revocations::table)
            .values((
                revocations::subject.eq(subject),
                revocations::kind.eq(kind),
                revocations::revoked_at.eq(naive(now)),
                revocations::expires_at.eq(naive(until)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl SessionRepository for SqlAccounts {
    fn insert_refresh(&self, r: &RefreshRecord) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(&r.token_hash),
                refresh_tokens::session_id.eq(r.session.to_string()),
                refresh_tokens::user_id.eq(r.user.to_string()),
                refresh_tokens::status.eq("active"),
                refresh_tokens::created_at.eq(naive(r.created_at)),
                refresh_tokens::expires_at.eq(naive(r.expires_at)),
            ))
            .execute(&mut *conn)
            .map_err(repo)?;
        Ok(())
    }

    fn rotate(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        next_expires_at: DateTime<Utc>,
        revoke_until: DateTime<Utc>,
    ) -> Result<RotateOutcome, RepoError> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn: &mut AnyConnection| {
            // Claim the live token with one guarded UPDATE: of two concurrent
            // rotations exactly one sees a row change.
            let claimed = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(presented_hash))
                    .filter(refresh_tokens::status.eq("active"))
                    .filter(refresh_tokens::expires_at.gt(naive(now))),
            )
            .set((
                refresh_tokens::status.eq("rotated"),
                refresh_tokens::used_at.eq(Some(naive(now))),
            ))
            .execute(conn)?;
            let row = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented_hash))
                .select((
                    refresh_tokens::session_id,
                    refresh_tokens::user_id,
                    refresh_tokens::status,
                ))
                .first::<(String, String, String)>(conn)
                .optional()?;
            let Some((sid, uid, status)) = row else {
                return Ok(RotateOutcome::Invalid);
            };
            let (Ok(session), Ok(user)) = (sid.parse::<SessionId>(), uid.parse::<UserId>()) else {
                return Ok(RotateOutcome::Invalid);
            };
            if claimed == 1 {
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(next_hash),
                        refresh_tokens::session_id.eq(&sid),
                        refresh_tokens::user_id.eq(&uid),
                        refresh_tokens::status.eq("active"),
                        refresh_tokens::created_at.eq(naive(now)),
                        refresh_tokens::expires_at.eq(naive(next_expires_at)),
                    ))
                    .execute(conn)?;
                return Ok(RotateOutcome::Rotated { user, session });
            }
            if status == "rotated" {
                revoke_session_in(conn, session, revoke_until, now)?;
                return Ok(RotateOutcome::Reused { session });
            }
            Ok(RotateOutcome::Invalid)
        })
        .map_err(|e: DbError| RepoError::from(e))
    }

    fn session_of(&self, token_hash: &str) -> Result<Option<(SessionId, UserId)>, RepoError> {
        let mut conn = self.conn()?;
        let row = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select((refresh_tokens::session_id, refresh_tokens::user_id))
            .first::<(String, String)>(&mut *conn)
            .optional()
            .map_err(repo)?;
        Ok(row.and_then(|(s, u)| Some((s.parse().ok()?, u.parse().ok()?))))
    }

    fn revoke_session(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn: &mut AnyConnection| {
            revoke_session_in(conn, session, until, now).map_err(DbError::from)
        })
        .map_err(RepoError::from)
    }

    fn revoke_token(
        &self,
        token: TokenId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn: &mut AnyConnection| {
            record_revocation(conn, &token.to_string(), "token", until, now).map_err(DbError::from)
        })
        .map_err(RepoError::from)
    }

    fn is_revoked(
        &self,
        token: TokenId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let n = revocations::table
            .filter(revocations::subject.eq_any([token.to_string(), session.to_string()]))
            .filter(revocations::expires_at.gt(naive(now)))
            .count()
            .get_result::<i64>(&mut *conn)
            .map_err(repo)?;
        Ok(n > 0)
    }
}
