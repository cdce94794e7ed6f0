//! Access control: the organisation tree, roles, the permission matrix and the one gate.
//!
//! Roles hold in the organisation of the membership and every organisation below it. The gate
//! ([`Principal::authorize`]) answers **404** when a resource is outside every subtree of the
//! principal's memberships, so existence does not leak, and **403** when it is inside but no
//! role there grants the permission. What it returns is the capability the store's write
//! functions require ([`Authorized`]), typed by the permission it proves
//! (`Authorized<cap::ChargersWrite>`); list queries need a [`Scope`], which only
//! [`Principal::scope`] makes. Code that skipped the gate has neither, so it does not compile,
//! and a proof of one permission does not stand in for another. The connection to a charger
//! ([`crate::cluster::Fleet::call`]) takes a [`MayCall`] proof: remote maintenance or remote
//! start/stop, or a relayed request another node's gate passed and signed.

mod capability;
mod principal;
mod roles;
pub mod throttle;

pub(crate) use capability::sealed;
pub use capability::{Authorized, Capability, CommandProof, MayCall, MayDisconnect};
pub use principal::{Membership, OrgRef, Principal, Scope, Window};
pub use roles::{Grant, Permission, Role, cap, grant};

/// Why the gate refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// Outside every subtree of the principal (answered as 404).
    #[error("not found")]
    NotFound,
    /// Inside a subtree, but no role there grants the permission (answered as 403).
    #[error("not permitted")]
    Forbidden,
}
