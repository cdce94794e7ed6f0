//! Who may charge where: one decision that answers Authorize online and fills the local lists
//! chargers use offline, so the two can never disagree. A [`Place`] is everything about a
//! charger the decision reads (its organisation's position in the tree, its site and the groups
//! admitted there); chargers that share one get the same answers and the same list.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::values::{SiteKind, TokenDecision, TokenKind, TokenStatus};
use entity::{access_rule, charger, id_token, organisation, site};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::organisations::{ancestors_of, root_of};
use super::{Result, Store};

/// Where a charger stands, as far as authorisation is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub organisation_id: i32,
    pub root_id: i32,
    /// The organisation and every one above it.
    pub ancestors: Vec<i32>,
    pub site: Option<SitePlace>,
}

/// The site part of a [`Place`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePlace {
    pub id: i32,
    pub kind: SiteKind,
    /// Groups an access rule admits here.
    pub admitted: HashSet<i32>,
}

/// A token as a local list holds it (1.6 `idTagInfo`, 2.0.1 `idTokenInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedToken {
    pub id_token: String,
    pub kind: TokenKind,
    pub status: TokenDecision,
    pub expires_at: Option<DateTime<Utc>>,
    pub group_id_token: Option<String>,
}

/// The group token chargers get as `parentIdTag` / `groupIdToken` for tokens of group `g`.
pub fn group_token(g: i32) -> String {
    format!("GROUP-{g}")
}

impl Place {
    /// The key places are stored under: chargers with the same key share a list.
    pub fn key(&self) -> String {
        match &self.site {
            Some(s) => format!("{}:{}", self.organisation_id, s.id),
            None => format!("{}:-", self.organisation_id),
        }
    }

    /// What Authorize answers for `token` here at `now` (the presented kind is checked apart).
    pub fn decide(&self, token: &id_token::Model, now: DateTime<Utc>) -> TokenDecision {
        if token.root_id != self.root_id {
            return TokenDecision::Invalid;
        }
        let public = self.site.as_ref().is_some_and(|s| s.kind == SiteKind::Public);
        // The token's organisation must be the charger's or above it, unless the site is
        // public (then any token of the same tree will do). Checked before the card's own
        // state, so no organisation learns of another's blocked cards.
        if !public && !self.ancestors.contains(&token.organisation_id) {
            return TokenDecision::Invalid;
        }
        if token.status == TokenStatus::Blocked {
            return TokenDecision::Blocked;
        }
        if token.expires_at.is_some_and(|at| at <= now) {
            return TokenDecision::Expired;
        }
        if let Some(site) = self.site.as_ref().filter(|s| s.kind != SiteKind::Public)
            && !token.group_id.is_some_and(|g| site.admitted.contains(&g))
        {
            return TokenDecision::NotAtThisLocation;
        }
        TokenDecision::Accepted
    }

    /// `token` as this place's local list holds it, or `None` if it has no entry here: the
    /// list holds what Authorize accepts here and what it refuses as blocked or expired (so a
    /// card stopped online is stopped offline too, over any cached answer); cards of other
    /// organisations, which Authorize calls `Invalid` here, are not in it.
    pub fn listed(&self, token: &id_token::Model, now: DateTime<Utc>) -> Option<ListedToken> {
        let status = self.decide(token, now);
        matches!(
            status,
            TokenDecision::Accepted | TokenDecision::Blocked | TokenDecision::Expired
        )
        .then(|| ListedToken {
            id_token: token.token.clone(),
            kind: token.kind,
            status,
            expires_at: token.expires_at.map(crate::ocpp::millis),
            group_id_token: token.group_id.map(group_token),
        })
    }
}

impl Store {
    /// The place of a charger; `None` for one no organisation has adopted.
    pub async fn place_of(&self, c: &charger::Model) -> Result<Option<Place>> {
        let Some(org_id) = c.organisation_id else {
            return Ok(None);
        };
        let Some(org) = self.organisation(org_id).await? else {
            return Ok(None);
        };
        let site = match c.site_id {
            Some(id) => self.site(id).await?,
            None => None,
        };
        let site = match site {
            Some(s) => Some(SitePlace {
                admitted: self.admitted_groups(&[s.id]).await?.remove(&s.id).unwrap_or_default(),
                id: s.id,
                kind: s.kind,
            }),
            None => None,
        };
        Ok(Some(place(&org, site)))
    }

