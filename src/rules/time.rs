//! Durations and dates as rule authors write them, and the calendar arithmetic the
//! core needs (ISO weeks for cohorts, readable dates in explanations).
//!
//! Everything is in milliseconds since the Unix epoch, UTC: the core never reads a
//! clock or the host's time zone, so a schedule means the same instant on every device.

/// Milliseconds in a minute.
pub const MINUTE_MS: f64 = 60_000.0;
/// Milliseconds in an hour.
pub const HOUR_MS: f64 = 3_600_000.0;
/// Milliseconds in a day.
pub const DAY_MS: f64 = 86_400_000.0;

/// Parses a duration: a positive whole number followed by one unit, `s` (seconds),
/// `m` (minutes), `h` (hours), `d` (days) or `w` (weeks): `"30m"`, `"48h"`, `"14d"`,
/// `"2w"`. Returns milliseconds, or `None` for anything else (`"0d"`, `"1.5h"`, `"3"`).
pub fn parse_duration(s: &str) -> Option<f64> {
    let (unit, digits) = s.as_bytes().split_last()?;
    let unit = match unit {
        b's' => 1_000.0,
        b'm' => MINUTE_MS,
        b'h' => HOUR_MS,
        b'd' => DAY_MS,
        b'w' => 7.0 * DAY_MS,
        _ => return None,
    };
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_digit) || digits[0] == b'0' {
        return None;
    }
    // At most six digits: exact in an f64, with no float parser in the .wasm.
    Some(digits.iter().fold(0.0, |n, &d| n * 10.0 + (d - b'0') as f64) * unit)
}

pub use tailor_first::time::{civil_from_days, days_from_civil, iso_week};

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day number (days since 1970-01-01, UTC) containing `ms`.
pub fn day_number(ms: f64) -> i64 {
    (ms / DAY_MS).floor() as i64
}

/// Parses a schedule date: an ISO date `"2026-03-01"` (midnight UTC) or an RFC 3339
/// date-time with an explicit offset, `"2026-03-01T09:00:00+01:00"` or
/// `"2026-03-01T08:00:00Z"` (seconds and fractions optional). A date-time without an
/// offset is rejected: it would mean a different instant in every visitor's time zone.
/// Returns milliseconds since the epoch.
pub fn parse_date(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64))
    };
    let (y, m, d) = (num(0, 4)?, num(5, 2)? as u32, num(8, 2)? as u32);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) as f64 * DAY_MS;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b[10], b'T' | b't') || b.get(13) != Some(&b':') {
        return None;
    }
    let (hh, mi) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let (mut sec, mut milli) = (0, 0);
    if b.get(i) == Some(&b':') {
        sec = num(17, 2)?;
        i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            // Milliseconds are the first three digits, later ones truncated, as
            // JavaScript's Date.parse reads them (".3" is 300 ms, ".2999" 299 ms).
            milli = (start..start + 3).fold(0, |a, k| a * 10 + b.get(k).filter(|_| k < i).map_or(0, |c| (c - b'0') as i64));
        }
    }
    if hh > 23 || mi > 59 || sec > 60 {
        return None;
    }
    if sec == 60 {
        (sec, milli) = (59, 999); // a leap second: the last millisecond of its minute
    }
    ms += (hh * 3_600_000 + mi * 60_000 + sec * 1_000 + milli) as f64;
    let offset = match b.get(i)? {
        b'Z' | b'z' if b.len() == i + 1 => 0.0,
        sign @ (b'+' | b'-') if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = (oh * 3_600_000 + om * 60_000) as f64;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    Some(ms - offset)
}

