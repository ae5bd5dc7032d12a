//! The `belfry` command: a thin shell over the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use belfry::demo;
use belfry::server::Server;
use belfry::store::{AccessKey, Location, PoolSettings, Store};

#[derive(Parser)]
#[command(
    name = "belfry",
    version,
    about = "A self-hosted server for the Amazon Chime account and user API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Chime API.
    Serve(ServeArgs),
    /// Manage access keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// Where the store is: the embedded SQLite directory, or a database URL.
#[derive(Args, Clone)]
struct StoreArgs {
    /// Directory of the embedded SQLite store (created owner-only on first start).
    #[arg(long, env = "BELFRY_DATA", default_value = "./belfry-data")]
    data: PathBuf,
    /// A database URL (postgres://user@host:port/db); overrides --data.
    #[arg(long, env = "BELFRY_DATABASE_URL")]
    database_url: Option<String>,
    /// The most database connections this process opens.
    #[arg(long, env = "BELFRY_DB_MAX_CONNECTIONS", default_value_t = 8)]
    db_max_connections: u32,
}

impl StoreArgs {
    fn location(&self) -> Location {
        match &self.database_url {
            Some(url) => Location::Url(url.clone()),
            None => Location::Dir(self.data.clone()),
        }
    }

    fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections.max(1),
            ..PoolSettings::default()
        }
    }

    async fn open(&self) -> Result<Store, AnyError> {
        Ok(Store::open_with(&self.location(), self.pool()).await?)
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BELFRY_LISTEN", default_value = "127.0.0.1:8575")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Seed a demo account of 250 users and a demo key into an empty store (reused later).
    #[arg(long)]
    demo: bool,
    /// Access key id of a root key defined at start (with --root-secret-access-key).
    #[arg(long, env = "BELFRY_ROOT_ACCESS_KEY_ID", hide_env_values = true)]
    root_access_key_id: Option<String>,
    /// Secret of the root key.
    #[arg(long, env = "BELFRY_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    root_secret_access_key: Option<String>,
    /// AWS account id the root key acts as.
    #[arg(
        long,
        env = "BELFRY_ROOT_AWS_ACCOUNT_ID",
        default_value = "111111111111"
    )]
    root_aws_account_id: String,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add an access key to the store and print it as JSON.
    Create {
        /// The 12-digit AWS account id the key acts as.
        #[arg(long)]
        aws_account_id: String,
        /// The key may only call read operations.
        #[arg(long)]
        read_only: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn check_aws_account_id(id: &str) -> Result<(), String> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("AWS account id must be 12 digits, got {id:?}"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BELFRY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Keys {
            command:
                KeysCommand::Create {
                    aws_account_id,
                    read_only,
                    store,
                },
        } => create_key(&aws_account_id, read_only, &store).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("belfry: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn create_key(
    aws_account_id: &str,
    read_only: bool,
    store: &StoreArgs,
) -> Result<(), AnyError> {
    check_aws_account_id(aws_account_id)?;
    let store = store.open().await?;
    let key = AccessKey::generate(aws_account_id, read_only);
    store.insert_key(&key).await?;
    store.close().await;
    let out = serde_json::json!({
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
        "AwsAccountId": key.aws_account_id,
        "ReadOnly": key.read_only,
    });
    println!("{out}");
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), AnyError> {
    let root_key = match (args.root_access_key_id, args.root_secret_access_key) {
        (Some(id), Some(secret)) => {
            check_aws_account_id(&args.root_aws_account_id)?;
            Some(AccessKey {
                access_key_id: id,
                secret_access_key: secret,
                aws_account_id: args.root_aws_account_id,
                read_only: false,
            })
        }
        (None, None) => None,
        _ => {
            return Err(
                "BELFRY_ROOT_ACCESS_KEY_ID and BELFRY_ROOT_SECRET_ACCESS_KEY go together".into(),
            );
        }
    };
    let store = args.store.open().await?;
    let server = Server::bind_with_store(&args.listen, store, root_key).await?;
    let endpoint = format!("http://{}", server.local_addr());
    let mut out = std::io::stdout().lock();
    writeln!(out, "Belfry listening on {endpoint}")?;
    if args.demo {
        let demo = demo::ensure_demo(server.store()).await?;
        let verb = if demo.seeded_now { "seeded" } else { "found" };
        writeln!(
            out,
            "Demo account {verb}: {} ({} users)\n\
             Demo credentials (AWS account {}):\n  \
             export AWS_ACCESS_KEY_ID={}\n  \
             export AWS_SECRET_ACCESS_KEY={}\n  \
             export AWS_DEFAULT_REGION=us-east-1\n\
             Try:\n  \
             aws chime list-users --account-id {} --endpoint-url {endpoint}",
            demo.account_id,
            demo::DEMO_USERS,
            demo.key.aws_account_id,
            demo.key.access_key_id,
            demo.key.secret_access_key,
            demo.account_id,
        )?;
    }
    out.flush()?;
    drop(out);
    server.run_until(shutdown_signal()).await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
