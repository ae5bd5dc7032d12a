//! `belfry import` and `belfry export`: their arguments, progress and summary lines.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::{AnyError, StoreArgs, check_aws_account_id};
use crate::store::{PoolSettings, Store};
use crate::transfer::rooms::Resource;
use crate::transfer::{Format, ImportOptions, ImportSummary};

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

/// What an import or export moves.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ResourceArg {
    /// Users, as JSON Lines or CSV.
    Users,
    /// Rooms with their memberships, as JSON Lines (members must be in the account first).
    Rooms,
    /// Bots with their events configurations, as JSON Lines.
    Bots,
    /// The AWS account's phone-number inventory and orders, as JSON Lines (takes
    /// --aws-account-id, not --account-id; users holding numbers must be imported first).
    PhoneNumbers,
}

impl ResourceArg {
    fn of_rooms_module(self) -> Option<Resource> {
        match self {
            ResourceArg::Users | ResourceArg::PhoneNumbers => None,
            ResourceArg::Rooms => Some(Resource::Rooms),
            ResourceArg::Bots => Some(Resource::Bots),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ResourceArg::Users => "users",
            ResourceArg::Rooms => "rooms",
            ResourceArg::Bots => "bots",
            ResourceArg::PhoneNumbers => "phone numbers and orders",
        }
    }
}

/// `--aws-account-id`: 12 digits.
fn aws_account_id(text: &str) -> Result<String, String> {
    check_aws_account_id(text).map(|()| text.to_string())
}

/// Which of `--account-id` and `--aws-account-id` the resource takes: phone numbers and
/// orders belong to the AWS account and take `--aws-account-id` (required), the rest take
/// `--account-id` (`required` says whether it must be there). Checked after parsing, since clap
/// cannot make one argument conflict with one value of another; the caller reports it as a
/// usage error.
fn check_ids(
    resource: ResourceArg,
    account_id: Option<&str>,
    aws_account_id: Option<&str>,
    required: bool,
) -> Result<(), String> {
    let phone = resource == ResourceArg::PhoneNumbers;
    match (phone, account_id.is_some(), aws_account_id.is_some()) {
        (true, true, _) => Err(
            "--account-id does not apply to --resource phone-numbers: numbers and orders belong \
             to the AWS account; give --aws-account-id"
                .into(),
        ),
        (true, false, false) => Err("--resource phone-numbers requires --aws-account-id".into()),
        (false, _, true) => Err(format!(
            "--aws-account-id applies to --resource phone-numbers only, not to {}",
            resource.name()
        )),
        (false, false, false) if required => Err(format!(
            "--account-id is required to export {}",
            resource.name()
        )),
        _ => Ok(()),
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// The account every user goes to; without it, each record's AccountId names its account
    /// (rooms and bots always need it).
    #[arg(long, conflicts_with = "aws_account_id")]
    account_id: Option<String>,
    /// The AWS account whose phone-number inventory and orders the file holds (12 digits; for
    /// --resource phone-numbers, which requires it).
    #[arg(long, value_parser = aws_account_id)]
    aws_account_id: Option<String>,
    /// What the file holds.
    #[arg(long, value_enum, default_value_t = ResourceArg::Users)]
    resource: ResourceArg,
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
pub struct ExportArgs {
    /// The account whose users (or rooms, or bots) to write.
    #[arg(long, conflicts_with = "aws_account_id")]
    account_id: Option<String>,
    /// The AWS account whose phone-number inventory and orders to write (12 digits; for
    /// --resource phone-numbers, which requires it).
    #[arg(long, value_parser = aws_account_id)]
    aws_account_id: Option<String>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = ResourceArg::Users)]
    resource: ResourceArg,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FileFormat::Jsonl)]
    format: FileFormat,
    #[command(flatten)]
    store: StoreArgs,
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

impl ImportArgs {
    /// Whether the ids given suit the resource (see [`check_ids`]).
    pub fn check_ids(&self) -> Result<(), String> {
        check_ids(
            self.resource,
            self.account_id.as_deref(),
            self.aws_account_id.as_deref(),
            false,
        )
    }
}

impl ExportArgs {
    /// Whether the ids given suit the resource (see [`check_ids`]).
    pub fn check_ids(&self) -> Result<(), String> {
        check_ids(
            self.resource,
            self.account_id.as_deref(),
            self.aws_account_id.as_deref(),
            true,
        )
    }
}

