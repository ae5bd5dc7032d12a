//! Importing users from an uploaded file: `belfry import` ([`transfer::import`]) run by the
//! console, with a progress page and the per-line report.
//!
//! The upload (a `multipart/form-data` form, at most [`MAX_UPLOAD_BYTES`]) starts a job on a
//! task of its own and the browser goes to the job's page, which shows a `<progress>` bar and
//! reloads itself every [`REFRESH_SECS`] seconds (a `Refresh` header, no JavaScript; and a
//! "Check progress now" link) until the job is done, then
//! shows what the import created, updated and refused, line by line.
//!
//! Jobs live in the memory of the server that runs them (the most recent [`MAX_JOBS`]): behind
//! a load balancer, the progress page must reach the same replica. A job is seen only by keys
//! of the AWS account that started it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::html;

use super::layout::page;
use super::{Ctx, html, label, redirect};
use crate::error::ApiError;
use crate::store::Store;
use crate::transfer::{self, Format, ImportOptions, ImportSummary};

/// The largest file the import form takes (larger files: `belfry import`).
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// How often the progress page reloads itself: seldom enough that a screen reader can read
/// it between reloads (the page also has a link to check at once).
const REFRESH_SECS: u64 = 5;
/// How many jobs are remembered.
const MAX_JOBS: usize = 100;

/// One import, running or done.
struct Job {
    id: String,
    owner: String,
    /// The access key that started it: one job at a time per key.
    access_key_id: String,
    account_id: String,
    file_name: String,
    /// Records in the file (its non-empty lines, less a CSV header).
    total: u64,
    done: AtomicU64,
    /// The outcome, once the import has ended.
    outcome: Mutex<Option<Result<ImportSummary, String>>>,
}

/// The import jobs of one server.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

impl Imports {
    /// Adds a job, unless its key has one running: then that job.
    fn add(&self, job: Arc<Job>) -> Result<(), Arc<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = jobs.iter().find(|j| {
            j.access_key_id == job.access_key_id
                && j.outcome
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_none()
        }) {
            return Err(running.clone());
        }
        if jobs.len() >= MAX_JOBS {
            // The oldest finished job goes (a running one is only forgotten when all run).
            let finished = jobs.iter().position(|j| {
                j.outcome
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some()
            });
            jobs.remove(finished.unwrap_or(0));
        }
        jobs.push_back(job);
        Ok(())
    }

    fn find(&self, id: &str, owner: &str) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter()
            .find(|j| j.id == id && j.owner == owner)
            .cloned()
    }
}

/// What the import form sends (`multipart/form-data`): its CSRF token, the file, its name,
/// and the format chosen (`csv`, `jsonl`, or none: by the file name).
pub struct Upload {
    pub csrf: Option<String>,
    file: Option<(String, Vec<u8>)>,
    format: Option<String>,
}

/// Reads a `multipart/form-data` body (the router checks its `csrf` field before
/// [`start`] takes the rest).
pub async fn read_upload(content_type: &str, body: &[u8]) -> Result<Upload, ApiError> {
    let bad = |what: &str| ApiError::bad_request(format!("The upload could not be read: {what}"));
    let boundary = multer::parse_boundary(content_type).map_err(|e| bad(&e.to_string()))?;
    let body = axum::body::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut file = None;
    let mut format = None;
    let mut csrf = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(&e.to_string()))?
    {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|e| bad(&e.to_string()))?;
                file = Some((name, bytes.to_vec()));
            }
            Some("format") => {
                format = Some(field.text().await.map_err(|e| bad(&e.to_string()))?);
            }
            Some("csrf") => {
                csrf = Some(field.text().await.map_err(|e| bad(&e.to_string()))?);
            }
            _ => {}
        }
    }
    Ok(Upload { csrf, file, format })
}

