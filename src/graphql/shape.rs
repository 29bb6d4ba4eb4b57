//! Bounds on a query's shape, checked in time linear in its text before
//! async-graphql validates it.
//!
//! async-graphql's complexity and depth checks walk a fragment again each
//! time it is spread, so a 1 KB query whose fragments each spread the one
//! before twice costs 2^n steps before it is refused (at 25 levels, ten
//! seconds of CPU), and a long enough chain of fragments overflows the
//! stack. Here each fragment is measured once, its measure reused wherever
//! it is spread, and the walk stops at the first bound passed. Every
//! selection counts (a field, a fragment spread, an inline fragment), over
//! the whole document: all its operations, and the fragments none of them
//! spreads (async-graphql validates those too). A document that passes
//! holds at most `max_fields` selections once expanded, which bounds the
//! steps of async-graphql's validation after it.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};

use crate::error::AppError;
use crate::text::quote;

/// Directives on one field, spread or inline fragment: `@include` and
/// `@skip` together are two; thousands of repeats are an attack that would
/// answer thousands of errors.
pub const MAX_DIRECTIVES: usize = 4;

/// Nesting of fields and fragments, counted through fragment spreads (the
/// parser allows 64 levels in one definition, but not across a chain of
/// fragments, which async-graphql then follows by recursion).
pub const MAX_NESTING: usize = 64;

/// The limits a query's shape is held to.
#[derive(Debug, Clone, Copy)]
pub struct ShapeLimits {
    /// Selections in the whole document once every fragment is expanded.
    pub max_fields: usize,
    /// Deepest field nesting, as async-graphql's depth limit counts it.
    pub max_depth: usize,
}

/// Why `document` may not run, or `None` when its shape is within `limits`.
pub fn refusal(document: &ExecutableDocument, limits: ShapeLimits) -> Option<AppError> {
    let mut measurer = Measurer {
        document,
        limits,
        fragments: HashMap::new(),
    };
    measurer.document_total().err().map(Refusal::into_error)
}

/// What a selection set adds to the query, relative to where it sits.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    fields: usize,
    depth: usize,
    nesting: usize,
}

impl Measure {
    fn include(&mut self, child: Measure, fields: usize, depth: usize) {
        self.fields = self
            .fields
            .saturating_add(fields)
            .saturating_add(child.fields);
        self.depth = self.depth.max(child.depth + depth);
        self.nesting = self.nesting.max(child.nesting + 1);
    }
}

/// Where a selection set sits: below how many fields, and below how many
/// fields, fragments and spreads.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    depth: usize,
    nesting: usize,
}

impl Position {
    fn below(self, depth: usize) -> Self {
        Self {
            depth: self.depth + depth,
            nesting: self.nesting + 1,
        }
    }
}

enum Refusal {
    Fields(usize),
    Depth(usize),
    Nesting,
    Directives(usize),
    Cycle(String),
}

impl Refusal {
    fn into_error(self) -> AppError {
        AppError::BadUserInput(match self {
            Self::Fields(limit) => format!(
                "the query holds more than {limit} selections (fields, fragment spreads, inline fragments) once its fragments are expanded"
            ),
            Self::Depth(limit) => {
                format!("the query is nested too deep: more than {limit} levels of fields")
            }
            Self::Nesting => {
                format!("the query nests fields and fragments more than {MAX_NESTING} levels deep")
            }
            Self::Directives(count) => format!(
                "a selection carries {count} directives; at most {MAX_DIRECTIVES} are allowed"
            ),
            Self::Cycle(name) => format!("fragment {name} spreads itself"),
        })
    }
}

enum Visit {
    /// Being measured: spreading it again is a cycle.
    InProgress,
    Done(Measure),
}

struct Measurer<'a> {
    document: &'a ExecutableDocument,
    limits: ShapeLimits,
    fragments: HashMap<&'a str, Visit>,
}

