//! The permission matrix (DESIGN.md "Roles and the permission matrix", docs/api.md "The gate")
//! checked cell by cell over real HTTP: every role, with its membership on organisation A, acts
//! on resources in A1 (below A: inside its subtree) and in B (a sibling of A: outside it).
//!
//! ```text
//! Root(1) ── A ── A1   private site ── charger A1-PRIV, ticket
//!        │            home site    ── charger A1-HOME
//!        └── B         private site ── charger B-PRIV, ticket
//!                      home site    ── charger B-HOME
//! ```
//!
//! Outside every subtree the answer is 404 (existence does not leak); inside without the
//! permission it is 403; a fleet manager sees only `home` sites and chargers, the others answer
//! 404 as if outside. All cells run before anything is asserted: one run lists every wrong cell.

mod common;

use common::world::{PASSWORD, create_org, create_user, id_of};
use common::{Api, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ROOT: i64 = 1;

const OP: &str = "operator";
const SUP: &str = "support";
const MNT: &str = "maintenance";
const FAC: &str = "facility_manager";
const FLT: &str = "fleet_manager";
const ROLES: [&str; 5] = [OP, SUP, MNT, FAC, FLT];

// ---------------------------------------------------------------------------------------------
// helpers

async fn create_site(admin: &Api, org: i64, name: &str, kind: &str) -> i64 {
    let (status, body) = admin
        .post("/sites", json!({"organisation_id": org, "name": name, "kind": kind}))
        .await;
    assert_eq!(status, 201, "create site {name}: {body}");
    id_of(&body, name)
}

async fn create_charger(admin: &Api, id: &str, org: i64, site: i64) {
    let (status, body) = admin
        .post(
            "/chargers",
            json!({"id": id, "organisation_id": org, "site_id": site, "password": "charger-password-1"}),
        )
        .await;
    assert_eq!(status, 201, "create charger {id}: {body}");
}

async fn create_ticket(admin: &Api, org: i64, charger: &str, title: &str) -> i64 {
    let (status, body) = admin
        .post(
            "/tickets",
            json!({"organisation_id": org, "charger_id": charger, "title": title, "body": "cable worn"}),
        )
        .await;
    assert_eq!(status, 201, "create ticket {title}: {body}");
    id_of(&body, title)
}

/// The `id`s in a list answer (ids may be integers or strings).
fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| match &i["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// the actions

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    ReadOrg,
    ListOrgs,
    CreateOrg,
    ListUsers,
    CreateUser,
    ReadUserSessions,
    EndUserSessions,
    ResetUser2fa,
    ResetUserPassword,
    ReadSite,
    ReadHomeSite,
    ListSites,
    ReadCharger,
    ReadHomeCharger,
    ListChargers,
    CreateSite,
    WriteSite,
    WriteHomeSite,
    CreateCharger,
    WriteCharger,
    WriteHomeCharger,
    ReadTicket,
    ListTickets,
    WriteTicket,
    CreateTicket,
    ReadAudit,
    ListDrivers,
    CreateDriver,
    ListTokens,
    ReadToken,
    CreateToken,
    BlockToken,
    ListAccessRules,
    CreateAccessRule,
    ListTariffs,
    CreateTariff,
    ListTransactions,
    ReadDashboard,
    ReadChargerEvents,
    ReadSecurityEvents,
    ReadVariables,
    ReadMessages,
    ChangePassword,
    RequestCertificate,
    ListChargerCertificates,
    RequestSecurityLog,
    ReadLocalList,
    SyncLocalList,
    ReadTokenSync,
    CreateCampaign,
    ListCampaigns,
    ReadCampaign,
    PauseCampaign,
    CreateWebhook,
    ListWebhooks,
    Subscribe,
}

const ALL_ACTIONS: [Action; 56] = [
    Action::ReadOrg,
    Action::ListOrgs,
    Action::CreateOrg,
    Action::ListUsers,
    Action::CreateUser,
    Action::ReadUserSessions,
    Action::EndUserSessions,
    Action::ResetUser2fa,
    Action::ResetUserPassword,
    Action::ReadSite,
    Action::ReadHomeSite,
    Action::ListSites,
    Action::ReadCharger,
    Action::ReadHomeCharger,
    Action::ListChargers,
    Action::CreateSite,
    Action::WriteSite,
    Action::WriteHomeSite,
    Action::CreateCharger,
    Action::WriteCharger,
    Action::WriteHomeCharger,
    Action::ReadTicket,
    Action::ListTickets,
    Action::WriteTicket,
    Action::CreateTicket,
    Action::ReadAudit,
    Action::ListDrivers,
    Action::CreateDriver,
    Action::ListTokens,
    Action::ReadToken,
    Action::CreateToken,
    Action::BlockToken,
    Action::ListAccessRules,
    Action::CreateAccessRule,
    Action::ListTariffs,
    Action::CreateTariff,
    Action::ListTransactions,
    Action::ReadDashboard,
    Action::ReadChargerEvents,
    Action::ReadSecurityEvents,
    Action::ReadVariables,
    Action::ReadMessages,
    Action::ChangePassword,
    Action::RequestCertificate,
    Action::ListChargerCertificates,
    Action::RequestSecurityLog,
    Action::ReadLocalList,
    Action::SyncLocalList,
    Action::ReadTokenSync,
    Action::CreateCampaign,
    Action::ListCampaigns,
    Action::ReadCampaign,
    Action::PauseCampaign,
    Action::CreateWebhook,
    Action::ListWebhooks,
    Action::Subscribe,
];

/// The resources of one column of the table (A1's or B's).
struct Target {
    org: i64,
    site: i64,
    home_site: i64,
    charger: String,
    home_charger: String,
    ticket: i64,
    token: i64,
    /// A user whose home organisation is `org`.
    user: i64,
    /// Driver groups to admit at `site`, one per role row so no rule is created twice.
    groups: Vec<i64>,
    /// A campaign over `org`'s chargers (all offline, so it only waits).
    campaign: i64,
}

/// Performs `action` on `t`; `seq` makes created names unique.
async fn perform(api: &Api, action: Action, t: &Target, seq: usize) -> (u16, Value) {
    use Action::*;
    let org = t.org;
    match action {
        ReadOrg => api.get(&format!("/organisations/{org}")).await,
        ListOrgs => api.get(&format!("/organisations?organisation_id={org}")).await,
        CreateOrg => {
            api.post(
                "/organisations",
                json!({"name": format!("child-{seq}"), "parent_id": org}),
            )
            .await
        }
        ListUsers => api.get(&format!("/users?organisation_id={org}")).await,
        CreateUser => {
            api.post(
                "/users",
                json!({"username": format!("new-user-{seq}"), "password": PASSWORD, "organisation_id": org}),
            )
            .await
        }
        ReadUserSessions => api.get(&format!("/users/{}/sessions", t.user)).await,
        EndUserSessions => api.delete(&format!("/users/{}/sessions", t.user)).await,
        ResetUser2fa => api.delete(&format!("/users/{}/2fa", t.user)).await,
        ResetUserPassword => api.post(&format!("/users/{}/password-reset", t.user), json!({})).await,
        ReadSite => api.get(&format!("/sites/{}", t.site)).await,
        ReadHomeSite => api.get(&format!("/sites/{}", t.home_site)).await,
        ListSites => api.get(&format!("/sites?organisation_id={org}")).await,
        ReadCharger => api.get(&format!("/chargers/{}", t.charger)).await,
        ReadHomeCharger => api.get(&format!("/chargers/{}", t.home_charger)).await,
        ListChargers => api.get(&format!("/chargers?organisation_id={org}")).await,
        CreateSite => {
            api.post(
                "/sites",
                json!({"organisation_id": org, "name": format!("site-{seq}"), "kind": "private"}),
            )
            .await
        }
        WriteSite => {
            api.patch(&format!("/sites/{}", t.site), json!({"name": format!("renamed-{seq}")}))
                .await
        }
        WriteHomeSite => {
            api.patch(
                &format!("/sites/{}", t.home_site),
                json!({"name": format!("renamed-home-{seq}")}),
            )
            .await
        }
        CreateCharger => {
            api.post(
                "/chargers",
                json!({"id": format!("NEW-{seq}"), "organisation_id": org, "password": "charger-password-2"}),
            )
            .await
        }
        WriteCharger => {
            api.patch(
                &format!("/chargers/{}", t.charger),
                json!({"password": format!("new-charger-password-{seq}")}),
            )
            .await
        }
        WriteHomeCharger => {
            api.patch(
                &format!("/chargers/{}", t.home_charger),
                json!({"password": format!("new-charger-password-{seq}")}),
            )
            .await
        }
        ReadTicket => api.get(&format!("/tickets/{}", t.ticket)).await,
        ListTickets => api.get(&format!("/tickets?organisation_id={org}")).await,
        WriteTicket => {
            api.patch(&format!("/tickets/{}", t.ticket), json!({"status": "in_progress"}))
                .await
        }
        CreateTicket => {
            api.post(
                "/tickets",
                json!({"organisation_id": org, "title": format!("ticket-{seq}"), "body": "does not start"}),
            )
            .await
        }
        ReadAudit => api.get(&format!("/audit?organisation_id={org}")).await,
        ReadDashboard => api.get(&format!("/dashboard?organisation_id={org}")).await,
        ListDrivers => api.get(&format!("/drivers?organisation_id={org}")).await,
        CreateDriver => {
            api.post(
                "/drivers",
                json!({"organisation_id": org, "name": format!("driver-{seq}")}),
            )
            .await
        }
        ListTokens => api.get(&format!("/id-tokens?organisation_id={org}")).await,
        ReadToken => api.get(&format!("/id-tokens/{}", t.token)).await,
        CreateToken => {
            api.post(
                "/id-tokens",
                json!({"organisation_id": org, "token": format!("CARD-{seq}")}),
            )
            .await
        }
        BlockToken => {
            api.patch(&format!("/id-tokens/{}", t.token), json!({"status": "Blocked"}))
                .await
        }
        ListAccessRules => api.get(&format!("/access-rules?organisation_id={org}")).await,
        CreateAccessRule => {
            let group = t.groups[(seq / 2) % t.groups.len()];
            api.post("/access-rules", json!({"site_id": t.site, "group_id": group}))
                .await
        }
        ListTariffs => api.get(&format!("/tariffs?organisation_id={org}")).await,
        CreateTariff => {
            api.post(
                "/tariffs",
                json!({"organisation_id": org, "price_per_kwh": 0.3, "currency": "EUR"}),
            )
            .await
        }
        ListTransactions => api.get(&format!("/transactions?organisation_id={org}")).await,
        ReadChargerEvents => api.get(&format!("/chargers/{}/events", t.charger)).await,
        ReadSecurityEvents => api.get(&format!("/chargers/{}/security-events", t.charger)).await,
        ReadVariables => api.get(&format!("/chargers/{}/variables", t.charger)).await,
        ReadMessages => api.get(&format!("/chargers/{}/messages", t.charger)).await,
        ChangePassword => api.post(&format!("/chargers/{}/password", t.charger), json!({})).await,
        RequestCertificate => {
            api.post(&format!("/chargers/{}/certificate", t.charger), json!({}))
                .await
        }
        ListChargerCertificates => api.get(&format!("/chargers/{}/certificates", t.charger)).await,
        RequestSecurityLog => {
            let body = json!({"log_type": "security", "location": "https://logs.example/up"});
            api.post(&format!("/chargers/{}/logs", t.charger), body).await
        }
        ReadLocalList => api.get(&format!("/chargers/{}/local-list", t.charger)).await,
        SyncLocalList => {
            api.post(&format!("/chargers/{}/local-list", t.charger), json!({}))
                .await
        }
        ReadTokenSync => api.get(&format!("/id-tokens/{}/sync", t.token)).await,
        CreateCampaign => {
            let body = json!({"name": format!("campaign-{seq}"), "command": {"kind": "reset", "type": "soft"},
                "target": {"organisation_id": org}});
            api.post("/campaigns", body).await
        }
        ListCampaigns => api.get(&format!("/campaigns?organisation_id={org}")).await,
        ReadCampaign => api.get(&format!("/campaigns/{}", t.campaign)).await,
        PauseCampaign => api.post(&format!("/campaigns/{}/pause", t.campaign), json!({})).await,
        CreateWebhook => {
            let body = json!({"organisation_id": org, "url": format!("https://alerts.example/{seq}"),
                "events": ["charger.fault"]});
            api.post("/webhooks", body).await
        }
        ListWebhooks => api.get(&format!("/webhooks?organisation_id={org}")).await,
        Subscribe => {
            let body = json!({"organisation_id": org, "events": ["charger.fault"], "offline_after_s": seq % 1000});
            api.post("/me/subscriptions", body).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the table: (role, action, status on the A1 resource, status on the B resource)

use Action::*;

#[rustfmt::skip]
const MATRIX: &[(&str, Action, u16, u16)] = &[
    // organisations: read            | operator yes | support yes | maintenance - | facility yes | fleet yes
    (OP,  ReadOrg,          200, 404),
    (SUP, ReadOrg,          200, 404),
    (MNT, ReadOrg,          403, 404),
    (FAC, ReadOrg,          200, 404),
    (FLT, ReadOrg,          200, 404),

    (OP,  ListOrgs,         200, 404),
    (SUP, ListOrgs,         200, 404),
    (MNT, ListOrgs,         403, 404),
    (FAC, ListOrgs,         200, 404),
    (FLT, ListOrgs,         200, 404),

    // organisations: create below own | operator yes | support - | maintenance - | facility - | fleet -
    (OP,  CreateOrg,        201, 404),
    (SUP, CreateOrg,        403, 404),
    (MNT, CreateOrg,        403, 404),
    (FAC, CreateOrg,        403, 404),
    (FLT, CreateOrg,        403, 404),

    // users and memberships: manage  | operator yes | support - | maintenance - | facility - | fleet -
    (OP,  ListUsers,        200, 404),
    (SUP, ListUsers,        403, 404),
    (MNT, ListUsers,        403, 404),
    (FAC, ListUsers,        403, 404),
    (FLT, ListUsers,        403, 404),

    (OP,  CreateUser,       201, 404),
    (SUP, CreateUser,       403, 404),
    (MNT, CreateUser,       403, 404),
    (FAC, CreateUser,       403, 404),
    (FLT, CreateUser,       403, 404),

    // users' sessions, two-factor and password links: the same permission as managing users
    (OP,  ReadUserSessions, 200, 404),
    (SUP, ReadUserSessions, 403, 404),
    (MNT, ReadUserSessions, 403, 404),
    (FAC, ReadUserSessions, 403, 404),
    (FLT, ReadUserSessions, 403, 404),

    (OP,  EndUserSessions,  204, 404),
    (SUP, EndUserSessions,  403, 404),
    (MNT, EndUserSessions,  403, 404),
    (FAC, EndUserSessions,  403, 404),
    (FLT, EndUserSessions,  403, 404),

    (OP,  ResetUser2fa,     204, 404),
    (SUP, ResetUser2fa,     403, 404),
    (MNT, ResetUser2fa,     403, 404),
    (FAC, ResetUser2fa,     403, 404),
    (FLT, ResetUser2fa,     403, 404),

    (OP,  ResetUserPassword, 201, 404),
    (SUP, ResetUserPassword, 403, 404),
    (MNT, ResetUserPassword, 403, 404),
    (FAC, ResetUserPassword, 403, 404),
    (FLT, ResetUserPassword, 403, 404),

    // sites, chargers: read           | operator yes | support yes | maintenance yes | facility yes | fleet home chargers
    // (a private site/charger is invisible to a fleet manager: 404, as if outside)
    (OP,  ReadSite,         200, 404),
    (SUP, ReadSite,         200, 404),
    (MNT, ReadSite,         200, 404),
    (FAC, ReadSite,         200, 404),
    (FLT, ReadSite,         404, 404),

    (OP,  ReadHomeSite,     200, 404),
    (SUP, ReadHomeSite,     200, 404),
    (MNT, ReadHomeSite,     200, 404),
    (FAC, ReadHomeSite,     200, 404),
    (FLT, ReadHomeSite,     200, 404),

    (OP,  ListSites,        200, 404),
    (SUP, ListSites,        200, 404),
    (MNT, ListSites,        200, 404),
    (FAC, ListSites,        200, 404),
    (FLT, ListSites,        200, 404),

    (OP,  ReadCharger,      200, 404),
    (SUP, ReadCharger,      200, 404),
    (MNT, ReadCharger,      200, 404),
    (FAC, ReadCharger,      200, 404),
    (FLT, ReadCharger,      404, 404),

    (OP,  ReadHomeCharger,  200, 404),
    (SUP, ReadHomeCharger,  200, 404),
    (MNT, ReadHomeCharger,  200, 404),
    (FAC, ReadHomeCharger,  200, 404),
    (FLT, ReadHomeCharger,  200, 404),

    (OP,  ListChargers,     200, 404),
    (SUP, ListChargers,     200, 404),
    (MNT, ListChargers,     200, 404),
    (FAC, ListChargers,     200, 404),
    (FLT, ListChargers,     200, 404),

    // a charger's timeline: whoever may read the charger
    (OP,  ReadChargerEvents, 200, 404),
    (SUP, ReadChargerEvents, 200, 404),
    (MNT, ReadChargerEvents, 200, 404),
    (FAC, ReadChargerEvents, 200, 404),
    (FLT, ReadChargerEvents, 404, 404),

    // its security events          | operator yes | support yes | maintenance - | facility yes | fleet -
    (OP,  ReadSecurityEvents, 200, 404),
    (SUP, ReadSecurityEvents, 200, 404),
    (MNT, ReadSecurityEvents, 403, 404),
    (FAC, ReadSecurityEvents, 200, 404),
    (FLT, ReadSecurityEvents, 404, 404),

    // its stored device model / configuration inventory: whoever may read the charger
    (OP,  ReadVariables,    200, 404),
    (SUP, ReadVariables,    200, 404),
    (MNT, ReadVariables,    200, 404),
    (FAC, ReadVariables,    200, 404),
    (FLT, ReadVariables,    404, 404),

    // its OCPP conversation (inspector) | operator yes | support yes | maintenance yes | facility - | fleet -
    (OP,  ReadMessages,     200, 404),
    (SUP, ReadMessages,     200, 404),
    (MNT, ReadMessages,     200, 404),
    (FAC, ReadMessages,     403, 404),
    (FLT, ReadMessages,     404, 404),

    // charger security (password, certificate) | operator yes | support - | maintenance - | facility yes | fleet -
    // (allowed, the charger is offline: 409; a fleet manager cannot see a private site's charger)
    (OP,  ChangePassword,   409, 404),
    (SUP, ChangePassword,   403, 404),
    (MNT, ChangePassword,   403, 404),
    (FAC, ChangePassword,   409, 404),
    (FLT, ChangePassword,   404, 404),
    (OP,  RequestCertificate, 409, 404),
    (SUP, RequestCertificate, 403, 404),
    (MNT, RequestCertificate, 403, 404),
    (FAC, RequestCertificate, 409, 404),
    (FLT, RequestCertificate, 404, 404),
    (OP,  ListChargerCertificates, 409, 404),
    (SUP, ListChargerCertificates, 403, 404),
    (MNT, ListChargerCertificates, 403, 404),
    (FAC, ListChargerCertificates, 409, 404),
    (FLT, ListChargerCertificates, 404, 404),
    (OP,  RequestSecurityLog, 409, 404),
    (SUP, RequestSecurityLog, 403, 404),
    (MNT, RequestSecurityLog, 403, 404),
    (FAC, RequestSecurityLog, 409, 404),
    (FLT, RequestSecurityLog, 404, 404),

    // local lists (issue 20): reading follows token read (drivers: read) on a charger the
    // caller sees | operator yes | support yes | maintenance - | facility - | fleet: not its charger
    (OP,  ReadLocalList,    200, 404),
    (SUP, ReadLocalList,    200, 404),
    (MNT, ReadLocalList,    403, 404),
    (FAC, ReadLocalList,    403, 404),
    (FLT, ReadLocalList,    404, 404),
    // forcing a sync is remote maintenance (the charger is offline: 409 once the gate passed)
    (OP,  SyncLocalList,    409, 404),
    (SUP, SyncLocalList,    409, 404),
    (MNT, SyncLocalList,    409, 404),
    (FAC, SyncLocalList,    409, 404),
    (FLT, SyncLocalList,    404, 404),
    // where a token's latest state has reached: token read
    (OP,  ReadTokenSync,    200, 404),
    (SUP, ReadTokenSync,    200, 404),
    (MNT, ReadTokenSync,    403, 404),
    (FAC, ReadTokenSync,    403, 404),
    (FLT, ReadTokenSync,    200, 404),

    // sites, chargers: write (register, move, delete) | operator yes | support - | maintenance - | facility yes | fleet -
    // (fleet manager: a private site/charger stays invisible, 404; a home one is visible, 403)
    (OP,  CreateSite,       201, 404),
    (SUP, CreateSite,       403, 404),
    (MNT, CreateSite,       403, 404),
    (FAC, CreateSite,       201, 404),
    (FLT, CreateSite,       403, 404),

    (OP,  WriteSite,        200, 404),
    (SUP, WriteSite,        403, 404),
    (MNT, WriteSite,        403, 404),
    (FAC, WriteSite,        200, 404),
    (FLT, WriteSite,        404, 404),

    (OP,  WriteHomeSite,    200, 404),
    (SUP, WriteHomeSite,    403, 404),
    (MNT, WriteHomeSite,    403, 404),
    (FAC, WriteHomeSite,    200, 404),
    (FLT, WriteHomeSite,    403, 404),

    (OP,  CreateCharger,    201, 404),
    (SUP, CreateCharger,    403, 404),
    (MNT, CreateCharger,    403, 404),
    (FAC, CreateCharger,    201, 404),
    (FLT, CreateCharger,    403, 404),

    (OP,  WriteCharger,     200, 404),
    (SUP, WriteCharger,     403, 404),
    (MNT, WriteCharger,     403, 404),
    (FAC, WriteCharger,     200, 404),
    (FLT, WriteCharger,     404, 404),

    (OP,  WriteHomeCharger, 200, 404),
    (SUP, WriteHomeCharger, 403, 404),
    (MNT, WriteHomeCharger, 403, 404),
    (FAC, WriteHomeCharger, 200, 404),
    (FLT, WriteHomeCharger, 403, 404),

    // maintenance tickets: read/write | operator yes | support yes | maintenance yes | facility yes | fleet -
    (OP,  ReadTicket,       200, 404),
    (SUP, ReadTicket,       200, 404),
    (MNT, ReadTicket,       200, 404),
    (FAC, ReadTicket,       200, 404),
    (FLT, ReadTicket,       403, 404),

    (OP,  ListTickets,      200, 404),
    (SUP, ListTickets,      200, 404),
    (MNT, ListTickets,      200, 404),
    (FAC, ListTickets,      200, 404),
    (FLT, ListTickets,      403, 404),

    (OP,  WriteTicket,      200, 404),
    (SUP, WriteTicket,      200, 404),
    (MNT, WriteTicket,      200, 404),
    (FAC, WriteTicket,      200, 404),
    (FLT, WriteTicket,      403, 404),

    (OP,  CreateTicket,     201, 404),
    (SUP, CreateTicket,     201, 404),
    (MNT, CreateTicket,     201, 404),
    (FAC, CreateTicket,     201, 404),
    (FLT, CreateTicket,     403, 404),

    // dashboard                        | operator full | support simplified | maintenance simplified | facility full | fleet full
    (OP,  ReadDashboard,    200, 404),
    (SUP, ReadDashboard,    200, 404),
    (MNT, ReadDashboard,    200, 404),
    (FAC, ReadDashboard,    200, 404),
    (FLT, ReadDashboard,    200, 404),

    // audit log: read                 | operator yes | support yes | maintenance own actions | facility - | fleet -
    (OP,  ReadAudit,        200, 404),
    (SUP, ReadAudit,        200, 404),
    (MNT, ReadAudit,        200, 404),
    (FAC, ReadAudit,        403, 404),
    (FLT, ReadAudit,        403, 404),

    // drivers, groups, RFID tokens: read  | operator yes | support yes | maintenance - | facility - | fleet yes
    (OP,  ListDrivers,      200, 404),
    (SUP, ListDrivers,      200, 404),
    (MNT, ListDrivers,      403, 404),
    (FAC, ListDrivers,      403, 404),
    (FLT, ListDrivers,      200, 404),

    (OP,  ListTokens,       200, 404),
    (SUP, ListTokens,       200, 404),
    (MNT, ListTokens,       403, 404),
    (FAC, ListTokens,       403, 404),
    (FLT, ListTokens,       200, 404),

    (OP,  ReadToken,        200, 404),
    (SUP, ReadToken,        200, 404),
    (MNT, ReadToken,        403, 404),
    (FAC, ReadToken,        403, 404),
    (FLT, ReadToken,        200, 404),

    // drivers, groups, RFID tokens: write | operator yes | support - | maintenance - | facility - | fleet yes
    (OP,  CreateDriver,     201, 404),
    (SUP, CreateDriver,     403, 404),
    (MNT, CreateDriver,     403, 404),
    (FAC, CreateDriver,     403, 404),
    (FLT, CreateDriver,     201, 404),

    (OP,  CreateToken,      201, 404),
    (SUP, CreateToken,      403, 404),
    (MNT, CreateToken,      403, 404),
    (FAC, CreateToken,      403, 404),
    (FLT, CreateToken,      201, 404),

    (OP,  BlockToken,       200, 404),
    (SUP, BlockToken,       403, 404),
    (MNT, BlockToken,       403, 404),
    (FAC, BlockToken,       403, 404),
    (FLT, BlockToken,       200, 404),

    // access rules: read                 | operator yes | support reduced | maintenance - | facility yes | fleet yes
    (OP,  ListAccessRules,  200, 404),
    (SUP, ListAccessRules,  200, 404),
    (MNT, ListAccessRules,  403, 404),
    (FAC, ListAccessRules,  200, 404),
    (FLT, ListAccessRules,  200, 404),

    // access rules, tariffs: write        | operator yes | support - | maintenance - | facility yes | fleet -
    // (a fleet manager cannot see the private site the rule is for: 404)
    (OP,  CreateAccessRule, 201, 404),
    (SUP, CreateAccessRule, 403, 404),
    (MNT, CreateAccessRule, 403, 404),
    (FAC, CreateAccessRule, 201, 404),
    (FLT, CreateAccessRule, 404, 404),

    (OP,  CreateTariff,     201, 404),
    (SUP, CreateTariff,     403, 404),
    (MNT, CreateTariff,     403, 404),
    (FAC, CreateTariff,     201, 404),
    (FLT, CreateTariff,     403, 404),

    // billing (tariffs)                   | operator yes | support - | maintenance - | facility yes | fleet yes
    (OP,  ListTariffs,      200, 404),
    (SUP, ListTariffs,      403, 404),
    (MNT, ListTariffs,      403, 404),
    (FAC, ListTariffs,      200, 404),
    (FLT, ListTariffs,      200, 404),

    // charging log (transactions): read   | operator yes | support yes | maintenance - | facility yes | fleet yes
    (OP,  ListTransactions, 200, 404),
    (SUP, ListTransactions, 200, 404),
    (MNT, ListTransactions, 403, 404),
    (FAC, ListTransactions, 200, 404),
    (FLT, ListTransactions, 200, 404),

    // campaigns (issue 22): remote maintenance | operator yes | support yes | maintenance yes | facility yes | fleet -
    (OP,  CreateCampaign,   201, 404),
    (SUP, CreateCampaign,   201, 404),
    (MNT, CreateCampaign,   201, 404),
    (FAC, CreateCampaign,   201, 404),
    (FLT, CreateCampaign,   403, 404),

    (OP,  ListCampaigns,    200, 404),
    (SUP, ListCampaigns,    200, 404),
    (MNT, ListCampaigns,    200, 404),
    (FAC, ListCampaigns,    200, 404),
    (FLT, ListCampaigns,    403, 404),

    (OP,  ReadCampaign,     200, 404),
    (SUP, ReadCampaign,     200, 404),
    (MNT, ReadCampaign,     200, 404),
    (FAC, ReadCampaign,     200, 404),
    (FLT, ReadCampaign,     403, 404),

    (OP,  PauseCampaign,    200, 404),
    (SUP, PauseCampaign,    200, 404),
    (MNT, PauseCampaign,    200, 404),
    (FAC, PauseCampaign,    200, 404),
    (FLT, PauseCampaign,    403, 404),

    // webhooks and alert rules: manage   | operator yes | support - | maintenance - | facility yes | fleet -
    (OP,  CreateWebhook,    201, 404),
    (SUP, CreateWebhook,    403, 404),
    (MNT, CreateWebhook,    403, 404),
    (FAC, CreateWebhook,    201, 404),
    (FLT, CreateWebhook,    403, 404),

    (OP,  ListWebhooks,     200, 404),
    (SUP, ListWebhooks,     403, 404),
    (MNT, ListWebhooks,     403, 404),
    (FAC, ListWebhooks,     200, 404),
    (FLT, ListWebhooks,     403, 404),

    // e-mail alerts: anyone who reads the subtree's chargers subscribes themself (the mails
    // are filtered per charger as they are sent: tests/webhooks.rs)
    (OP,  Subscribe,        201, 404),
    (SUP, Subscribe,        201, 404),
    (MNT, Subscribe,        201, 404),
    (FAC, Subscribe,        201, 404),
    (FLT, Subscribe,        201, 404),
];

/// The logged-in user holding `role`.
fn user_for<'a>(users: &'a [(&'static str, i64, Api)], role: &str) -> &'a (&'static str, i64, Api) {
    users.iter().find(|(r, _, _)| *r == role).expect("a user per role")
}

/// Checks one cell; a mismatch is pushed onto `failures`.
fn check(
    failures: &mut Vec<String>,
    role: &str,
    action: Action,
    column: &str,
    expected: u16,
    (status, body): (u16, Value),
) {
    let action = format!("{action:?}");
    if status != expected {
        failures.push(format!(
            "{role:<16} {action:<16} on {column:<2}: expected {expected}, got {status} {body}"
        ));
        return;
    }
    let code = match expected {
        403 => "forbidden",
        404 => "not_found",
        _ => return,
    };
    if body["error"] != json!(code) {
        failures.push(format!(
            "{role:<16} {action:<16} on {column:<2}: {expected} without {{\"error\": \"{code}\"}}: {body}"
        ));
    }
}

#[tokio::test]
async fn every_role_gets_exactly_its_matrix_cells_inside_and_outside_its_subtree() {
    // The table covers every (role, action) exactly once.
    for action in ALL_ACTIONS {
        for role in ROLES {
            let n = MATRIX.iter().filter(|(r, a, _, _)| *r == role && *a == action).count();
            assert_eq!(n, 1, "MATRIX has {n} rows for ({role}, {action:?})");
        }
    }
    assert_eq!(MATRIX.len(), ALL_ACTIONS.len() * ROLES.len());

    // A relay for e-mail alerts (nothing is mailed: subscribing sends nothing).
    let t = TestServer::start_with(|c| {
        c.smtp = Some(
            serde_json::from_value(
                json!({"host": "127.0.0.1", "port": 9, "tls": "none", "from": "voltgate <a@example.test>"}),
            )
            .unwrap(),
        );
    })
    .await;
    let admin = t.admin().await;

    // The tree and its resources, all made by the bootstrap operator.
    let a = create_org(&admin, "A", ROOT).await;
    let a1 = create_org(&admin, "A1", a).await;
    let b = create_org(&admin, "B", ROOT).await;

    let a1_site = create_site(&admin, a1, "A1 depot", "private").await;
    let a1_home = create_site(&admin, a1, "A1 employee home", "home").await;
    let b_site = create_site(&admin, b, "B depot", "private").await;
    let b_home = create_site(&admin, b, "B employee home", "home").await;

    create_charger(&admin, "A1-PRIV", a1, a1_site).await;
    create_charger(&admin, "A1-HOME", a1, a1_home).await;
    create_charger(&admin, "B-PRIV", b, b_site).await;
    create_charger(&admin, "B-HOME", b, b_home).await;

    let a1_ticket = create_ticket(&admin, a1, "A1-PRIV", "A1 connector stuck").await;
    let b_ticket = create_ticket(&admin, b, "B-PRIV", "B connector stuck").await;

    let card = |org: i64, value: &'static str| {
        let admin = admin.clone();
        async move {
            let (status, body) = admin
                .post("/id-tokens", json!({"organisation_id": org, "token": value}))
                .await;
            assert_eq!(status, 201, "token {value}: {body}");
            id_of(&body, value)
        }
    };
    let group = |org: i64, name: &'static str| {
        let admin = admin.clone();
        async move {
            let (status, body) = admin
                .post("/driver-groups", json!({"organisation_id": org, "name": name}))
                .await;
            assert_eq!(status, 201, "group {name}: {body}");
            id_of(&body, name)
        }
    };
    let (a1_token, b_token) = (card(a1, "A1-CARD").await, card(b, "B-CARD").await);
    let (mut a1_groups, mut b_groups) = (Vec::new(), Vec::new());
    for name in ["staff-1", "staff-2", "staff-3", "staff-4", "staff-5"] {
        a1_groups.push(group(a1, name).await);
        b_groups.push(group(b, name).await);
    }

    let campaign = |org: i64| {
        let admin = admin.clone();
        async move {
            let body = json!({"name": "overnight resets", "command": {"kind": "reset", "type": "soft"},
                "target": {"organisation_id": org}});
            let (status, body) = admin.post("/campaigns", body).await;
            assert_eq!(status, 201, "campaign in {org}: {body}");
            id_of(&body, "campaign")
        }
    };
    let (a1_campaign, b_campaign) = (campaign(a1).await, campaign(b).await);

    let a1_user = create_user(&admin, "homed-in-a1", a1, &[]).await;
    let b_user = create_user(&admin, "homed-in-b", b, &[]).await;

    let in_a1 = Target {
        user: a1_user,
        org: a1,
        site: a1_site,
        home_site: a1_home,
        charger: "A1-PRIV".into(),
        home_charger: "A1-HOME".into(),
        ticket: a1_ticket,
        token: a1_token,
        groups: a1_groups,
        campaign: a1_campaign,
    };
    let in_b = Target {
        user: b_user,
        org: b,
        site: b_site,
        home_site: b_home,
        charger: "B-PRIV".into(),
        home_charger: "B-HOME".into(),
        ticket: b_ticket,
        token: b_token,
        groups: b_groups,
        campaign: b_campaign,
    };

    // One user per role, each with its membership on A (so A1 is reached through inheritance).
    let mut users: Vec<(&'static str, i64, Api)> = Vec::new();
    for role in ROLES {
        let name = format!("u-{role}");
        let id = create_user(&admin, &name, a, &[(a, role)]).await;
        let (status, body) = admin
            .patch(
                &format!("/users/{id}"),
                json!({"email": format!("{name}@example.test")}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let api = t.login(&name, PASSWORD).await;
        users.push((role, id, api));
    }

    // Every cell, then one verdict.
    let mut failures: Vec<String> = Vec::new();
    let mut seq = 0usize;
    for &(role, action, on_a1, on_b) in MATRIX {
        let (_, _, api) = user_for(&users, role);
        seq += 1;
        let got = perform(api, action, &in_a1, seq).await;
        check(&mut failures, role, action, "A1", on_a1, got);
        seq += 1;
        let got = perform(api, action, &in_b, seq).await;
        check(&mut failures, role, action, "B", on_b, got);
    }

    // Lists are filtered, not just gated: nothing of B in anybody's lists, and a fleet
    // manager's charger and site lists hold only home ones.
    for role in ROLES {
        let (_, _, api) = user_for(&users, role);
        let (status, body) = api.get("/chargers?limit=500").await;
        if status != 200 {
            failures.push(format!("{role:<16} GET /chargers: expected 200, got {status} {body}"));
            continue;
        }
        let listed = ids(&body);
        for hidden in ["B-PRIV", "B-HOME"] {
            if listed.iter().any(|i| i == hidden) {
                failures.push(format!("{role:<16} GET /chargers lists {hidden} (org B): {listed:?}"));
            }
        }
        let must_see: &[&str] = if role == FLT {
            &["A1-HOME"][..]
        } else {
            &["A1-PRIV", "A1-HOME"][..]
        };
        for seen in must_see {
            if !listed.iter().any(|i| i == seen) {
                failures.push(format!("{role:<16} GET /chargers misses {seen}: {listed:?}"));
            }
        }
        if role == FLT && listed.iter().any(|i| i != "A1-HOME") {
            failures.push(format!("{role:<16} GET /chargers lists non-home chargers: {listed:?}"));
        }

        let (status, body) = api.get("/sites?limit=500").await;
        if status != 200 {
            failures.push(format!("{role:<16} GET /sites: expected 200, got {status} {body}"));
            continue;
        }
        let listed = ids(&body);
        for hidden in [b_site, b_home] {
            if listed.contains(&hidden.to_string()) {
                failures.push(format!(
                    "{role:<16} GET /sites lists site {hidden} of org B: {listed:?}"
                ));
            }
        }
        if role == FLT {
            if listed != vec![a1_home.to_string()] {
                failures.push(format!(
                    "{role:<16} GET /sites: expected only the home site {a1_home}, got {listed:?}"
                ));
            }
        } else if !listed.contains(&a1_site.to_string()) || !listed.contains(&a1_home.to_string()) {
            failures.push(format!("{role:<16} GET /sites misses A1's sites: {listed:?}"));
        }
    }

    // Organisations visible to the roles that read them: A's subtree, neither B nor the root.
    for role in [OP, SUP, FAC, FLT] {
        let (_, _, api) = user_for(&users, role);
        let (status, body) = api.get("/organisations?limit=500").await;
        if status != 200 {
            failures.push(format!(
                "{role:<16} GET /organisations: expected 200, got {status} {body}"
            ));
            continue;
        }
        let listed = ids(&body);
        for (hidden, what) in [(b, "B"), (ROOT, "the root")] {
            if listed.contains(&hidden.to_string()) {
                failures.push(format!("{role:<16} GET /organisations lists {what}: {listed:?}"));
            }
        }
        for (seen, what) in [(a, "A"), (a1, "A1")] {
            if !listed.contains(&seen.to_string()) {
                failures.push(format!("{role:<16} GET /organisations misses {what}: {listed:?}"));
            }
        }
    }

    // Audit: maintenance reads only its own rows (it has been refused plenty above, so there
    // are some); support reads none of B.
    {
        let (_, mnt_id, api) = user_for(&users, MNT);
        let (status, body) = api.get("/audit?limit=500").await;
        match body.as_array() {
            Some(rows) if status == 200 => {
                if rows.is_empty() {
                    failures.push("maintenance      GET /audit: no rows of its own refused attempts".into());
                }
                for row in rows {
                    if row["user_id"] != json!(mnt_id) {
                        failures.push(format!(
                            "maintenance      GET /audit shows a row of another user: {row}"
                        ));
                    }
                }
            }
            _ => failures.push(format!(
                "maintenance      GET /audit: expected 200 and a list, got {status} {body}"
            )),
        }
        let (_, _, api) = user_for(&users, SUP);
        let (status, body) = api.get("/audit?limit=500").await;
        match body.as_array() {
            Some(rows) if status == 200 => {
                for row in rows {
                    if row["organisation_id"] == json!(b) {
                        failures.push(format!("support          GET /audit shows a row of org B: {row}"));
                    }
                }
            }
            _ => failures.push(format!(
                "support          GET /audit: expected 200 and a list, got {status} {body}"
            )),
        }
    }

    assert!(
        failures.is_empty(),
        "{} wrong cell(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// no token, no access

/// Sends a request with a raw `Authorization` header (or none).
async fn send_with_header(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<&Value>,
    authorization: Option<&str>,
) -> (u16, Value) {
    let mut request = api.client.request(method, format!("{}{path}", api.base));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("HTTP request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

#[tokio::test]
async fn every_endpoint_without_a_valid_token_answers_401_unauthenticated() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    // Real resources behind every path, so a 401 cannot hide a 404.
    t.register("CP-1", "charger-password-1").await;
    let site = create_site(&admin, ROOT, "root depot", "private").await;
    let ticket = create_ticket(&admin, ROOT, "CP-1", "root ticket").await;

    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/me".into(), None),
        (Method::POST, "/logout".into(), None),
        (Method::GET, "/organisations".into(), None),
        (
            Method::POST,
            "/organisations".into(),
            Some(json!({"name": "X", "parent_id": ROOT})),
        ),
        (Method::GET, format!("/organisations/{ROOT}"), None),
        (
            Method::PATCH,
            format!("/organisations/{ROOT}"),
            Some(json!({"name": "renamed"})),
        ),
        (Method::DELETE, format!("/organisations/{ROOT}"), None),
        (Method::GET, "/users".into(), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"username": "mallory", "password": PASSWORD, "organisation_id": ROOT})),
        ),
        (Method::GET, "/users/1".into(), None),
        (Method::PATCH, "/users/1".into(), Some(json!({"disabled": true}))),
        (Method::DELETE, "/users/1".into(), None),
        (
            Method::PUT,
            "/users/1/memberships".into(),
            Some(json!([{"organisation_id": ROOT, "role": "support"}])),
        ),
        (Method::GET, "/users/1/sessions".into(), None),
        (Method::DELETE, "/users/1/sessions".into(), None),
        (Method::DELETE, "/users/1/2fa".into(), None),
        (Method::POST, "/users/1/password-reset".into(), Some(json!({}))),
        (
            Method::POST,
            "/me/password".into(),
            Some(json!({"current_password": "x", "new_password": "y"})),
        ),
        (Method::GET, "/me/sessions".into(), None),
        (Method::DELETE, "/me/sessions/1".into(), None),
        (Method::GET, "/me/2fa".into(), None),
        (Method::POST, "/me/2fa".into(), None),
        (Method::POST, "/me/2fa/confirm".into(), Some(json!({"otp": "123456"}))),
        (
            Method::POST,
            "/me/2fa/disable".into(),
            Some(json!({"password": "x", "otp": "123456"})),
        ),
        (Method::GET, "/sites".into(), None),
        (
            Method::POST,
            "/sites".into(),
            Some(json!({"organisation_id": ROOT, "name": "s", "kind": "private"})),
        ),
        (Method::GET, format!("/sites/{site}"), None),
        (
            Method::PATCH,
            format!("/sites/{site}"),
            Some(json!({"name": "renamed"})),
        ),
        (Method::DELETE, format!("/sites/{site}"), None),
        (Method::GET, "/chargers".into(), None),
        (
            Method::POST,
            "/chargers".into(),
            Some(json!({"id": "CP-2", "organisation_id": ROOT, "password": "charger-password-2"})),
        ),
        (Method::GET, "/chargers/CP-1".into(), None),
        (
            Method::PATCH,
            "/chargers/CP-1".into(),
            Some(json!({"password": "stolen-password-1"})),
        ),
        (Method::DELETE, "/chargers/CP-1".into(), None),
        (Method::GET, "/tickets".into(), None),
        (
            Method::POST,
            "/tickets".into(),
            Some(json!({"organisation_id": ROOT, "title": "t", "body": "b"})),
        ),
        (Method::GET, format!("/tickets/{ticket}"), None),
        (
            Method::PATCH,
            format!("/tickets/{ticket}"),
            Some(json!({"status": "closed"})),
        ),
        (
            Method::POST,
            format!("/tickets/{ticket}/comments"),
            Some(json!({"body": "hi"})),
        ),
        (Method::GET, "/audit".into(), None),
        (
            Method::POST,
            "/chargers/CP-1/reset".into(),
            Some(json!({"type": "soft"})),
        ),
        (
            Method::POST,
            "/chargers/CP-1/unlock".into(),
            Some(json!({"connector_id": 1})),
        ),
        (Method::GET, "/chargers/CP-1/configuration".into(), None),
        (Method::GET, "/chargers/CP-1/events".into(), None),
        (Method::GET, "/chargers/CP-1/security-events".into(), None),
        (Method::GET, "/chargers/CP-1/variables".into(), None),
        (Method::GET, "/chargers/CP-1/messages".into(), None),
        (Method::POST, "/chargers/CP-1/report".into(), Some(json!({}))),
        (Method::GET, "/drivers".into(), None),
        (
            Method::POST,
            "/drivers".into(),
            Some(json!({"organisation_id": 1, "name": "x"})),
        ),
        (Method::GET, "/driver-groups".into(), None),
        (Method::GET, "/id-tokens".into(), None),
        (
            Method::POST,
            "/id-tokens".into(),
            Some(json!({"organisation_id": 1, "token": "X"})),
        ),
        (Method::GET, "/access-rules".into(), None),
        (Method::GET, "/tariffs".into(), None),
        (Method::GET, "/transactions".into(), None),
        (Method::GET, "/campaigns".into(), None),
        (
            Method::POST,
            "/campaigns".into(),
            Some(json!({"name": "x", "command": {"kind": "reset", "type": "soft"}})),
        ),
        (Method::GET, "/campaigns/1".into(), None),
        (Method::POST, "/campaigns/1/pause".into(), None),
        (Method::POST, "/campaigns/1/resume".into(), None),
        (Method::POST, "/campaigns/1/cancel".into(), None),
        (Method::GET, "/webhooks".into(), None),
        (
            Method::POST,
            "/webhooks".into(),
            Some(json!({"organisation_id": 1, "url": "https://x.example/", "events": ["charger.fault"]})),
        ),
        (Method::GET, "/webhooks/1".into(), None),
        (Method::DELETE, "/webhooks/1".into(), None),
        (Method::GET, "/webhooks/1/deliveries".into(), None),
    ];

    let garbage_hex = "0".repeat(64);
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("a garbage bearer token", Some("Bearer garbage".to_string())),
        ("a well-formed unknown token", Some(format!("Bearer {garbage_hex}"))),
        // The admin's real user name and password, but as Basic auth: not accepted.
        (
            "Basic credentials",
            Some("Basic YWRtaW46YWRtaW4tdGVzdC1wYXNzd29yZA==".to_string()),
        ),
        ("a token without the Bearer scheme", admin.token.clone()),
    ];

    let anonymous = t.anonymous();
    let mut failures: Vec<String> = Vec::new();
    for (what, header) in &credentials {
        for (method, path, body) in &endpoints {
            let (status, answer) =
                send_with_header(&anonymous, method.clone(), path, body.as_ref(), header.as_deref()).await;
            if status != 401 || answer["error"] != json!("unauthenticated") {
                failures.push(format!(
                    "{method} {path} with {what}: expected 401 {{\"error\": \"unauthenticated\"}}, got {status} {answer}"
                ));
            }
        }
    }
    // The same through the harness' own bearer helper.
    let garbage = t.anonymous().with_token("garbage");
    for (method, path, body) in &endpoints {
        let (status, answer) = garbage.send(method.clone(), path, body.clone()).await;
        if status != 401 || answer["error"] != json!("unauthenticated") {
            failures.push(format!(
                "{method} {path} with with_token(\"garbage\"): expected 401 unauthenticated, got {status} {answer}"
            ));
        }
    }

    // Nothing happened, and the unauthenticated parts stay open.
    let (status, body) = admin.get("/me").await;
    if status != 200 {
        failures.push(format!("admin GET /me afterwards: expected 200, got {status} {body}"));
    }
    let (status, body) = admin.get("/chargers/CP-1").await;
    if status != 200 {
        failures.push(format!("CP-1 gone after unauthenticated calls: {status} {body}"));
    }
    let (status, body) = admin.get("/users/1").await;
    if status != 200 || body["disabled"] == json!(true) {
        failures.push(format!("admin changed by unauthenticated calls: {status} {body}"));
    }
    let root_url = anonymous.base.trim_end_matches("/api/v1").to_string();
    let health = anonymous
        .client
        .get(format!("{root_url}/healthz"))
        .send()
        .await
        .expect("HTTP request");
    if health.status().as_u16() != 200 {
        failures.push(format!(
            "GET /healthz without a token: expected 200, got {}",
            health.status()
        ));
    }

    assert!(
        failures.is_empty(),
        "{} endpoint(s) not closed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
