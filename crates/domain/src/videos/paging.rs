//! Cursor pagination of the video and batch lists: newest first, a page of
//! 1..=100 items, the cursor an opaque `(created_at, id)` position.

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};

use super::error::VideoError;

/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page request as the client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

/// A position in a list: items strictly older than it come next.
pub type Position = (DateTime<Utc>, String);

impl PageRequest {
    /// The page size.
    ///
    /// # Errors
    /// [`VideoError::InvalidQuery`] (`limit`) outside 1..=100.
    pub fn limit(&self) -> Result<u32, VideoError> {
        match self.limit {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(n @ 1..=MAX_PAGE_SIZE) => Ok(n),
            Some(_) => Err(VideoError::InvalidQuery {
                parameter: "limit",
                message: Some("limit must be 1..=100"),
            }),
        }
    }

    /// The position the page starts after.
    ///
    /// # Errors
    /// [`VideoError::InvalidQuery`] (`cursor`) for a cursor we did not make.
    pub fn position(&self) -> Result<Option<Position>, VideoError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows` (read with `limit + 1`) to a page of `limit`, with the
    /// cursor of its last item when more follow.
    pub fn cut(mut rows: Vec<T>, limit: u32, position: impl Fn(&T) -> Position) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| {
                let (t, id) = position(r);
                encode_cursor(t, &id)
            })
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// The same page with every item mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(t: DateTime<Utc>, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", t.timestamp_micros()))
}

fn decode_cursor(c: &str) -> Result<Position, VideoError> {
    let bad = || VideoError::query("cursor");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let t = Utc.timestamp_micros(micros).single().ok_or_else(bad)?;
    uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((t, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let c = encode_cursor(t, &id);
        assert_eq!(decode_cursor(&c).unwrap(), (t, id));
        assert!(decode_cursor("!!!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1|x")).is_err()
        );
    }

    #[test]
    fn limits_and_pages() {
        let page = |limit| PageRequest {
            cursor: None,
            limit,
        };
        assert_eq!(page(None).limit().unwrap(), 20);
        assert_eq!(page(Some(100)).limit().unwrap(), 100);
        assert!(page(Some(0)).limit().is_err() && page(Some(101)).limit().is_err());
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let rows = vec![1, 2, 3];
        let cut = Page::cut(rows.clone(), 2, |_| (t, id.clone()));
        assert_eq!(cut.items, [1, 2]);
        assert_eq!(
            decode_cursor(cut.next_cursor.as_deref().unwrap()).unwrap(),
            (t, id.clone())
        );
        assert_eq!(Page::cut(rows, 3, |_| (t, id.clone())).next_cursor, None);
    }
}