impl<'a> Measurer<'a> {
    /// Selections in the whole document: every operation expanded, and
    /// every fragment no operation spreads.
    fn document_total(&mut self) -> Result<usize, Refusal> {
        let mut total = 0usize;
        let mut add = |fields: usize, limit: usize| {
            total = total.saturating_add(fields);
            if total > limit {
                return Err(Refusal::Fields(limit));
            }
            Ok(())
        };
        for (_, operation) in self.document.operations.iter() {
            let set = &operation.node.selection_set.node;
            add(
                self.selection_set(set, Position::default())?.fields,
                self.limits.max_fields,
            )?;
        }
        for name in self.document.fragments.keys() {
            if !self.fragments.contains_key(name.as_str()) {
                let measure = self.fragment(name.as_str(), Position::default())?;
                add(measure.fields, self.limits.max_fields)?;
            }
        }
        Ok(total)
    }

    /// Measures `set`, which sits at `position` in the operation.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        position: Position,
    ) -> Result<Measure, Refusal> {
        if position.nesting > MAX_NESTING {
            return Err(Refusal::Nesting);
        }
        let mut measure = Measure::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    directives(&field.node.directives)?;
                    // async-graphql's depth does not count `__typename`.
                    let depth = usize::from(field.node.name.node != "__typename");
                    let set = &field.node.selection_set.node;
                    let child = self.selection_set(set, position.below(depth))?;
                    measure.include(child, 1, depth);
                }
                Selection::InlineFragment(fragment) => {
                    directives(&fragment.node.directives)?;
                    let set = &fragment.node.selection_set.node;
                    let child = self.selection_set(set, position.below(0))?;
                    measure.include(child, 1, 0);
                }
                Selection::FragmentSpread(spread) => {
                    directives(&spread.node.directives)?;
                    let name = spread.node.fragment_name.node.as_str();
                    let child = self.fragment(name, position.below(0))?;
                    measure.include(child, 1, 0);
                }
            }
            if measure.fields > self.limits.max_fields {
                return Err(Refusal::Fields(self.limits.max_fields));
            }
            if position.depth + measure.depth > self.limits.max_depth {
                return Err(Refusal::Depth(self.limits.max_depth));
            }
            if position.nesting + measure.nesting > MAX_NESTING {
                return Err(Refusal::Nesting);
            }
        }
        Ok(measure)
    }

    /// Measures the fragment `name`, spread at `position`, once per
    /// document; the measure is relative, so it holds wherever it is spread.
    fn fragment(&mut self, name: &'a str, position: Position) -> Result<Measure, Refusal> {
        match self.fragments.get(name) {
            Some(Visit::Done(measure)) => return Ok(*measure),
            Some(Visit::InProgress) => return Err(Refusal::Cycle(quote(name))),
            None => {}
        }
        // An unknown fragment selects nothing here; validation reports it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Measure::default());
        };
        directives(&fragment.node.directives)?;
        self.fragments.insert(name, Visit::InProgress);
        let measure = self.selection_set(&fragment.node.selection_set.node, position)?;
        self.fragments.insert(name, Visit::Done(measure));
        Ok(measure)
    }
}

