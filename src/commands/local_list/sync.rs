//! Brings one charger connected to this node up to date: a cache clear if one is due, what it
//! can hold (asked on every new connection), then GetLocalListVersion and the Full or
//! Differential SendLocalList that makes its list the place's, in as many messages as its
//! limits need. It runs as the platform, through the gate, one at a time per charger.

use chrono::Utc;
use entity::charger_local_list as row;
use entity::values::{LocalListState, RegistrationStatus};
use serde_json::Value;

use super::messages::{self, Taken};
use crate::access::{CommandProof, Principal, cap};
use crate::cluster::{Location, Origin};
use crate::commands::message::{self, Prepared};
use crate::commands::{ClearCache, ConfigurationBody, Error, GetConfigurationKeys, ReplyStatus};
use crate::ocpp::OcppVersion;
use crate::services;
use crate::state::AppState;
use crate::store::{keeps_list, root_of};

/// The charger's end of a sync: its version and the proof the calls go with.
struct Link<'a> {
    state: &'a AppState,
    charger_id: &'a str,
    version: OcppVersion,
    proof: CommandProof,
}

impl Link<'_> {
    async fn call(&self, (action, payload): (&'static str, Value)) -> Result<Value, Error> {
        let origin = Origin {
            user_id: None,
            audit_id: None,
        };
        self.state
            .fleet
            .call(&self.proof, origin, self.charger_id, action, payload)
            .await
            .map_err(|f| Error::from_call(f, "local_list"))
    }

    async fn command<M: message::Message>(&self, msg: &M) -> Result<crate::commands::CommandReply, Error> {
        let Prepared { action, payload } = message::prepare(msg, self.version, 0)?;
        let answer = self.call((action, payload)).await?;
        message::answer::<M>(self.version, answer)
    }

    /// Sends one SendLocalList as list `version` (`whole`: the Full that starts a full sync,
    /// which `full` says this is part of); `Some` state when the sync stops here.
    async fn send_part(
        &self,
        r: &mut row::Model,
        version: i32,
        full: bool,
        whole: bool,
        part: &[entity::local_list_entry::Model],
    ) -> Result<Option<LocalListState>, Error> {
        let answer = self.call(messages::send(self.version, version, whole, part)).await?;
        Ok(match messages::read_send(self.version, answer)? {
            Taken::Accepted => {
                r.list_version = version;
                None
            }
            // It holds another version than voltgate thought: send it all.
            Taken::VersionMismatch if !full => {
                r.full_pending = true;
                Some(LocalListState::Pending)
            }
            Taken::VersionMismatch => {
                r.last_error = Some("VersionMismatch on a Full update".into());
                Some(LocalListState::Failed)
            }
            Taken::NotSupported => {
                r.supported = Some(false);
                Some(LocalListState::Unsupported)
            }
            Taken::Failed(why) => {
                r.last_error = Some(why);
                Some(LocalListState::Failed)
            }
        })
    }

    /// Whether the charger has a local list it uses, and its limits, into `r`; turns the
    /// list on where the charger has one switched off (voltgate was told to use it).
    async fn probe(&self, r: &mut row::Model) -> Result<(), Error> {
        let (keys, enabled_key): (&[&str], &str) = match self.version {
            OcppVersion::V16 => (
                &[
                    "SupportedFeatureProfiles",
                    "LocalAuthListEnabled",
                    "LocalAuthListMaxLength",
                    "SendLocalListMaxLength",
                ],
                "LocalAuthListEnabled",
            ),
            OcppVersion::V201 => (
                &[
                    "LocalAuthListCtrlr.Enabled",
                    "LocalAuthListCtrlr.Available",
                    "LocalAuthListCtrlr.ItemsPerMessage",
                    "LocalAuthListCtrlr.BytesPerMessage",
                ],
                "LocalAuthListCtrlr.Enabled",
            ),
        };
        let reply = self
            .command(&GetConfigurationKeys {
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            })
            .await?;
        let entries = reply.configuration.unwrap_or_default();
        let value = |key: &str| {
            entries
                .iter()
                .find(|e| e.key == key && e.status.is_none_or(|s| s == ReplyStatus::Accepted))
                .and_then(|e| e.value.clone())
        };
        let number = |key: &str| value(key).and_then(|v| v.trim().parse::<i32>().ok());
        let (supported, max_entries) = match self.version {
            OcppVersion::V16 => (
                value("SupportedFeatureProfiles").is_some_and(|p| p.contains("LocalAuthListManagement")),
                number("LocalAuthListMaxLength"),
            ),
            OcppVersion::V201 => {
                let max = self
                    .state
                    .store
                    .variable_max_limit(self.charger_id, "LocalAuthListCtrlr", "Entries")
                    .await?;
                (
                    value(enabled_key).is_some() && value("LocalAuthListCtrlr.Available").as_deref() != Some("false"),
                    max.map(|m| m as i32),
                )
            }
        };
        r.items_per_message = number(match self.version {
            OcppVersion::V16 => "SendLocalListMaxLength",
            OcppVersion::V201 => "LocalAuthListCtrlr.ItemsPerMessage",
        });
        r.bytes_per_message = number("LocalAuthListCtrlr.BytesPerMessage");
        r.max_entries = max_entries;
        r.supported = Some(supported);
        if supported && value(enabled_key).is_some_and(|v| v.eq_ignore_ascii_case("false")) {
            let on = ConfigurationBody {
                key: enabled_key.into(),
                value: "true".into(),
            };
            let reply = self.command(&on).await?;
            let took = match &reply.configuration {
                Some(items) => items.iter().all(|e| e.status.is_none_or(ReplyStatus::took)),
                None => reply.status.took(),
            };
            if !took {
                r.supported = Some(false);
                r.last_error = Some(format!("{enabled_key} is false and the charger would not turn it on"));
            }
        }
        Ok(())
    }
}

