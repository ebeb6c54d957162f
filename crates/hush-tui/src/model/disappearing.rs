//! The disappearing-messages choices offered for a conversation (Session's: after sending
//! 12 hours to 2 weeks, after reading 5 minutes to 2 weeks) and how a setting is described.

use hush_client::Disappearing;

const MINUTE: u32 = 60;
const HOUR: u32 = 60 * MINUTE;
const DAY: u32 = 24 * HOUR;
const WEEK: u32 = 7 * DAY;

/// The settings to choose from, in the order shown.
pub const CHOICES: [Disappearing; 11] = [
    Disappearing::Off,
    Disappearing::AfterSend(12 * HOUR),
    Disappearing::AfterSend(DAY),
    Disappearing::AfterSend(WEEK),
    Disappearing::AfterSend(2 * WEEK),
    Disappearing::AfterRead(5 * MINUTE),
    Disappearing::AfterRead(HOUR),
    Disappearing::AfterRead(12 * HOUR),
    Disappearing::AfterRead(DAY),
    Disappearing::AfterRead(WEEK),
    Disappearing::AfterRead(2 * WEEK),
];

/// `5 minutes`, `1 hour`, `2 weeks`, or seconds when nothing rounder fits.
pub fn duration(seconds: u32) -> String {
    let (n, unit) = match seconds {
        s if s >= WEEK && s % WEEK == 0 => (s / WEEK, "week"),
        s if s >= DAY && s % DAY == 0 => (s / DAY, "day"),
        s if s >= HOUR && s % HOUR == 0 => (s / HOUR, "hour"),
        s if s >= MINUTE && s % MINUTE == 0 => (s / MINUTE, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `off`, `1 day after sending`, `5 minutes after reading`.
pub fn describe(setting: Disappearing) -> String {
    match setting {
        Disappearing::Off => "off".to_owned(),
        Disappearing::AfterSend(s) => format!("{} after sending", duration(s)),
        Disappearing::AfterRead(s) => format!("{} after reading", duration(s)),
    }
}

/// The list to choose from while `current` is set: [`CHOICES`], with `current` second when
/// it is none of them (a timer another client chose), so it is never lost by accident.
pub fn choices(current: Disappearing) -> Vec<Disappearing> {
    let mut list = CHOICES.to_vec();
    if !list.contains(&current) {
        list.insert(1, current);
    }
    list
}

/// Where `current` is in [`choices`]`(current)`.
pub fn position(current: Disappearing) -> usize {
    choices(current).iter().position(|c| *c == current).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_described_in_words() {
        assert_eq!(describe(Disappearing::Off), "off");
        assert_eq!(describe(Disappearing::AfterSend(DAY)), "1 day after sending");
        assert_eq!(describe(Disappearing::AfterRead(5 * MINUTE)), "5 minutes after reading");
        assert_eq!(describe(Disappearing::AfterRead(2 * WEEK)), "2 weeks after reading");
        assert_eq!(duration(90), "90 seconds");
        assert_eq!(position(Disappearing::AfterRead(HOUR)), 6);
        // A timer set elsewhere stays on the list, highlighted.
        let custom = Disappearing::AfterSend(90);
        assert_eq!((position(custom), choices(custom)[1]), (1, custom));
        assert_eq!(choices(custom).len(), CHOICES.len() + 1);
    }
}
