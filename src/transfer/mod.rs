//! `belfry import` and `belfry export`: an account's users as JSON Lines or CSV.
//!
//! Both formats carry the fields of the Chime `User` structure under their wire names, so what
//! `export` writes, `import` reads back exactly:
//!
//! * JSON Lines: one `User` object per line, exactly as ListUsers returns it.
//! * CSV: a header row naming the columns ([`CSV_COLUMNS`]); an empty cell is an absent field.
//!   `AlexaForBusinessMetadata` is two columns, `AlexaForBusinessMetadata.IsAlexaForBusinessEnabled`
//!   and `AlexaForBusinessMetadata.AlexaForBusinessRoomArn`.
//!
//! Only `PrimaryEmail` is required. Every field is checked as the service model bounds it; a bad
//! record is reported with its line number and reason.
//!
//! An account's rooms and bots move as JSON Lines of their own ([`rooms`]), and so do an AWS
//! account's phone-number inventory and orders ([`phone_numbers`]).

pub mod phone_numbers;
pub mod rooms;

use std::collections::HashMap;
use std::io::{BufRead, Write};

use serde::Deserialize;

use crate::api::validate::{self, ARN_PATTERN, E164_PATTERN, EMAIL_PATTERN, GUID_PATTERN};
use crate::model::{InviteStatus, License, RegistrationStatus, UserType};
use crate::store::{AlexaForBusinessMetadata, ImportUser, Missing, Store, StoreError, UserFilter};
use crate::time::parse_iso8601_millis;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

/// The CSV columns, in the order `export` writes them.
pub const CSV_COLUMNS: &[&str] = &[
    "UserId",
    "AccountId",
    "PrimaryEmail",
    "PrimaryProvisionedNumber",
    "DisplayName",
    "LicenseType",
    "UserType",
    "UserRegistrationStatus",
    "UserInvitationStatus",
    "RegisteredOn",
    "InvitedOn",
    "AlexaForBusinessMetadata.IsAlexaForBusinessEnabled",
    "AlexaForBusinessMetadata.AlexaForBusinessRoomArn",
    "PersonalPIN",
];

/// A record as a file gives it, before any check.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawUser {
    user_id: Option<String>,
    account_id: Option<String>,
    primary_email: Option<String>,
    primary_provisioned_number: Option<String>,
    display_name: Option<String>,
    license_type: Option<String>,
    user_type: Option<String>,
    user_registration_status: Option<String>,
    user_invitation_status: Option<String>,
    registered_on: Option<String>,
    invited_on: Option<String>,
    alexa_for_business_metadata: Option<AlexaForBusinessMetadata>,
    #[serde(rename = "PersonalPIN")]
    personal_pin: Option<String>,
}

/// A checked record: the user and the account its line names (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub account_id: Option<String>,
    pub user: ImportUser,
}

impl Record {
    /// The fields this record sets that no API call lets a caller set (CreateUser,
    /// InviteUsers, UpdateUser and the console's forms set only the email, user type, license,
    /// display name and Alexa for Business metadata): the UserId, the registration and
    /// invitation state and their dates, the Personal PIN, a phone number, or an `AccountId`
    /// other than `account_id`, the account imported into.
    pub fn beyond_api(&self, account_id: &str) -> Vec<&'static str> {
        let user = &self.user;
        let fields = [
            ("UserId", user.user_id.is_some()),
            (
                "AccountId",
                self.account_id.as_deref().is_some_and(|a| a != account_id),
            ),
            (
                "PrimaryProvisionedNumber",
                user.primary_provisioned_number.is_some(),
            ),
            ("UserRegistrationStatus", user.registration_status.is_some()),
            ("UserInvitationStatus", user.invitation_status.is_some()),
            ("RegisteredOn", user.registered_on_ms.is_some()),
            ("InvitedOn", user.invited_on_ms.is_some()),
            ("PersonalPIN", user.personal_pin.is_some()),
        ];
        fields
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| name)
            .collect()
    }
}

/// Parses one JSON Lines line (`line` is its 1-based number).
pub fn parse_json_line(line: u64, text: &str) -> Result<Record, String> {
    let raw: RawUser = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    check(line, raw)
}