/// Syncs `charger_id` if it is connected here and booted; `probe` first asks what it can
/// hold (a new connection). Returns the list state as saved, `None` if there was nothing to do.
pub(super) async fn charger(state: &AppState, charger_id: &str, probe: bool) -> Result<Option<row::Model>, Error> {
    let store = &state.store;
    let Some(c) = store.charger(charger_id).await? else {
        return Ok(None);
    };
    let Location::Here(conn) = state.fleet.locate(charger_id) else {
        return Ok(None);
    };
    let booted = conn
        .boot_accepted
        .unwrap_or(c.registration_status == RegistrationStatus::Accepted && c.last_boot_at.is_some());
    let Some(org_id) = c.organisation_id.filter(|_| booted) else {
        return Ok(None);
    };
    let Some(org) = store.organisation(org_id).await? else {
        return Ok(None);
    };
    let Some(root) = store.organisation(root_of(&org.path)).await? else {
        return Ok(None);
    };
    let proof = Principal::system(&root)
        .authorize::<cap::RemoteMaintenance>((&org).into())
        .map_err(services::Error::from)?;
    let site = match c.site_id {
        Some(id) => store.site(id).await?,
        None => None,
    };
    let listed = keeps_list(&c, site.as_ref());
    let mut r = match store.charger_local_list(charger_id).await? {
        Some(r) => r,
        None if listed => {
            store
                .mark_charger_local_lists(&[charger_id.to_owned()], true, false)
                .await?;
            let Some(r) = store.charger_local_list(charger_id).await? else {
                return Ok(None);
            };
            r
        }
        None => return Ok(None),
    };
    let marks = r.marks;
    let link = Link {
        state,
        charger_id,
        version: conn.version,
        proof: CommandProof::Maintenance(proof),
    };
    let outcome = run(&link, &c, listed, probe, &mut r).await;
    let state_now = match outcome {
        Ok(s) => s,
        // Gone before it answered: it is sent everything again when it is back.
        Err(Error::Offline | Error::Disconnected) => LocalListState::Pending,
        Err(e) => {
            r.last_error = Some(e.to_string());
            LocalListState::Failed
        }
    };
    store.save_charger_local_list(&r, marks, state_now).await?;
    Ok(store.charger_local_list(charger_id).await?)
}

