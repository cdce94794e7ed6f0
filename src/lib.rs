//! voltgate: an OCPP 1.6 / 2.0.1 central system with organisation-scoped access control.
//!
//! Data path of a charger message: socket -> [`gateway`] (frames, one task per connection) ->
//! [`ocpp`] (typed request for the negotiated version) -> [`station`] handler (reads and writes
//! through [`store`]) -> typed response -> [`gateway`] writes the CALLRESULT.

pub mod access;
pub mod api;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod console;
pub mod crypto;
pub mod gateway;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod ocpp;
pub mod server;
pub mod services;
pub mod state;
pub mod station;
pub mod store;
pub mod telemetry;
pub mod tls;
