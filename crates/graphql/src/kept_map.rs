//! A map shared by every request that starts over when it reaches its
//! bound: what the parse and validation caches keep their results in, so
//! an endless stream of distinct keys costs a bounded amount of memory.

use std::collections::HashMap;
use std::sync::Mutex;

/// Values by text key, at most `bound` of them.
pub(crate) struct KeptMap<V> {
    entries: Mutex<HashMap<String, V>>,
    bound: usize,
}

impl<V: Clone> KeptMap<V> {
    /// An empty map that keeps at most `bound` values.
    pub(crate) fn new(bound: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            bound,
        }
    }

    /// A copy of the value kept for `key`, made under the lock (keep values
    /// cheap to clone: an `Arc` or a small `Copy` type).
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    /// Keeps `value` for `key`; a full map is emptied first.
    pub(crate) fn keep(&self, key: String, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.bound {
                entries.clear();
            }
            entries.insert(key, value);
        }
    }

    /// How many values are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map_or(0, |entries| entries.len())
    }
}
