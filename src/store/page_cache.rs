//! Recently served ListUsers pages, kept exact under every write.
//!
//! Sync jobs and dashboards ask for the same pages again and again (the first page above all).
//! Answering those from SQLite means stepping 100 rows and copying 47 KB of JSON each time,
//! which costs several times what the rest of the request costs. This cache keeps the pages it
//! has served, keyed by everything that decides a page's content: the caller's AWS account
//! (tenancy), the Chime account, the filters, the position the page starts after, and its size.
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
use std::sync::{Arc, Mutex};

use super::users::{UserFilter, UserPage};
use crate::model::UserType;

/// What decides a page's content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    owner: String,
    account_id: String,
    email_key: Option<String>,
    user_type: Option<UserType>,
    after: Option<String>,
    limit: usize,
}

impl PageKey {
    pub fn new(
        owner: &str,
        account_id: &str,
        filter: &UserFilter,
        after: Option<&str>,
        limit: usize,
    ) -> PageKey {
        PageKey {
            owner: owner.to_string(),
            account_id: account_id.to_string(),
            email_key: filter.email_key.clone(),
            user_type: filter.user_type,
            after: after.map(str::to_string),
            limit,
        }
    }

    /// What the key itself takes, roughly.
    fn bytes(&self) -> usize {
        std::mem::size_of::<PageKey>()
            + self.owner.len()
            + self.account_id.len()
            + self.email_key.as_ref().map_or(0, String::len)
            + self.after.as_ref().map_or(0, String::len)
    }
}

/// The pages of one database version.
pub struct PageCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The database version every page here belongs to.
    version: i64,
    pages: HashMap<PageKey, Arc<UserPage>>,
    /// Keys in insertion order, oldest first.
    order: VecDeque<PageKey>,
    bytes: usize,
}

impl Inner {
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
fn page_bytes(key: &PageKey, page: &UserPage) -> usize {
    key.bytes()
        + std::mem::size_of::<UserPage>()
        + page.joined.len()
        + page.ends.len() * std::mem::size_of::<usize>()
        + page.next.as_ref().map_or(0, String::len)
}

impl PageCache {
    /// A cache of at most `max_bytes` of pages; 0 keeps nothing.
    pub fn new(max_bytes: usize) -> PageCache {
        PageCache {
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The page under `key` if the database is still at `version`.
    pub fn get(&self, version: i64, key: &PageKey) -> Option<Arc<UserPage>> {
        let mut inner = self.lock();
        inner.at(version);
        inner.pages.get(key).cloned()
    }

    /// Keeps `page`, read from the database after it was at `version`, unless the cache has
    /// moved on to another version since.
    pub fn put(&self, version: i64, key: PageKey, page: Arc<UserPage>) {
        let cost = page_bytes(&key, &page);
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
                inner.bytes -= page_bytes(&oldest, &gone);
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

    fn page(text: &str, next: Option<&str>) -> Arc<UserPage> {
        Arc::new(UserPage {
            joined: text.to_string(),
            ends: vec![text.len()],
            next: next.map(str::to_string),
        })
    }

    fn key(owner: &str, after: Option<&str>) -> PageKey {
        PageKey::new(owner, "acct", &UserFilter::default(), after, 100)
    }

    #[test]
    fn a_page_is_served_only_at_its_version_and_only_to_its_key() {
        let cache = PageCache::new(1 << 20);
        cache.put(0, key("111", None), page("{\"a\":1}", Some("k")));
        let hit = cache.get(0, &key("111", None)).expect("cached");
        assert_eq!(hit.joined, "{\"a\":1}");
        // Another tenant, another position, another size or filter: not the same page.
        assert!(cache.get(0, &key("222", None)).is_none());
        assert!(cache.get(0, &key("111", Some("k"))).is_none());
        let filtered = UserFilter {
            email_key: None,
            user_type: Some(UserType::SharedDevice),
        };
        assert!(
            cache
                .get(0, &PageKey::new("111", "acct", &filtered, None, 100))
                .is_none()
        );
        assert!(
            cache
                .get(
                    0,
                    &PageKey::new("111", "acct", &UserFilter::default(), None, 99)
                )
                .is_none()
        );
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
        cache.put(5, key("111", None), page("{}", None));
        assert!(cache.get(6, &key("111", None)).is_none());
    }

    #[test]
    fn the_oldest_pages_go_first_when_full() {
        let text = "x".repeat(1000);
        let one = page_bytes(&key("111", Some("0")), &page(&text, None));
        let cache = PageCache::new(3 * one);
        for i in 0..5 {
            let after = i.to_string();
            cache.put(0, key("111", Some(&after)), page(&text, None));
        }
        let kept: Vec<bool> = (0..5)
            .map(|i| cache.get(0, &key("111", Some(&i.to_string()))).is_some())
            .collect();
        assert_eq!(kept, [false, false, true, true, true]);
        assert!(cache.lock().bytes <= cache.max_bytes);
        // Nothing at all with a zero budget.
        let none = PageCache::new(0);
        none.put(0, key("111", None), page("{}", None));
        assert!(none.get(0, &key("111", None)).is_none());
    }
}
