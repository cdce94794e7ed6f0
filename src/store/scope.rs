//! Turning an access [`Scope`] into SQL, so lists are filtered in the query.

use entity::{organisation, site};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::access::{Grant, Scope};

/// Pagination of list queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

impl Page {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u64 = 500;
    /// The furthest a caller may skip; beyond it the database's signed 64-bit binders overflow
    /// long before any table has that many rows.
    pub const MAX_OFFSET: u64 = 1_000_000_000;

    /// A page within the bounds (defaults for what is absent), or the field and why not.
    pub fn new(limit: Option<u64>, offset: Option<u64>) -> Result<Self, (&'static str, String)> {
        let limit = limit.unwrap_or(Self::default().limit);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(("limit", format!("must be between 1 and {}", Self::MAX_LIMIT)));
        }
        let offset = offset.unwrap_or(0);
        if offset > Self::MAX_OFFSET {
            return Err(("offset", format!("must be at most {}", Self::MAX_OFFSET)));
        }
        Ok(Self { limit, offset })
    }
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: 50, offset: 0 }
    }
}

/// `path` and everything below it, as a range on the (byte-ordered, indexed) path column:
/// `path >= '/1/4/' AND path < '/1/40'`. Paths are digits and slashes, and `0` follows `/`,
/// so the range holds exactly the paths that start with the prefix, and unlike `LIKE` it uses
/// the index on SQLite and PostgreSQL alike.
pub(crate) fn path_prefix(path: &str) -> Condition {
    let upper = format!("{}0", path.strip_suffix('/').unwrap_or(path));
    Condition::all()
        .add(organisation::Column::Path.gte(path))
        .add(organisation::Column::Path.lt(upper))
}

/// `col IN (SELECT id FROM organisation WHERE <path in subtree>)`.
pub(crate) fn in_subtree(col: impl ColumnTrait, path: &str) -> SimpleExpr {
    col.in_subquery(
        Query::select()
            .column(organisation::Column::Id)
            .from(organisation::Entity)
            .cond_where(path_prefix(path))
            .to_owned(),
    )
}

/// `col IN (SELECT id FROM site WHERE kind = 'home')`
pub(crate) fn home_site(col: impl ColumnTrait) -> SimpleExpr {
    col.in_subquery(
        Query::select()
            .column(site::Column::Id)
            .from(site::Entity)
            .and_where(site::Column::Kind.eq(entity::values::SiteKind::Home))
            .to_owned(),
    )
}

/// Rows owned (through `org_col`) by an organisation in the scope. `home_col`, when given, is
/// the site id column that a [`Grant::HomeChargers`] entry restricts to home sites; an
/// [`Grant::OwnActions`] entry restricts to rows whose `user_col` is the acting user.
pub(crate) fn scope_condition<C: ColumnTrait>(
    scope: &Scope,
    org_col: C,
    home_col: Option<C>,
    user_col: Option<C>,
) -> Condition {
    let mut any = Condition::any();
    for (path, grant) in scope.entries() {
        let mut entry = Condition::all().add(in_subtree(org_col, path));
        match grant {
            Grant::HomeChargers => match home_col {
                Some(c) => entry = entry.add(home_site(c)),
                None => entry = entry.add(Expr::value(false)),
            },
            Grant::OwnActions => match (user_col, scope.user_id()) {
                (Some(c), Some(me)) => entry = entry.add(c.eq(me)),
                _ => entry = entry.add(Expr::value(false)),
            },
            _ => {}
        }
        any = any.add(entry);
    }
    any
}

/// One page of `E`'s rows owned (through `org`) by organisations in the scope, in `id` order.
pub(crate) async fn owned_page<E: EntityTrait>(
    db: &impl ConnectionTrait,
    scope: &Scope,
    page: Page,
    org: E::Column,
    id: E::Column,
) -> super::Result<Vec<E::Model>> {
    Ok(E::find()
        .filter(scope_condition(scope, org, None, None))
        .order_by_asc(id)
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await?)
}
