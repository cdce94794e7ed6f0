//! Who is acting, and the gate that decides what they may do.

use chrono::{DateTime, Utc};

use super::{AccessError, Authorized, Capability, Grant, Permission, Role, grant};

/// When a membership's role holds: from `from` (inclusive) to `until` (exclusive); an open
/// end is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    /// Whether `at` is inside the window.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| from <= at) && self.until.is_none_or(|until| at < until)
    }

    /// Whether the window ends no later than `limit` (an open `limit` bounds nothing).
    pub fn ends_by(&self, limit: Option<DateTime<Utc>>) -> bool {
        match (limit, self.until) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(limit), Some(until)) => until <= limit,
        }
    }
}

/// One membership, with its organisation's materialised path (`/1/4/`) and the window in
/// which its role holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organisation_id: i32,
    pub path: String,
    pub role: Role,
    pub window: Window,
}

/// An organisation as the gate needs it: its id and materialised path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgRef<'a> {
    pub id: i32,
    pub path: &'a str,
}

impl<'a> From<&'a entity::organisation::Model> for OrgRef<'a> {
    fn from(org: &'a entity::organisation::Model) -> Self {
        OrgRef {
            id: org.id,
            path: &org.path,
        }
    }
}

/// An authenticated user (or the platform admin at the CLI) and their memberships. Every
/// decision reads the clock: a membership whose window has ended counts for nothing from that
/// instant, however long the principal is held.
#[derive(Debug, Clone)]
pub struct Principal {
    user_id: Option<i32>,
    username: String,
    memberships: Vec<Membership>,
}

/// Where a principal holds a permission: the subtree roots (paths) and the grant in each.
/// Lists are filtered by it in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    permission: Permission,
    user_id: Option<i32>,
    entries: Vec<(String, Grant)>,
}

impl Scope {
    /// The permission this scope is for.
    pub fn permission(&self) -> Permission {
        self.permission
    }

    /// The acting user (for "own actions only" grants).
    pub fn user_id(&self) -> Option<i32> {
        self.user_id
    }

    /// Subtree roots (materialised paths) and the grant held in each.
    pub fn entries(&self) -> &[(String, Grant)] {
        &self.entries
    }

    /// The grant held on a root organisation (covering the whole tree), if any.
    pub fn root_grant(&self) -> Option<Grant> {
        self.entries
            .iter()
            .filter(|(path, _)| path.matches('/').count() == 2)
            .map(|(_, g)| *g)
            .max()
    }
}

impl Principal {
    /// A principal for an authenticated user.
    pub fn new(user_id: i32, username: String, memberships: Vec<Membership>) -> Self {
        Self {
            user_id: Some(user_id),
            username,
            memberships,
        }
    }

    /// The platform admin at the CLI: an operator on the root, audited as no user.
    pub fn system(root: &entity::organisation::Model) -> Self {
        Self {
            user_id: None,
            username: "system".into(),
            memberships: vec![Membership {
                organisation_id: root.id,
                path: root.path.clone(),
                role: Role::Operator,
                window: Window::default(),
            }],
        }
    }

    /// The same user with only the memberships `keep` accepts: for a part of an answer that
    /// some of its roles may see and others not.
    pub fn only(&self, keep: impl Fn(&Membership) -> bool) -> Principal {
        Principal {
            memberships: self.memberships.iter().filter(|m| keep(m)).cloned().collect(),
            ..self.clone()
        }
    }