pub async fn import(args: ImportArgs) -> Result<(), AnyError> {
    if let Some(aws_account_id) = args.aws_account_id.clone() {
        return import_phone_numbers(args, &aws_account_id).await;
    }
    if let Some(resource) = args.resource.of_rooms_module() {
        return import_rooms_or_bots(args, resource).await;
    }
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
    let bar = progress_bar(size);
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
        api_fields_only: false,
    };
    let result = crate::transfer::import(&store, input, format, &options, |records| {
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
    report(&result?, started.elapsed().as_secs_f64())
}

/// `belfry import --resource rooms|bots`: JSON Lines into one account.
async fn import_rooms_or_bots(args: ImportArgs, resource: Resource) -> Result<(), AnyError> {
    let account_id = args
        .account_id
        .as_deref()
        .ok_or("--account-id is required to import rooms or bots")?;
    let input = json_lines_input(&args)?;
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let result = crate::transfer::rooms::import(&store, account_id, resource, input).await;
    store.close().await;
    report_lines(&result?, args.resource, started)
}

/// `belfry import --resource phone-numbers`: JSON Lines into one AWS account's inventory.
async fn import_phone_numbers(args: ImportArgs, aws_account_id: &str) -> Result<(), AnyError> {
    let input = json_lines_input(&args)?;
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let result = crate::transfer::phone_numbers::import(&store, aws_account_id, input).await;
    store.close().await;
    report_lines(&result?, args.resource, started)
}

/// The JSON Lines file (or stdin) of a rooms, bots or phone-numbers import.
fn json_lines_input(args: &ImportArgs) -> Result<impl std::io::BufRead, AnyError> {
    if args.format == Some(FileFormat::Csv) {
        return Err(format!("{} are imported from JSON Lines only", args.resource.name()).into());
    }
    let input: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?,
        )
    };
    Ok(std::io::BufReader::new(input))
}

/// Prints a JSON Lines import's bad lines and its summary; fails if any line was not imported.
fn report_lines(
    summary: &ImportSummary,
    resource: ResourceArg,
    started: std::time::Instant,
) -> Result<(), AnyError> {
    let what = resource.name();
    for (line, reason) in &summary.bad {
        eprintln!("line {line}: {reason}");
    }
    eprintln!(
        "imported {} {what}, {} bad lines, in {:.2} s",
        summary.created,
        summary.bad_count,
        started.elapsed().as_secs_f64()
    );
    if summary.bad_count > 0 {
        return Err(format!("{} lines were not imported", summary.bad_count).into());
    }
    Ok(())
}

/// A progress bar on a terminal (by bytes of a file, or a spinner for stdin); none otherwise.
fn progress_bar(size: Option<u64>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(match size {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
                .expect("template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {bytes} read {msg}").expect("template"),
        ),
    })
}

/// Prints an import's bad lines and its summary; fails if any line was not imported.
fn report(summary: &ImportSummary, secs: f64) -> Result<(), AnyError> {
    for (line, reason) in &summary.bad {
        eprintln!("line {line}: {reason}");
    }
    if summary.bad_count > summary.bad.len() as u64 {
        eprintln!(
            "... and {} more bad lines",
            summary.bad_count - summary.bad.len() as u64
        );
    }
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

pub async fn export(args: ExportArgs) -> Result<(), AnyError> {
    let resource = args.resource.of_rooms_module();
    if args.resource != ResourceArg::Users && args.format == FileFormat::Csv {
        return Err(format!("{} are exported as JSON Lines only", args.resource.name()).into());
    }
    let owner = match (&args.aws_account_id, &args.account_id) {
        (Some(aws), _) => format!("AWS account {aws}"),
        (None, Some(account)) => format!("account {account}"),
        (None, None) => return Err(args.check_ids().unwrap_err().into()),
    };
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let account_id = args.account_id.as_deref().unwrap_or_default();
    let written = match (&args.aws_account_id, resource) {
        (Some(aws), _) => crate::transfer::phone_numbers::export(&store, aws, &mut out).await,
        (None, Some(resource)) => {
            crate::transfer::rooms::export(&store, account_id, resource, &mut out).await
        }
        (None, None) => {
            crate::transfer::export(&store, account_id, args.format.into(), &mut out).await
        }
    };
    drop(out);
    store.close().await;
    let written = written.map_err(|e| format!("export of {owner}: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let what = args.resource.name();
    eprintln!(
        "exported {written} {what} in {secs:.2} s ({:.0} {what}/s)",
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}
