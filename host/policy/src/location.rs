//! From a rule path or a byte offset back to a line and column of the file.

use stratbox_runtime::policy::{PathSegment, RulePath};
use toml::de::{DeTable, DeValue};

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Byte offset where `path` is written in `text`: the deepest part of the
/// path that exists in the document (the whole file if none does).
pub(crate) fn offset_of(text: &str, path: &RulePath) -> usize {
    let Ok(document) = DeTable::parse(text) else {
        return 0;
    };
    let root = DeValue::Table(document.into_inner());
    let mut current = &root;
    let mut offset = 0;
    for segment in path.segments() {
        let next = match segment {
            PathSegment::Key(key) => current.get(key.as_str()),
            PathSegment::Index(index) => current.get(*index),
        };
        match next {
            Some(value) => {
                offset = value.span().start;
                current = value.get_ref();
            }
            None => break,
        }
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nb = 2\n  c = 3";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 14), (3, 3));
    }

    #[test]
    fn paths_are_found_in_tables_and_arrays() {
        let text = "version = 1\n\n[swap]\ntokens = [\n  \"ETH\",\n  \"DOGE\",\n]\n";
        let path = RulePath::root().key("swap").key("tokens").index(1);
        assert_eq!(line_column(text, offset_of(text, &path)).0, 6);
        let missing = RulePath::root().key("swap").key("max_value");
        assert_eq!(
            line_column(text, offset_of(text, &missing)).0,
            3,
            "deepest existing part"
        );
    }
}
