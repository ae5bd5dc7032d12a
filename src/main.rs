//! The `belfry` command: a thin shell over the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use belfry::config::FileConfig;
use belfry::demo;
use belfry::faults::FaultRule;
use belfry::server::{Server, ServerOptions};
use belfry::store::{AccessKey, Location, PoolSettings, Store};
use belfry::throttle::Rate;
use belfry::transfer::{Format, ImportOptions};
use indicatif::{ProgressBar, ProgressStyle};

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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FileFormat {
    /// One User JSON object per line.
    Jsonl,
    /// A header row of User field names, then one user per row.
    Csv,
}

impl From<FileFormat> for Format {
    fn from(f: FileFormat) -> Format {
        match f {
            FileFormat::Jsonl => Format::JsonLines,
            FileFormat::Csv => Format::Csv,
        }
    }
}

#[derive(Args)]
struct ImportArgs {
    /// The account every user goes to; without it, each record's AccountId names its account.
    #[arg(long)]
    account_id: Option<String>,
    /// The file's format [default: csv for a *.csv file, else jsonl].
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
    /// Abort on the first bad line, writing nothing at all.
    #[arg(long)]
    strict: bool,
    /// Records per transaction, up to 200,000. Larger batches import a large directory faster
    /// (each commit rewrites the index pages it touched) and take more memory (about 8 KB per
    /// record of batch). A server serving the same SQLite store waits for the batch in
    /// progress before each of its writes, and answers 503 past 3 to 5 s: keep batches short
    /// while it takes writes. With --strict everything is one transaction whatever the batch
    /// size.
    #[arg(long, default_value_t = ImportOptions::default().batch,
          value_parser = batch_size)]
    batch_size: usize,
    /// The file to read, or `-` for stdin.
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
struct ExportArgs {
    /// The account whose users to write.
    #[arg(long)]
    account_id: String,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FileFormat::Jsonl)]
    format: FileFormat,
    #[command(flatten)]
    store: StoreArgs,
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
    /// The most database connections this process opens (an embedded SQLite store opens one
    /// more, its writer: SQLite admits one writer at a time).
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

#[derive(Args)]
struct ServeArgs {
    /// A TOML file setting any of these options (keys are the flag names with `_` for `-`,
    /// fault rules a `[[faults]]` array); flags and environment variables override it.
    #[arg(long, env = "BELFRY_CONFIG")]
    config: Option<PathBuf>,
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
    /// Format of the log lines on stderr.
    #[arg(long, env = "BELFRY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// How long shutdown (SIGTERM, Ctrl-C) waits for in-flight requests.
    #[arg(long, env = "BELFRY_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    shutdown_timeout_secs: u64,
    /// Fault rules from the config file (there is no flag for them).
    #[arg(skip)]
    faults: Vec<FaultRule>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    fn apply_config_file(&mut self, matches: &ArgMatches) -> Result<(), AnyError> {
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
        overlay(&mut self.log_format, matches, "log_format", log_format);
        overlay(
            &mut self.shutdown_timeout_secs,
            matches,
            "shutdown_timeout_secs",
            file.shutdown_timeout_secs,
        );
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

/// `--batch-size`: 1 to 200,000 records (the batch being written and the next ones being read
/// are all in memory).
fn batch_size(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=200_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to 200000, got {text:?}"
        )),
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

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Serve(mut args) => {
            let serve_matches = matches.subcommand_matches("serve").expect("serve matched");
            match args.apply_config_file(serve_matches) {
                Ok(()) => {
                    init_logging(args.log_format);
                    serve(args).await
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
            import(args).await
        }
        Command::Export(args) => {
            init_logging(LogFormat::Text);
            export(args).await
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

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

async fn import(args: ImportArgs) -> Result<(), AnyError> {
    let stdin = args.file.as_os_str() == "-";
    let format = args.format.map(Format::from).unwrap_or_else(|| {
        match args.file.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::JsonLines,
        }
    });
    let (input, size): (Box<dyn std::io::Read + Send>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin()), None)
    } else {
        let file =
            std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let read = Arc::new(AtomicU64::new(0));
    let input = std::io::BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: input,
            count: read.clone(),
        },
    );
    let bar = if std::io::stderr().is_terminal() {
        let bar = match size {
            Some(size) => ProgressBar::new(size).with_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
                    .expect("template"),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {bytes} read {msg}").expect("template"),
            ),
        };
        Some(bar)
    } else {
        None
    };
    // An import writes one batch after another: one connection, whose page cache (sized up
    // for the import) stays warm from batch to batch.
    let pool = PoolSettings {
        max_connections: 1,
        ..args.store.pool()
    };
    let store = Store::open_with(&args.store.location(), pool).await?;
    let started = std::time::Instant::now();
    let options = ImportOptions {
        account_id: args.account_id.clone(),
        strict: args.strict,
        batch: args.batch_size,
    };
    let result = belfry::transfer::import(&store, input, format, &options, |records| {
        if let Some(bar) = &bar {
            bar.set_position(read.load(Ordering::Relaxed));
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{records} users, {:.0} users/s",
                records as f64 / secs
            ));
        }
    })
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    store.close().await;
    let summary = result?;
    for (line, reason) in &summary.bad {
        eprintln!("line {line}: {reason}");
    }
    if summary.bad_count > summary.bad.len() as u64 {
        eprintln!(
            "... and {} more bad lines",
            summary.bad_count - summary.bad.len() as u64
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let done = summary.created + summary.updated;
    eprintln!(
        "imported {done} users ({} created, {} updated), {} bad lines, in {secs:.2} s ({:.0} users/s)",
        summary.created,
        summary.updated,
        summary.bad_count,
        done as f64 / secs.max(1e-9)
    );
    if summary.bad_count > 0 {
        return Err(format!("{} lines were not imported", summary.bad_count).into());
    }
    Ok(())
}

async fn export(args: ExportArgs) -> Result<(), AnyError> {
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written =
        belfry::transfer::export(&store, &args.account_id, args.format.into(), &mut out).await;
    drop(out);
    store.close().await;
    let written = written.map_err(|e| format!("export of account {}: {e}", args.account_id))?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "exported {written} users in {secs:.2} s ({:.0} users/s)",
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), AnyError> {
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
    };
    let store = args.store.open().await?;
    let server = Server::bind_with(&args.listen, store, options).await?;
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
