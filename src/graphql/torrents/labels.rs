//! Categories and tags: the `tags` query, and creating, editing and
//! removing both (the `categories` query is with the other torrent
//! queries).

use async_graphql::{Context, Object, Result};

use super::{Category, service};
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::guards::AdminGuard;

#[derive(Default)]
pub struct LabelQuery;

#[Object]
impl LabelQuery {
    /// Every tag qBittorrent has, sorted.
    #[graphql(guard = "AdminGuard")]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(service(ctx)?.tags().await.map_err(AppError::from)?)
    }
}

#[derive(Default)]
pub struct LabelMutation;

#[Object]
impl LabelMutation {
    /// Creates a category. `BAD_USER_INPUT` when it exists already.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The name; `/` separates subcategories.")] name: String,
        #[graphql(
            desc = "Where its torrents are saved, as qBittorrent sees it; under an allowed root or a library's folder. Empty or left out: qBittorrent's default save path."
        )]
        save_path: Option<String>,
    ) -> Result<Category> {
        let category = service(ctx)?
            .create_category(&name, save_path.as_deref())
            .await
            .map_err(AppError::from)?;
        Ok(category.into())
    }

    /// Changes a category's save path. Torrents in it under automatic
    /// torrent management move with it.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn edit_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's name.")] name: String,
        #[graphql(
            desc = "Where its torrents are saved, as qBittorrent sees it; under an allowed root or a library's folder. Empty or left out: qBittorrent's default save path."
        )]
        save_path: Option<String>,
    ) -> Result<Category> {
        let category = service(ctx)?
            .edit_category(&name, save_path.as_deref())
            .await
            .map_err(AppError::from)?;
        Ok(category.into())
    }

    /// Removes categories (their torrents are left without one), and
    /// answers each as it was; null with `NOT_FOUND` at its place for an
    /// unknown name.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn remove_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The categories' names.")] names: Vec<String>,
    ) -> Result<Vec<Option<Result<Category>>>> {
        let outcomes = service(ctx)?
            .remove_categories(&names)
            .await
            .map_err(AppError::from)?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| {
                Some(
                    outcome
                        .map(Category::from)
                        .map_err(|error| AppError::from(error).into()),
                )
            })
            .collect())
    }

    /// Creates tags (ones that exist already are left as they are), and
    /// answers them, trimmed.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION")]
    async fn create_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tag names: not empty, no commas.")] names: Vec<String>,
    ) -> Result<Vec<String>> {
        Ok(service(ctx)?
            .create_tags(names)
            .await
            .map_err(AppError::from)?)
    }

    /// Deletes tags, taking them off every torrent; null with `NOT_FOUND`
    /// at its place for an unknown name.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION")]
    async fn delete_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tags' names.")] names: Vec<String>,
    ) -> Result<Vec<Option<Result<String>>>> {
        let outcomes = service(ctx)?
            .delete_tags(&names)
            .await
            .map_err(AppError::from)?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| Some(outcome.map_err(|error| AppError::from(error).into())))
            .collect())
    }
}
