//! Roles, permissions and the permission matrix of DESIGN.md, held in one table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role a membership grants on an organisation and its subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in its subtree, including users and roles.
    Operator,
    /// Read-only view plus remote maintenance and tickets.
    Support,
    /// Often a third-party engineer: chargers, remote maintenance, tickets.
    Maintenance,
    /// CPO-like (EVC-net): stations at the organisation's sites, access rules, tariffs.
    FacilityManager,
    /// MSP-like (EVC-net): drivers, groups, cards and chargers at employees' homes.
    FleetManager,
}

impl Role {
    /// Every role, in matrix column order.
    pub const ALL: [Role; 5] = [
        Role::Operator,
        Role::Support,
        Role::Maintenance,
        Role::FacilityManager,
        Role::FleetManager,
    ];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Support => "support",
            Role::Maintenance => "maintenance",
            Role::FacilityManager => "facility_manager",
            Role::FleetManager => "fleet_manager",
        }
    }

    fn column(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

/// Declares [`Permission`], its `ALL` list and one [`Capability`](super::Capability) type per
/// permission (in [`cap`](super::cap)) from one list of names.
macro_rules! permissions {
    ($($name:ident),* $(,)?) => {
        /// Something a user may be allowed to do on a resource of an organisation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission {
            $($name),*
        }

        impl Permission {
            /// Every permission, in matrix row order.
            pub const ALL: &'static [Permission] = &[$(Permission::$name),*];
        }

        /// One type per permission, so a proof of the gate names what it allows:
        /// `Authorized<cap::ChargersWrite>` proves nothing about users.
        pub mod cap {
            $(
                #[doc = concat!("The `", stringify!($name), "` permission as a type.")]
                #[derive(Debug, Clone, Copy, PartialEq, Eq)]
                pub enum $name {}

                impl super::super::capability::sealed::Sealed for $name {}

                impl super::super::Capability for $name {
                    const PERMISSION: super::Permission = super::Permission::$name;
                }
            )*
        }
    };
}

permissions! {
    Dashboard,
    ChargersRead,
    ChargersWrite,
    RemoteMaintenance,
    RemoteStartStop,
    TransactionsRead,
    AccessRulesRead,
    AccessRulesWrite,
    DriversRead,
    DriversWrite,
    Billing,
    OrganisationsRead,
    OrganisationsCreate,
    UsersManage,
    Tickets,
    AuditRead,
    SecurityEventsRead,
    MessagesRead,
    ChargerSecurity,
    WebhooksManage,
}

/// How much of a permission a role has. Ordered: a higher grant includes the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// Audit log: only the user's own actions.
    OwnActions,
    /// Access rules: no group names of organisations outside the caller's subtree.
    Reduced,
    /// Sites and chargers: only those at `home` sites.
    HomeChargers,
    /// Dashboard: the simplified one.
    Simplified,
    /// Everything the permission covers.
    Full,
}

const Y: Option<Grant> = Some(Grant::Full);
const N: Option<Grant> = None;

/// DESIGN.md "Roles and the permission matrix". Columns: operator, support, maintenance,
/// facility_manager, fleet_manager.
const MATRIX: &[(Permission, [Option<Grant>; 5])] = {
    use Grant::*;
    use Permission::*;
    &[
        (Dashboard, [Y, Some(Simplified), Some(Simplified), Y, Y]),
        (ChargersRead, [Y, Y, Y, Y, Some(HomeChargers)]),
        (ChargersWrite, [Y, N, N, Y, N]),
        (RemoteMaintenance, [Y, Y, Y, Y, N]),
        (RemoteStartStop, [Y, N, N, Y, Y]),
        (TransactionsRead, [Y, Y, N, Y, Y]),
        (AccessRulesRead, [Y, Some(Reduced), N, Y, Y]),
        (AccessRulesWrite, [Y, N, N, Y, N]),
        (DriversRead, [Y, Y, N, N, Y]),
        (DriversWrite, [Y, N, N, N, Y]),
        (Billing, [Y, N, N, Y, Y]),
        (OrganisationsRead, [Y, Y, N, Y, Y]),
        (OrganisationsCreate, [Y, N, N, N, N]),
        (UsersManage, [Y, N, N, N, N]),
        (Tickets, [Y, Y, Y, Y, N]),
        (AuditRead, [Y, Y, Some(OwnActions), N, N]),
        // Issue 18: a charger's security events are for operators, support and facility managers.
        (SecurityEventsRead, [Y, Y, N, Y, N]),
        // Issue 23: a charger's OCPP conversation is the support desk's and engineers' tool.
        (MessagesRead, [Y, Y, Y, N, N]),
        // Issue 19: a charger's credentials and certificates are the owner's, not an engineer's.
        (ChargerSecurity, [Y, N, N, Y, N]),
        // Issue 22: alerts go where the owner says, not where an engineer would like them.
        (WebhooksManage, [Y, N, N, Y, N]),
    ]
};

/// What `role` is granted of `permission`, per the matrix.
pub fn grant(role: Role, permission: Permission) -> Option<Grant> {
    MATRIX
        .iter()
        .find(|(p, _)| *p == permission)
        .and_then(|(_, row)| row[role.column()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_exactly_one_row() {
        for &p in Permission::ALL {
            assert_eq!(MATRIX.iter().filter(|(q, _)| *q == p).count(), 1, "{p:?}");
        }
        assert_eq!(MATRIX.len(), Permission::ALL.len());
    }

    #[test]
    fn matrix_spot_checks() {
        assert_eq!(grant(Role::Operator, Permission::UsersManage), Some(Grant::Full));
        assert_eq!(grant(Role::Support, Permission::UsersManage), None);
        assert_eq!(
            grant(Role::Maintenance, Permission::RemoteMaintenance),
            Some(Grant::Full)
        );
        assert_eq!(grant(Role::Maintenance, Permission::DriversRead), None);
        assert_eq!(
            grant(Role::FleetManager, Permission::ChargersRead),
            Some(Grant::HomeChargers)
        );
        assert_eq!(grant(Role::FleetManager, Permission::RemoteMaintenance), None);
        assert_eq!(grant(Role::Maintenance, Permission::AuditRead), Some(Grant::OwnActions));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
