//! A per-process cache of software dictionary IDs (name, publisher, version → ID).
//!
//! Dictionary rows are append-only: once committed, an entry keeps its ID forever, so every
//! server instance may cache what it has seen without coordination. Entries learnt inside a
//! transaction are published only after that transaction commits, so a rollback can never
//! leave an ID that does not exist. **Invariant**: nothing deletes or renumbers dictionary
//! rows; a future purge must also clear this cache on every instance.

use std::collections::HashMap;
use std::sync::Mutex;

/// Which dictionary.
pub(crate) const NAMES: usize = 0;
pub(crate) const PUBLISHERS: usize = 1;
pub(crate) const VERSIONS: usize = 2;

/// Entries kept per dictionary before the cache starts over (bounds memory on fleets with
/// very diverse software; a miss only costs a query).
const MAX_ENTRIES: usize = 500_000;

#[derive(Debug, Default)]
pub(crate) struct DictionaryCache {
    maps: Mutex<[HashMap<String, i64>; 3]>,
}

impl DictionaryCache {
    /// The cached ID of each value, `None` for misses.
    pub(crate) fn lookup<'a>(
        &self,
        dictionary: usize,
        values: impl Iterator<Item = &'a String>,
    ) -> Vec<(&'a String, Option<i64>)> {
        let Ok(maps) = self.maps.lock() else {
            return values.map(|v| (v, None)).collect();
        };
        values
            .map(|v| (v, maps[dictionary].get(v).copied()))
            .collect()
    }

    /// Makes committed entries visible.
    pub(crate) fn publish(&self, entries: Vec<(usize, String, i64)>) {
        let Ok(mut maps) = self.maps.lock() else {
            return;
        };
        for (dictionary, value, id) in entries {
            let map = &mut maps[dictionary];
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(value, id);
        }
    }
}
