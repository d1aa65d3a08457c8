//! A packed-key map split in two by a bit of the key's hash. Each worker counts into its own
//! maps, and after all reading the workers' maps merge: hundreds of thousands of keys each,
//! on one core, while the other waits. Split, shard `i` of one map merges into shard `i` of the
//! other independently, so both cores merge.

use hashbrown::HashMap;

/// Two shards: one per core of the machine this was tuned on; more shards would only help
/// with more cores.
const SHARDS: usize = 2;

/// A map from packed keys, in shards (see the module comment).
#[derive(Debug, Clone)]
pub(super) struct Sharded<V> {
    shards: [HashMap<u64, V>; SHARDS],
}

impl<V> Default for Sharded<V> {
    fn default() -> Self {
        Sharded {
            shards: std::array::from_fn(|_| HashMap::new()),
        }
    }
}

/// The shard of `key`: the top bit of a multiplicative hash, independent of the bits the
/// map's own hasher uses to place it.
#[inline(always)]
fn shard_of(key: u64) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 63) as usize
}

impl<V: Default> Sharded<V> {
    #[inline(always)]
    pub fn entry(&mut self, key: u64) -> &mut V {
        let shard = &mut self.shards[shard_of(key)];
        shard.entry(key).or_default()
    }
}

impl<V: Send> Sharded<V> {
    /// Folds `other` into this map with `fold`, both shards at once.
    pub fn merge(&mut self, other: Sharded<V>, fold: impl Fn(&mut HashMap<u64, V>, u64, V) + Sync) {
        let [mine0, mine1] = &mut self.shards;
        let [theirs0, theirs1] = other.shards;
        rayon::join(
            || {
                for (key, value) in theirs0 {
                    fold(mine0, key, value);
                }
            },
            || {
                for (key, value) in theirs1 {
                    fold(mine1, key, value);
                }
            },
        );
    }
}

impl<V> Sharded<V> {
    pub fn len(&self) -> usize {
        self.shards.iter().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(HashMap::is_empty)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u64, &V)> {
        self.shards.iter().flatten()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(HashMap::values)
    }
}

impl<V> IntoIterator for Sharded<V> {
    type Item = (u64, V);
    type IntoIter = std::iter::Flatten<std::array::IntoIter<HashMap<u64, V>, SHARDS>>;

    fn into_iter(self) -> Self::IntoIter {
        self.shards.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_over_both_shards_and_merge_shard_by_shard() {
        let mut a = Sharded::<u64>::default();
        let mut b = Sharded::<u64>::default();
        for key in 0..1_000u64 {
            *a.entry(key) += key;
            *b.entry(key + 500) += 1;
        }
        assert!(a.shards.iter().all(|s| s.len() > 300), "both shards used");
        a.merge(b, |map, key, n| *map.entry(key).or_default() += n);
        assert_eq!(a.len(), 1_500);
        let total: u64 = a.values().sum();
        assert_eq!(total, (0..1_000u64).sum::<u64>() + 1_000);
        let mut keys: Vec<u64> = a.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..1_500).collect::<Vec<_>>());
        assert_eq!(a.into_iter().count(), 1_500);
    }
}