fn push2(out: &mut String, n: u32) {
    out.push((b'0' + (n / 10 % 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// `"2026-03-01T09:30:00Z"`: the UTC instant, to the second.
pub fn format_date_time(ms: f64) -> String {
    let day = day_number(ms);
    let (y, m, d) = civil_from_days(day);
    let secs = ((ms - day as f64 * DAY_MS) / 1000.0).floor() as u32;
    let mut out = y.to_string();
    out.push('-');
    push2(&mut out, m);
    out.push('-');
    push2(&mut out, d);
    out.push('T');
    push2(&mut out, secs / 3600);
    out.push(':');
    push2(&mut out, secs / 60 % 60);
    out.push(':');
    push2(&mut out, secs % 60);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(30.0 * MINUTE_MS));
        assert_eq!(parse_duration("48h"), Some(48.0 * HOUR_MS));
        assert_eq!(parse_duration("14d"), Some(14.0 * DAY_MS));
        assert_eq!(parse_duration("2w"), Some(14.0 * DAY_MS));
        assert_eq!(parse_duration("10s"), Some(10_000.0));
        for bad in ["", "d", "0d", "01d", "1.5h", "3", "-1d", "1D", "1 d", "1y"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    /// Fractions of a second give whole milliseconds, the first three digits with
    /// later ones truncated, as Date.parse does: every 1- to 3-digit fraction of every
    /// second (the float arithmetic this replaced put 32.3 s at 32,299 ms).
    #[test]
    fn fractions_of_a_second_are_milliseconds_as_javascript_reads_them() {
        let base = parse_date("2026-03-01T00:00Z").unwrap();
        for sec in 0..60 {
            for len in 1..=3 {
                for f in 0..10i64.pow(len) {
                    let text = format!("2026-03-01T00:00:{sec:02}.{f:0width$}Z", width = len as usize);
                    let want = base + (sec * 1000 + f * 10i64.pow(3 - len)) as f64;
                    assert_eq!(parse_date(&text), Some(want), "{text}");
                }
            }
        }
        assert_eq!(parse_date("2026-03-01T00:00:32.3Z"), Some(base + 32_300.0));
        assert_eq!(parse_date("2026-03-01T00:00:32.2999999Z"), Some(base + 32_299.0));
        assert_eq!(parse_date("2026-03-01T00:00:59.9999Z"), Some(base + 59_999.0));
        assert_eq!(parse_date("2026-03-01T00:00:60Z"), Some(base + 59_999.0), "a leap second");
        assert_eq!(parse_date("2026-03-01T00:00:61Z"), None);
        assert_eq!(parse_date("2026-03-01T00:00:01.Z"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0.0));
        assert_eq!(parse_date("2026-03-01"), Some(1_772_323_200_000.0));
        assert_eq!(parse_date("2026-03-01T01:00:00+01:00"), Some(1_772_323_200_000.0));
        assert_eq!(parse_date("2026-03-01T00:00Z"), Some(1_772_323_200_000.0));
        assert_eq!(parse_date("2026-02-28T23:00:00.500-01:00"), Some(1_772_323_200_500.0));
        assert_eq!(parse_date("2024-02-29"), Some(days_from_civil(2024, 2, 29) as f64 * DAY_MS));
        for bad in ["2026-02-29", "2026-13-01", "2026-3-1", "2026-03-01T10:00:00", "2026-03-01T25:00Z", "tomorrow", "2026-03-01Z"] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
        assert_eq!(format_date_time(1_772_323_200_000.0 + 3_723_000.0), "2026-03-01T01:02:03Z");
        for z in [-800_000i64, -1, 0, 59, 60, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn iso_weeks() {
        let at = |y, m, d| days_from_civil(y, m, d) as f64 * DAY_MS;
        assert_eq!(iso_week(at(2026, 11, 16)), "2026-W47");
        assert_eq!(iso_week(at(2026, 1, 1)), "2026-W01");
        assert_eq!(iso_week(at(2027, 1, 1)), "2026-W53");
        assert_eq!(iso_week(at(2024, 12, 30)), "2025-W01");
        assert_eq!(iso_week(at(2021, 1, 3)), "2020-W53");
    }
}
