//! Categories and tags: list, create, edit, remove. A category's save
//! path is held to the allowed save roots, as an add's is.

use std::collections::HashSet;

use super::actions::{Outcome, clean_tags};
use super::{TorrentService, clean_category};
use crate::clients::qbittorrent::{Category, QbittorrentError};
use crate::services::ServiceError;
use crate::text::quote;

impl TorrentService {
    /// Every category.
    pub async fn categories(&self) -> Result<Vec<Category>, ServiceError> {
        if let Some(categories) = self.mirror.categories() {
            return Ok(categories);
        }
        Ok(self.qbittorrent.categories().await?)
    }

    /// Creates a category; `save_path` empty or `None` for qBittorrent's
    /// default save path.
    pub async fn create_category(
        &self,
        name: &str,
        save_path: Option<&str>,
    ) -> Result<Category, ServiceError> {
        let category = self.checked_category(name, save_path).await?;
        let path = Some(category.save_path.as_str()).filter(|path| !path.is_empty());
        match self.qbittorrent.create_category(&category.name, path).await {
            Ok(()) => {}
            Err(QbittorrentError::Rejected(_)) => {
                return Err(ServiceError::InvalidInput(format!(
                    "category {} exists already",
                    quote(&category.name)
                )));
            }
            Err(error) => return Err(error.into()),
        }
        self.mirror.record_category_path(&category);
        tracing::info!(category = %category.name, "category created");
        Ok(category)
    }

    /// Changes a category's save path (empty or `None`: the default).
    pub async fn edit_category(
        &self,
        name: &str,
        save_path: Option<&str>,
    ) -> Result<Category, ServiceError> {
        let category = self.checked_category(name, save_path).await?;
        match self
            .qbittorrent
            .edit_category(&category.name, &category.save_path)
            .await
        {
            Ok(()) => {}
            Err(QbittorrentError::Rejected(_)) => {
                return Err(ServiceError::NotFound(format!(
                    "no category {}",
                    quote(&category.name)
                )));
            }
            Err(error) => return Err(error.into()),
        }
        self.mirror.record_category_path(&category);
        Ok(category)
    }

    /// Removes categories (their torrents are left without one), in one
    /// call, and answers each name with the category as it was.
    pub async fn remove_categories(
        &self,
        names: &[String],
    ) -> Result<Vec<Outcome<Category>>, ServiceError> {
        let existing = self.qbittorrent.categories().await?;
        let outcomes: Vec<Outcome<Category>> = names
            .iter()
            .map(|name| {
                existing
                    .iter()
                    .find(|category| category.name == *name)
                    .cloned()
                    .ok_or_else(|| ServiceError::NotFound(format!("no category {}", quote(name))))
            })
            .collect();
        let removing: Vec<String> = unique(outcomes.iter().flatten().map(|found| &found.name));
        if !removing.is_empty() {
            self.qbittorrent.remove_categories(&removing).await?;
            self.mirror.forget_categories(&removing);
            tracing::info!(categories = ?removing, "categories removed");
        }
        Ok(outcomes)
    }

    /// Every tag, sorted.
    pub async fn tags(&self) -> Result<Vec<String>, ServiceError> {
        if let Some(tags) = self.mirror.tags() {
            return Ok(tags);
        }
        Ok(self.qbittorrent.tags().await?)
    }

    /// Creates tags (existing ones are left as they are) and answers them.
    pub async fn create_tags(&self, names: Vec<String>) -> Result<Vec<String>, ServiceError> {
        let names = clean_tags(names)?;
        if !names.is_empty() {
            self.qbittorrent.create_tags(&names).await?;
            self.mirror.record_tags(&names);
        }
        Ok(names)
    }

    /// Deletes tags, taking them off every torrent, in one call, and
    /// answers each name (`NotFound` for one that does not exist).
    pub async fn delete_tags(
        &self,
        names: &[String],
    ) -> Result<Vec<Outcome<String>>, ServiceError> {
        let existing: HashSet<String> = self.qbittorrent.tags().await?.into_iter().collect();
        let outcomes: Vec<Outcome<String>> = names
            .iter()
            .map(|name| {
                existing
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ServiceError::NotFound(format!("no tag {}", quote(name))))
            })
            .collect();
        let deleting = unique(outcomes.iter().flatten());
        if !deleting.is_empty() {
            self.qbittorrent.delete_tags(&deleting).await?;
            self.mirror.forget_tags(&deleting);
            tracing::info!(tags = ?deleting, "tags deleted");
        }
        Ok(outcomes)
    }

    /// A category as the user asked for it, its name checked and its save
    /// path held to the allowed roots.
    async fn checked_category(
        &self,
        name: &str,
        save_path: Option<&str>,
    ) -> Result<Category, ServiceError> {
        let name = clean_category(Some(name))?
            .ok_or_else(|| ServiceError::InvalidInput("name must not be empty".to_owned()))?;
        let save_path = match save_path.map(str::trim).filter(|path| !path.is_empty()) {
            Some(path) => self
                .check_save_path(path)
                .await?
                .to_string_lossy()
                .into_owned(),
            None => String::new(),
        };
        Ok(Category { name, save_path })
    }
}

/// Each name once, in the order first given.
fn unique<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = HashSet::new();
    names.filter(|name| seen.insert(*name)).cloned().collect()
}
