//! The deployment's interned names: what the guest's `name-id`s stand for.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::RandomState;

use crate::error::ResourceExceeded;

/// A name's id as the guest sees it (`name-id` in the world).
pub(crate) type NameId = u32;

/// Names given out to the guest, in the order they were first interned.
///
/// Ids are never reused or removed, and the table lives in the host state,
/// which outlives instance rebuilds: an id keeps its meaning for the whole
/// life of the deployment in this process.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    // foldhash: every tick interns its candles' markets, and SipHash
    // costs ~12 ns per short name here; seeded per table, so a guest
    // choosing the names it interns cannot aim at collisions.
    ids: HashMap<Arc<str>, NameId, RandomState>,
    names: Vec<Arc<str>>,
    /// Bytes of all names together.
    bytes: u64,
}

impl NameTable {
    /// The id of `name`, given out now if it has none yet, unless that would
    /// make more than `limit` names or more than `byte_limit` bytes of them.
    pub(crate) fn intern(
        &mut self,
        name: &str,
        limit: u32,
        byte_limit: u32,
    ) -> Result<NameId, ResourceExceeded> {
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let id = NameId::try_from(self.names.len())
            .ok()
            .filter(|&id| id < limit)
            .ok_or(ResourceExceeded::InternedNames { limit })?;
        let bytes = self.bytes.saturating_add(name.len() as u64);
        if bytes > u64::from(byte_limit) {
            return Err(ResourceExceeded::InternedNameBytes { limit: byte_limit });
        }
        self.bytes = bytes;
        let name: Arc<str> = Arc::from(name);
        self.ids.insert(Arc::clone(&name), id);
        self.names.push(name);
        Ok(id)
    }

    /// The name behind `id`, if it was given out.
    pub(crate) fn get(&self, id: NameId) -> Option<&Arc<str>> {
        self.names.get(id as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keeps_its_id_and_ids_follow_first_use() {
        let mut names = NameTable::default();
        assert_eq!(names.intern("ETH", 8, 64), Ok(0));
        assert_eq!(names.intern("BTC", 8, 64), Ok(1));
        assert_eq!(names.intern("ETH", 8, 64), Ok(0));
        assert_eq!(names.get(1).map(|name| &**name), Some("BTC"));
        assert_eq!(names.get(2), None);
    }

    #[test]
    fn the_limit_bounds_distinct_names_only() {
        let mut names = NameTable::default();
        assert_eq!(names.intern("a", 2, 64), Ok(0));
        assert_eq!(names.intern("b", 2, 64), Ok(1));
        assert_eq!(
            names.intern("c", 2, 64),
            Err(ResourceExceeded::InternedNames { limit: 2 })
        );
        assert_eq!(names.intern("a", 2, 64), Ok(0));
    }

    #[test]
    fn the_byte_limit_bounds_the_names_together() {
        let mut names = NameTable::default();
        assert_eq!(names.intern("abcd", 8, 6), Ok(0));
        assert_eq!(
            names.intern("efg", 8, 6),
            Err(ResourceExceeded::InternedNameBytes { limit: 6 })
        );
        assert_eq!(names.intern("ef", 8, 6), Ok(1));
    }
}
