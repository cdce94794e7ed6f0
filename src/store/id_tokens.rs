//! Id tokens (RFID cards and the like); values are unique per organisation tree.

use chrono::{DateTime, Utc};
use entity::values::{TokenKind, TokenStatus};
use entity::{id_token, organisation};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::organisations::root_of;
use super::scope::{Page, owned_page};
use super::{Result, Store, Touch, conflict_on_unique};
use crate::access::{Authorized, Scope, cap};

/// New or changed id token fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct TokenFields {
    pub kind: Option<TokenKind>,
    pub driver_id: Option<Option<i32>>,
    pub group_id: Option<Option<i32>>,
    pub status: Option<TokenStatus>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl Store {
    /// An id token by id.
    pub async fn id_token(&self, id: i32) -> Result<Option<id_token::Model>> {
        Ok(id_token::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// An id token by value within an organisation tree.
    pub async fn id_token_by_value(&self, root_id: i32, token: &str) -> Result<Option<id_token::Model>> {
        Ok(id_token::Entity::find()
            .filter(id_token::Column::RootId.eq(root_id))
            .filter(id_token::Column::Token.eq(token))
            .one(&self.db)
            .await?)
    }

    /// Tokens in the scope.
    pub async fn id_tokens_in(&self, scope: &Scope, page: Page) -> Result<Vec<id_token::Model>> {
        owned_page::<id_token::Entity>(
            &self.db,
            scope,
            page,
            id_token::Column::OrganisationId,
            id_token::Column::Id,
        )
        .await
    }

    /// Creates a token in `org` (409 if the value exists in the same tree).
    pub async fn create_id_token(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        org: &organisation::Model,
        token: &str,
        fields: TokenFields,
    ) -> Result<id_token::Model> {
        auth.ensure(org.id)?;
        id_token::ActiveModel {
            token: Set(token.to_owned()),
            kind: Set(fields.kind.unwrap_or(TokenKind::Iso14443)),
            organisation_id: Set(org.id),
            root_id: Set(root_of(&org.path)),
            driver_id: Set(fields.driver_id.flatten()),
            group_id: Set(fields.group_id.flatten()),
            status: Set(fields.status.unwrap_or(TokenStatus::Accepted)),
            expires_at: Set(fields.expires_at.flatten()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| conflict_on_unique(e, "this token value cannot be registered here".into()))
        .inspect(|t| self.touched_token(None, Some(t)))
    }

    /// Changes a token.
    pub async fn update_id_token(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        t: id_token::Model,
        f: TokenFields,
    ) -> Result<id_token::Model> {
        auth.ensure(t.organisation_id)?;
        let before = t.clone();
        let mut active: id_token::ActiveModel = t.into();
        if let Some(kind) = f.kind {
            active.kind = Set(kind);
        }
        if let Some(driver) = f.driver_id {
            active.driver_id = Set(driver);
        }
        if let Some(group) = f.group_id {
            active.group_id = Set(group);
        }
        if let Some(status) = f.status {
            active.status = Set(status);
        }
        if let Some(expires) = f.expires_at {
            active.expires_at = Set(expires);
        }
        let after = active.update(&self.db).await?;
        self.touched_token(Some(&before), Some(&after));
        Ok(after)
    }

    /// Deletes a token.
    pub async fn delete_id_token(&self, auth: &Authorized<cap::DriversWrite>, t: &id_token::Model) -> Result<()> {
        auth.ensure(t.organisation_id)?;
        id_token::Entity::delete_by_id(t.id).exec(&self.db).await?;
        self.touched_token(Some(t), None);
        Ok(())
    }

    fn touched_token(&self, before: Option<&id_token::Model>, after: Option<&id_token::Model>) {
        let Some(root_id) = after.or(before).map(|t| t.root_id) else {
            return;
        };
        self.touched(Touch::Token {
            root_id,
            before: before.cloned().map(Box::new),
            after: after.cloned().map(Box::new),
        });
    }
}
