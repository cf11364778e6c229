//! Dates: the value of a date field (a string, an epoch number, an Arrow date
//! or timestamp) parsed into the one form records hold.
//!
//! # The form
//!
//! RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SSZ`, with a fraction `.ffffff` (always
//! six digits: microseconds, finer digits dropped) only when the sub-second
//! part is not zero. A value with an offset is moved to UTC; a value without
//! a zone is taken as UTC; a date alone is midnight UTC. A leap second keeps
//! its `:60`. Forms compare in time order as strings, except a whole second
//! against a fraction of the same second (`05Z` sorts after `05.500000Z`).
//!
//! # What parses
//!
//! Strings, white space around them ignored:
//!
//! - ISO 8601 and RFC 3339 (which covers the WARC-Date form):
//!   `2024-01-02T03:04:05Z`; `T`, `t` or a space between date and time; a
//!   fraction or none; an offset `Z`, `+02:00`, `+0200`, `+02` or none;
//!   minutes without seconds (`2024-01-02T03:04Z`); a date alone
//!   (`2024-01-02`); a year and month (`2024-01`, the first of the month).
//! - RFC 2822, and so HTTP dates: `Tue, 1 Jul 2003 10:52:37 +0200`,
//!   `Tue, 01 Jul 2003 10:52:37 GMT`.
//! - Numbers written as strings (`1700000000`, `-86400`, `1700000000.25`):
//!   epochs, read as numbers are.
//!
//! Numbers (JSON numbers, integer and float columns) are Unix epochs: seconds,
//! or milliseconds when their magnitude is at least 10¹¹. The rule is a guess
//! and can guess wrong: 10¹¹ seconds is the year 5138, far beyond any real
//! date, but 10¹¹ milliseconds is 1973-03-03, so a date in milliseconds
//! before March 1973 (or after 1966-10 for negative values) is read as
//! seconds. Such dates should be given as strings or as Arrow timestamps,
//! whose unit is known ([`from_epoch`]). Fractions of a float are kept to the
//! microsecond. Negative epochs are dates before 1970.
//!
//! # What does not
//!
//! A date whose year, in UTC, is outside 1..=9999 (`99999-01-01`, an epoch of
//! 10¹⁸ milliseconds); NaN and infinities; strings in none of the forms
//! above; values of other types (booleans, objects, arrays). Each gives a
//! [`NotADate`] saying why; ingest then keeps the record with no date, leaves
//! the value in `meta`, and reports a `field` row whose reason
//! [`field_reason`] writes. Nothing here panics: only chrono's checked
//! constructors are used.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// Why a value is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotADate(pub String);

impl std::fmt::Display for NotADate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The unit of an epoch whose unit is known (an Arrow date or timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Days,
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// Magnitude from which an epoch number is read as milliseconds.
pub const MILLIS_FROM: i64 = 100_000_000_000;

/// Most characters of a value shown in an error reason.
const SHOWN_CHARS: usize = 80;

/// Zoned forms tried after RFC 3339 (`%#z`: `Z`, `+02`, `+0200`, `+02:00`).
const ZONED: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
];

