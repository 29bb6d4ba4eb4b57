//! Logging in with Jellyfin: `login`, the one field without the admin
//! guard, and the caller's address it is rate limited by.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use secrecy::SecretString;

use super::cost;
use super::scalars::DateTime;
use super::viewer::Viewer;
use crate::error::AppError;
use crate::services::login::LoginService;

/// The caller's address, put in the request data by the HTTP layer (for
/// login rate limits).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

/// A successful `login`.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// A torrentql admin token: send it as `Authorization: Bearer <token>`.
    token: String,
    /// When the token stops working: log in again then.
    expires_at: DateTime,
    /// Who the token belongs to, as `viewer` would answer with it.
    viewer: Viewer,
}

#[derive(Default)]
pub struct LoginMutation;

#[Object]
impl LoginMutation {
    /// Logs in with a Jellyfin account. An administrator gets a torrentql
    /// admin token; anyone else `FORBIDDEN`, wrong credentials
    /// `UNAUTHENTICATED`. Attempts are rate limited (`RATE_LIMITED`). The
    /// only field that needs no token.
    #[graphql(complexity = "cost::HEAVY_MUTATION + child_complexity")]
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Jellyfin user's name.")] username: String,
        #[graphql(desc = "The Jellyfin user's password; never logged.")] password: String,
    ) -> Result<LoginPayload> {
        let client = ctx.data_opt::<ClientAddress>().map(|address| address.0);
        let session = ctx
            .data::<Arc<LoginService>>()?
            .login(&username, SecretString::from(password), client)
            .await
            .map_err(AppError::from)?;
        Ok(LoginPayload {
            token: session.token,
            expires_at: DateTime(session.expires_at),
            viewer: Viewer::from(&session.claims),
        })
    }
}