async fn run(
    link: &Link<'_>,
    c: &entity::charger::Model,
    listed: bool,
    probe: bool,
    r: &mut row::Model,
) -> Result<LocalListState, Error> {
    if r.clear_cache_pending {
        let reply = link.command(&ClearCache).await?;
        if reply.status.took() {
            r.clear_cache_pending = false;
            r.cache_cleared_at = Some(Utc::now());
        } else {
            r.last_error = Some(format!("ClearCache answered {}", reply.status));
        }
    }
    if !listed && r.place_id.is_none() && !r.full_pending {
        return Ok(LocalListState::Off);
    }
    if probe || r.supported.is_none() {
        link.probe(r).await?;
    }
    if r.supported == Some(false) {
        r.full_pending = false;
        return Ok(if listed {
            LocalListState::Unsupported
        } else {
            LocalListState::Off
        });
    }
    let on_charger = messages::read_version(link.version, link.call(messages::get_version(link.version)).await?)?;
    if on_charger < 0 {
        r.supported = Some(false);
        return Ok(LocalListState::Unsupported);
    }
    if listed {
        return bring_up_to_date(link, c, on_charger, r).await;
    }
    // Whatever it holds of ours would keep authorising offline: empty it.
    if r.place_id.is_some() || on_charger > 0 {
        let next = on_charger.max(r.list_version) + 1;
        if let Some(stopped) = link.send_part(r, next, true, true, &[]).await? {
            return Ok(stopped);
        }
    }
    r.place_id = None;
    r.place_version = 0;
    r.entries = 0;
    r.full_pending = false;
    r.last_error = None;
    Ok(LocalListState::Off)
}

/// Sends what the charger, holding list `on_charger`, lacks of its place's list: all of it
/// (another version than voltgate sent, another place, or asked for) or the changes since.
async fn bring_up_to_date(
    link: &Link<'_>,
    c: &entity::charger::Model,
    on_charger: i32,
    r: &mut row::Model,
) -> Result<LocalListState, Error> {
    let store = &link.state.store;
    let Some(place) = store.place_of(c).await? else {
        return Ok(LocalListState::Pending);
    };
    // A place the tree pass has not reached yet is made empty here; that pass fills it and
    // marks this charger pending, so it gets the entries as a differential.
    let stored = store.ensure_local_list_place(&place).await?;
    let full = r.full_pending
        || on_charger != r.list_version
        || r.place_id != Some(stored.id)
        || r.place_version > stored.version;
    if !full && r.place_version == stored.version {
        r.last_error = None;
        return Ok(LocalListState::Synced);
    }
    let since = (!full).then_some(r.place_version);
    let entries = messages::fit_for(link.version, store.local_list_changes(stored.id, since).await?);
    if full
        && let Some(max) = r.max_entries.and_then(|m| usize::try_from(m).ok())
        && entries.len() > max
    {
        r.last_error = Some(format!(
            "the list has {} entries and the charger holds at most {max}",
            entries.len()
        ));
        return Ok(LocalListState::TooLarge);
    }
    let mut next = on_charger.max(r.list_version);
    let parts = messages::chunks(link.version, &entries, r.items_per_message, r.bytes_per_message);
    for (i, part) in parts.into_iter().enumerate() {
        next += 1;
        if let Some(stopped) = link.send_part(r, next, full, full && i == 0, part).await? {
            return Ok(stopped);
        }
    }
    r.place_id = Some(stored.id);
    // The list as read may be newer than the place row read before it: an entry carries the
    // version it changed in, and every change of a version commits at once.
    r.place_version = entries.iter().map(|e| e.version).fold(stored.version, i32::max);
    r.entries = stored.entries;
    r.full_pending = false;
    r.synced_at = Some(Utc::now());
    r.last_error = None;
    Ok(LocalListState::Synced)
}
