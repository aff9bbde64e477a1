//! The instance's side of the host's name table: each name is interned
//! (`oracle.intern`) or looked up (`oracle.name`) once, then served from
//! here, so oracle reads and ticks carry numbers instead of text.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::bindings::stratbox::strategy::oracle;

/// A name's id (`name-id` in the world).
pub(crate) type NameId = u32;

#[derive(Default)]
struct Names {
    ids: HashMap<&'static str, NameId, rustc_hash::FxBuildHasher>,
    by_id: Vec<Option<&'static str>>,
}

impl Names {
    fn learn(&mut self, name: &'static str, id: NameId) {
        self.ids.insert(name, id);
        let index = id as usize;
        if self.by_id.len() <= index {
            self.by_id.resize(index + 1, None);
        }
        self.by_id[index] = Some(name);
    }
}

thread_local! {
    static NAMES: RefCell<Names> = RefCell::new(Names::default());
}

/// The id of `name`, asking the host the first time.
pub(crate) fn id(name: &str) -> NameId {
    if let Some(id) = NAMES.with_borrow(|names| names.ids.get(name).copied()) {
        return id;
    }
    let id = oracle::intern(name);
    // Leaked once per distinct name: the host bounds how many there are,
    // and an instance keeps every name it learns for its whole life.
    NAMES.with_borrow_mut(|names| names.learn(String::from(name).leak(), id));
    id
}

/// The name behind `id`, asking the host the first time. An id the host
/// never gave out (it sends none) reads as `#<id>` and is not kept.
pub(crate) fn name(id: NameId) -> &'static str {
    let known = NAMES.with_borrow(|names| names.by_id.get(id as usize).copied().flatten());
    if let Some(name) = known {
        return name;
    }
    match oracle::name(id) {
        Some(name) => {
            let name = name.leak();
            NAMES.with_borrow_mut(|names| names.learn(name, id));
            name
        }
        None => format!("#{id}").leak(),
    }
}
