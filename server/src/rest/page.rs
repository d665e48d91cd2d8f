//! Cursor pagination of the REST lists: `?limit=N&cursor=…`, answered with `next_cursor` (absent
//! on the last page). A cursor is opaque to clients: URL-safe base64 of the last item's sort key
//! and id, so the next page starts strictly after it even if items were added or removed in
//! between (no duplicates; nothing that existed throughout is skipped).
//!
//! Per-cluster lists (services, instances, members, invites, tokens) are small and already
//! authorized in full by `control`, so they are ordered and cut here; deployments, which grow
//! without bound, are paged in SQL (`control::deployments`).

use axum::extract::FromRequestParts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use control::DomainError;
use http::request::Parts;
use proto::api::{
    ApiToken, Instance, InstanceList, Invite, InviteList, Member, MemberList, Service, ServiceList,
    TokenList,
};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::ApiQuery;

/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page a client may ask for.
pub const MAX_LIMIT: usize = 200;

/// `?limit=&cursor=`. Both are read as text so a bad value is a 400 naming its field.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A parsed [`PageQuery`].
#[derive(Debug)]
pub struct Page {
    pub limit: usize,
    /// The sort key and id of the last item already seen.
    pub after: Option<(String, String)>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<Page, DomainError> {
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    DomainError::invalid("limit", format!("limit must be 1 to {MAX_LIMIT}"))
                })?,
        };
        let after =
            match self.cursor.as_deref() {
                None | Some("") => None,
                Some(c) => Some(decode(c).ok_or_else(|| {
                    DomainError::invalid("cursor", "not a cursor this API gave out")
                })?),
            };
        Ok(Page { limit, after })
    }
}

/// The page a list handler was asked for: `?limit=&cursor=` read and checked (a bad value is a
/// 400 naming its field, before anything is fetched).
pub struct Paged(pub Page);

impl<S: Send + Sync> FromRequestParts<S> for Paged {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let ApiQuery(q) = ApiQuery::<PageQuery>::from_request_parts(parts, state).await?;
        Ok(Paged(q.parse()?))
    }
}

/// A REST list answer: one page of items and the cursor of the next (`{"services": […],
/// "next_cursor": …}` and its kin).
pub trait Listing {
    type Item;
    fn new(items: Vec<Self::Item>, next_cursor: Option<String>) -> Self;

    /// Every item in one answer, as the live views send them.
    fn whole(items: Vec<Self::Item>) -> Self
    where
        Self: Sized,
    {
        Self::new(items, None)
    }
}

macro_rules! listing {
    ($($list:ty { $field:ident: $item:ty }),* $(,)?) => {$(
        impl Listing for $list {
            type Item = $item;
            fn new($field: Vec<$item>, next_cursor: Option<String>) -> Self {
                Self { $field, next_cursor }
            }
        }
    )*};
}

listing! {
    ServiceList { services: Service },
    InstanceList { instances: Instance },
    MemberList { members: Member },
    InviteList { invites: Invite },
    TokenList { tokens: ApiToken },
}

impl Page {
    /// This page of `items` ordered by `key` (see [`cut`]) as the list answer `L`.
    pub fn of<T, L: Listing<Item = T>>(
        &self,
        items: Vec<T>,
        order: Order,
        key: impl Fn(&T) -> (String, String),
    ) -> L {
        let (items, next_cursor) = cut(items, order, self, key);
        L::new(items, next_cursor)
    }
}

pub fn encode(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}\0{id}"))
}

fn decode(cursor: &str) -> Option<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (key, id) = text.split_once('\0')?;
    Some((key.to_string(), id.to_string()))
}

/// Ascending or descending by `(key, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// One page of `items` ordered by `key` (sort key, id), and the cursor of the next page.
pub fn cut<T>(
    mut items: Vec<T>,
    order: Order,
    page: &Page,
    key: impl Fn(&T) -> (String, String),
) -> (Vec<T>, Option<String>) {
    items.sort_by_cached_key(|item| key(item));
    if order == Order::Desc {
        items.reverse();
    }
    if let Some(after) = &page.after {
        items.retain(|item| match order {
            Order::Asc => key(item) > *after,
            Order::Desc => key(item) < *after,
        });
    }
    let more = items.len() > page.limit;
    items.truncate(page.limit);
    let next = more
        .then(|| items.last().map(&key))
        .flatten()
        .map(|(k, id)| encode(&k, &id));
    (items, next)
}

/// RFC 3339 times as `control` writes them omit zero fractions (`…:20Z`, `…:20.5Z`); padded to
/// nanoseconds they sort as text in time order.
pub fn time_key(rfc3339: &str) -> String {
    let bare = rfc3339.trim_end_matches('Z');
    let (secs, frac) = bare.split_once('.').unwrap_or((bare, ""));
    format!("{secs}.{frac:0<9}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: usize, after: Option<String>) -> Page {
        PageQuery {
            limit: Some(limit.to_string()),
            cursor: after,
        }
        .parse()
        .unwrap()
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_duplicates() {
        let items: Vec<u32> = (0..7).rev().collect();
        let key = |n: &u32| (format!("{n:03}"), n.to_string());
        let (first, next) = cut(items.clone(), Order::Asc, &page(3, None), key);
        assert_eq!(first, [0, 1, 2]);
        let (second, next) = cut(items.clone(), Order::Asc, &page(3, next), key);
        assert_eq!(second, [3, 4, 5]);
        let (last, next) = cut(items.clone(), Order::Asc, &page(3, next), key);
        assert_eq!((last, next), (vec![6], None));
        let (desc, _) = cut(items, Order::Desc, &page(2, None), key);
        assert_eq!(desc, [6, 5]);
    }

    #[test]
    fn bad_limits_and_cursors_name_their_field() {
        for (limit, cursor, field) in [
            ("0", None, "limit"),
            ("201", None, "limit"),
            ("ten", None, "limit"),
            ("5", Some("%%%"), "cursor"),
            ("5", Some("bm8tc2VwYXJhdG9y"), "cursor"),
        ] {
            let q = PageQuery {
                limit: Some(limit.into()),
                cursor: cursor.map(String::from),
            };
            match q.parse() {
                Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{limit} {cursor:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn times_sort_as_text_once_padded() {
        assert!(time_key("2026-01-01T00:00:20Z") < time_key("2026-01-01T00:00:20.5Z"));
        assert!(time_key("2026-01-01T00:00:20.5Z") < time_key("2026-01-01T00:00:20.51Z"));
    }
}
