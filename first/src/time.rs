//! Calendar arithmetic shared with the full engine (proleptic Gregorian, UTC, Howard
//! Hinnant's algorithms), without `std`.

use alloc::string::String;

/// One day in milliseconds.
pub const DAY_MS: f64 = 86_400_000.0;

/// `Math.floor` for values far inside `i64` (times and day counts).
pub fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The ISO week of instant `ms`, e.g. `"2026-W47"` (a profile's cohort).
pub fn iso_week(ms: f64) -> String {
    let (buf, len) = iso_week_text(ms);
    buf[..len].iter().map(|&c| c as char).collect()
}

/// [`iso_week`]'s text in a buffer (ASCII), with its length: no `String` in the first
/// module.
pub fn iso_week_text(ms: f64) -> ([u8; 24], usize) {
    let day = floor(ms / DAY_MS) as i64;
    // 1970-01-01 was a Thursday; ISO weekday 1 = Monday … 7 = Sunday.
    let weekday = (day + 3).rem_euclid(7) + 1;
    let thursday = day - weekday + 4;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    // The year's digits, then "-Wnn", written backwards from the end.
    let mut tail = [0u8; 24];
    let mut i = tail.len();
    for c in [b'0' + (week % 10) as u8, b'0' + (week / 10) as u8, b'W', b'-'] {
        i -= 1;
        tail[i] = c;
    }
    let mut v = year.unsigned_abs();
    loop {
        i -= 1;
        tail[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if year < 0 {
        i -= 1;
        tail[i] = b'-';
    }
    let len = tail.len() - i;
    tail.copy_within(i.., 0);
    (tail, len)
}