/// Reads the CSV header: the column of each field, refusing unknown and repeated names.
pub fn csv_header(header: &csv::StringRecord) -> Result<Vec<usize>, String> {
    let mut columns = Vec::with_capacity(header.len());
    for name in header.iter() {
        let name = name.trim();
        let index = CSV_COLUMNS
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| format!("unknown column {name:?} in the header"))?;
        if columns.contains(&index) {
            return Err(format!("column {name:?} appears twice in the header"));
        }
        columns.push(index);
    }
    if !columns.contains(&2) {
        return Err("the header has no PrimaryEmail column".into());
    }
    Ok(columns)
}

/// Parses one CSV record, given the columns [`csv_header`] found.
pub fn parse_csv_record(
    line: u64,
    columns: &[usize],
    record: &csv::StringRecord,
) -> Result<Record, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "{} fields where the header has {}",
            record.len(),
            columns.len()
        ));
    }
    let mut raw = RawUser::default();
    let mut alexa = AlexaForBusinessMetadata::default();
    for (cell, &column) in record.iter().zip(columns) {
        if cell.is_empty() {
            continue;
        }
        let value = Some(cell.to_string());
        match column {
            0 => raw.user_id = value,
            1 => raw.account_id = value,
            2 => raw.primary_email = value,
            3 => raw.primary_provisioned_number = value,
            4 => raw.display_name = value,
            5 => raw.license_type = value,
            6 => raw.user_type = value,
            7 => raw.user_registration_status = value,
            8 => raw.user_invitation_status = value,
            9 => raw.registered_on = value,
            10 => raw.invited_on = value,
            11 => {
                alexa.is_alexa_for_business_enabled = Some(match cell {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(format!("{} must be true or false", CSV_COLUMNS[column]));
                    }
                })
            }
            12 => alexa.alexa_for_business_room_arn = value,
            _ => raw.personal_pin = value,
        }
    }
    if alexa != AlexaForBusinessMetadata::default() {
        raw.alexa_for_business_metadata = Some(alexa);
    }
    check(line, raw)
}

