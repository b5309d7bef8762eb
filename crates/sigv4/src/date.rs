//! The two date formats SigV4 meets: `yyyymmddThhmmssZ` (X-Amz-Date) and the HTTP `Date` header.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses the ISO 8601 basic form SigV4 signs, `20150830T123600Z`.
pub(crate) fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    // Checking length and ASCII first makes every later byte index a char boundary.
    if b.len() != 16 || !s.is_ascii() || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[4..6])?;
    let day = digits(&b[6..8])?;
    let hour = digits(&b[9..11])?;
    let minute = digits(&b[11..13])?;
    let second = digits(&b[13..15])?;
    build(year, month, day, hour, minute, second)
}

/// Parses an HTTP `Date` header: the ISO basic form some clients put there, or the IMF-fixdate
/// form `Sun, 06 Nov 1994 08:49:37 GMT` that older SigV4 clients sign with.
pub(crate) fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_amz_date(s) {
        return Some(t);
    }
    let b = s.as_bytes();
    if b.len() != 29 || !s.is_ascii() || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    if b[7] != b' ' || b[11] != b' ' || b[16] != b' ' || b[19] != b':' || b[22] != b':' {
        return None;
    }
    const MONTHS: [&[u8]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let month = MONTHS.iter().position(|m| *m == &b[8..11])? as u32 + 1;
    let day = digits(&b[5..7])?;
    let year = digits(&b[12..16])?;
    let hour = digits(&b[17..19])?;
    let minute = digits(&b[20..22])?;
    let second = digits(&b[23..25])?;
    build(year, month, day, hour, minute, second)
}

/// Formats a time the way SigV4 and AWS's skew messages write it.
pub(crate) fn format_amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn build(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_440_938_160);
        assert_eq!(format_amz_date(t), "20150830T123600Z");
    }

    #[test]
    fn amz_date_rejects_garbage() {
        for bad in [
            "",
            "20150830",
            "20150830T123600",
            "20150830T123600z",
            "20150830 123600Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T246000Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "ሴ015083T123600Z",
            "20150830T1236ሴ",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_date_accepts_both_forms() {
        let a = parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        let b = parse_http_date("20150830T123600Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 UTC"), None);
        assert_eq!(parse_http_date("Sun, 31 Feb 2015 12:36:00 GMT"), None);
    }
}
