//! Introspection needs an admin token, like every other root field.
//!
//! `__schema` and `__type` are answered by async-graphql itself, not by a
//! resolver a guard can sit on, so this extension looks at the parsed query
//! instead. `__typename` stays open: it reveals nothing.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, Variables};

use crate::auth::Authentication;
use crate::error::AppError;

/// Refuses `__schema`/`__type` at the root without an admin token.
pub struct RequireAdminForIntrospection;

impl ExtensionFactory for RequireAdminForIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequireAdminForIntrospection)
    }
}

#[async_trait::async_trait]
impl Extension for RequireAdminForIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let is_admin = matches!(
            ctx.data_opt::<Authentication>(),
            Some(Authentication::Verified(claims)) if claims.is_admin()
        );
        if !is_admin && asks_for_introspection(&document) {
            let error = AppError::Unauthenticated(
                "introspection needs an admin token: send `Authorization: Bearer <token>`"
                    .to_owned(),
            );
            let mut extensions = ErrorExtensionValues::default();
            extensions.set("code", error.code());
            let mut server_error = ServerError::new(error.message(), None);
            server_error.extensions = Some(extensions);
            return Err(server_error);
        }
        Ok(document)
    }
}

fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    let mut seen_fragments = HashSet::new();
    document.operations.iter().any(|(_, operation)| {
        selects_introspection(
            document,
            &operation.node.selection_set.node,
            &mut seen_fragments,
        )
    })
}

fn selects_introspection<'a>(
    document: &'a ExecutableDocument,
    selections: &'a SelectionSet,
    seen_fragments: &mut HashSet<&'a str>,
) -> bool {
    selections
        .items
        .iter()
        .any(|selection| match &selection.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
            }
            Selection::InlineFragment(fragment) => {
                selects_introspection(document, &fragment.node.selection_set.node, seen_fragments)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // A fragment cycle is rejected by validation later; stop here.
                seen_fragments.insert(name)
                    && document.fragments.get(name).is_some_and(|fragment| {
                        selects_introspection(
                            document,
                            &fragment.node.selection_set.node,
                            seen_fragments,
                        )
                    })
            }
        })
}