fn enumeration<T>(
    field: &str,
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Result<Option<T>, String> {
    value
        .map(|v| parse(&v).ok_or_else(|| format!("{field} must be one of {}", choices())))
        .transpose()
}

fn timestamp(field: &str, value: Option<String>) -> Result<Option<i64>, String> {
    value
        .map(|v| {
            parse_iso8601_millis(&v).ok_or_else(|| {
                format!("{field} must be a UTC timestamp like 2019-01-04T17:11:22.003Z")
            })
        })
        .transpose()
}

/// Checks every field as the model bounds it.
fn check(line: u64, raw: RawUser) -> Result<Record, String> {
    let email = raw
        .primary_email
        .ok_or_else(|| "PrimaryEmail is required".to_string())?;
    if !validate::matches(EMAIL_PATTERN, &email) {
        return Err("PrimaryEmail is not an email address".into());
    }
    for (field, id) in [("UserId", &raw.user_id), ("AccountId", &raw.account_id)] {
        if let Some(id) = id
            && !validate::matches(GUID_PATTERN, id)
        {
            return Err(format!("{field} must be a GUID"));
        }
    }
    if let Some(number) = &raw.primary_provisioned_number
        && !validate::matches(E164_PATTERN, number)
    {
        return Err(format!(
            "PrimaryProvisionedNumber must be an E.164 number ({E164_PATTERN})"
        ));
    }
    if let Some(name) = &raw.display_name
        && name.trim().is_empty()
    {
        return Err("DisplayName must not be blank".into());
    }
    if let Some(pin) = &raw.personal_pin
        && !(pin.len() == 10 && pin.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("PersonalPIN must be 10 digits".into());
    }
    if let Some(arn) = raw
        .alexa_for_business_metadata
        .as_ref()
        .and_then(|a| a.alexa_for_business_room_arn.as_deref())
        && !validate::matches(ARN_PATTERN, arn)
    {
        return Err("AlexaForBusinessMetadata.AlexaForBusinessRoomArn must be an ARN".into());
    }
    let user = ImportUser {
        line,
        primary_email: email,
        user_id: raw.user_id.map(|id| id.to_ascii_lowercase()),
        display_name: raw.display_name,
        license_type: enumeration(
            "LicenseType",
            raw.license_type,
            License::parse,
            License::choices,
        )?,
        user_type: enumeration(
            "UserType",
            raw.user_type,
            UserType::parse,
            UserType::choices,
        )?,
        registration_status: enumeration(
            "UserRegistrationStatus",
            raw.user_registration_status,
            RegistrationStatus::parse,
            RegistrationStatus::choices,
        )?,
        invitation_status: enumeration(
            "UserInvitationStatus",
            raw.user_invitation_status,
            InviteStatus::parse,
            InviteStatus::choices,
        )?,
        registered_on_ms: timestamp("RegisteredOn", raw.registered_on)?,
        invited_on_ms: timestamp("InvitedOn", raw.invited_on)?,
        personal_pin: raw.personal_pin,
        primary_provisioned_number: raw.primary_provisioned_number,
        alexa: raw.alexa_for_business_metadata,
    };
    Ok(Record {
        account_id: raw.account_id.map(|id| id.to_ascii_lowercase()),
        user,
    })
}

/// Reads records from a file, one at a time, whatever its format.
pub struct RecordReader<R: BufRead> {
    inner: ReaderKind<R>,
    line: u64,
}

enum ReaderKind<R: BufRead> {
    Json(R, String),
    Csv(csv::Reader<R>, Vec<usize>, csv::StringRecord),
}

impl<R: BufRead> RecordReader<R> {
    /// A reader of `format`; a CSV header is read and checked at once.
    pub fn new(input: R, format: Format) -> Result<RecordReader<R>, String> {
        let inner = match format {
            Format::JsonLines => ReaderKind::Json(input, String::new()),
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(input);
                let header = csv
                    .headers()
                    .map_err(|e| format!("line 1: cannot read the CSV header: {e}"))?
                    .clone();
                let columns = csv_header(&header).map_err(|e| format!("line 1: {e}"))?;
                ReaderKind::Csv(csv, columns, csv::StringRecord::new())
            }
        };
        Ok(RecordReader { inner, line: 0 })
    }

    /// The next record: `None` at the end; `Some(Err((line, reason)))` for a bad one. An I/O
    /// error ends the reading with `Err`.
    #[allow(clippy::type_complexity)]
    pub fn next_record(&mut self) -> std::io::Result<Option<Result<Record, (u64, String)>>> {
        match &mut self.inner {
            ReaderKind::Json(input, buffer) => loop {
                buffer.clear();
                if input.read_line(buffer)? == 0 {
                    return Ok(None);
                }
                self.line += 1;
                let text = buffer.trim();
                if text.is_empty() {
                    continue;
                }
                let line = self.line;
                return Ok(Some(parse_json_line(line, text).map_err(|e| (line, e))));
            },
            ReaderKind::Csv(csv, columns, record) => {
                let more = match csv.read_record(record) {
                    Ok(more) => more,
                    Err(e) => {
                        let line = e.position().map_or(self.line + 1, |p| p.line());
                        self.line = line;
                        if let csv::ErrorKind::Io(_) = e.kind() {
                            return Err(std::io::Error::other(e.to_string()));
                        }
                        return Ok(Some(Err((line, format!("invalid CSV: {e}")))));
                    }
                };
                if !more {
                    return Ok(None);
                }
                let line = record.position().map_or(self.line + 1, |p| p.line());
                self.line = line;
                Ok(Some(
                    parse_csv_record(line, columns, record).map_err(|e| (line, e)),
                ))
            }
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The account every record goes to; `None`: each record's `AccountId`.
    pub account_id: Option<String>,
    /// Abort on the first bad record with nothing written.
    pub strict: bool,
    /// Records per batch (per transaction when not strict).
    pub batch: usize,
    /// Take only the fields the Chime API lets a caller set ([`Record::beyond_api`]); a record
    /// that sets any other is refused with its line. The console imports this way, acting for
    /// a caller; `belfry import` acts for the operator and may set every field.
    pub api_fields_only: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            account_id: None,
            strict: false,
            batch: 20_000,
            api_fields_only: false,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: u64,
    pub updated: u64,
    /// How many records were not imported.
    pub bad_count: u64,
    /// The first [`MAX_REPORTED`] of them: line number and reason.
    pub bad: Vec<(u64, String)>,
}

/// How many bad records an import keeps the reasons of.
pub const MAX_REPORTED: usize = 1000;

impl ImportSummary {
    fn bad_line(&mut self, line: u64, reason: String) {
        self.bad_count += 1;
        if self.bad.len() < MAX_REPORTED {
            self.bad.push((line, reason));
        }
    }
}

/// Why an import stopped.
#[derive(Debug)]
pub enum ImportError {
    /// `--strict`: this line was bad; nothing was written.
    Aborted(u64, String),
    /// The input could not be read or its CSV header is bad; in strict mode nothing was
    /// written, otherwise the batches before were.
    Input(String),
    Store(StoreError),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Aborted(line, reason) => {
                write!(f, "line {line}: {reason} (strict: nothing was imported)")
            }
            ImportError::Input(e) => write!(f, "{e}"),
            ImportError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(line, reason) => ImportError::Aborted(line, reason),
            other => ImportError::Store(other),
        }
    }
}

