//! Several nodes, one system. Each charger is connected to one node; [`Fleet`] is how the rest
//! of voltgate finds and reaches it wherever it is.
//!
//! Without `cluster.nats_url` the fleet is this node's registry alone. With it, NATS carries
//! the rest (no home-made protocol):
//! - a JetStream KV bucket `{prefix}_chargers` maps each charger to the node that claims it;
//!   every node replicates it with a watch, so "online" and "where" are local map reads;
//! - a bucket `{prefix}_nodes` holds each node's heartbeat, renewed every third of
//!   `cluster.lease_s`; a claim counts only while its node has been heard within the lease, so
//!   a node that dies without a drain loses its chargers after at most one lease;
//! - a command for a charger on another node is a NATS request to `{prefix}.node.{id}`,
//!   answered by that node's registry with the charger's answer or the reason there was none.

mod remote;
mod slots;

use std::sync::Arc;

use serde_json::Value;

use crate::access::{MayCall, MayDisconnect};
use crate::gateway::{CallFailure, ConnectionInfo, Registry};
use crate::ocpp::OcppVersion;
pub use remote::{Cluster, ClusterError, Origin};
pub use slots::CommandSlots;

/// Where a charger is connected, as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// On this node.
    Here(ConnectionInfo),
    /// On another live node.
    Elsewhere { node: String, version: OcppVersion },
    /// Not connected anywhere (or only to a node that stopped renewing its lease).
    Nowhere,
}

/// The chargers connected to this node and, in a cluster, to the others; cheap to clone.
#[derive(Debug, Clone)]
pub struct Fleet {
    registry: Registry,
    cluster: Option<Arc<Cluster>>,
}

impl Fleet {
    /// This node's chargers only.
    pub fn local(registry: Registry) -> Self {
        Self {
            registry,
            cluster: None,
        }
    }

    /// This node's chargers and those the cluster knows.
    pub fn clustered(registry: Registry, cluster: Arc<Cluster>) -> Self {
        Self {
            registry,
            cluster: Some(cluster),
        }
    }

    /// Where the charger is connected.
    pub fn locate(&self, charger_id: &str) -> Location {
        if let Some(info) = self.registry.connection(charger_id) {
            return Location::Here(info);
        }
        match &self.cluster {
            Some(cluster) => cluster.locate(charger_id),
            None => Location::Nowhere,
        }
    }

    /// Whether other nodes share the fleet (a cluster).
    pub fn spans_nodes(&self) -> bool {
        self.cluster.is_some()
    }

    /// Whether the charger is connected to any live node.
    pub fn is_online(&self, charger_id: &str) -> bool {
        self.locate(charger_id) != Location::Nowhere
    }

    /// Sends a CALL to the charger wherever it is connected and waits for its answer, with the
    /// same timeout and failures as a local call. Only with a proof of the gate (see
    /// [`crate::access::MayCall`]).
    pub async fn call(
        &self,
        proof: &impl MayCall,
        origin: Origin,
        charger_id: &str,
        action: &str,
        payload: Value,
    ) -> Result<Value, CallFailure> {
        match (self.locate(charger_id), &self.cluster) {
            (Location::Here(_), _) => self.registry.call(proof, charger_id, action, payload).await,
            (Location::Elsewhere { node, .. }, Some(cluster)) => {
                cluster.call(&node, origin, charger_id, action, payload).await
            }
            _ => Err(CallFailure::Offline),
        }
    }

    /// Closes the charger's connection wherever it is (it was deleted, or its profile changed).
    pub async fn disconnect(&self, proof: &impl MayDisconnect, origin: Origin, charger_id: &str) {
        self.registry.disconnect(proof, charger_id);
        if let (Location::Elsewhere { node, .. }, Some(cluster)) = (self.locate(charger_id), &self.cluster) {
            cluster.disconnect(&node, origin, charger_id).await;
        }
    }
}
