//! Authentication: who is calling, proven by a SigV4 signature.
//!
//! [`sigv4`] parses and verifies signatures and knows nothing of keys; [`KeyRing`] finds the
//! secret of an access key (the root key from the environment, or a key in the store) and
//! turns a verified request into a [`Principal`].

pub mod sigv4;

use std::collections::HashMap;
use std::sync::RwLock;

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
}

impl KeyRing {
    pub fn new(store: Store, root: Option<AccessKey>) -> Self {
        KeyRing {
            store,
            root,
            cache: RwLock::new(HashMap::new()),
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
        sigv4::verify(
            request,
            &signature,
            &key.secret_access_key,
            now_unix_secs,
            &options,
        )
        .map_err(unauthorized)?;
        Ok(Principal {
            access_key_id: key.access_key_id,
            aws_account_id: key.aws_account_id,
            read_only: key.read_only,
        })
    }
}

fn unauthorized(e: sigv4::AuthError) -> ApiError {
    ApiError::unauthorized(e.to_string())
}
