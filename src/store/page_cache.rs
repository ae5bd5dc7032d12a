//! Recently served list pages, kept exact under every write.
//!
//! Sync jobs and dashboards ask for the same pages again and again (the first page above all).
//! Answering those from SQLite means stepping 100 rows and copying 47 KB of JSON each time,
//! which costs several times what the rest of the request costs. This cache keeps the pages it
//! has served, keyed by everything that decides a page's content: for ListUsers
//! (`super::users::PageKey`) the caller's AWS account (tenancy), the Chime account, the
//! filters, the position the page starts after, and its size. The cache itself is generic:
//! another list operation keeps its pages in a `PageCache` of its own key and page types.
//!
//! It is exact, never merely "fresh enough": every entry belongs to one *version* of the
//! database, and every lookup first reads the current version (SQLite's `PRAGMA data_version`,
//! see [`super::reader::Reader::data_version`]), which changes whenever any connection, of this
//! process or another (an import, `belfry keys create`), commits. A lookup that finds the version
//! changed drops every page before it looks. So a read that begins after a write was
//! acknowledged never sees a page from before the write.
//!
//! A page read from SQLite is stored under the version read *before* the query, and only if the
//! cache is still at that version: its content is at least as new as that version, so it can
//! only be dropped too early, never served too late.
//!
//! The cache holds at most a set number of bytes of pages; beyond it, the oldest pages go
//! first (FIFO). A walk through more pages than fit therefore misses on every page, at the cost
//! of a lookup and an insert: what SQLite costs without the cache.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// What a key or a page costs the cache, in bytes (roughly: what it holds on the heap and in
/// itself).
pub trait Weigh {
    fn bytes(&self) -> usize;
}

/// What decides a page of one of the other lists (rooms, memberships, bots, ...): the
/// *scope* its page tokens are signed for (the operation, the caller's AWS account, the Chime
/// account and the filters; see [`crate::token`]), the page token it continues from, exactly
/// as the client sent it (tokens are deterministic: one position, one token), and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    scope: Vec<String>,
    after: Option<String>,
    limit: usize,
}

impl ListKey {
    pub fn new(scope: &[&str], after: Option<&str>, limit: usize) -> ListKey {
        ListKey {
            scope: scope.iter().map(|part| part.to_string()).collect(),
            after: after.map(str::to_string),
            limit,
        }
    }
}

impl Weigh for ListKey {
    fn bytes(&self) -> usize {
        std::mem::size_of::<ListKey>()
            + self.scope.iter().map(String::len).sum::<usize>()
            + self.after.as_ref().map_or(0, String::len)
    }
}

/// A page as the client receives it: its whole JSON body.
impl Weigh for Bytes {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Bytes>() + self.len()
    }
}

/// Rendered pages of the lists other than ListUsers, by [`ListKey`].
pub type ListPageCache = PageCache<ListKey, Bytes>;

/// The pages of one database version, under keys of type `K`.
pub struct PageCache<K, P> {
    max_bytes: usize,
    inner: Mutex<Inner<K, P>>,
}

struct Inner<K, P> {
    /// The database version every page here belongs to.
    version: i64,
    pages: HashMap<K, Arc<P>>,
    /// Keys in insertion order, oldest first.
    order: VecDeque<K>,
    bytes: usize,
}

impl<K: Hash + Eq, P> Inner<K, P> {
    /// Moves to `version`: the pages of any other version are dropped.
    fn at(&mut self, version: i64) {
        if self.version != version {
            self.pages.clear();
            self.order.clear();
            self.bytes = 0;
            self.version = version;
        }
    }
}

/// What one page costs the cache.
fn page_bytes<K: Weigh, P: Weigh>(key: &K, page: &P) -> usize {
    key.bytes() + page.bytes()
}

impl<K: Hash + Eq + Clone + Weigh, P: Weigh> PageCache<K, P> {
    /// A cache of at most `max_bytes` of pages; 0 keeps nothing.
    pub fn new(max_bytes: usize) -> PageCache<K, P> {
        PageCache {
            max_bytes,
            inner: Mutex::new(Inner {
                version: 0,
                pages: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, P>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The page under `key` if the database is still at `version`.
    pub fn get(&self, version: i64, key: &K) -> Option<Arc<P>> {
        let mut inner = self.lock();
        inner.at(version);
        inner.pages.get(key).cloned()
    }

    /// Keeps `page`, read from the database after it was at `version`, unless the cache has
    /// moved on to another version since.
    pub fn put(&self, version: i64, key: K, page: Arc<P>) {
        let cost = page_bytes(&key, &*page);
        if cost > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if inner.version != version || inner.pages.contains_key(&key) {
            return;
        }
        while inner.bytes + cost > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.pages.remove(&oldest) {
                inner.bytes -= page_bytes(&oldest, &*gone);
            }
        }
        inner.bytes += cost;
        inner.order.push_back(key.clone());
        inner.pages.insert(key, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key as the users' keys are made: a tenant and where the page starts.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    struct Key(&'static str, Option<String>);

    impl Weigh for Key {
        fn bytes(&self) -> usize {
            std::mem::size_of::<Key>() + self.1.as_ref().map_or(0, String::len)
        }
    }

    impl Weigh for String {
        fn bytes(&self) -> usize {
            std::mem::size_of::<String>() + self.len()
        }
    }

    fn page(text: &str) -> Arc<String> {
        Arc::new(text.to_string())
    }

    fn key(owner: &'static str, after: Option<&str>) -> Key {
        Key(owner, after.map(str::to_string))
    }

    #[test]
    fn a_page_is_served_only_at_its_version_and_only_to_its_key() {
        let cache = PageCache::new(1 << 20);
        cache.put(0, key("111", None), page("{\"a\":1}"));
        let hit = cache.get(0, &key("111", None)).expect("cached");
        assert_eq!(*hit, "{\"a\":1}");
        // Another tenant, another position: not the same page.
        assert!(cache.get(0, &key("222", None)).is_none());
        assert!(cache.get(0, &key("111", Some("k"))).is_none());
        // A write moved the database on: the page is gone, and stays gone.
        assert!(cache.get(1, &key("111", None)).is_none());
        assert!(cache.get(0, &key("111", None)).is_none());
    }

    #[test]
    fn a_page_read_before_the_cache_moved_on_is_not_kept() {
        let cache = PageCache::new(1 << 20);
        assert!(cache.get(5, &key("111", None)).is_none());
        // Another request saw version 6 while this one read its page at version 5.
        assert!(cache.get(6, &key("111", Some("x"))).is_none());
        cache.put(5, key("111", None), page("{}"));
        assert!(cache.get(6, &key("111", None)).is_none());
    }

    #[test]
    fn the_oldest_pages_go_first_when_full() {
        let text = "x".repeat(1000);
        let one = page_bytes(&key("111", Some("0")), &*page(&text));
        let cache = PageCache::new(3 * one);
        for i in 0..5 {
            let after = i.to_string();
            cache.put(0, key("111", Some(&after)), page(&text));
        }
        let kept: Vec<bool> = (0..5)
            .map(|i| cache.get(0, &key("111", Some(&i.to_string()))).is_some())
            .collect();
        assert_eq!(kept, [false, false, true, true, true]);
        assert!(cache.lock().bytes <= cache.max_bytes);
        // Nothing at all with a zero budget.
        let none = PageCache::new(0);
        none.put(0, key("111", None), page("{}"));
        assert!(none.get(0, &key("111", None)).is_none());
    }
}
