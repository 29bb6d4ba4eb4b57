//! Answers in the order the request asks for them.
//!
//! async-graphql resolves an object's fields concurrently and files each
//! answer as it completes, so a slow field (a root field that asks
//! qBittorrent, a `files` list behind a `DataLoader`) lands after a quick
//! one selected later. The spec orders a response's entries as the
//! selection set orders its fields, fragments expanded in place; this puts
//! them back, at every level.
//!
//! Type conditions are not evaluated: the order is that of each key's first
//! appearance in any fragment. An entry is only in the answer when its
//! field was collected, so the order differs from the spec's only where a
//! key appears first in a fragment that did not apply and again later.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// Puts `data` (the answer to `operation_name` of `document`) in request
/// order.
pub fn restore(document: &ExecutableDocument, operation_name: Option<&str>, data: &mut Value) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return,
        },
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            match operations.values().next() {
                Some(operation) => operation,
                None => return,
            }
        }
        (DocumentOperations::Multiple(_), None) => return,
    };
    order(document, &[&operation.node.selection_set.node], data);
}

/// One response key and the selection sets its entry's value answers.
struct Entry<'a> {
    key: &'a str,
    selections: Vec<&'a SelectionSet>,
}

fn order(document: &ExecutableDocument, selections: &[&SelectionSet], value: &mut Value) {
    match value {
        Value::Object(_) | Value::List(_) => {
            let entries = collect(document, selections);
            apply(document, &entries, value);
        }
        _ => {}
    }
}

/// Orders `value` (an object, or a list of them at any depth) by `entries`.
fn apply(document: &ExecutableDocument, entries: &[Entry<'_>], value: &mut Value) {
    match value {
        Value::List(items) => {
            for item in items {
                apply(document, entries, item);
            }
        }
        Value::Object(map) => {
            let in_order = map.keys().map(Name::as_str).eq(entries
                .iter()
                .map(|entry| entry.key)
                .filter(|key| map.contains_key(*key)));
            if !in_order {
                let mut ordered = IndexMap::with_capacity(map.len());
                for entry in entries {
                    if let Some((key, value)) = map.shift_remove_entry(entry.key) {
                        ordered.insert(key, value);
                    }
                }
                // Nothing is left unless async-graphql answers a key no
                // selection names; keep it rather than lose it.
                ordered.extend(map.drain(..));
                *map = ordered;
            }
            for entry in entries.iter().filter(|entry| !entry.selections.is_empty()) {
                if let Some(value) = map.get_mut(entry.key) {
                    order(document, &entry.selections, value);
                }
            }
        }
        _ => {}
    }
}

/// The response keys `selections` select, in order of first appearance,
/// each with the selection sets of every field answering it (fields of one
/// key merge, as the spec's `CollectFields` merges them).
fn collect<'a>(
    document: &'a ExecutableDocument,
    selections: &[&'a SelectionSet],
) -> Vec<Entry<'a>> {
    let mut entries: Vec<Entry<'a>> = Vec::new();
    let mut pending: Vec<&'a SelectionSet> = selections.iter().rev().copied().collect();
    // Depth first, in order: a stack of what is left of each set.
    let mut stack: Vec<std::slice::Iter<'a, async_graphql::Positioned<Selection>>> = Vec::new();
    while let Some(set) = pending.pop() {
        stack.push(set.items.iter());
        while let Some(items) = stack.last_mut() {
            let Some(item) = items.next() else {
                stack.pop();
                continue;
            };
            match &item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    let nested = &field.node.selection_set.node;
                    let index = match entries.iter().position(|entry| entry.key == key) {
                        Some(index) => index,
                        None => {
                            entries.push(Entry {
                                key,
                                selections: Vec::new(),
                            });
                            entries.len() - 1
                        }
                    };
                    if !nested.items.is_empty() {
                        entries[index].selections.push(nested);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    // Validation refused cycles before the operation ran.
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        stack.push(fragment.node.selection_set.node.items.iter());
                    }
                }
                Selection::InlineFragment(fragment) => {
                    stack.push(fragment.node.selection_set.node.items.iter());
                }
            }
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(ToString::to_string).collect(),
            _ => Vec::new(),
        }
    }

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(key, value)| (Name::new(key), value.clone()))
                .collect(),
        )
    }

    #[test]
    fn entries_follow_the_selection_with_fragments_expanded_in_place() {
        let document = async_graphql::parser::parse_query(
            "query Q { b: torrents { files { name } hash } ...F a: qbittorrent { connected } }
             query Other { viewer { subject } }
             fragment F on Query { ... { viewer { subject } } }",
        )
        .unwrap();
        let torrent = object(&[
            ("hash", Value::from("h")),
            (
                "files",
                Value::List(vec![object(&[("name", Value::from("n"))])]),
            ),
        ]);
        let mut data = object(&[
            ("a", object(&[("connected", Value::from(true))])),
            ("viewer", object(&[("subject", Value::from("s"))])),
            ("b", Value::List(vec![torrent.clone(), torrent])),
        ]);
        restore(&document, Some("Q"), &mut data);
        assert_eq!(keys(&data), ["b", "viewer", "a"]);
        let Value::Object(root) = &data else {
            unreachable!()
        };
        let Value::List(torrents) = &root["b"] else {
            unreachable!()
        };
        for torrent in torrents {
            assert_eq!(keys(torrent), ["files", "hash"]);
        }
    }

    #[test]
    fn merged_fields_order_their_children_across_both_selections() {
        let document = async_graphql::parser::parse_query(
            "{ q: qbittorrent { version } q: qbittorrent { connected error } }",
        )
        .unwrap();
        let mut data = object(&[(
            "q",
            object(&[
                ("error", Value::Null),
                ("connected", Value::from(true)),
                ("version", Value::from("v")),
            ]),
        )]);
        restore(&document, None, &mut data);
        let Value::Object(root) = &data else {
            unreachable!()
        };
        assert_eq!(keys(&root["q"]), ["version", "connected", "error"]);
    }

    #[test]
    fn an_unknown_operation_is_left_alone() {
        let document =
            async_graphql::parser::parse_query("query A { b a } query B { a b }").unwrap();
        let mut data = object(&[("a", Value::Null), ("b", Value::Null)]);
        restore(&document, Some("C"), &mut data);
        assert_eq!(keys(&data), ["a", "b"]);
        restore(&document, Some("A"), &mut data);
        assert_eq!(keys(&data), ["b", "a"]);
    }
}
