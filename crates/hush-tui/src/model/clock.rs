//! Times as people read them: in the local time zone (`TZ`, else `/etc/localtime`), with the
//! date only when it is not today, and "how long ago" for the account screen.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A time zone and the current time, to format times against.
#[derive(Clone, Debug)]
pub struct Clock {
    tz: TimeZone,
    now_ms: u64,
    today: Option<Date>,
}

fn date_in(tz: &TimeZone, ms: u64) -> Option<(Date, jiff::Zoned)> {
    let ms = i64::try_from(ms).ok()?;
    let zoned = Timestamp::from_millisecond(ms).ok()?.to_zoned(tz.clone());
    Some((zoned.date(), zoned))
}

impl Clock {
    /// The system's time zone (UTC when it cannot be found) at `now_ms`.
    pub fn system(now_ms: u64) -> Self {
        Self::new(TimeZone::system(), now_ms)
    }

    /// A given time zone at `now_ms` (ms since the epoch).
    pub fn new(tz: TimeZone, now_ms: u64) -> Self {
        let today = date_in(&tz, now_ms).map(|(d, _)| d);
        Self { tz, now_ms, today }
    }

    /// The same time zone at another moment.
    pub fn at(&self, now_ms: u64) -> Self {
        Self::new(self.tz.clone(), now_ms)
    }

    /// The current time, ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// `14:05` today, `23 Nov 14:05` this year, `2025-11-23 14:05` before.
    pub fn message_time(&self, ms: u64) -> String {
        let Some((date, zoned)) = date_in(&self.tz, ms) else { return "?".to_owned() };
        match self.today {
            Some(today) if today == date => zoned.strftime("%H:%M").to_string(),
            Some(today) if today.year() == date.year() => {
                zoned.strftime("%-d %b %H:%M").to_string()
            }
            _ => zoned.strftime("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// `just now`, `40 s ago`, `3 min ago`, `2 h ago`, or the time itself.
    pub fn ago(&self, ms: u64) -> String {
        let seconds = self.now_ms.saturating_sub(ms) / 1000;
        match seconds {
            0..5 => "just now".to_owned(),
            5..60 => format!("{seconds} s ago"),
            60..3600 => format!("{} min ago", seconds / 60),
            3600..86_400 => format!("{} h ago", seconds / 3600),
            _ => self.message_time(ms),
        }
    }

    /// `5 min`, `3 h`, `2 d`: how long until `ms` (0 when past).
    pub fn remaining(&self, ms: u64) -> String {
        let seconds = ms.saturating_sub(self.now_ms) / 1000;
        match seconds {
            0..60 => format!("{seconds} s"),
            60..3600 => format!("{} min", seconds / 60),
            3600..86_400 => format!("{} h", seconds / 3600),
            _ => format!("{} d", seconds / 86_400),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::{TimeZone, offset};

    use super::*;

    // 2026-11-27 10:00:00 UTC.
    const NOW: u64 = 1_795_773_600_000;

    #[test]
    fn times_are_local_with_the_date_when_not_today() {
        let utc = Clock::new(TimeZone::UTC, NOW);
        assert_eq!(utc.message_time(NOW - 5 * 60_000), "09:55");
        // Two hours ahead of UTC: the same instant reads 12:00.
        let plus_two = Clock::new(TimeZone::fixed(offset(2)), NOW);
        assert_eq!(plus_two.message_time(NOW), "12:00");
        // 23:30 UTC the day before is today at 01:30 two hours east.
        let late = NOW - 10 * 3_600_000 - 30 * 60_000;
        assert_eq!(utc.message_time(late), "26 Nov 23:30");
        assert_eq!(plus_two.message_time(late), "01:30");
        assert_eq!(utc.message_time(NOW - 400 * 86_400_000), "2025-10-23 10:00");
    }

    #[test]
    fn durations_read_naturally() {
        let clock = Clock::new(TimeZone::UTC, NOW);
        assert_eq!(clock.ago(NOW - 1_000), "just now");
        assert_eq!(clock.ago(NOW - 42_000), "42 s ago");
        assert_eq!(clock.ago(NOW - 3 * 60_000), "3 min ago");
        assert_eq!(clock.ago(NOW - 2 * 3_600_000), "2 h ago");
        assert_eq!(clock.ago(NOW - 2 * 86_400_000), "25 Nov 10:00");
        assert_eq!(clock.remaining(NOW + 5 * 60_000 + 10), "5 min");
        assert_eq!(clock.remaining(NOW + 3 * 86_400_000), "3 d");
        assert_eq!(clock.remaining(NOW - 1), "0 s");
    }
}
