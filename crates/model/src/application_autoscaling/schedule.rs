//! Scheduled actions' schedules, as Application Auto Scaling writes them:
//! `at(yyyy-mm-ddThh:mm:ss)` once, `rate(N minute(s)|hour(s)|day(s))` from StartTime (or
//! from when the action was made), and `cron(minutes hours day-of-month month
//! day-of-week year)` (EventBridge's six fields; one of the day fields is `?`), read in the
//! action's Timezone (UTC when none), within StartTime..EndTime.

use super::AasError;
use super::zone::Zone;
use time::{Date, Month, PrimitiveDateTime, Time};

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Local wall time, seconds since the epoch as if it were UTC.
    At(i64),
    Rate {
        every: i64,
    },
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days_of_month: Option<Vec<u32>>,
    months: Vec<u32>,
    /// 1 = Sunday .. 7 = Saturday.
    days_of_week: Option<Vec<u32>>,
    years: Vec<u32>,
}

fn invalid(schedule: &str, why: &str) -> AasError {
    AasError::Validation(format!("Invalid schedule expression {schedule}: {why}"))
}

pub fn parse(text: &str) -> Result<Schedule, AasError> {
    let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
    if let Some(at) = inner("at(") {
        let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let t = PrimitiveDateTime::parse(at, &format)
            .map_err(|_| invalid(text, "an at() schedule is at(yyyy-mm-ddThh:mm:ss)"))?;
        return Ok(Schedule::At(t.assume_utc().unix_timestamp()));
    }
    if let Some(rate) = inner("rate(") {
        let (n, unit) = rate.split_once(' ').ok_or_else(|| invalid(text, "a rate is rate(N minutes|hours|days)"))?;
        let n: i64 = n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid(text, "the rate must be a positive whole number"))?;
        let unit = match (n, unit) {
            (1, "minute") | (2.., "minutes") => 60,
            (1, "hour") | (2.., "hours") => 3600,
            (1, "day") | (2.., "days") => 86_400,
            _ => return Err(invalid(text, "the unit is minute (for 1) or minutes, hour(s) or day(s)")),
        };
        return Ok(Schedule::Rate { every: n * unit });
    }
    if let Some(cron) = inner("cron(") {
        return Ok(Schedule::Cron(Box::new(Cron::parse(text, cron)?)));
    }
    Err(invalid(text, "use at(...), rate(...) or cron(...)"))
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    fn parse(text: &str, fields: &str) -> Result<Cron, AasError> {
        let f: Vec<&str> = fields.split_whitespace().collect();
        if f.len() != 6 {
            return Err(invalid(
                text,
                "a cron expression has six fields: minutes hours day-of-month month day-of-week year",
            ));
        }
        let field = |i: usize, lo: u32, hi: u32, names: &[&str]| set(text, f[i], lo, hi, names);
        let (dom, dow) = match (f[2], f[4]) {
            ("?", "?") => return Err(invalid(text, "only one of day-of-month and day-of-week may be ?")),
            ("?", _) => (None, Some(field(4, 1, 7, &DAYS)?)),
            (_, "?") => (Some(field(2, 1, 31, &[])?), None),
            _ => return Err(invalid(text, "one of day-of-month and day-of-week must be ?")),
        };
        Ok(Cron {
            minutes: field(0, 0, 59, &[])?,
            hours: field(1, 0, 23, &[])?,
            days_of_month: dom,
            months: field(3, 1, 12, &MONTHS)?,
            days_of_week: dow,
            years: field(5, 1970, 2199, &[])?,
        })
    }

    fn day_matches(&self, d: Date) -> bool {
        let dow = u32::from(d.weekday().number_from_sunday());
        self.years.contains(&(d.year() as u32))
            && self.months.contains(&u32::from(u8::from(d.month())))
            && self.days_of_month.as_ref().is_none_or(|s| s.contains(&u32::from(d.day())))
            && self.days_of_week.as_ref().is_none_or(|s| s.contains(&dow))
    }

    /// The first local time strictly after `local` (seconds as if UTC) that matches.
    pub fn next_after(&self, local: i64) -> Option<i64> {
        let start = time::OffsetDateTime::from_unix_timestamp(local).ok()?;
        let mut day = start.date();
        for _ in 0..(366 * 5) {
            if self.day_matches(day) {
                for &h in &self.hours {
                    for &m in &self.minutes {
                        let t = PrimitiveDateTime::new(day, Time::from_hms(h as u8, m as u8, 0).ok()?);
                        let t = t.assume_utc().unix_timestamp();
                        if t > local {
                            return Some(t);
                        }
                    }
                }
            }
            day = day.next_day()?;
        }
        None
    }
}

