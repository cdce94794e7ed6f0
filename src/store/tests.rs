//! The store on its own: an in-memory SQLite database with the migrations applied, the
//! queries run against it directly, with proofs from a real [`Principal`] (no HTTP, no
//! charger). The tests through the API run the same code over real sockets; these pin the
//! query-level rules that are easy to break without any endpoint noticing.

use entity::values::{SiteKind, TokenStatus};

use super::*;
use crate::access::{Permission, Principal, cap};

async fn memory() -> Store {
    // One connection: every connection to `sqlite::memory:` is a database of its own.
    let config = DatabaseConfig {
        url: "sqlite::memory:".into(),
        max_connections: 1,
        ..Default::default()
    };
    Store::open(&config).await.expect("in-memory store with migrations")
}

/// A root with two organisations below it; the system principal holds operator on the root.
async fn tree(store: &Store) -> (Principal, entity::organisation::Model, entity::organisation::Model) {
    let root = store.ensure_root_organisation("Root").await.unwrap();
    let system = Principal::system(&root);
    let on_root = system.authorize::<cap::OrganisationsCreate>((&root).into()).unwrap();
    let a = store.create_organisation(&on_root, "A").await.unwrap();
    let b = store.create_organisation(&on_root, "B").await.unwrap();
    (system, a, b)
}

#[tokio::test]
async fn paths_are_materialised_and_subtrees_found_by_prefix() {
    let store = memory().await;
    let (system, a, _) = tree(&store).await;
    let on_a = system.authorize::<cap::OrganisationsCreate>((&a).into()).unwrap();
    let a1 = store.create_organisation(&on_a, "A1").await.unwrap();
    assert_eq!(ancestors_of(&a1.path), vec![root_of(&a.path), a.id, a1.id]);
    assert!(a1.path.starts_with(&a.path));
}

