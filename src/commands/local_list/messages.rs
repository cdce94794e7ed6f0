//! The local-list CALLs in both versions (GetLocalListVersion, SendLocalList, 1.6 §5.10/§5.15,
//! 2.0.1 D01/D02) built from rust-ocpp's types, and the cut of a list into messages that fit
//! the charger's limits.

use entity::local_list_entry as entry;
use entity::values::TokenDecision;
use rust_ocpp::v1_6::messages::{get_local_list_version as gv16, send_local_list as sl16};
use rust_ocpp::v1_6::types::{AuthorizationData as Data16, AuthorizationStatus, IdTagInfo, UpdateStatus, UpdateType};
use rust_ocpp::v2_0_1::datatypes::authorization_data::AuthorizationData as Data201;
use rust_ocpp::v2_0_1::datatypes::id_token_info_type::IdTokenInfoType;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType;
use rust_ocpp::v2_0_1::enumerations::authorization_status_enum_type::AuthorizationStatusEnumType as Status201;
use rust_ocpp::v2_0_1::enumerations::id_token_enum_type::IdTokenEnumType;
use rust_ocpp::v2_0_1::enumerations::send_local_list_status_enum_type::SendLocalListStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::update_enum_type::UpdateEnumType;
use rust_ocpp::v2_0_1::messages::{get_local_list_version as gv201, send_local_list as sl201};
use serde_json::Value;

use super::super::Error;
use super::super::remote_start::id_token_kind;
use crate::ocpp::OcppVersion;

/// 1.6 idTags are at most 20 characters: a longer token can never be presented to a 1.6
/// charger, so its list leaves it out.
const ID_TAG_MAX: usize = 20;

/// Entries per message when the charger states no limit: small enough for any frame limit.
const DEFAULT_ITEMS: usize = 250;

/// GetLocalListVersion.
pub(super) fn get_version(version: OcppVersion) -> (&'static str, Value) {
    let payload = match version {
        OcppVersion::V16 => serde_json::to_value(gv16::GetLocalListVersionRequest {}),
        OcppVersion::V201 => serde_json::to_value(gv201::GetLocalListVersionRequest {}),
    };
    ("GetLocalListVersion", payload.unwrap_or_default())
}

/// The version a GetLocalListVersion answer names (1.6 `-1`: no local list).
pub(super) fn read_version(version: OcppVersion, payload: Value) -> Result<i32, Error> {
    Ok(match version {
        OcppVersion::V16 => {
            serde_json::from_value::<gv16::GetLocalListVersionResponse>(payload)
                .map_err(Error::BadAnswer)?
                .list_version
        }
        OcppVersion::V201 => {
            serde_json::from_value::<gv201::GetLocalListVersionResponse>(payload)
                .map_err(Error::BadAnswer)?
                .version_number
        }
    })
}

/// How a charger took a SendLocalList.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Taken {
    Accepted,
    VersionMismatch,
    Failed(String),
    NotSupported,
}

/// A SendLocalList of `entries` (removals are entries without a status) as list `list_version`.
pub(super) fn send(
    version: OcppVersion,
    list_version: i32,
    full: bool,
    entries: &[entry::Model],
) -> (&'static str, Value) {
    let payload = match version {
        OcppVersion::V16 => serde_json::to_value(sl16::SendLocalListRequest {
            list_version,
            local_authorization_list: Some(entries.iter().map(data16).collect()),
            update_type: if full {
                UpdateType::Full
            } else {
                UpdateType::Differential
            },
        }),
        OcppVersion::V201 => serde_json::to_value(sl201::SendLocalListRequest {
            version_number: list_version,
            update_type: if full {
                UpdateEnumType::Full
            } else {
                UpdateEnumType::Differential
            },
            local_authorization_list: Some(entries.iter().map(data201).collect()),
        }),
    };
    ("SendLocalList", payload.unwrap_or_default())
}

/// A SendLocalList answer.
pub(super) fn read_send(version: OcppVersion, payload: Value) -> Result<Taken, Error> {
    Ok(match version {
        OcppVersion::V16 => match serde_json::from_value::<sl16::SendLocalListResponse>(payload)
            .map_err(Error::BadAnswer)?
            .status
        {
            UpdateStatus::Accepted => Taken::Accepted,
            UpdateStatus::VersionMismatch => Taken::VersionMismatch,
            UpdateStatus::NotSupported => Taken::NotSupported,
            UpdateStatus::Failed => Taken::Failed("Failed".into()),
        },
        OcppVersion::V201 => {
            let answer = serde_json::from_value::<sl201::SendLocalListResponse>(payload).map_err(Error::BadAnswer)?;
            match answer.status {
                SendLocalListStatusEnumType::Accepted => Taken::Accepted,
                SendLocalListStatusEnumType::VersionMismatch => Taken::VersionMismatch,
                SendLocalListStatusEnumType::Failed => Taken::Failed(match answer.status_info {
                    Some(info) => format!("Failed: {}", info.reason_code),
                    None => "Failed".into(),
                }),
            }
        }
    })
}

/// The entries a charger of `version` can hold.
pub(super) fn fit_for(version: OcppVersion, entries: Vec<entry::Model>) -> Vec<entry::Model> {
    match version {
        OcppVersion::V16 => entries
            .into_iter()
            .filter(|e| e.id_token.chars().count() <= ID_TAG_MAX)
            .collect(),
        OcppVersion::V201 => entries,
    }
}