    /// Every charger of the tree under `root_id` with its place, and the place's site.
    pub async fn chargers_of_tree(&self, root_id: i32) -> Result<Vec<(charger::Model, Place, Option<site::Model>)>> {
        let orgs: HashMap<i32, organisation::Model> = organisation::Entity::find()
            .filter(organisation::Column::Path.starts_with(format!("/{root_id}/")))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let chargers = charger::Entity::find()
            .filter(charger::Column::OrganisationId.is_in(orgs.keys().copied()))
            .all(&self.db)
            .await?;
        let sites: HashMap<i32, site::Model> = site::Entity::find()
            .filter(site::Column::OrganisationId.is_in(orgs.keys().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let site_ids: Vec<i32> = sites.keys().copied().collect();
        let mut admitted = self.admitted_groups(&site_ids).await?;
        Ok(chargers
            .into_iter()
            .filter_map(|c| {
                let org = orgs.get(&c.organisation_id?)?;
                let site = c.site_id.and_then(|id| sites.get(&id)).cloned();
                let site_place = site.as_ref().map(|s| SitePlace {
                    id: s.id,
                    kind: s.kind,
                    admitted: admitted.entry(s.id).or_default().clone(),
                });
                Some((c, place(org, site_place), site))
            })
            .collect())
    }

    /// Every token of the tree under `root_id`.
    pub async fn tokens_of_tree(&self, root_id: i32) -> Result<Vec<id_token::Model>> {
        Ok(id_token::Entity::find()
            .filter(id_token::Column::RootId.eq(root_id))
            .all(&self.db)
            .await?)
    }

    /// Groups admitted at each of `site_ids`.
    async fn admitted_groups(&self, site_ids: &[i32]) -> Result<HashMap<i32, HashSet<i32>>> {
        let mut out: HashMap<i32, HashSet<i32>> = HashMap::new();
        for chunk in site_ids.chunks(500) {
            let rules = access_rule::Entity::find()
                .filter(access_rule::Column::SiteId.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            for r in rules {
                out.entry(r.site_id).or_default().insert(r.group_id);
            }
        }
        Ok(out)
    }
}

fn place(org: &organisation::Model, site: Option<SitePlace>) -> Place {
    Place {
        organisation_id: org.id,
        root_id: root_of(&org.path),
        ancestors: ancestors_of(&org.path),
        site,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(org: i32, group: Option<i32>, status: TokenStatus) -> id_token::Model {
        id_token::Model {
            id: 1,
            token: "CARD".into(),
            kind: TokenKind::Iso14443,
            organisation_id: org,
            root_id: 1,
            driver_id: None,
            group_id: group,
            status,
            expires_at: None,
            created_at: Utc::now(),
        }
    }

    fn at(org: i32, ancestors: &[i32], site: Option<(SiteKind, &[i32])>) -> Place {
        Place {
            organisation_id: org,
            root_id: 1,
            ancestors: ancestors.to_vec(),
            site: site.map(|(kind, groups)| SitePlace {
                id: 9,
                kind,
                admitted: groups.iter().copied().collect(),
            }),
        }
    }

    #[test]
    fn decisions_follow_tree_site_and_rules() {
        let now = Utc::now();
        let ok = token(2, Some(5), TokenStatus::Accepted);
        assert_eq!(at(3, &[1, 2, 3], None).decide(&ok, now), TokenDecision::Accepted);
        // A sibling's charger does not take it, unless the site is public.
        assert_eq!(at(4, &[1, 4], None).decide(&ok, now), TokenDecision::Invalid);
        let public = at(4, &[1, 4], Some((SiteKind::Public, &[])));
        assert_eq!(public.decide(&ok, now), TokenDecision::Accepted);
        let private = at(3, &[1, 2, 3], Some((SiteKind::Private, &[6])));
        assert_eq!(private.decide(&ok, now), TokenDecision::NotAtThisLocation);
        assert_eq!(private.listed(&ok, now), None);
        let admitted = at(3, &[1, 2, 3], Some((SiteKind::Home, &[5])));
        assert_eq!(admitted.decide(&ok, now), TokenDecision::Accepted);
        let blocked = token(2, Some(5), TokenStatus::Blocked);
        assert_eq!(private.decide(&blocked, now), TokenDecision::Blocked);
        // A sibling's charger is told nothing of the block.
        assert_eq!(at(4, &[1, 4], None).decide(&blocked, now), TokenDecision::Invalid);
        assert_eq!(at(4, &[1, 4], None).listed(&blocked, now), None);
        let listed = private.listed(&blocked, now).expect("blocked cards are listed");
        assert_eq!(listed.group_id_token.as_deref(), Some("GROUP-5"));
        let mut expired = ok.clone();
        expired.expires_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(admitted.decide(&expired, now), TokenDecision::Expired);
        let mut other_tree = ok;
        other_tree.root_id = 7;
        assert_eq!(public.decide(&other_tree, now), TokenDecision::Invalid);
    }
}