#[tokio::test]
async fn an_organisation_that_holds_something_is_not_deleted_and_says_what() {
    let store = memory().await;
    let (system, a, b) = tree(&store).await;
    let root = store.organisation(root_of(&a.path)).await.unwrap().unwrap();
    let on_root = system.authorize::<cap::OrganisationsCreate>((&root).into()).unwrap();
    let chargers_a = system.authorize::<cap::ChargersWrite>((&a).into()).unwrap();
    store
        .create_site(
            &chargers_a,
            SiteFields {
                name: Some("Depot".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    match store.delete_organisation(&on_root, &a).await {
        Err(Error::Conflict(why)) => assert!(why.contains("1 sites"), "{why}"),
        other => panic!("a non-empty organisation was deleted: {other:?}"),
    }
    store
        .delete_organisation(&on_root, &b)
        .await
        .expect("an empty one goes");
    assert!(store.organisation(b.id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_proof_for_one_organisation_writes_nowhere_else() {
    let store = memory().await;
    let (system, a, b) = tree(&store).await;
    let on_a = system.authorize::<cap::DriversWrite>((&a).into()).unwrap();
    let refused = store.create_id_token(&on_a, &b, "CARD-1", TokenFields::default()).await;
    assert!(matches!(refused, Err(Error::Access(_))), "{refused:?}");
}

#[tokio::test]
async fn token_values_are_unique_per_tree_and_lists_keep_to_the_scope() {
    let store = memory().await;
    let (system, a, b) = tree(&store).await;
    let on_a = system.authorize::<cap::DriversWrite>((&a).into()).unwrap();
    let on_b = system.authorize::<cap::DriversWrite>((&b).into()).unwrap();
    let t = store
        .create_id_token(&on_a, &a, "CARD-1", TokenFields::default())
        .await
        .unwrap();
    assert_eq!(t.status, TokenStatus::Accepted, "the default status");
    // B is in the same tree as A: the value is taken.
    let again = store.create_id_token(&on_b, &b, "CARD-1", TokenFields::default()).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    store
        .create_id_token(&on_b, &b, "CARD-2", TokenFields::default())
        .await
        .unwrap();

    // A user who operates A alone lists A's token, not B's.
    let operator_a = Principal::new(
        99,
        "op-a".into(),
        vec![crate::access::Membership {
            organisation_id: a.id,
            path: a.path.clone(),
            role: crate::access::Role::Operator,
            window: Default::default(),
        }],
    );
    let listed = store
        .id_tokens_in(&operator_a.scope(Permission::DriversRead).unwrap(), Page::default())
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|t| t.token.as_str()).collect::<Vec<_>>(), ["CARD-1"]);
}

#[tokio::test]
async fn closed_sets_are_stored_as_the_text_their_columns_held() {
    let store = memory().await;
    let (system, a, _) = tree(&store).await;
    let on_a = system.authorize::<cap::ChargersWrite>((&a).into()).unwrap();
    let home = store
        .create_site(
            &on_a,
            SiteFields {
                name: Some("Home".into()),
                kind: Some(SiteKind::Home),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let raw = store
        .db
        .query_one(sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT kind FROM site WHERE id = ?",
            [home.id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.try_get::<String>("", "kind").unwrap(), "home");
    assert_eq!(store.site(home.id).await.unwrap().unwrap().kind, SiteKind::Home);
}

#[tokio::test]
async fn a_place_list_keeps_removals_until_every_charger_there_has_them() {
    use entity::values::{TokenDecision, TokenKind};
    let store = memory().await;
    let (system, a, _) = tree(&store).await;
    let chargers_a = system.authorize::<cap::ChargersWrite>((&a).into()).unwrap();
    let id = crate::ocpp::ChargerId::parse("LL-1").unwrap();
    let c = store
        .create_charger(&chargers_a, &id, NewChargerFields::default(), None)
        .await
        .unwrap();
    let place = store
        .place_of(&c)
        .await
        .unwrap()
        .expect("an adopted charger has a place");
    let stored = store.ensure_local_list_place(&place).await.unwrap();
    let listed = |status| ListedToken {
        id_token: "CARD".into(),
        kind: TokenKind::Iso14443,
        status,
        expires_at: None,
        group_id_token: None,
    };
    let kind = TokenKind::Iso14443;
    let v1 = store
        .apply_local_list_changes(
            stored.id,
            vec![("CARD".into(), Some(listed(TokenDecision::Accepted)), kind)],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v1.version, v1.entries), (1, 1));
    let v2 = store
        .apply_local_list_changes(stored.id, vec![("CARD".into(), None, kind)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v2.version, v2.entries), (2, 0));
    // A charger that has version 1 is sent the removal; the whole list no longer has the card.
    assert_eq!(store.local_list_changes(stored.id, Some(1)).await.unwrap().len(), 1);
    assert!(store.local_list_changes(stored.id, None).await.unwrap().is_empty());
    store
        .mark_charger_local_lists(&["LL-1".into()], true, false)
        .await
        .unwrap();
    let mut row = store.charger_local_list("LL-1").await.unwrap().unwrap();
    assert_eq!(row.state, entity::values::LocalListState::Pending);
    row.place_id = Some(stored.id);
    row.place_version = 1;
    store.save_charger_local_list(&row, row.marks, row.state).await.unwrap();
    assert_eq!(
        store.prune_local_list_removals().await.unwrap(),
        0,
        "LL-1 has not had it yet"
    );
    row.place_version = 2;
    store.save_charger_local_list(&row, row.marks, row.state).await.unwrap();
    assert_eq!(store.prune_local_list_removals().await.unwrap(), 1);
    // A mark made while a sync ran survives the sync's save.
    let read = row.marks;
    store
        .mark_charger_local_lists(&["LL-1".into()], false, true)
        .await
        .unwrap();
    row.clear_cache_pending = false;
    store
        .save_charger_local_list(&row, read, entity::values::LocalListState::Synced)
        .await
        .unwrap();
    let now = store.charger_local_list("LL-1").await.unwrap().unwrap();
    assert!(now.clear_cache_pending, "{now:?}");
    assert_eq!(now.state, entity::values::LocalListState::Pending);
}

#[test]
fn the_message_log_gets_a_file_beside_a_sqlite_database_and_none_elsewhere() {
    assert_eq!(
        message_log_url("sqlite://voltgate.db?mode=rwc").as_deref(),
        Some("sqlite://voltgate.messages.db?mode=rwc")
    );
    assert_eq!(
        message_log_url("sqlite:///var/lib/vg/data.sqlite").as_deref(),
        Some("sqlite:///var/lib/vg/data.messages.sqlite")
    );
    assert_eq!(
        message_log_url("sqlite://./dir.v2/db").as_deref(),
        Some("sqlite://./dir.v2/db.messages")
    );
    assert_eq!(message_log_url("sqlite::memory:"), None);
    assert_eq!(message_log_url("sqlite://file.db?mode=memory&cache=shared"), None);
    assert_eq!(message_log_url("postgres://postgres@127.0.0.1/vg"), None);
}
