//! Keeps each place's stored list equal to what Authorize answers there, after the writes the
//! store reports: a token's change is diffed for that token alone at every place of its tree;
//! anything wider recomputes the tree's places once each (never once per charger). Chargers
//! whose list changed are marked pending, and a token that stops being accepted where it was
//! has the cache cleared on the chargers there, list or no list.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::local_list_entry as entry;
use entity::values::{TokenDecision, TokenKind};
use entity::{charger, id_token};

use crate::state::AppState;
use crate::store::{ListedToken, Place, Result, keeps_list};

/// A charger of the tree, where it stands, and whether it keeps a list.
struct Member {
    charger: charger::Model,
    place: Place,
    /// `place.key()`, made once.
    key: String,
    listed: bool,
}

async fn members(state: &AppState, root_id: i32) -> Result<Vec<Member>> {
    Ok(state
        .store
        .chargers_of_tree(root_id)
        .await?
        .into_iter()
        .map(|(charger, place, site)| Member {
            listed: keeps_list(&charger, site.as_ref()),
            key: place.key(),
            charger,
            place,
        })
        .collect())
}

/// One entry as it changes: the token and how the list should hold it (`None`: removed).
type Change = (String, Option<ListedToken>, TokenKind);

fn differs(stored: Option<&entry::Model>, wanted: Option<&ListedToken>) -> bool {
    match (stored.filter(|e| e.status.is_some()), wanted) {
        (None, None) => false,
        (Some(e), Some(w)) => {
            e.status != Some(w.status)
                || e.expires_at != w.expires_at
                || e.group_id_token != w.group_id_token
                || e.kind != w.kind
        }
        _ => true,
    }
}

/// Brings the places of the tree under `root_id` in line: a place for every place where a
/// charger keeps a list (computed from all of the tree's tokens when new, and every place
/// again with `answers`), and the marks of chargers that moved, started or stopped keeping a
/// list. Places no charger keeps a list at any more are dropped.
pub(super) async fn tree(state: &AppState, root_id: i32, answers: bool) -> Result<()> {
    let store = &state.store;
    let members = members(state, root_id).await?;
    let ids: Vec<String> = members.iter().map(|m| m.charger.id.clone()).collect();
    let rows = store.charger_local_lists(&ids).await?;
    let mut wanted: HashMap<String, Place> = HashMap::new();
    for m in members.iter().filter(|m| m.listed) {
        wanted.entry(m.key.clone()).or_insert_with(|| m.place.clone());
    }
    let existing: HashMap<String, i32> = store
        .local_list_places(root_id)
        .await?
        .into_iter()
        .map(|p| (p.key, p.id))
        .collect();
    let recompute = |key: &String| answers || !existing.contains_key(key);
    let tokens = if wanted.keys().any(recompute) {
        store.tokens_of_tree(root_id).await?
    } else {
        Vec::new()
    };
    let now = Utc::now();
    let mut place_ids = HashMap::new();
    for (key, place) in &wanted {
        let stored_place = store.ensure_local_list_place(place).await?;
        place_ids.insert(key.clone(), stored_place.id);
        if !recompute(key) {
            continue;
        }
        let stored: HashMap<String, entry::Model> = store
            .local_list_entries(stored_place.id, None)
            .await?
            .into_iter()
            .map(|e| (e.id_token.clone(), e))
            .collect();
        let listed: HashMap<String, ListedToken> = tokens
            .iter()
            .filter_map(|t| place.listed(t, now))
            .map(|l| (l.id_token.clone(), l))
            .collect();
        let (changes, stopped) = place_changes(&stored, listed);
        let at_place: Vec<String> = members
            .iter()
            .filter(|m| m.listed && &m.key == key)
            .map(|m| m.charger.id.clone())
            .collect();
        store.apply_local_list_changes(stored_place.id, changes).await?;
        if stopped {
            store.mark_charger_local_lists(&at_place, false, true).await?;
        }
    }
    // Chargers that hold another place's list (or none) get this one whole; those that stopped
    // keeping one get it emptied.
    let full: Vec<String> = members
        .iter()
        .filter(|m| {
            let row = rows.get(&m.charger.id);
            let holds = row.and_then(|r| r.place_id);
            match m.listed {
                true => row.is_none() || holds != place_ids.get(&m.key).copied(),
                false => holds.is_some(),
            }
        })
        .map(|m| m.charger.id.clone())
        .collect();
    store.mark_charger_local_lists(&full, true, false).await?;
    let used: HashSet<i32> = place_ids.into_values().collect();
    let unused: Vec<i32> = existing.into_values().filter(|id| !used.contains(id)).collect();
    store.drop_local_list_places(&unused).await
}