/// A cron field as the sorted set of values it allows.
fn set(text: &str, field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<u32>, AasError> {
    let value = |s: &str| -> Result<u32, AasError> {
        let upper = s.to_ascii_uppercase();
        let v = match names.iter().position(|n| *n == upper) {
            Some(i) => i as u32 + lo,
            None => s.parse().map_err(|_| invalid(text, &format!("{s} is not a value of this field")))?,
        };
        if (lo..=hi).contains(&v) { Ok(v) } else { Err(invalid(text, &format!("{v} is outside {lo}-{hi}"))) }
    };
    let mut out = vec![];
    for part in field.split(',') {
        if part.contains(['L', 'W', '#']) && !names.iter().any(|n| part.to_ascii_uppercase().contains(n)) {
            return Err(invalid(text, "L, W and # are not supported by berth"));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(|| invalid(text, "a step is a positive number"))?,
            ),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        if a > b {
            return Err(invalid(text, &format!("the range {range} is backwards")));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// When an action runs, in UTC seconds.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When the action was made (a rate without StartTime counts from it).
    pub created: f64,
    pub start: Option<f64>,
    pub end: Option<f64>,
    /// The scheduled time it last ran for.
    pub last_run: Option<f64>,
}

impl Schedule {
    /// The latest scheduled time in (last run, now] within the window, if one is due.
    pub fn due(&self, zone: &Zone, w: Window, now: f64) -> Option<f64> {
        let now_s = now.floor() as i64;
        let after = w.last_run.map(|t| t as i64);
        let latest = match self {
            Schedule::At(local) => Some(zone.to_utc(*local)).filter(|t| *t <= now_s),
            Schedule::Rate { every } => {
                let anchor = w.start.unwrap_or(w.created).floor() as i64;
                let first = if w.start.is_some() { anchor } else { anchor + every };
                (now_s >= first).then(|| first + (now_s - first) / every * every)
            }
            Schedule::Cron(cron) => {
                // Walk forward from the last run (or creation) to the latest time not after now.
                let mut t = after.unwrap_or(w.created.floor() as i64);
                let mut latest = None;
                for _ in 0..10_000 {
                    let local = t + i64::from(zone.offset_at(t));
                    let Some(next) = cron.next_after(local).map(|l| zone.to_utc(l)) else { break };
                    if next > now_s || next <= t {
                        break;
                    }
                    latest = Some(next);
                    t = next;
                }
                latest
            }
        }?;
        let in_window = w.start.is_none_or(|s| latest as f64 >= s.floor()) && w.end.is_none_or(|e| latest as f64 <= e);
        (in_window && after.is_none_or(|a| latest > a)).then_some(latest as f64)
    }
}

/// `yyyy-mm-dd` of a month's `day` (tests and callers that build at() texts).
pub fn date(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u8, d: u8, h: u8, mi: u8) -> i64 {
        PrimitiveDateTime::new(date(y, mo, d).unwrap(), Time::from_hms(h, mi, 0).unwrap()).assume_utc().unix_timestamp()
    }

    fn window(created: i64) -> Window {
        Window { created: created as f64, start: None, end: None, last_run: None }
    }

    #[test]
    fn at_runs_once_at_its_time_in_its_zone() {
        let s = parse("at(2026-12-04T02:30:00)").unwrap();
        let t = utc(2026, 12, 4, 2, 30);
        assert_eq!(s.due(&Zone::utc(), window(t - 100), (t - 1) as f64), None);
        assert_eq!(s.due(&Zone::utc(), window(t - 100), (t + 5) as f64), Some(t as f64));
        let ran = Window { last_run: Some(t as f64), ..window(t - 100) };
        assert_eq!(s.due(&Zone::utc(), ran, (t + 500) as f64), None, "once");
        let new_york = Zone::fixed(-5 * 3600);
        assert_eq!(s.due(&new_york, window(t - 100), (t + 5 * 3600) as f64), Some((t + 5 * 3600) as f64));
        for bad in ["at(2026-12-04 02:30:00)", "at(2026-13-04T02:30:00)", "at()", "2026-12-04T02:30:00"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_count_from_start_or_creation() {
        assert_eq!(parse("rate(5 minutes)").unwrap(), Schedule::Rate { every: 300 });
        assert_eq!(parse("rate(1 hour)").unwrap(), Schedule::Rate { every: 3600 });
        for bad in ["rate(1 minutes)", "rate(5 minute)", "rate(0 days)", "rate(x days)", "rate(5 weeks)"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let s = parse("rate(5 minutes)").unwrap();
        assert_eq!(s.due(&Zone::utc(), window(1000), 1200.0), None);
        assert_eq!(s.due(&Zone::utc(), window(1000), 1300.0), Some(1300.0));
        assert_eq!(s.due(&Zone::utc(), window(1000), 1950.0), Some(1900.0), "missed times run once, for the latest");
        let started = Window { start: Some(2000.0), ..window(1000) };
        assert_eq!(s.due(&Zone::utc(), started, 1999.0), None);
        assert_eq!(s.due(&Zone::utc(), started, 2001.0), Some(2000.0));
        let ended = Window { end: Some(1500.0), ..window(1000) };
        assert_eq!(s.due(&Zone::utc(), ended, 1950.0), None, "after EndTime");
    }

    #[test]
    fn cron_fields_and_zones() {
        let s = parse("cron(30 8 ? * MON-FRI *)").unwrap();
        // Friday 2026-12-04 08:30 UTC; the next is Monday 2026-12-07.
        let fri = utc(2026, 12, 4, 8, 30);
        assert_eq!(s.due(&Zone::utc(), window(fri - 60), (fri + 1) as f64), Some(fri as f64));
        let ran = Window { last_run: Some(fri as f64), ..window(fri - 60) };
        let mon = utc(2026, 12, 7, 8, 30);
        assert_eq!(s.due(&Zone::utc(), ran, (mon - 1) as f64), None, "not on the weekend");
        assert_eq!(s.due(&Zone::utc(), ran, mon as f64), Some(mon as f64));
        // 08:30 in UTC-5 is 13:30 UTC.
        let z = Zone::fixed(-5 * 3600);
        assert_eq!(s.due(&z, window(fri - 60), (fri + 1) as f64), None);
        assert_eq!(s.due(&z, window(fri - 60), (fri + 5 * 3600) as f64), Some((fri + 5 * 3600) as f64));

        let every_15 = parse("cron(*/15 * * * ? *)").unwrap();
        let Schedule::Cron(c) = &every_15 else { panic!() };
        assert_eq!(c.minutes, [0, 15, 30, 45]);
        assert_eq!(c.next_after(utc(2026, 1, 1, 0, 0)), Some(utc(2026, 1, 1, 0, 15)));
        let yearly = parse("cron(0 0 1 JAN ? 2027)").unwrap();
        let Schedule::Cron(c) = &yearly else { panic!() };
        assert_eq!(c.next_after(utc(2026, 12, 4, 0, 0)), Some(utc(2027, 1, 1, 0, 0)));
        for bad in [
            "cron(0 0 * * * *)",
            "cron(0 0 ? * ? *)",
            "cron(0 0 * *)",
            "cron(60 0 * * ? *)",
            "cron(0 0 L * ? *)",
            "cron(0 0 5-1 * ? *)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