fn directives(directives: &[Positioned<Directive>]) -> Result<(), Refusal> {
    if directives.len() > MAX_DIRECTIVES {
        return Err(Refusal::Directives(directives.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use async_graphql::parser::parse_query;

    use super::*;

    const LIMITS: ShapeLimits = ShapeLimits {
        max_fields: 1_000,
        max_depth: 10,
    };

    fn check(query: &str) -> Result<(), String> {
        let document = parse_query(query).expect("the query parses");
        match refusal(&document, LIMITS) {
            Some(error) => Err(error.message().to_owned()),
            None => Ok(()),
        }
    }

    /// `query { ...F<levels> }` where each fragment spreads the one before
    /// twice: 2^levels fields once expanded.
    fn doubling(levels: usize) -> String {
        let mut query =
            format!("query {{ ...F{levels} }}\nfragment F0 on Query {{ viewer {{ subject }} }}\n");
        for level in 1..=levels {
            let below = level - 1;
            writeln!(
                query,
                "fragment F{level} on Query {{ ...F{below} ...F{below} }}"
            )
            .unwrap();
        }
        query
    }

    #[test]
    fn everyday_queries_pass() {
        check("{ viewer { subject } torrents { hash name progress files { name } } }").unwrap();
        check(
            "query Page { ...List } fragment List on Query { torrents { ...Row } } \
             fragment Row on Torrent { hash name @include(if: true) }",
        )
        .unwrap();
    }

    #[test]
    fn fragment_doubling_is_refused_without_expanding_it() {
        let started = std::time::Instant::now();
        let error = check(&doubling(60)).unwrap_err();
        assert!(error.contains("more than 1000 selections"), "{error}");
        // Linear work: far below the 2^60 steps of an expansion.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Below the limit the same shape passes: 2^9 - 2 selections, and
        // the operation's spread.
        check(&doubling(7)).unwrap();
    }

    #[test]
    fn fields_count_through_aliases_inline_fragments_and_repeated_spreads() {
        let aliases: String = (0..40)
            .map(|i| format!("a{i}: viewer {{ subject }} "))
            .collect();
        let spreads: String = (0..40).map(|_| "... on Query { ...Many } ").collect();
        let query = format!("{{ {spreads} }} fragment Many on Query {{ {aliases} }}");
        let error = check(&query).unwrap_err();
        assert!(error.contains("more than 1000 selections"), "{error}");
    }

    #[test]
    fn the_whole_document_counts_every_operation_and_unspread_fragment() {
        let fragment = format!("fragment Big on Query {{ {} }}", "__typename ".repeat(300));
        let operations: String = (0..4)
            .map(|index| format!("query Q{index} {{ ...Big }} "))
            .collect();
        let error = check(&format!("{operations} {fragment}")).unwrap_err();
        assert!(error.contains("more than 1000 selections"), "{error}");
        check(&format!(
            "query Q0 {{ ...Big }} query Q1 {{ ...Big }} {fragment}"
        ))
        .unwrap();
        // A fragment no operation spreads is validated all the same.
        let unspread = format!(
            "{{ viewer {{ subject }} }} fragment Z on Query {{ {} }}",
            "__typename ".repeat(1_001)
        );
        assert!(check(&unspread).is_err());
    }

    #[test]
    fn spreads_of_fragments_that_select_nothing_still_count() {
        let spreads = "...Nope ".repeat(400);
        let query = format!(
            "{{ {} }} fragment A on Query {{ {spreads} }}",
            "... on Query { ...A } ".repeat(10)
        );
        let error = check(&query).unwrap_err();
        assert!(error.contains("more than 1000 selections"), "{error}");
    }

    #[test]
    fn depth_counts_through_fragments() {
        let mut query = "{ ...D0 }\n".to_owned();
        for level in 0..12 {
            let next = level + 1;
            writeln!(
                query,
                "fragment D{level} on Query {{ viewer {{ ...D{next} }} }}"
            )
            .unwrap();
        }
        query.push_str("fragment D12 on Query { viewer { subject } }");
        let error = check(&query).unwrap_err();
        assert!(error.contains("more than 10 levels of fields"), "{error}");
    }

    #[test]
    fn a_long_chain_of_fragments_is_refused_before_it_is_followed() {
        let mut query = "{ ...C0 }\n".to_owned();
        for level in 0..5_000 {
            let next = level + 1;
            writeln!(query, "fragment C{level} on Query {{ ...C{next} }}").unwrap();
        }
        query.push_str("fragment C5000 on Query { viewer { subject } }");
        let error = check(&query).unwrap_err();
        assert!(error.contains("fragments more than 64 levels"), "{error}");
    }

    #[test]
    fn cycles_are_refused() {
        let error = check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .unwrap_err();
        assert!(error.contains("spreads itself"), "{error}");
    }

    #[test]
    fn repeated_directives_are_refused() {
        let repeated = "@include(if: true) ".repeat(5);
        let error = check(&format!("{{ viewer {repeated} {{ subject }} }}")).unwrap_err();
        assert!(error.contains("5 directives"), "{error}");
        check("{ viewer @include(if: true) @skip(if: false) { subject } }").unwrap();
    }
}