/// What turns a place's `stored` entries into `listed`, and whether a token accepted there no
/// longer is (its chargers are then told to clear their authorisation cache too).
fn place_changes(
    stored: &HashMap<String, entry::Model>,
    mut listed: HashMap<String, ListedToken>,
) -> (Vec<Change>, bool) {
    let mut changes: Vec<Change> = Vec::new();
    let mut stopped = false;
    for (token, e) in stored {
        let now_listed = listed.remove(token);
        if differs(Some(e), now_listed.as_ref()) {
            stopped |= e.status == Some(TokenDecision::Accepted)
                && now_listed.as_ref().is_none_or(|l| l.status != TokenDecision::Accepted);
            changes.push((token.clone(), now_listed, e.kind));
        }
    }
    changes.extend(
        listed
            .into_values()
            .map(|l| (l.id_token.clone(), l.kind, l))
            .map(|(t, k, l)| (t, Some(l), k)),
    );
    (changes, stopped)
}

/// A token's change: how it was and how it is (`None`: absent).
pub(super) type TokenChange<'a> = (Option<&'a id_token::Model>, Option<&'a id_token::Model>);

/// Tokens' changes in one tree: each token's entry at each of the tree's places (one write per
/// place for them all), and a cache clear wherever a token was accepted and no longer is.
pub(super) async fn tokens(state: &AppState, root_id: i32, changes: &[TokenChange<'_>]) -> Result<()> {
    let store = &state.store;
    let members = members(state, root_id).await?;
    let now = Utc::now();
    let accepted =
        |t: Option<&id_token::Model>, place: &Place| t.is_some_and(|t| place.decide(t, now) == TokenDecision::Accepted);
    let mut places: HashMap<String, &Place> = HashMap::new();
    let mut to_clear = Vec::new();
    for m in &members {
        places.entry(m.key.clone()).or_insert(&m.place);
        if changes
            .iter()
            .any(|(before, after)| accepted(*before, &m.place) && !accepted(*after, &m.place))
        {
            to_clear.push(m.charger.id.clone());
        }
    }
    store.mark_charger_local_lists(&to_clear, false, true).await?;
    // The last change of a token in the batch is how it is now.
    let mut latest: HashMap<String, (Option<&id_token::Model>, TokenKind)> = HashMap::new();
    for (before, after) in changes {
        if let Some(t) = after.or(*before) {
            latest.insert(t.token.clone(), (*after, t.kind));
        }
    }
    let values: Vec<String> = latest.keys().cloned().collect();
    for stored_place in store.local_list_places(root_id).await? {
        // A place no charger stands at any more waits for the next tree pass to drop it.
        let Some(place) = places.get(&stored_place.key) else {
            continue;
        };
        let mut stored: HashMap<String, entry::Model> = HashMap::new();
        for chunk in values.chunks(500) {
            for e in store.local_list_entries(stored_place.id, Some(chunk)).await? {
                stored.insert(e.id_token.clone(), e);
            }
        }
        let mut changed: Vec<Change> = Vec::new();
        for (value, (after, kind)) in &latest {
            let wanted = after.and_then(|t| place.listed(t, now));
            if differs(stored.get(value), wanted.as_ref()) {
                changed.push((value.clone(), wanted, *kind));
            }
        }
        store.apply_local_list_changes(stored_place.id, changed).await?;
    }
    Ok(())
}