/// One batch from the reading thread: records and the bad lines met among them.
type Batch = Vec<Result<Record, (u64, String)>>;

/// Imports every record of `input`: upserts by email, in batches; `progress` is called with
/// the number of records done after each batch. The file is parsed on a thread of its own
/// while the previous batch is written.
pub async fn import<R: BufRead + Send + 'static>(
    store: &Store,
    input: R,
    format: Format,
    options: &ImportOptions,
    mut progress: impl FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let batch_size = options.batch.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::result::Result<Batch, String>>(2);
    let reader = std::thread::spawn(move || {
        let mut reader = match RecordReader::new(input, format) {
            Ok(reader) => reader,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut batch = Vec::with_capacity(batch_size);
        loop {
            match reader.next_record() {
                Ok(Some(record)) => {
                    batch.push(record);
                    if batch.len() == batch_size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                        if tx.blocking_send(Ok(full)).is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Err(format!("reading the input: {e}")));
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
    });
    let mut summary = ImportSummary::default();
    let mut strict_import = None;
    if options.strict {
        strict_import = Some(store.begin_import().await?);
    }
    let mut done = 0;
    while let Some(batch) = rx.recv().await {
        let batch = batch.map_err(ImportError::Input)?;
        // Records by target account, in file order within each.
        let mut groups: Vec<(String, Vec<ImportUser>)> = Vec::new();
        let mut group_of: HashMap<String, usize> = HashMap::new();
        for record in batch {
            let record = match record {
                Ok(record) => record,
                Err((line, reason)) if options.strict => {
                    return Err(ImportError::Aborted(line, reason));
                }
                Err((line, reason)) => {
                    summary.bad_line(line, reason);
                    continue;
                }
            };
            if options.api_fields_only {
                let beyond = record.beyond_api(options.account_id.as_deref().unwrap_or(""));
                if !beyond.is_empty() {
                    let reason = format!(
                        "{} cannot be set here (the API does not let a caller set {})",
                        beyond.join(", "),
                        if beyond.len() == 1 { "it" } else { "them" }
                    );
                    if options.strict {
                        return Err(ImportError::Aborted(record.user.line, reason));
                    }
                    summary.bad_line(record.user.line, reason);
                    continue;
                }
            }
            let Some(account) = options.account_id.clone().or(record.account_id) else {
                let reason = "AccountId is required when no --account-id is given".to_string();
                if options.strict {
                    return Err(ImportError::Aborted(record.user.line, reason));
                }
                summary.bad_line(record.user.line, reason);
                continue;
            };
            match group_of.get(&account) {
                Some(&at) => groups[at].1.push(record.user),
                None => {
                    group_of.insert(account.clone(), groups.len());
                    groups.push((account, vec![record.user]));
                }
            }
        }
        let mut batch_import = None;
        let import = match &mut strict_import {
            Some(import) => import,
            None => batch_import.insert(store.begin_import().await?),
        };
        for (account, users) in &groups {
            match import.upsert(account, users, options.strict).await {
                Ok(outcome) => {
                    summary.created += outcome.created;
                    summary.updated += outcome.updated;
                    for (line, reason) in outcome.refused {
                        summary.bad_line(line, reason);
                    }
                }
                Err(StoreError::NotFound(Missing::Account { .. })) => {
                    let reason = format!("the account {account} does not exist");
                    if options.strict {
                        return Err(ImportError::Aborted(users[0].line, reason));
                    }
                    for user in users {
                        summary.bad_line(user.line, reason.clone());
                    }
                }
                Err(e) => return Err(e.into()),
            }
            done += users.len() as u64;
        }
        if let Some(import) = batch_import {
            import.commit().await?;
        }
        progress(done);
    }
    let _ = reader.join();
    if let Some(import) = strict_import {
        import.commit().await?;
    }
    if summary.created + summary.updated > 0 {
        store.analyze().await?;
    }
    Ok(summary)
}

/// Writes every user of `account_id` to `out` in ListUsers order, reading a page of users at a
/// time ([`export_pages`]), so memory stays the same however large the account. Returns how
/// many were written.
pub async fn export(
    store: &Store,
    account_id: &str,
    format: Format,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    use futures_util::TryStreamExt;
    let pages = export_pages(store.clone(), account_id.to_string(), format);
    let mut pages = std::pin::pin!(pages);
    let mut written = 0;
    while let Some((bytes, users)) = pages.try_next().await? {
        out.write_all(&bytes)?;
        written += users;
    }
    out.flush()?;
    Ok(written)
}

/// The users of `account_id` in ListUsers order, in `format`: one item per page of
/// [`EXPORT_PAGE`] users read from the store, its bytes and how many users they hold (the CSV
/// header comes with the first page). A server streams these as a response's body, and
/// [`export`] writes them to a file; neither holds more than a page.
pub fn export_pages(
    store: Store,
    account_id: String,
    format: Format,
) -> impl futures_util::Stream<Item = Result<(bytes::Bytes, u64), ExportError>> + Send {
    struct State {
        store: Store,
        account_id: String,
        /// The owner, once read; `None` before the first page.
        owner: Option<String>,
        /// Where the next page starts; `None` with `owner` set: nothing is left.
        after: Option<String>,
    }
    let state = State {
        store,
        account_id,
        owner: None,
        after: None,
    };
    futures_util::stream::try_unfold(state, move |mut state| async move {
        let first = state.owner.is_none();
        if first {
            state.owner = Some(state.store.account_owner(&state.account_id).await?);
        } else if state.after.is_none() {
            return Ok(None);
        }
        let owner = state.owner.as_deref().unwrap_or_default();
        let page = state
            .store
            .read_users_page(
                owner,
                &state.account_id,
                &UserFilter::default(),
                state.after.as_deref(),
                EXPORT_PAGE,
            )
            .await?;
        let mut out = Vec::new();
        match format {
            Format::JsonLines => {
                for doc in page.docs() {
                    out.extend_from_slice(doc.as_bytes());
                    out.push(b'\n');
                }
            }
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(&mut out);
                if first {
                    writer.write_record(CSV_COLUMNS).map_err(csv_error)?;
                }
                for doc in page.docs() {
                    writer.write_record(csv_row(doc)?).map_err(csv_error)?;
                }
                writer.flush()?;
            }
        }
        let users = page.count() as u64;
        state.after = page.next;
        Ok(Some(((bytes::Bytes::from(out), users), state)))
    })
}

/// Users per page of an export.
const EXPORT_PAGE: usize = 1000;

/// The CSV cells of one user, from its `User` JSON.
fn csv_row(doc: &str) -> Result<Vec<String>, ExportError> {
    let raw: RawUser = serde_json::from_str(doc)
        .map_err(|e| ExportError::Store(StoreError::Internal(format!("stored user JSON: {e}"))))?;
    let alexa = raw.alexa_for_business_metadata.unwrap_or_default();
    let cell = |v: Option<String>| v.unwrap_or_default();
    Ok(vec![
        cell(raw.user_id),
        cell(raw.account_id),
        cell(raw.primary_email),
        cell(raw.primary_provisioned_number),
        cell(raw.display_name),
        cell(raw.license_type),
        cell(raw.user_type),
        cell(raw.user_registration_status),
        cell(raw.user_invitation_status),
        cell(raw.registered_on),
        cell(raw.invited_on),
        cell(alexa.is_alexa_for_business_enabled.map(|b| b.to_string())),
        cell(alexa.alexa_for_business_room_arn),
        cell(raw.personal_pin),
    ])
}

fn csv_error(e: csv::Error) -> ExportError {
    ExportError::Io(std::io::Error::other(e.to_string()))
}

/// Why an export stopped.
#[derive(Debug)]
pub enum ExportError {
    Store(StoreError),
    Io(std::io::Error),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::Store(StoreError::NotFound(Missing::Account { .. })) => {
                write!(f, "no such account")
            }
            ExportError::Store(e) => write!(f, "{e}"),
            ExportError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Store(e)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_api_names_the_fields_no_api_call_sets() {
        let account = "8d1f5435-0802-4a23-b156-51888d655a40";
        let plain = parse_json_line(
            1,
            &format!(
                r#"{{"PrimaryEmail":"a@example.com","AccountId":"{account}","DisplayName":"A","LicenseType":"Pro","UserType":"SharedDevice"}}"#
            ),
        )
        .unwrap();
        assert!(plain.beyond_api(account).is_empty());
        assert_eq!(
            plain.beyond_api("5cedb26c-cd5a-4d14-971b-673a5c4c8dc6"),
            ["AccountId"]
        );
        let all = parse_json_line(
            2,
            r#"{"PrimaryEmail":"a@example.com","UserId":"af6055f1-57eb-4d76-ade5-08153319947d","PrimaryProvisionedNumber":"+12065550100","UserRegistrationStatus":"Registered","UserInvitationStatus":"Accepted","RegisteredOn":"2019-01-04T17:11:22.003Z","InvitedOn":"2019-01-03T08:00:00.000Z","PersonalPIN":"0123456789"}"#,
        )
        .unwrap();
        assert_eq!(
            all.beyond_api(account),
            [
                "UserId",
                "PrimaryProvisionedNumber",
                "UserRegistrationStatus",
                "UserInvitationStatus",
                "RegisteredOn",
                "InvitedOn",
                "PersonalPIN"
            ]
        );
    }

    #[test]
    fn json_lines_are_checked_field_by_field() {
        let ok = parse_json_line(
            1,
            r#"{"PrimaryEmail":"Élodie@Example.com","UserType":"SharedDevice","RegisteredOn":"2019-01-04T17:11:22.003Z","PersonalPIN":"0123456789","PrimaryProvisionedNumber":"+12065550100"}"#,
        )
        .unwrap();
        assert_eq!(ok.user.primary_email, "Élodie@Example.com");
        assert_eq!(ok.user.user_type, Some(UserType::SharedDevice));
        assert_eq!(ok.user.registered_on_ms, Some(1_546_621_882_003));
        for (line, reason) in [
            (r#"{"DisplayName":"x"}"#, "PrimaryEmail is required"),
            (r#"{"PrimaryEmail":"nope"}"#, "not an email"),
            (
                r#"{"PrimaryEmail":"a@b.co","LicenseType":"Gold"}"#,
                "LicenseType must be one of [Basic, Plus, Pro, ProTrial]",
            ),
            (
                r#"{"PrimaryEmail":"a@b.co","PersonalPIN":"12"}"#,
                "10 digits",
            ),
            (
                r#"{"PrimaryEmail":"a@b.co","PrimaryProvisionedNumber":"0555"}"#,
                "E.164",
            ),
            (
                r#"{"PrimaryEmail":"a@b.co","UserId":"u-1"}"#,
                "UserId must be a GUID",
            ),
            (
                r#"{"PrimaryEmail":"a@b.co","InvitedOn":"yesterday"}"#,
                "InvitedOn must be a UTC",
            ),
            (
                r#"{"PrimaryEmail":"a@b.co","Colour":"blue"}"#,
                "unknown field `Colour`",
            ),
            (r#"{"PrimaryEmail":"a@b.co""#, "invalid JSON"),
        ] {
            let e = parse_json_line(7, line).unwrap_err();
            assert!(e.contains(reason), "{line}: {e}");
        }
    }

    #[test]
    fn csv_header_and_cells() {
        let header = csv::StringRecord::from(vec![
            "PrimaryEmail",
            "UserType",
            "AlexaForBusinessMetadata.IsAlexaForBusinessEnabled",
        ]);
        let columns = csv_header(&header).unwrap();
        let record = csv::StringRecord::from(vec!["a@b.co", "", "true"]);
        let r = parse_csv_record(2, &columns, &record).unwrap();
        assert_eq!(r.user.user_type, None, "an empty cell is an absent field");
        assert_eq!(
            r.user.alexa.unwrap().is_alexa_for_business_enabled,
            Some(true)
        );
        assert!(csv_header(&csv::StringRecord::from(vec!["Email"])).is_err());
        assert!(csv_header(&csv::StringRecord::from(vec!["UserId"])).is_err());
        let short = csv::StringRecord::from(vec!["a@b.co"]);
        assert!(parse_csv_record(3, &columns, &short).is_err());
    }
}
