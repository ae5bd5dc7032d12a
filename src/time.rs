//! Wall-clock time as the Chime wire writes it: `2019-01-04T17:11:22.003Z`.
//!
//! The store keeps instants as milliseconds since the Unix epoch (an `i64` that both SQLite
//! and PostgreSQL hold natively); these functions convert at the edge. The calendar maths is
//! Howard Hinnant's `days_from_civil` / `civil_from_days`, small enough to own.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Formats epoch milliseconds as ISO 8601 UTC with milliseconds: `2019-01-04T17:11:22.003Z`.
pub fn iso8601_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z");
    }
    // The common case without the formatting machinery (an import formats two per user).
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: i64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, hh);
    put(14, 2, mm);
    put(17, 2, ss);
    put(20, 3, milli);
    out.iter().map(|&b| char::from(b)).collect()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what [`iso8601_millis`] writes, with or without the
/// milliseconds) into epoch milliseconds.
pub fn parse_iso8601_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let milli = match &s[19..s.len() - 1] {
        "" => 0,
        frac if frac.len() == 4 && frac.starts_with('.') => num(20..23)?,
        _ => return None,
    };
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss) * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        // 2019-01-04T17:11:22.003Z
        let ms = (days_from_civil(2019, 1, 4) * 86_400 + 17 * 3600 + 11 * 60 + 22) * 1000 + 3;
        assert_eq!(iso8601_millis(ms), "2019-01-04T17:11:22.003Z");
        assert_eq!(iso8601_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats_as_the_formatter_would() {
        for ms in (-80_000_000_000_000i64..300_000_000_000_000).step_by(9_876_543_210_987) {
            let secs = ms.div_euclid(1000);
            let sod = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let expected = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                sod / 3600,
                (sod % 3600) / 60,
                sod % 60,
                ms.rem_euclid(1000)
            );
            assert_eq!(iso8601_millis(ms), expected, "{ms}");
        }
    }

    #[test]
    fn parses_what_it_formats() {
        for ms in [0, 951_782_400_000, 1_546_621_882_003, 4_102_444_799_999] {
            assert_eq!(parse_iso8601_millis(&iso8601_millis(ms)), Some(ms));
        }
        assert_eq!(
            parse_iso8601_millis("2019-01-04T17:11:22Z"),
            Some(1_546_621_882_000)
        );
        for bad in [
            "2019-01-04",
            "2019-02-30T00:00:00Z",
            "2019-01-04T24:00:00Z",
            "2019-01-04T17:11:22.3Z",
            "2019-01-04T17:11:22.003",
            "2019-01-04 17:11:22Z",
            "x019-01-04T17:11:22Z",
        ] {
            assert_eq!(parse_iso8601_millis(bad), None, "{bad}");
        }
    }
}
