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
    let error = match ctx.data_opt::<Authentication>() {
        // A websocket keeps the claims of its connection_init: check the
        // expiry on every operation, not only when the token arrived.
        Some(Authentication::Verified(claims)) if claims.exp < chrono::Utc::now().timestamp() => {
            AppError::Unauthenticated("the token has expired".to_owned())
        }
        Some(Authentication::Verified(claims)) if claims.is_admin() => return Ok(claims),
        Some(Authentication::Verified(_)) => {
            AppError::Forbidden("this operation needs a token with the admin role".to_owned())
        }
        Some(Authentication::Invalid(reason)) => {
            AppError::Unauthenticated(format!("invalid token: {reason}"))
        }
        Some(Authentication::Anonymous) | None => AppError::Unauthenticated(
            "an admin token is required: send `Authorization: Bearer <token>`".to_owned(),
        ),
    };
    Err(error.into())
}
