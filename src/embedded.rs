//! An in-memory Belfry inside a Rust program's own tests.
//!
//! [`EmbeddedServer::start`] opens an in-memory store, binds a free port on 127.0.0.1, serves on
//! the current tokio runtime and hands back the endpoint and a root key. Nothing touches the disk;
//! the server stops when the value is dropped (or at [`EmbeddedServer::stop`]).
//!
//! ```
//! use aws_sdk_chime::config::{BehaviorVersion, Credentials, Region};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let belfry = belfry::embedded::EmbeddedServer::start().await?;
//! let config = aws_sdk_chime::Config::builder()
//!     .behavior_version(BehaviorVersion::latest())
//!     .region(Region::new("us-east-1"))
//!     .endpoint_url(belfry.endpoint())
//!     .credentials_provider(Credentials::new(
//!         belfry.access_key_id(),
//!         belfry.secret_access_key(),
//!         None,
//!         None,
//!         "belfry",
//!     ))
//!     .build();
//! let chime = aws_sdk_chime::Client::from_conf(config);
//!
//! let account = chime.create_account().name("Test").send().await?;
//! let account_id = account.account().map(|a| a.account_id()).unwrap();
//! chime
//!     .invite_users()
//!     .account_id(account_id)
//!     .user_email_list("ada@example.com")
//!     .send()
//!     .await?;
//! let users = chime.list_users().account_id(account_id).send().await?;
//! assert_eq!(users.users().len(), 1);
//! # belfry.stop().await;
//! # Ok(())
//! # }
//! ```

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::server::{Server, ServerOptions};
use crate::store::{AccessKey, Location, Store};

/// A running in-memory server; it stops when dropped.
pub struct EmbeddedServer {
    endpoint: String,
    root: AccessKey,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    running: Option<JoinHandle<std::io::Result<()>>>,
}

impl EmbeddedServer {
    /// Starts a server with default options and a fresh random root key of AWS account
    /// `111111111111`.
    pub async fn start() -> Result<EmbeddedServer, Box<dyn std::error::Error + Send + Sync>> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Starts a server with these options (a root key is made if they name none).
    pub async fn start_with(
        options: ServerOptions,
    ) -> Result<EmbeddedServer, Box<dyn std::error::Error + Send + Sync>> {
        let root = options
            .root_key
            .clone()
            .unwrap_or_else(|| AccessKey::generate("111111111111", false));
        let store = Store::open(&Location::Memory).await?;
        let server = Server::bind_with(
            "127.0.0.1:0",
            store.clone(),
            ServerOptions {
                root_key: Some(root.clone()),
                ..options
            },
        )
        .await?;
        let endpoint = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(server.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(EmbeddedServer {
            endpoint,
            root,
            store,
            stop: Some(stop),
            running: Some(running),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The root key's access key id.
    pub fn access_key_id(&self) -> &str {
        &self.root.access_key_id
    }

    /// The root key's secret.
    pub fn secret_access_key(&self) -> &str {
        &self.root.secret_access_key
    }

    /// The AWS account id the root key acts as.
    pub fn aws_account_id(&self) -> &str {
        &self.root.aws_account_id
    }

    /// The store, for seeding data directly.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops accepting, finishes in-flight requests and waits until the server is down.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
