//! Proofs of the gate, as types. `Authorized<P>` is made only by [`Principal::authorize`] for
//! the permission `P` stands for; the store's writes and the charger connection each name the
//! proof they need, so a missing or wrong check does not compile.
//!
//! A proof of one permission cannot stand in for another, and nobody outside the gate makes
//! one:
//!
//! ```compile_fail
//! use voltgate::access::{Authorized, cap};
//! // Forging: the fields are private.
//! let forged: Authorized<cap::RemoteMaintenance> = Authorized { organisation_id: 1 };
//! ```
//!
//! ```compile_fail
//! use voltgate::access::{Authorized, cap};
//! use voltgate::cluster::Fleet;
//! // Reading chargers does not send them commands: a `ChargersRead` proof is no `MayCall`.
//! async fn reset(fleet: &Fleet, read: &Authorized<cap::ChargersRead>) {
//!     let _ = fleet.call(read, Default::default(), "CP-1", "Reset", serde_json::json!({"type": "Soft"})).await;
//! }
//! ```
//!
//! ```no_run
//! use voltgate::access::{Authorized, cap};
//! use voltgate::cluster::Fleet;
//! // With the remote-maintenance proof the gate gave, the same call compiles.
//! async fn reset(fleet: &Fleet, maintain: &Authorized<cap::RemoteMaintenance>) {
//!     let _ = fleet.call(maintain, Default::default(), "CP-1", "Reset", serde_json::json!({"type": "Soft"})).await;
//! }
//! ```
//!
//! [`Principal::authorize`]: super::Principal::authorize

use std::fmt;
use std::marker::PhantomData;

use super::{AccessError, Grant, Permission, cap};

pub(crate) mod sealed {
    /// Only this crate names new capabilities and proofs.
    pub trait Sealed {}
}

/// A permission as a type (one per row of the matrix, in [`cap`]).
pub trait Capability: sealed::Sealed + Send + Sync + 'static {
    /// The matrix row this type stands for.
    const PERMISSION: Permission;
}

/// Proof that the gate allowed `P` on `organisation_id`; only the gate makes one.
pub struct Authorized<P: Capability> {
    organisation_id: i32,
    grant: Grant,
    permission: PhantomData<fn() -> P>,
}

impl<P: Capability> Authorized<P> {
    /// What the gate answers when it allows `P`.
    pub(super) fn new(organisation_id: i32, grant: Grant) -> Self {
        Self {
            organisation_id,
            grant,
            permission: PhantomData,
        }
    }

    /// The organisation the permission was granted on.
    pub fn organisation_id(&self) -> i32 {
        self.organisation_id
    }

    /// How much of the permission was granted.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// Checks that this proof is for `organisation_id` (the permission is in the type).
    pub fn ensure(&self, organisation_id: i32) -> Result<(), AccessError> {
        if self.organisation_id == organisation_id {
            Ok(())
        } else {
            Err(AccessError::Forbidden)
        }
    }
}

impl<P: Capability> fmt::Debug for Authorized<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("permission", &P::PERMISSION)
            .field("organisation_id", &self.organisation_id)
            .field("grant", &self.grant)
            .finish()
    }
}

impl<P: Capability> Clone for Authorized<P> {
    fn clone(&self) -> Self {
        Self::new(self.organisation_id, self.grant)
    }
}

impl<P: Capability> PartialEq for Authorized<P> {
    fn eq(&self, other: &Self) -> bool {
        (self.organisation_id, self.grant) == (other.organisation_id, other.grant)
    }
}

/// What may send a CALL to a charger: remote maintenance (reset, unlock, firmware, ...),
/// remote start/stop, charger security (its password), or a request relayed by another node whose signature was checked.
pub trait MayCall: sealed::Sealed + Sync {}

impl sealed::Sealed for Authorized<cap::RemoteMaintenance> {}
impl MayCall for Authorized<cap::RemoteMaintenance> {}
impl sealed::Sealed for Authorized<cap::RemoteStartStop> {}
impl MayCall for Authorized<cap::RemoteStartStop> {}
impl sealed::Sealed for Authorized<cap::ChargerSecurity> {}
impl MayCall for Authorized<cap::ChargerSecurity> {}

/// The proof a remote command needs: remote start/stop for starting and stopping charging,
/// charger security for its credentials, remote maintenance for everything else.
#[derive(Debug)]
pub enum CommandProof {
    Maintenance(Authorized<cap::RemoteMaintenance>),
    StartStop(Authorized<cap::RemoteStartStop>),
    Security(Authorized<cap::ChargerSecurity>),
}

impl CommandProof {
    /// The organisation the permission was granted on.
    pub fn organisation_id(&self) -> i32 {
        match self {
            CommandProof::Maintenance(a) => a.organisation_id(),
            CommandProof::StartStop(a) => a.organisation_id(),
            CommandProof::Security(a) => a.organisation_id(),
        }
    }

    /// Checks that this proof is for `organisation_id`.
    pub fn ensure(&self, organisation_id: i32) -> Result<(), AccessError> {
        if self.organisation_id() == organisation_id {
            Ok(())
        } else {
            Err(AccessError::Forbidden)
        }
    }
}

impl sealed::Sealed for CommandProof {}
impl MayCall for CommandProof {}

/// What may end a charger's connection: changing or deleting the charger (`ChargersWrite`),
/// or a request relayed by another node whose signature was checked.
pub trait MayDisconnect: sealed::Sealed + Sync {}

impl sealed::Sealed for Authorized<cap::ChargersWrite> {}
impl MayDisconnect for Authorized<cap::ChargersWrite> {}
