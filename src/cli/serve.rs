//! `belfry serve`: the server's options (flags, environment, config file) and its start.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};

use super::config::FileConfig;
use super::{AnyError, LogFormat, StoreArgs, check_aws_account_id};
use crate::demo;
use crate::server::faults::FaultRule;
use crate::server::throttle::Rate;
use crate::server::{ConsoleMode, Server, ServerOptions};
use crate::store::AccessKey;

#[derive(Args)]
pub struct ServeArgs {
    /// A TOML file setting any of these options (keys are the flag names with `_` for `-`,
    /// fault rules a `[[faults]]` array); flags and environment variables override it.
    #[arg(long, env = "BELFRY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BELFRY_LISTEN", default_value = "127.0.0.1:8575")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Seed a demo account (250 users, 3 rooms, a bot) and a demo key into an empty store (reused
    /// later).
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
    /// Each access key's sustained request rate (N/s, N/m or N/h), or `off`.
    #[arg(long, env = "BELFRY_RATE_LIMIT", default_value = "off")]
    rate_limit: String,
    /// Requests a key may send at once above its rate.
    #[arg(long, env = "BELFRY_BURST", default_value_t = 100)]
    burst: u32,
    /// How long a request over the rate may wait for a token before it is refused with 429
    /// ThrottledClientException (0: refuse at once).
    #[arg(long, env = "BELFRY_THROTTLE_MAX_WAIT_MS", default_value_t = 1000)]
    throttle_max_wait_ms: u64,
    /// Bearer token of the admin API under /_belfry/ (off without one).
    #[arg(long, env = "BELFRY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Seed of the fault rules that name no seed of their own.
    #[arg(long, env = "BELFRY_FAULT_SEED", default_value_t = 0)]
    fault_seed: u64,
    /// How long the simulated carrier takes to process a phone number order (0: an order is
    /// done by the next request that reads it).
    #[arg(long, env = "BELFRY_PHONE_ORDER_PROCESSING_MS", default_value_t = 0)]
    phone_order_processing_ms: u64,
    /// Format of the log lines on stderr.
    #[arg(long, env = "BELFRY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// How long shutdown (SIGTERM, Ctrl-C) waits for in-flight requests.
    #[arg(long, env = "BELFRY_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    shutdown_timeout_secs: u64,
    /// The web console under /console/ (sign in with an access key): `auto` (on when the
    /// listen address is loopback, off otherwise), `on` or `off`.
    #[arg(long, env = "BELFRY_CONSOLE", default_value = "auto")]
    console: ConsoleMode,
    /// Fault rules from the config file (there is no flag for them).
    #[arg(skip)]
    faults: Vec<FaultRule>,
}

/// Sets `field` from the config file unless a flag or environment variable gave it.
fn overlay<T>(field: &mut T, matches: &ArgMatches, id: &str, from_file: Option<T>) {
    let explicit = matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    );
    if let (false, Some(value)) = (explicit, from_file) {
        *field = value;
    }
}

impl ServeArgs {
    /// Fills every option not given by a flag or environment variable from the config file.
    pub fn apply_config_file(&mut self, matches: &ArgMatches) -> Result<(), AnyError> {
        let Some(path) = &self.config else {
            return Ok(());
        };
        let file = FileConfig::load(path)?;
        let log_format = match file.log_format.as_deref() {
            None => None,
            Some(text) => Some(LogFormat::from_str(text, true).map_err(|_| {
                format!("config file: log_format must be text or json, not {text:?}")
            })?),
        };
        overlay(&mut self.listen, matches, "listen", file.listen);
        overlay(&mut self.store.data, matches, "data", file.data);
        overlay(
            &mut self.store.database_url,
            matches,
            "database_url",
            file.database_url.map(Some),
        );
        overlay(
            &mut self.store.db_max_connections,
            matches,
            "db_max_connections",
            file.db_max_connections,
        );
        overlay(&mut self.demo, matches, "demo", file.demo);
        overlay(
            &mut self.root_access_key_id,
            matches,
            "root_access_key_id",
            file.root_access_key_id.map(Some),
        );
        overlay(
            &mut self.root_secret_access_key,
            matches,
            "root_secret_access_key",
            file.root_secret_access_key.map(Some),
        );
        overlay(
            &mut self.root_aws_account_id,
            matches,
            "root_aws_account_id",
            file.root_aws_account_id,
        );
        overlay(&mut self.rate_limit, matches, "rate_limit", file.rate_limit);
        overlay(&mut self.burst, matches, "burst", file.burst);
        overlay(
            &mut self.throttle_max_wait_ms,
            matches,
            "throttle_max_wait_ms",
            file.throttle_max_wait_ms,
        );
        overlay(
            &mut self.admin_token,
            matches,
            "admin_token",
            file.admin_token.map(Some),
        );
        overlay(&mut self.fault_seed, matches, "fault_seed", file.fault_seed);
        overlay(
            &mut self.phone_order_processing_ms,
            matches,
            "phone_order_processing_ms",
            file.phone_order_processing_ms,
        );
        overlay(&mut self.log_format, matches, "log_format", log_format);
        overlay(
            &mut self.shutdown_timeout_secs,
            matches,
            "shutdown_timeout_secs",
            file.shutdown_timeout_secs,
        );
        let console = match file.console.as_deref() {
            None => None,
            Some(text) => Some(
                text.parse::<ConsoleMode>()
                    .map_err(|e| format!("config file: {e}"))?,
            ),
        };
        overlay(&mut self.console, matches, "console", console);
        self.faults = file.faults;
        Ok(())
    }

    fn rate_limit(&self) -> Result<Option<Rate>, AnyError> {
        match self.rate_limit.trim() {
            "off" => Ok(None),
            text => Ok(Some(text.parse::<Rate>()?)),
        }
    }
}

pub async fn serve(args: ServeArgs) -> Result<(), AnyError> {
    let root_key = match (
        args.root_access_key_id.clone(),
        args.root_secret_access_key.clone(),
    ) {
        (Some(id), Some(secret)) => {
            check_aws_account_id(&args.root_aws_account_id)?;
            Some(AccessKey {
                access_key_id: id,
                secret_access_key: secret,
                aws_account_id: args.root_aws_account_id.clone(),
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
    // Listen for SIGTERM and Ctrl-C before announcing the address: a supervisor that signals
    // the moment it reads the banner must get a clean shutdown, not the default action.
    let shutdown = shutdown_signal()?;
    let options = ServerOptions {
        root_key,
        rate_limit: args.rate_limit()?,
        burst: args.burst,
        throttle_max_wait: Duration::from_millis(args.throttle_max_wait_ms),
        admin_token: args.admin_token.clone(),
        faults: args.faults.clone(),
        fault_seed: args.fault_seed,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_secs),
        console: args.console,
    };
    let store = args
        .store
        .open()
        .await?
        .with_order_processing(Duration::from_millis(args.phone_order_processing_ms));
    let server = Server::bind_with(&args.listen, store, options).await?;
    let endpoint = format!("http://{}", server.local_addr());
    if server.serves_console() {
        tracing::info!("web console at {endpoint}/console/ (sign in with an access key)");
    }
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
    server.run_until(shutdown).await?;
    Ok(())
}

/// Registers the handlers for Ctrl-C and SIGTERM now, and returns a future that completes
/// when either arrives.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
