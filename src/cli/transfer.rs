//! `belfry import` and `belfry export`: their arguments, progress and summary lines.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::{AnyError, StoreArgs};
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
}

impl ResourceArg {
    fn of_rooms_module(self) -> Option<Resource> {
        match self {
            ResourceArg::Users => None,
            ResourceArg::Rooms => Some(Resource::Rooms),
            ResourceArg::Bots => Some(Resource::Bots),
        }
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// The account every user goes to; without it, each record's AccountId names its account
    /// (rooms and bots always need it).
    #[arg(long)]
    account_id: Option<String>,
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
    #[arg(long)]
    account_id: String,
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

pub async fn import(args: ImportArgs) -> Result<(), AnyError> {
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
    if args.format == Some(FileFormat::Csv) {
        return Err("rooms and bots are imported from JSON Lines only".into());
    }
    let input: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?,
        )
    };
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let result = crate::transfer::rooms::import(
        &store,
        account_id,
        resource,
        std::io::BufReader::new(input),
    )
    .await;
    store.close().await;
    let summary = result?;
    let what = match resource {
        Resource::Rooms => "rooms",
        Resource::Bots => "bots",
    };
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
    if resource.is_some() && args.format == FileFormat::Csv {
        return Err("rooms and bots are exported as JSON Lines only".into());
    }
    let store = args.store.open().await?;
    let started = std::time::Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match resource {
        Some(resource) => {
            crate::transfer::rooms::export(&store, &args.account_id, resource, &mut out).await
        }
        None => {
            crate::transfer::export(&store, &args.account_id, args.format.into(), &mut out).await
        }
    };
    drop(out);
    store.close().await;
    let written = written.map_err(|e| format!("export of account {}: {e}", args.account_id))?;
    let secs = started.elapsed().as_secs_f64();
    let what = match args.resource {
        ResourceArg::Users => "users",
        ResourceArg::Rooms => "rooms",
        ResourceArg::Bots => "bots",
    };
    eprintln!(
        "exported {written} {what} in {secs:.2} s ({:.0} {what}/s)",
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}
