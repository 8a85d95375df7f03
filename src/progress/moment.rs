//! An instant and the learner's UTC offset at it, passed in wherever time matters so nothing that
//! decides reads the clock.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, Utc};

/// An instant and the learner's UTC offset at it. The offset decides the local day (for "due
/// today" and streaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub offset: FixedOffset,
}

impl Moment {
    /// The clock now, in the local time zone. For the TUI and CLI; logic takes a `Moment`.
    pub fn now() -> Moment {
        let local = Local::now();
        Moment {
            at: local.with_timezone(&Utc),
            offset: *local.offset(),
        }
    }

    /// An instant in UTC (offset 0): tests.
    pub fn utc(at: DateTime<Utc>) -> Moment {
        Moment {
            at,
            offset: FixedOffset::east_opt(0).expect("0 is a valid offset"),
        }
    }

    /// The local day of this moment.
    pub fn day(&self) -> NaiveDate {
        self.local_day(self.at)
    }

    /// The local day (in this moment's offset) of another instant.
    pub fn local_day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.offset).date_naive()
    }
}
