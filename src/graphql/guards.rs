//! Guards on root fields. Every Query, Mutation and Subscription field
//! carries `#[graphql(guard = "AdminGuard")]`.

use async_graphql::{Context, Guard, Result};

use crate::auth::{Authentication, Claims};
use crate::error::AppError;

/// Admits only a verified token whose `roles` contain `admin`.
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        admin_claims(ctx).map(drop)
    }
}

/// The caller's claims when they are an admin; the guard's error otherwise.
pub fn admin_claims<'a>(ctx: &'a Context<'_>) -> Result<&'a Claims> {
    ctx.data_opt::<Authentication>()
        .unwrap_or(&Authentication::Anonymous)
        .admin_claims()
        .map_err(|denied| AppError::from(denied).into())
}
