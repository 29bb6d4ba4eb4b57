//! Introspection needs an admin token, like every other root field.
//!
//! `__schema` and `__type` are answered by async-graphql itself, not by a
//! resolver a guard can sit on, so the HTTP layer asks [`refusal`] before
//! running a request. This is deliberately not a schema extension: with any
//! extension installed, async-graphql sends every field of every answer
//! through its per-field hook path, which made a 10,000-torrent list three
//! times slower. `__typename` stays open: it reveals nothing.

use std::collections::HashSet;

use async_graphql::Response;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::AppError;

/// The answer to a request of `document` when it asks for introspection,
/// which the caller may not do.
pub fn refusal(document: &ExecutableDocument) -> Option<Response> {
    if !asks_for_introspection(document) {
        return None;
    }
    let error = AppError::Unauthenticated(
        "introspection needs an admin token: send `Authorization: Bearer <token>`".to_owned(),
    );
    Some(error.into_graphql_response())
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