    /// The user's id; `None` for the platform admin at the CLI.
    pub fn user_id(&self) -> Option<i32> {
        self.user_id
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The memberships whose window holds now: the only ones the gate counts.
    pub fn memberships(&self) -> impl Iterator<Item = &Membership> {
        let now = Utc::now();
        self.memberships.iter().filter(move |m| m.window.contains(now))
    }

    /// Every membership, in its window or not (what the account page shows).
    pub fn granted(&self) -> &[Membership] {
        &self.memberships
    }

    /// Whether `org` is in the subtree of any membership.
    pub fn sees(&self, org: OrgRef<'_>) -> bool {
        self.memberships().any(|m| org.path.starts_with(&m.path))
    }

    /// The gate: may this principal do `P` on a resource owned by `org`? The proof it gives
    /// is what the privileged code asks for.
    pub fn authorize<P: Capability>(&self, org: OrgRef<'_>) -> Result<Authorized<P>, AccessError> {
        self.check(P::PERMISSION, org)
            .map(|grant| Authorized::new(org.id, grant))
    }

    /// Whether the gate would allow `permission` on `org`, for what a page or an answer shows
    /// (a billing column, a menu entry); nothing privileged can be done with the answer.
    pub fn allows(&self, permission: Permission, org: OrgRef<'_>) -> bool {
        self.check(permission, org).is_ok()
    }

    /// How much of `permission` the gate would grant on `org`, for shaping an answer (support's
    /// reduced access rules); `None` where it would refuse.
    pub fn grant_on(&self, permission: Permission, org: OrgRef<'_>) -> Option<Grant> {
        self.check(permission, org).ok()
    }

    /// The one decision: 404 outside every subtree, 403 inside without the permission, else
    /// the strongest grant among the memberships covering `org`.
    fn check(&self, permission: Permission, org: OrgRef<'_>) -> Result<Grant, AccessError> {
        let mut covered = false;
        let mut best: Option<Grant> = None;
        for m in self.memberships().filter(|m| org.path.starts_with(&m.path)) {
            covered = true;
            best = best.max(grant(m.role, permission));
        }
        match (covered, best) {
            (false, _) => Err(AccessError::NotFound),
            (true, None) => Err(AccessError::Forbidden),
            (true, Some(grant)) => Ok(grant),
        }
    }

    /// Where this principal holds `permission`; 403 if nowhere.
    pub fn scope(&self, permission: Permission) -> Result<Scope, AccessError> {
        let mut entries: Vec<(String, Grant)> = self
            .memberships()
            .filter_map(|m| grant(m.role, permission).map(|g| (m.path.clone(), g)))
            .collect();
        if entries.is_empty() {
            return Err(AccessError::Forbidden);
        }
        // Keep the strongest grant per path; drop entries inside another with an equal or
        // stronger grant, so queries stay short.
        entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(b.1.cmp(&a.1)));
        let mut kept: Vec<(String, Grant)> = Vec::with_capacity(entries.len());
        for (path, g) in entries {
            if !kept.iter().any(|(p, kg)| path.starts_with(p.as_str()) && *kg >= g) {
                kept.push((path, g));
            }
        }
        Ok(Scope {
            permission,
            user_id: self.user_id,
            entries: kept,
        })
    }

    /// [`scope`](Self::scope) narrowed to the subtree of `org` (the `?organisation_id=` filter):
    /// 404 if `org` is not visible, 403 if the permission is held nowhere in it.
    pub fn scope_within(&self, permission: Permission, org: OrgRef<'_>) -> Result<Scope, AccessError> {
        if !self.sees(org) {
            return Err(AccessError::NotFound);
        }
        let scope = self.scope(permission)?;
        let entries: Vec<(String, Grant)> = scope
            .entries
            .into_iter()
            .filter_map(|(path, g)| {
                if org.path.starts_with(&path) {
                    Some((org.path.to_owned(), g))
                } else if path.starts_with(org.path) {
                    Some((path, g))
                } else {
                    None
                }
            })
            .collect();
        if entries.is_empty() {
            return Err(AccessError::Forbidden);
        }
        Ok(Scope { entries, ..scope })
    }

    /// The organisations (paths) where this principal is operator: the limits of what it may
    /// grant.
    pub fn operator_paths(&self) -> impl Iterator<Item = &str> {
        self.memberships()
            .filter(|m| m.role == Role::Operator)
            .map(|m| m.path.as_str())
    }