/// Forms without a zone, taken as UTC.
const NAIVE: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// The normalised date of a string (see the module documentation).
pub fn parse_str(value: &str) -> Result<String, NotADate> {
    let s = value.trim();
    if s.is_empty() {
        return Err(NotADate("an empty string".into()));
    }
    if is_number(s) {
        return from_epoch_str(s);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return normalise(dt.to_utc());
    }
    for form in ZONED {
        if let Ok(dt) = DateTime::parse_from_str(s, form) {
            return normalise(dt.to_utc());
        }
    }
    for form in NAIVE {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, form) {
            return normalise(dt.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return normalise(date.and_time(NaiveTime::MIN).and_utc());
    }
    if s.len() <= 8 {
        let first_of_month = format!("{s}-01");
        if let Ok(date) = NaiveDate::parse_from_str(&first_of_month, "%Y-%m-%d") {
            return normalise(date.and_time(NaiveTime::MIN).and_utc());
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return normalise(dt.to_utc());
    }
    Err(NotADate(
        "not in a known form (ISO 8601, RFC 3339, RFC 2822 or an epoch number)".into(),
    ))
}

/// Whether `s` is a decimal number: an optional sign, digits, and an optional
/// fraction.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The date of an epoch number as written (a JSON number: an integer of any
/// length, a decimal fraction, an exponent), read as [`from_epoch_number`]
/// or [`from_epoch_float`] read it.
pub fn from_epoch_str(s: &str) -> Result<String, NotADate> {
    if let Ok(n) = s.parse::<i128>() {
        return from_epoch_number(n);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => from_epoch_float(x),
        _ => Err(out_of_range()),
    }
}

/// The date of an integer epoch in seconds, or milliseconds when its
/// magnitude is at least [`MILLIS_FROM`].
pub fn from_epoch_number(value: i128) -> Result<String, NotADate> {
    let Ok(value) = i64::try_from(value) else {
        return Err(out_of_range());
    };
    if value.unsigned_abs() >= MILLIS_FROM.unsigned_abs() {
        from_epoch(value, EpochUnit::Millis)
    } else {
        from_epoch(value, EpochUnit::Seconds)
    }
}

/// The date of a float epoch in seconds, or milliseconds when its magnitude
/// is at least [`MILLIS_FROM`]; kept to the (nearest) microsecond.
pub fn from_epoch_float(value: f64) -> Result<String, NotADate> {
    if !value.is_finite() {
        return Err(NotADate("not a finite number".into()));
    }
    let micros = if value.abs() >= MILLIS_FROM as f64 {
        value * 1e3
    } else {
        value * 1e6
    }
    .round();
    // Beyond ±2⁶³ microseconds (±292,000 years) is out of range anyway.
    if micros.abs() >= 9.2e18 {
        return Err(out_of_range());
    }
    from_epoch(micros as i64, EpochUnit::Micros)
}

/// The date of an epoch in a known unit.
pub fn from_epoch(value: i64, unit: EpochUnit) -> Result<String, NotADate> {
    let dt = match unit {
        EpochUnit::Days => value
            .checked_mul(86_400)
            .and_then(|secs| DateTime::from_timestamp(secs, 0)),
        EpochUnit::Seconds => DateTime::from_timestamp(value, 0),
        EpochUnit::Millis => DateTime::from_timestamp_millis(value),
        EpochUnit::Micros => DateTime::from_timestamp_micros(value),
        EpochUnit::Nanos => Some(DateTime::from_timestamp_nanos(value)),
    };
    normalise(dt.ok_or_else(out_of_range)?)
}

fn out_of_range() -> NotADate {
    NotADate("an epoch out of range (years 1 to 9999)".into())
}

/// The normalised form of an instant, or why it has none (a year outside
/// 1..=9999).
pub fn normalise(dt: DateTime<Utc>) -> Result<String, NotADate> {
    let year = dt.year();
    if !(1..=9999).contains(&year) {
        return Err(NotADate(format!("the year {year} is outside 1..=9999")));
    }
    // chrono keeps a leap second as a second of 59 with 1e9 or more nanoseconds.
    let (second, nanos) = match dt.nanosecond() {
        n if n >= 1_000_000_000 => (60, n - 1_000_000_000),
        n => (dt.second(), n),
    };
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{second:02}",
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute()
    );
    let micros = nanos / 1000;
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    out.push('Z');
    Ok(out)
}

/// The reason of the `field` row of a date field `field` holding `shown` (the
/// value as written: a quoted string, a JSON value, a displayed Arrow value;
/// cut to about 80 characters here) that is not a date.
pub fn field_reason(field: &str, shown: &str, why: &NotADate) -> String {
    format!(
        "date field {field:?} holds {}, which is not a date: {why}; the record is kept without a \
         date",
        shorten(shown)
    )
}

/// `s` cut to [`SHOWN_CHARS`] characters, with `…` when cut.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn iso_and_rfc3339_forms() {
        let cases = [
            ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
            ("  2024-01-02T03:04:05Z\n", "2024-01-02T03:04:05Z"),
            ("2024-01-02t03:04:05z", "2024-01-02T03:04:05Z"),
            ("2024-01-02 03:04:05Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05Z"),
            ("2024-01-02T03:04:05+0200", "2024-01-02T01:04:05Z"),
            ("2024-01-02T03:04:05+02", "2024-01-02T01:04:05Z"),
            ("2024-01-02 03:04:05-05:30", "2024-01-02T08:34:05Z"),
            ("2024-01-01T23:30:00-01:00", "2024-01-02T00:30:00Z"),
            ("2024-01-02T03:04:05.5Z", "2024-01-02T03:04:05.500000Z"),
            (
                "2024-01-02T03:04:05.123456789+00:00",
                "2024-01-02T03:04:05.123456Z",
            ),
            ("2024-01-02T03:04:05.000Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02T03:04:05", "2024-01-02T03:04:05Z"),
            ("2024-01-02 03:04:05.25", "2024-01-02T03:04:05.250000Z"),
            ("2024-01-02T03:04", "2024-01-02T03:04:00Z"),
            ("2024-01-02 03:04", "2024-01-02T03:04:00Z"),
            ("2024-01-02T03:04Z", "2024-01-02T03:04:00Z"),
            ("2024-01-02T03:04+01:00", "2024-01-02T02:04:00Z"),
            ("2024-01-02", "2024-01-02T00:00:00Z"),
            ("2024-01", "2024-01-01T00:00:00Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
            ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{input:?}");
        }
    }

    #[test]
    fn normalised_dates_normalise_to_themselves() {
        for s in [
            "2024-01-02T03:04:05Z",
            "1969-07-20T20:17:40.000001Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert_eq!(ok(s), s);
        }
    }

    #[test]
    fn rfc2822_and_http_dates() {
        assert_eq!(ok("Tue, 1 Jul 2003 10:52:37 +0200"), "2003-07-01T08:52:37Z");
        assert_eq!(ok("Tue, 01 Jul 2003 10:52:37 GMT"), "2003-07-01T10:52:37Z");
        assert_eq!(ok("1 Jul 2003 10:52:37 -0000"), "2003-07-01T10:52:37Z");
    }

    #[test]
    fn epoch_numbers_seconds_and_milliseconds() {
        assert_eq!(from_epoch_number(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            from_epoch_number(1_700_000_000).unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            from_epoch_number(1_700_000_000_123).unwrap(),
            "2023-11-14T22:13:20.123000Z"
        );
        // Just below the threshold: seconds (year 5138); at it: milliseconds.
        assert_eq!(
            from_epoch_number(99_999_999_999).unwrap(),
            "5138-11-16T09:46:39Z"
        );
        assert_eq!(
            from_epoch_number(100_000_000_000).unwrap(),
            "1973-03-03T09:46:40Z"
        );
        // Negative epochs are dates before 1970.
        assert_eq!(from_epoch_number(-86_400).unwrap(), "1969-12-31T00:00:00Z");
        assert_eq!(
            from_epoch_number(-100_000_000_000).unwrap(),
            "1966-10-31T14:13:20Z"
        );
        assert_eq!(
            from_epoch_number(-62_135_596_800).unwrap(),
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn epoch_floats_and_strings() {
        assert_eq!(
            from_epoch_float(1_700_000_000.25).unwrap(),
            "2023-11-14T22:13:20.250000Z"
        );
        assert_eq!(
            from_epoch_float(1_700_000_000_123.0).unwrap(),
            "2023-11-14T22:13:20.123000Z"
        );
        assert_eq!(
            from_epoch_float(-0.5).unwrap(),
            "1969-12-31T23:59:59.500000Z"
        );
        assert_eq!(ok("1700000000"), "2023-11-14T22:13:20Z");
        assert_eq!(ok("+1700000000"), "2023-11-14T22:13:20Z");
        assert_eq!(ok("1700000000123"), "2023-11-14T22:13:20.123000Z");
        assert_eq!(ok("1700000000.5"), "2023-11-14T22:13:20.500000Z");
        assert_eq!(ok("-86400"), "1969-12-31T00:00:00Z");
        // JSON numbers as written, exponents included.
        assert_eq!(from_epoch_str("1.7e9").unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(from_epoch_str("-0.0").unwrap(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn known_units() {
        assert_eq!(
            from_epoch(19_723, EpochUnit::Days).unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(
            from_epoch(-1, EpochUnit::Days).unwrap(),
            "1969-12-31T00:00:00Z"
        );
        assert_eq!(
            from_epoch(1_700_000_000, EpochUnit::Seconds).unwrap(),
            "2023-11-14T22:13:20Z"
        );
        // A small value in milliseconds stays milliseconds when the unit is known.
        assert_eq!(
            from_epoch(1_500, EpochUnit::Millis).unwrap(),
            "1970-01-01T00:00:01.500000Z"
        );
        assert_eq!(
            from_epoch(1_700_000_000_000_001, EpochUnit::Micros).unwrap(),
            "2023-11-14T22:13:20.000001Z"
        );
        assert_eq!(
            from_epoch(1_700_000_000_000_000_999, EpochUnit::Nanos).unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            from_epoch(i64::MIN, EpochUnit::Nanos).unwrap(),
            "1677-09-21T00:12:43.145224Z"
        );
    }

    fn why(result: Result<String, NotADate>) -> String {
        match result {
            Ok(s) => panic!("parsed as {s}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn rejections_say_why() {
        let unknown = "not in a known form (ISO 8601, RFC 3339, RFC 2822 or an epoch number)";
        for junk in [
            "99999-01-01T00:00:00Z",
            "99999-01-01",
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "2024-01-02T25:00:00Z",
            "Wed, 1 Jul 2003 10:52:37 +0200",
            "1.2.3",
            "--5",
            "0x10",
            "1e9",
            "2024-01-02T03:04:05+99:00",
        ] {
            assert_eq!(why(parse_str(junk)), unknown, "{junk:?}");
        }
        assert_eq!(why(parse_str("   ")), "an empty string");
        let year = |y: i32| format!("the year {y} is outside 1..=9999");
        assert_eq!(why(parse_str("+99999-01-01T00:00:00")), year(99_999));
        assert_eq!(why(parse_str("0000-06-01")), year(0));
        assert_eq!(why(parse_str("0001-01-01T00:00:00+01:00")), year(0));
        assert_eq!(why(from_epoch_number(-62_135_596_801)), year(0));
        assert_eq!(why(from_epoch_number(300_000_000_000_000)), year(11476));
        let range = "an epoch out of range (years 1 to 9999)";
        assert_eq!(why(from_epoch_number(i64::MAX.into())), range);
        assert_eq!(why(from_epoch_number(i64::MIN.into())), range);
        assert_eq!(why(from_epoch_number(i128::MAX)), range);
        assert_eq!(why(from_epoch(i64::MAX, EpochUnit::Days)), range);
        assert_eq!(why(from_epoch(i64::MIN, EpochUnit::Seconds)), range);
        assert_eq!(why(from_epoch_float(1e300)), range);
        assert_eq!(why(from_epoch_float(-1e19)), range);
        assert_eq!(why(parse_str("123456789012345678901234567890")), range);
        assert_eq!(why(parse_str(&"9".repeat(400))), range);
        assert_eq!(why(from_epoch_str("1e400")), range);
        assert_eq!(why(from_epoch_str("-1e400")), range);
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(why(from_epoch_float(x)), "not a finite number");
        }
    }

    #[test]
    fn reasons_name_the_field_and_cut_long_values() {
        let why = NotADate("the year 99999 is outside 1..=9999".into());
        assert_eq!(
            field_reason("created_at", "\"+99999-01-01\"", &why),
            "date field \"created_at\" holds \"+99999-01-01\", which is not a date: the year \
             99999 is outside 1..=9999; the record is kept without a date"
        );
        let long = format!("\"{}\"", "é".repeat(200));
        let reason = field_reason("date", &long, &why);
        assert!(reason.contains(&format!(" \"{}…, which", "é".repeat(79))));
    }
}
