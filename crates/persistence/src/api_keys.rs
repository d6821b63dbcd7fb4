//! API keys: the domain's `KeyRepository` over SQLite and PostgreSQL, on the
//! accounts store. Keys are found by the SHA-256 of the key (`key_hash`,
//! unique); the key itself is never stored.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ytvc_domain::ids::{ApiKeyId, UserId};
use ytvc_domain::keys::{ApiKey, KeyDigest, KeyRepository, Scopes};
use ytvc_domain::repo::RepoError;

use crate::SqlAccounts;
use crate::accounts::{naive, repo, utc};
use crate::schema::api_keys;

type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

const KEY_COLUMNS: (
    api_keys::id,
    api_keys::user_id,
    api_keys::name,
    api_keys::prefix,
    api_keys::scopes,
    api_keys::created_at,
    api_keys::expires_at,
    api_keys::last_used_at,
    api_keys::revoked_at,
) = (
    api_keys::id,
    api_keys::user_id,
    api_keys::name,
    api_keys::prefix,
    api_keys::scopes,
    api_keys::created_at,
    api_keys::expires_at,
    api_keys::last_used_at,
    api_keys::revoked_at,
);

fn key_from_row(row: KeyRow) -> Result<ApiKey, RepoError> {
    let (id, user, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at) = row;
    let corrupt = |what: &str| RepoError::Other(format!("corrupt api_keys row: {what}"));
    Ok(ApiKey {
        id: id.parse().map_err(|_| corrupt("id"))?,
        user: user.parse().map_err(|_| corrupt("user_id"))?,
        name,
        scopes: Scopes::from_stored(&scopes).ok_or_else(|| corrupt("scopes"))?,
        prefix,
        created_at: utc(created_at),
        expires_at: expires_at.map(utc),
        last_used_at: last_used_at.map(utc),
        revoked_at: revoked_at.map(utc),
    })
}

impl KeyRepository for SqlAccounts {
    fn insert_key(&self, key: &ApiKey, digest: &KeyDigest) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        diesel::insert_into(api_keys::table)
            .values((
                api_keys::id.eq(key.id.to_string()),
                api_keys::user_id.eq(key.user.to_string()),
                api_keys::name.eq(&key.name),
                api_keys::key_hash.eq(digest.to_hex()),
                api_keys::prefix.eq(&key.prefix),
                api_keys::scopes.eq(key.scopes.to_stored()),
                api_keys::created_at.eq(naive(key.created_at)),
                api_keys::expires_at.eq(key.expires_at.map(naive)),
                api_keys::last_used_at.eq(key.last_used_at.map(naive)),
                api_keys::revoked_at.eq(key.revoked_at.map(naive)),
            ))
            .execute(&mut *conn)
            .map_err(repo)?;
        Ok(())
    }

    fn by_digest(&self, digest: &KeyDigest) -> Result<Option<ApiKey>, RepoError> {
        let mut conn = self.conn()?;
        api_keys::table
            .filter(api_keys::key_hash.eq(digest.to_hex()))
            .select(KEY_COLUMNS)
            .first::<KeyRow>(&mut *conn)
            .optional()
            .map_err(repo)?
            .map(key_from_row)
            .transpose()
    }

    fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError> {
        let mut conn = self.conn()?;
        api_keys::table
            .filter(api_keys::user_id.eq(user.to_string()))
            .filter(api_keys::revoked_at.is_null())
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(KEY_COLUMNS)
            .load::<KeyRow>(&mut *conn)
            .map_err(repo)?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    fn revoke(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, RepoError> {
        let mut conn = self.conn()?;
        let id = id.to_string();
        let revoked = diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(&id))
                .filter(api_keys::user_id.eq(user.to_string()))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(naive(now))))
        .execute(&mut *conn)
        .map_err(repo)?;
        if revoked == 0 {
            return Ok(None);
        }
        api_keys::table
            .filter(api_keys::id.eq(&id))
            .select(KEY_COLUMNS)
            .first::<KeyRow>(&mut *conn)
            .optional()
            .map_err(repo)?
            .map(key_from_row)
            .transpose()
    }

    fn touch(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        unless_after: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id.to_string()))
                .filter(
                    api_keys::last_used_at
                        .is_null()
                        .or(api_keys::last_used_at.le(naive(unless_after))),
                ),
        )
        .set(api_keys::last_used_at.eq(Some(naive(at))))
        .execute(&mut *conn)
        .map_err(repo)?;
        Ok(())
    }
}
