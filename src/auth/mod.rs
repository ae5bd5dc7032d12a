//! Authentication: who is calling, proven by a SigV4 signature.
//!
//! [`sigv4`] parses and verifies signatures and knows nothing of keys; [`KeyRing`] finds the
//! secret of an access key (the root key from the environment, or a key in the store) and
//! turns a verified request into a [`Principal`].

pub mod sigv4;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use crate::error::ApiError;
use crate::store::{AccessKey, Store, StoreError};

/// The caller of a request, once its signature is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    /// The AWS account the caller acts as: it owns the Chime accounts it creates.
    pub aws_account_id: String,
    /// Read-only callers are refused every write operation.
    pub read_only: bool,
}

/// The keys requests may be signed with.
pub struct KeyRing {
    store: Store,
    root: Option<AccessKey>,
    /// Keys found in the store. Keys are never changed once made, so a hit stays valid;
    /// a miss is not cached, so a key added by `belfry keys create` works at once.
    cache: RwLock<HashMap<String, AccessKey>>,
    /// Signing keys derived for "access key id/date/region/service" (four HMACs each, the
    /// same all day long). Emptied when it grows past [`SIGNING_KEYS_MAX`].
    signing_keys: Mutex<HashMap<String, [u8; 32]>>,
}

/// The most derived signing keys kept.
const SIGNING_KEYS_MAX: usize = 10_000;

impl KeyRing {
    pub fn new(store: Store, root: Option<AccessKey>) -> Self {
        KeyRing {
            store,
            root,
            cache: RwLock::new(HashMap::new()),
            signing_keys: Mutex::new(HashMap::new()),
        }
    }

    async fn find(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        if let Some(root) = &self.root
            && root.access_key_id == access_key_id
        {
            return Ok(Some(root.clone()));
        }
        if let Some(key) = self.cache.read().expect("key cache").get(access_key_id) {
            return Ok(Some(key.clone()));
        }
        let found = self.store.find_key(access_key_id).await?;
        if let Some(key) = &found {
            self.cache
                .write()
                .expect("key cache")
                .insert(key.access_key_id.clone(), key.clone());
        }
        Ok(found)
    }

    /// Verifies the request's signature and names its caller.
    ///
    /// Every failure is `UnauthorizedClientException` with a message naming the cause, and
    /// never a secret, an expected signature or a canonical request.
    pub async fn authenticate(
        &self,
        request: &sigv4::Request<'_>,
        now_unix_secs: i64,
    ) -> Result<Principal, ApiError> {
        let options = sigv4::Options::default();
        let signature = sigv4::parse(request).map_err(unauthorized)?;
        let key = match self.find(&signature.access_key_id).await {
            Ok(Some(key)) => key,
            Ok(None) => return Err(unauthorized(sigv4::AuthError::UnknownAccessKey)),
            Err(StoreError::Unavailable(_)) => return Err(ApiError::unavailable()),
            Err(e) => {
                tracing::error!(error = %e, "key lookup failed");
                return Err(ApiError::internal());
            }
        };
        let signing_key = self.signing_key(&key, &signature);
        sigv4::verify_with_key(request, &signature, &signing_key, now_unix_secs, &options)
            .map_err(unauthorized)?;
        Ok(Principal::from(key))
    }
}

impl KeyRing {
    /// The caller proven by an access key id and its secret (the web console's sign-in), or
    /// `None` when the key is unknown or the secret is not its own. The secrets are compared
    /// in constant time; an unknown key costs the same comparison against a dummy secret.
    pub async fn sign_in(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Option<Principal>, StoreError> {
        use subtle::ConstantTimeEq;
        let key = self.find(access_key_id).await?;
        let expected = key.as_ref().map_or("", |k| k.secret_access_key.as_str());
        let same = expected.as_bytes().ct_eq(secret_access_key.as_bytes());
        Ok(key.filter(|_| bool::from(same)).map(Principal::from))
    }

    /// The caller an access key id names, without a proof (the web console's session
    /// already holds one), or `None` when no such key exists.
    pub async fn principal(&self, access_key_id: &str) -> Result<Option<Principal>, StoreError> {
        Ok(self.find(access_key_id).await?.map(Principal::from))
    }
}

impl From<AccessKey> for Principal {
    fn from(key: AccessKey) -> Principal {
        Principal {
            access_key_id: key.access_key_id,
            aws_account_id: key.aws_account_id,
            read_only: key.read_only,
        }
    }
}

impl KeyRing {
    /// The signing key of `key` for the signature's scope, derived once.
    fn signing_key(&self, key: &AccessKey, signature: &sigv4::Signature) -> [u8; 32] {
        let scope = format!(
            "{}/{}/{}/{}",
            key.access_key_id, signature.date, signature.region, signature.service
        );
        let mut keys = self.signing_keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(derived) = keys.get(&scope) {
            return *derived;
        }
        let derived = sigv4::signing_key(
            &key.secret_access_key,
            &signature.date,
            &signature.region,
            &signature.service,
        );
        if keys.len() >= SIGNING_KEYS_MAX {
            keys.clear();
        }
        keys.insert(scope, derived);
        derived
    }
}

fn unauthorized(e: sigv4::AuthError) -> ApiError {
    ApiError::unauthorized(e.to_string())
}
