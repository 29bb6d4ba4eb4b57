//! `viewer`: who the token belongs to (the old "test admin access" check).

use async_graphql::{Context, Object, Result, SimpleObject};

use super::guards::{AdminGuard, admin_claims};
use super::scalars::DateTime;
use crate::auth::Claims;

/// The caller, as their token says.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's subject (`sub`).
    pub subject: String,
    /// The token's roles.
    pub roles: Vec<String>,
    /// Always true for a caller who gets this far: every field needs admin.
    pub is_admin: bool,
    /// When the token expires.
    pub expires_at: Option<DateTime>,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who the token belongs to. Succeeds only for an admin token, so it
    /// doubles as the access check.
    #[graphql(guard = "AdminGuard")]
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        Ok(Viewer::from(admin_claims(ctx)?))
    }
}

impl From<&Claims> for Viewer {
    fn from(claims: &Claims) -> Self {
        Self {
            subject: claims.sub.clone(),
            roles: claims.roles.clone(),
            is_admin: claims.is_admin(),
            expires_at: claims.expires_at().map(DateTime),
        }
    }
}
