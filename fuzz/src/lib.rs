//! Shared by the fuzz targets: the `Json` view over `serde_json::Value` (a newtype, for the
//! orphan rule) and a few helpers.

use cf_gateway_certs::envelope::Json;
use serde_json::Value;

/// `serde_json::Value` seen through the crate's `Json` view.
#[derive(Clone, Debug, PartialEq)]
pub struct V(pub Value);

impl Json for V {
    fn get(&self, key: &str) -> Option<Self> {
        self.0.as_object().and_then(|o| o.get(key)).cloned().map(V)
    }
    fn as_bool(&self) -> Option<bool> {
        self.0.as_bool()
    }
    fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }
    fn as_string(&self) -> Option<String> {
        self.0.as_str().map(str::to_owned)
    }
    fn is_object(&self) -> bool {
        self.0.is_object()
    }
    fn is_array(&self) -> bool {
        self.0.is_array()
    }
    fn is_null(&self) -> bool {
        self.0.is_null()
    }
    fn items(&self, limit: usize) -> Vec<Self> {
        self.0
            .as_array()
            .map(|a| a.iter().take(limit).cloned().map(V).collect())
            .unwrap_or_default()
    }
}

/// Parses a body the way the platforms do: `None` when it is not JSON.
pub fn parse(body: &str) -> Option<V> {
    serde_json::from_str(body).ok().map(V)
}

/// Longest `message()` an error read from one response may have: 20 API errors of at most
/// 1000 bytes (+ `…`) each with their `; [code] `, the status and a 160-char excerpt.
pub const MAX_MESSAGE: usize = 25_000;

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const LONG_DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `secs` since the epoch in the three HTTP date forms: IMF-fixdate, RFC 850, asctime.
pub fn http_dates(secs: i64) -> [String; 3] {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = days.rem_euclid(7) as usize;
    let (hh, mm, ss) = (tod / 3600, tod / 60 % 60, tod % 60);
    let mon = MONTHS[(m - 1) as usize];
    [
        format!(
            "{}, {d:02} {mon} {y:04} {hh:02}:{mm:02}:{ss:02} GMT",
            DAYS[wd]
        ),
        format!(
            "{}, {d:02}-{mon}-{:02} {hh:02}:{mm:02}:{ss:02} GMT",
            LONG_DAYS[wd],
            y % 100
        ),
        format!("{} {mon} {d:>2} {hh:02}:{mm:02}:{ss:02} {y:04}", DAYS[wd]),
    ]
}
