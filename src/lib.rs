//! voltgate: an OCPP 1.6 / 2.0.1 central system with organisation-scoped access control.
//!
//! A charger message: socket -> [`gateway`] (frames, one task per connection, rate limit) ->
//! [`ocpp`] (typed request of the negotiated version, or the spec's CALLERROR) -> [`station`]
//! (bounds every value, then reads and writes through [`store`]) -> typed response ->
//! [`gateway`] writes the CALLRESULT, or the CALLERROR a [`station::StationError`] maps to.
//!
//! A remote command: HTTP -> [`api`] or [`console`] (extractors and errors of [`http`]) ->
//! [`commands::execute`] -> the gate ([`services`]' `gate`, over [`access`]) gives a
//! `MayCall` proof and the command is audited -> [`cluster::Fleet::call`] with that proof ->
//! this node's [`gateway`] registry, or another node over NATS as a request signed with the
//! cluster key -> the charger's CALLRESULT back as the HTTP answer, and into the audit row.
//!
//! Every exchange, either way: [`gateway`] -> [`inspector`] (a queue it never waits on) ->
//! secrets replaced -> batches into [`store`]'s message log, pruned by age and per charger.
//!
//! A change on a page: [`gateway`] (connect, disconnect) and [`station`] (boot, status, event,
//! firmware step) tell [`live`] which charger changed -> [`console`]'s `/live` stream, per tab,
//! names those the session may read now -> the page fetches its live parts again. A cluster
//! relays each node's changes to the others over NATS ([`cluster`]). The same changes keep
//! [`tally`]'s per-organisation counts, which the dashboard sums over the caller's scope.
//!
//! An alert: what the store holds (offline chargers, faults, the timeline, campaigns) ->
//! [`alerts`]' watcher, per webhook over its subtree -> a delivery row -> its sender, signed and
//! retried, never on a charger's path.
//!
//! Layers, top down, none importing one above it: [`cli`], [`server`]; [`api`], [`console`];
//! [`http`]; [`alerts`]; [`commands`], [`services`]; [`state`]; [`tally`]; [`cluster`]; [`gateway`];
//! [`inspector`], [`station`];
//! [`store`]; [`access`]; [`config`], [`ocpp`], [`crypto`], [`ca`], [`metrics`], [`live`].

pub mod access;
pub mod alerts;
pub mod api;
pub mod ca;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod console;
pub mod crypto;
pub mod gateway;
pub mod http;
pub mod inspector;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod ocpp;
pub mod server;
pub mod services;
pub mod state;
pub mod station;
pub mod store;
pub mod tally;
pub mod telemetry;
pub mod tls;