/// `POST /console/accounts/{id}/import` (multipart: `csrf`, `file`, `format`): starts the job.
pub async fn start(
    ctx: &Ctx<'_>,
    account_id: &str,
    upload: Option<Upload>,
) -> Result<Response, ApiError> {
    // Only into the caller's own account: the import itself writes by account id alone.
    ctx.store()
        .get_account(ctx.owner(), account_id)
        .await
        .map_err(ApiError::from)?;
    let Some(Upload {
        file: Some((file_name, bytes)),
        format,
        ..
    }) = upload
    else {
        return Err(ApiError::bad_request(
            "The upload could not be read: no file was chosen",
        ));
    };
    let format = match format.as_deref() {
        Some("csv") => Format::Csv,
        Some("jsonl") => Format::JsonLines,
        _ if file_name.to_ascii_lowercase().ends_with(".csv") => Format::Csv,
        _ => Format::JsonLines,
    };
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64;
    let total = match format {
        Format::Csv => lines.saturating_sub(1),
        Format::JsonLines => lines,
    };
    let job = Arc::new(Job {
        id: super::session::random_token(),
        owner: ctx.owner().to_string(),
        access_key_id: ctx.principal.access_key_id.clone(),
        account_id: account_id.to_string(),
        file_name,
        total,
        done: AtomicU64::new(0),
        outcome: Mutex::new(None),
    });
    if let Err(running) = ctx.console.imports.add(job.clone()) {
        return Err(ApiError::conflict(format!(
            "An import started with this access key is still running (the file {}, into the \
             account {}): wait until it is done (its page is /console/accounts/{}/imports/{}), \
             then import again.",
            running.file_name,
            running.account_id,
            label(&running.account_id),
            label(&running.id)
        )));
    }
    tokio::spawn(run(ctx.store().clone(), job.clone(), bytes, format));
    Ok(redirect(&format!(
        "/console/accounts/{}/imports/{}",
        label(account_id),
        label(&job.id)
    )))
}

/// Runs one job to its end.
async fn run(store: Store, job: Arc<Job>, bytes: Vec<u8>, format: Format) {
    let options = ImportOptions {
        account_id: Some(job.account_id.clone()),
        strict: false,
        // Small batches, so that the progress bar moves on files of a few thousand lines.
        batch: 1000,
        // A console user acts as their key: only what the API lets them set.
        api_fields_only: true,
    };
    let progress = |done| job.done.store(done, Ordering::Relaxed);
    let outcome = transfer::import(
        &store,
        std::io::Cursor::new(bytes),
        format,
        &options,
        progress,
    )
    .await
    .map_err(|e| e.to_string());
    *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
}

/// `GET /console/accounts/{id}/imports/{job}`: the progress, then the report.
pub async fn show(ctx: &Ctx<'_>, account_id: &str, job_id: &str) -> Result<Response, ApiError> {
    let job = ctx
        .console
        .imports
        .find(job_id, ctx.owner())
        .filter(|j| j.account_id == account_id)
        .ok_or_else(|| {
            ApiError::not_found("No such import on this server (imports are kept in memory).")
        })?;
    let outcome = job
        .outcome
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let done = job.done.load(Ordering::Relaxed).min(job.total);
    let back = format!("/console/accounts/{}/users", label(account_id));
    let body = html! {
        p { "File " code { (job.file_name) } ", " (job.total) " records." }
        @match &outcome {
            None => {
                label for="progress" { "Imported " (done) " of " (job.total) }
                progress id="progress" max=(job.total.max(1)) value=(done) { (done) " of " (job.total) }
                p {
                    "This page reloads itself every " (REFRESH_SECS) " seconds until the import is done. "
                    a href={ "/console/accounts/" (label(account_id)) "/imports/" (label(&job.id)) } { "Check progress now" }
                }
            }
            Some(Err(error)) => {
                p.error role="alert" { "The import stopped: " (error) }
            }
            Some(Ok(summary)) => {
                p.notice role="status" {
                    "Created " (summary.created) ", updated " (summary.updated)
                    ", not imported " (summary.bad_count) "."
                }
                @if !summary.bad.is_empty() {
                    h2 { "Lines not imported" }
                    @if summary.bad_count > summary.bad.len() as u64 {
                        p { "The first " (summary.bad.len()) " of " (summary.bad_count) ":" }
                    }
                    table id="import-report" {
                        thead { tr { th scope="col" { "Line" } th scope="col" { "Reason" } } }
                        tbody {
                            @for (line, reason) in &summary.bad {
                                tr { td { (line) } td { (reason) } }
                            }
                        }
                    }
                }
            }
        }
        p { a href=(back) { "Back to the users" } }
    };
    let mut response = html(StatusCode::OK, page(Some(ctx), "Import", body));
    if outcome.is_none() {
        response
            .headers_mut()
            .insert("refresh", HeaderValue::from(REFRESH_SECS));
    }
    Ok(response)
}
