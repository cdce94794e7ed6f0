//! The organisation tree.

use chrono::Utc;
use entity::organisation;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::{Error, Result, Store};

impl Store {
    /// Creates the root organisation when the tree is empty; returns the root either way.
    pub async fn ensure_root_organisation(&self, name: &str) -> Result<organisation::Model> {
        if let Some(root) = organisation::Entity::find()
            .filter(organisation::Column::ParentId.is_null())
            .order_by_asc(organisation::Column::Id)
            .one(&self.db)
            .await?
        {
            return Ok(root);
        }
        self.insert_organisation(name, None).await
    }

    /// Creates an organisation below `parent_id`.
    pub async fn create_organisation(
        &self,
        name: &str,
        parent_id: i32,
    ) -> Result<organisation::Model> {
        self.insert_organisation(name, Some(parent_id)).await
    }

    async fn insert_organisation(
        &self,
        name: &str,
        parent_id: Option<i32>,
    ) -> Result<organisation::Model> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid("organisation name must not be empty".into()));
        }
        let txn = self.db.begin().await?;
        let parent_path = match parent_id {
            Some(id) => Some(
                organisation::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("organisation {id}")))?
                    .path,
            ),
            None => None,
        };
        // The path holds the row's own id, known only after the insert: write a unique
        // placeholder, then the real path, inside one transaction.
        let placeholder = format!("pending:{}", crate::crypto::random_token(12));
        let created = organisation::ActiveModel {
            name: Set(name.to_owned()),
            parent_id: Set(parent_id),
            path: Set(placeholder),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let path = format!("{}{}/", parent_path.as_deref().unwrap_or("/"), created.id);
        let mut active: organisation::ActiveModel = created.into();
        active.path = Set(path);
        let created = active.update(&txn).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Finds an organisation by id (digits) or by exact name.
    pub async fn find_organisation(&self, reference: &str) -> Result<organisation::Model> {
        let not_found = || Error::NotFound(format!("organisation {reference:?}"));
        if let Ok(id) = reference.parse::<i32>() {
            return organisation::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or_else(not_found);
        }
        let mut matches = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(reference))
            .all(&self.db)
            .await?;
        match matches.len() {
            0 => Err(not_found()),
            1 => Ok(matches.remove(0)),
            n => Err(Error::Conflict(format!(
                "{n} organisations are named {reference:?}; use the id"
            ))),
        }
    }

    /// Every organisation, ordered by path (parents before children).
    pub async fn list_organisations(&self) -> Result<Vec<organisation::Model>> {
        Ok(organisation::Entity::find()
            .order_by_asc(organisation::Column::Path)
            .all(&self.db)
            .await?)
    }

    /// Number of organisations.
    pub async fn count_organisations(&self) -> Result<u64> {
        Ok(organisation::Entity::find().count(&self.db).await?)
    }
}
