//! The `belfry` command line: `serve`, `keys create`, `import`, `export` and `scim-token`, each a thin layer
//! of arguments over the library ([`crate::server`], [`crate::store`], [`crate::transfer`]).
//! `src/main.rs` only calls [`run`].
//!
//! `serve.rs` holds the server's options and their config file ([`config`]); `transfer.rs`
//! the import and export commands with their progress and summary lines.

pub mod config;
mod scim_token;
mod serve;
mod transfer;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::store::{AccessKey, Location, PoolSettings, Store};
use serve::ServeArgs;
use transfer::{ExportArgs, ImportArgs};

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
    /// Import users from JSON Lines or CSV, upserting by email (works while a server runs).
    Import(ImportArgs),
    /// Write every user of an account to stdout, in ListUsers order.
    Export(ExportArgs),
    /// Manage the bearer tokens of SCIM provisioning (one Chime account each).
    ScimToken {
        #[command(subcommand)]
        command: scim_token::ScimTokenCommand,
    },
}

/// Where the store is: the embedded SQLite directory, or a database URL.
#[derive(Args, Clone)]
struct StoreArgs {
    /// Directory of the embedded SQLite store (created owner-only on first start); `:memory:`
    /// keeps everything in memory and writes nothing to disk.
    #[arg(long, env = "BELFRY_DATA", default_value = "./belfry-data")]
    data: PathBuf,
    /// A database URL (postgres://user@host:port/db); overrides --data.
    #[arg(long, env = "BELFRY_DATABASE_URL")]
    database_url: Option<String>,
    /// The most connections this process opens for reads. Writes have connections of their
    /// own: one on SQLite (it admits one writer at a time), as many again on PostgreSQL.
    #[arg(long, env = "BELFRY_DB_MAX_CONNECTIONS", default_value_t = 8)]
    db_max_connections: u32,
}

impl StoreArgs {
    fn location(&self) -> Location {
        match &self.database_url {
            Some(url) => Location::Url(url.clone()),
            None => Location::data(self.data.clone()),
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
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

/// Logs to stderr at the level `BELFRY_LOG` names (default `info`).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BELFRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// Runs the `belfry` command with the process's arguments.
pub async fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Which account id a transfer takes depends on --resource: a usage error like clap's own.
    let ids = match &cli.command {
        Command::Import(args) => Some(("import", args.check_ids())),
        Command::Export(args) => Some(("export", args.check_ids())),
        _ => None,
    };
    if let Some((name, Err(message))) = ids {
        let mut command = Cli::command();
        command.build();
        command
            .find_subcommand_mut(name)
            .expect("the subcommand")
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    let result = match cli.command {
        Command::Serve(mut args) => {
            let serve_matches = matches.subcommand_matches("serve").expect("serve matched");
            match args.apply_config_file(serve_matches) {
                Ok(()) => {
                    init_logging(args.log_format);
                    serve::serve(args).await
                }
                Err(e) => Err(e),
            }
        }
        Command::Keys {
            command:
                KeysCommand::Create {
                    aws_account_id,
                    read_only,
                    store,
                },
        } => {
            init_logging(LogFormat::Text);
            create_key(&aws_account_id, read_only, &store).await
        }
        Command::Import(args) => {
            init_logging(LogFormat::Text);
            transfer::import(args).await
        }
        Command::Export(args) => {
            init_logging(LogFormat::Text);
            transfer::export(args).await
        }
        Command::ScimToken { command } => {
            init_logging(LogFormat::Text);
            scim_token::run(command).await
        }
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