    /// Whether a grant with `window` on `org` ends no later than this principal's own operator
    /// memberships there: a grant may not outlast its granter, or an operator whose contract
    /// ends Friday could leave itself a permanent account. False without an operator
    /// membership covering `org`.
    pub fn may_grant_for(&self, org: OrgRef<'_>, window: &Window) -> bool {
        let mut covered = false;
        let mut latest: Option<DateTime<Utc>> = None;
        for m in self
            .memberships()
            .filter(|m| m.role == Role::Operator && org.path.starts_with(&m.path))
        {
            match m.window.until {
                None => return true,
                Some(until) => latest = latest.max(Some(until)),
            }
            covered = true;
        }
        covered && window.ends_by(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::cap;

    fn member(org: i32, path: &str, role: Role) -> Membership {
        Membership {
            organisation_id: org,
            path: path.into(),
            role,
            window: Window::default(),
        }
    }

    const ROOT: OrgRef = OrgRef { id: 1, path: "/1/" };
    const A: OrgRef = OrgRef { id: 2, path: "/1/2/" };
    const A1: OrgRef = OrgRef { id: 3, path: "/1/2/3/" };
    const B: OrgRef = OrgRef { id: 4, path: "/1/4/" };
    const A_LOOKALIKE: OrgRef = OrgRef { id: 20, path: "/1/20/" };

    #[test]
    fn outside_is_404_inside_without_permission_is_403() {
        let p = Principal::new(7, "m".into(), vec![member(2, "/1/2/", Role::Maintenance)]);
        assert!(p.authorize::<cap::RemoteMaintenance>(A1).is_ok());
        assert_eq!(p.authorize::<cap::RemoteMaintenance>(B), Err(AccessError::NotFound));
        assert_eq!(p.authorize::<cap::RemoteMaintenance>(ROOT), Err(AccessError::NotFound));
        assert_eq!(
            p.authorize::<cap::RemoteMaintenance>(A_LOOKALIKE),
            Err(AccessError::NotFound)
        );
        assert_eq!(p.authorize::<cap::DriversRead>(A1), Err(AccessError::Forbidden));
    }

    #[test]
    fn the_strongest_covering_grant_wins() {
        let p = Principal::new(
            7,
            "x".into(),
            vec![member(2, "/1/2/", Role::Support), member(3, "/1/2/3/", Role::Operator)],
        );
        assert_eq!(
            p.authorize::<cap::AccessRulesRead>(A1).map(|a| a.grant()),
            Ok(Grant::Full)
        );
        assert_eq!(
            p.authorize::<cap::AccessRulesRead>(A).map(|a| a.grant()),
            Ok(Grant::Reduced)
        );
        assert_eq!(p.authorize::<cap::UsersManage>(A), Err(AccessError::Forbidden));
    }

    #[test]
    fn scopes_list_where_the_permission_holds() {
        let p = Principal::new(
            7,
            "x".into(),
            vec![
                member(2, "/1/2/", Role::Operator),
                member(3, "/1/2/3/", Role::Support),
                member(4, "/1/4/", Role::Maintenance),
            ],
        );
        let s = p.scope(Permission::UsersManage).unwrap();
        assert_eq!(s.entries(), &[("/1/2/".to_owned(), Grant::Full)]);
        let s = p.scope(Permission::ChargersRead).unwrap();
        assert_eq!(s.entries().len(), 2, "A1 is folded into A: {s:?}");
        assert_eq!(p.scope_within(Permission::UsersManage, B), Err(AccessError::Forbidden));
        assert_eq!(
            p.scope_within(Permission::UsersManage, A1)
                .map(|s| s.entries().to_vec()),
            Ok(vec![("/1/2/3/".to_owned(), Grant::Full)])
        );
        assert_eq!(
            p.scope_within(Permission::UsersManage, ROOT),
            Err(AccessError::NotFound),
            "the root is not visible"
        );
        let only = Principal::new(8, "m".into(), vec![member(4, "/1/4/", Role::Maintenance)]);
        assert_eq!(only.scope(Permission::UsersManage), Err(AccessError::Forbidden));
        assert_eq!(
            only.scope_within(Permission::ChargersRead, A),
            Err(AccessError::NotFound)
        );
    }

    #[test]
    fn authorized_proves_only_what_was_checked() {
        let p = Principal::new(7, "o".into(), vec![member(2, "/1/2/", Role::Operator)]);
        let auth = p.authorize::<cap::ChargersWrite>(A1).unwrap();
        assert!(auth.ensure(3).is_ok());
        assert!(auth.ensure(4).is_err());
        assert!(!p.allows(Permission::UsersManage, B));
    }

    #[test]
    fn a_membership_outside_its_window_grants_nothing() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        let windowed = |from, until| Membership {
            window: Window { from, until },
            ..member(2, "/1/2/", Role::Maintenance)
        };
        let ended = Principal::new(7, "m".into(), vec![windowed(None, Some(now - hour))]);
        assert_eq!(
            ended.authorize::<cap::RemoteMaintenance>(A1),
            Err(AccessError::NotFound)
        );
        assert_eq!(ended.scope(Permission::ChargersRead), Err(AccessError::Forbidden));
        let future = Principal::new(7, "m".into(), vec![windowed(Some(now + hour), None)]);
        assert_eq!(
            future.authorize::<cap::RemoteMaintenance>(A1),
            Err(AccessError::NotFound)
        );
        let current = Principal::new(7, "m".into(), vec![windowed(Some(now - hour), Some(now + hour))]);
        assert!(current.authorize::<cap::RemoteMaintenance>(A1).is_ok());
        assert_eq!(current.granted().len(), 1);
    }

    #[test]
    fn an_operator_grants_no_longer_than_it_holds() {
        let now = Utc::now();
        let friday = now + chrono::Duration::days(3);
        let temp = Membership {
            window: Window {
                from: None,
                until: Some(friday),
            },
            ..member(2, "/1/2/", Role::Operator)
        };
        let by_thursday = Window {
            from: None,
            until: Some(friday - chrono::Duration::days(1)),
        };
        let p = Principal::new(7, "o".into(), vec![temp.clone()]);
        assert!(p.may_grant_for(A1, &by_thursday));
        assert!(!p.may_grant_for(A1, &Window::default()), "open-ended outlasts Friday");
        assert!(!p.may_grant_for(B, &by_thursday), "no operator membership on B");
        let both = Principal::new(7, "o".into(), vec![temp, member(3, "/1/2/3/", Role::Operator)]);
        assert!(
            both.may_grant_for(A1, &Window::default()),
            "an open-ended membership covers A1"
        );
        assert!(!both.may_grant_for(A, &Window::default()));
    }
}
