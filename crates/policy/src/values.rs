//! The typed values condition operators compare: dates and IP ranges (numbers are f64).

use std::net::IpAddr;

/// Seconds since the epoch of an ISO 8601 date or date-time (`2026-01-31`,
/// `2026-01-31T12:00:00Z`, `2026-01-31T12:00:00.123+02:00`), or of epoch seconds given as a
/// number, as Date operators accept both.
pub(crate) fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(epoch) = text.parse::<f64>() {
        return Some(epoch);
    }
    let (date, time) = match text.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut fields = date.splitn(3, '-');
    let year: i64 = fields.next()?.parse().ok()?;
    let month: i64 = fields.next()?.parse().ok()?;
    let day: i64 = fields.next()?.parse().ok()?;
    // Four-digit years, as ISO 8601 writes them (and no overflow in the day count).
    if !(0..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    if let Some(time) = time {
        seconds += parse_time_of_day(time)?;
    }
    Some(seconds)
}

/// `HH:MM[:SS[.fff]]` followed by `Z`, `±HH:MM` or nothing (UTC), in seconds.
fn parse_time_of_day(time: &str) -> Option<f64> {
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0.0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1.0 } else { 1.0 };
        let zone = zone.get(1..)?;
        let (hours, minutes) = zone.split_once(':').unwrap_or((zone, "0"));
        let minutes: f64 = hours.parse::<f64>().ok()? * 60.0 + minutes.parse::<f64>().ok()?;
        (clock, sign * minutes * 60.0)
    } else {
        (time, 0.0)
    };
    let mut fields = clock.splitn(3, ':');
    let hours: f64 = fields.next()?.parse().ok()?;
    let minutes: f64 = fields.next()?.parse().ok()?;
    let seconds: f64 = fields.next().map_or(Some(0.0), |s| s.parse().ok())?;
    Some(hours * 3600.0 + minutes * 60.0 + seconds - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Whether `address` is in `range`, a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single
/// address. An IPv4 address is never in an IPv6 range or the other way round.
pub(crate) fn ip_in_range(address: &str, range: &str) -> bool {
    let Ok(address) = address.trim().parse::<IpAddr>() else {
        return false;
    };
    let (network, prefix) = match range.trim().split_once('/') {
        Some((network, prefix)) => (network, prefix.parse::<u32>().ok()),
        None => (range.trim(), None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            same_prefix(u128::from(a.to_bits()) << 96, u128::from(n.to_bits()) << 96, prefix, 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => same_prefix(a.to_bits(), n.to_bits(), prefix, 128),
        _ => false,
    }
}

/// Whether two addresses, left-aligned in 128 bits, agree on their first `prefix` bits (all
/// `width` bits when there is no prefix; a prefix beyond the width matches nothing).
fn same_prefix(a: u128, b: u128, prefix: Option<u32>, width: u32) -> bool {
    let prefix = prefix.unwrap_or(width);
    if prefix > width {
        return false;
    }
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    a & mask == b & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let cases = [
            ("1970-01-01", Some(0.0)),
            ("1970-01-01T00:00:01Z", Some(1.0)),
            ("2000-02-29T00:00:00Z", Some(951_782_400.0)),
            ("2000-03-01t00:00:00z", Some(951_868_800.0)),
            ("1969-12-31T23:59:59Z", Some(-1.0)),
            ("2026-12-03T14:00:00+01:00", Some(1_796_302_800.0)),
            ("2026-12-03T14:00:00-00:30", Some(1_796_308_200.0)),
            ("2026-12-03T14:00Z", Some(1_796_306_400.0)),
            ("2026-12-03T14:00:00.5Z", Some(1_796_306_400.5)),
            ("1800000000", Some(1_800_000_000.0)),
            ("2026-13-01", None),
            ("2026-12-32", None),
            ("99999999999999999-01-01", None),
            ("2026-12", None),
            ("2026-12-03T14", None),
            ("tomorrow", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_time(text), expected, "{text:?}");
        }
    }

    #[test]
    fn ip_ranges() {
        let cases = [
            ("10.1.2.3", "10.0.0.0/8", true),
            ("11.1.2.3", "10.0.0.0/8", false),
            ("10.1.2.3", "10.1.2.3", true),
            ("10.1.2.3", "10.1.2.3/32", true),
            ("10.1.2.4", "10.1.2.3/32", false),
            ("10.1.2.3", "10.1.2.0/33", false),
            ("10.1.2.3", "0.0.0.0/0", true),
            ("10.1.2.3", "10.1.2.0/x", false),
            ("10.1.2.3", "not-an-ip/8", false),
            ("not-an-ip", "10.0.0.0/8", false),
            ("2001:db8::1", "2001:db8::/32", true),
            ("2001:db9::1", "2001:db8::/32", false),
            ("::1", "::1/128", true),
            ("::1", "::/0", true),
            ("::ffff:10.0.0.1", "10.0.0.0/8", false),
            ("10.0.0.1", "::/0", false),
        ];
        for (address, range, expected) in cases {
            assert_eq!(ip_in_range(address, range), expected, "{address} in {range}");
        }
    }
}