/// `entries` cut into messages of at most `items` entries and (2.0.1 `BytesPerMessage`)
/// `bytes` bytes of JSON each; always at least one message, so a Full update of an empty
/// list still clears the charger's.
pub(super) fn chunks(
    version: OcppVersion,
    entries: &[entry::Model],
    items: Option<i32>,
    bytes: Option<i32>,
) -> Vec<&[entry::Model]> {
    let items = items
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_ITEMS);
    let bytes = bytes.and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0);
    // What a message carries besides its entries ({"versionNumber":..,"updateType":..,...}).
    const FRAME: usize = 96;
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = FRAME;
    for (i, e) in entries.iter().enumerate() {
        let one = entry_size(version, e) + 1;
        let full = i - start == items || bytes.is_some_and(|b| size + one > b && i > start);
        if full {
            out.push(&entries[start..i]);
            start = i;
            size = FRAME;
        }
        size += one;
    }
    if start < entries.len() || out.is_empty() {
        out.push(&entries[start..]);
    }
    out
}

fn entry_size(version: OcppVersion, e: &entry::Model) -> usize {
    let json = match version {
        OcppVersion::V16 => serde_json::to_string(&data16(e)),
        OcppVersion::V201 => serde_json::to_string(&data201(e)),
    };
    json.map_or(0, |s| s.len())
}

fn data16(e: &entry::Model) -> Data16 {
    Data16 {
        id_tag: e.id_token.clone(),
        id_tag_info: e.status.map(|status| IdTagInfo {
            expiry_date: e.expires_at,
            parent_id_tag: e.group_id_token.clone(),
            status: match status {
                TokenDecision::Accepted => AuthorizationStatus::Accepted,
                TokenDecision::Blocked => AuthorizationStatus::Blocked,
                TokenDecision::Expired => AuthorizationStatus::Expired,
                TokenDecision::Invalid | TokenDecision::NotAtThisLocation => AuthorizationStatus::Invalid,
            },
        }),
    }
}

fn data201(e: &entry::Model) -> Data201 {
    Data201 {
        id_token: IdTokenType {
            id_token: e.id_token.clone(),
            kind: id_token_kind(e.kind),
            additional_info: None,
        },
        id_token_info: e.status.map(|status| IdTokenInfoType {
            status: match status {
                TokenDecision::Accepted => Status201::Accepted,
                TokenDecision::Blocked => Status201::Blocked,
                TokenDecision::Expired => Status201::Expired,
                TokenDecision::Invalid => Status201::Invalid,
                TokenDecision::NotAtThisLocation => Status201::NotAtThisLocation,
            },
            cache_expiry_date_time: e.expires_at,
            group_id_token: e.group_id_token.clone().map(|g| IdTokenType {
                id_token: g,
                kind: IdTokenEnumType::Central,
                additional_info: None,
            }),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::values::TokenKind;

    fn e(token: &str, status: Option<TokenDecision>) -> entry::Model {
        entry::Model {
            place_id: 1,
            id_token: token.into(),
            kind: TokenKind::Iso14443,
            status,
            expires_at: None,
            group_id_token: Some("GROUP-3".into()),
            version: 1,
        }
    }

    #[test]
    fn entries_and_removals_in_both_versions() {
        let list = [e("AA", Some(TokenDecision::Accepted)), e("BB", None)];
        let (action, p) = send(OcppVersion::V16, 4, false, &list);
        assert_eq!(action, "SendLocalList");
        assert_eq!(p["listVersion"], 4);
        assert_eq!(p["updateType"], "Differential");
        assert_eq!(p["localAuthorizationList"][0]["idTagInfo"]["parentIdTag"], "GROUP-3");
        assert!(p["localAuthorizationList"][1].get("idTagInfo").is_none());
        let (_, p) = send(OcppVersion::V201, 5, true, &list);
        assert_eq!(p["versionNumber"], 5);
        assert_eq!(p["updateType"], "Full");
        let first = &p["localAuthorizationList"][0];
        assert_eq!(first["idToken"]["type"], "ISO14443");
        assert_eq!(first["idTokenInfo"]["groupIdToken"]["idToken"], "GROUP-3");
        assert!(p["localAuthorizationList"][1].get("idTokenInfo").is_none());
    }

    #[test]
    fn lists_are_cut_by_items_and_bytes() {
        let list: Vec<_> = (0..10)
            .map(|i| e(&format!("T{i:03}"), Some(TokenDecision::Accepted)))
            .collect();
        let by_items = chunks(OcppVersion::V201, &list, Some(4), None);
        assert_eq!(by_items.iter().map(|c| c.len()).collect::<Vec<_>>(), [4, 4, 2]);
        let one = entry_size(OcppVersion::V201, &list[0]) + 1;
        let by_bytes = chunks(
            OcppVersion::V201,
            &list,
            Some(100),
            Some(i32::try_from(96 + 3 * one).unwrap()),
        );
        assert!(
            by_bytes.iter().all(|c| c.len() <= 3),
            "{:?}",
            by_bytes.iter().map(|c| c.len()).collect::<Vec<_>>()
        );
        assert_eq!(by_bytes.iter().map(|c| c.len()).sum::<usize>(), 10);
        assert_eq!(chunks(OcppVersion::V16, &[], Some(4), None).len(), 1);
        let long = e("ABCDEFGHIJKLMNOPQRSTUVWXYZ", Some(TokenDecision::Accepted));
        assert!(fit_for(OcppVersion::V16, vec![long.clone()]).is_empty());
        assert_eq!(fit_for(OcppVersion::V201, vec![long]).len(), 1);
    }
}
