//! Parsing the HTTP dates a `Retry-After` header may carry, leniently: IMF-fixdate
//! (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
//! (`Sun Nov  6 08:49:37 1994`). Anything else is `None`; nothing here can panic.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Milliseconds since the Unix epoch, or `None` when `text` is not an HTTP date.
pub(crate) fn parse_ms(text: &str) -> Option<f64> {
    if text.len() > 64 {
        return None;
    }
    let (mut day, mut month, mut year, mut time) = (None, None, None, None);
    for token in text.split([' ', ',', '-']).filter(|t| !t.is_empty()) {
        if token.contains(':') {
            time = Some(parse_time(token)?);
        } else if let Some(m) = MONTHS.iter().position(|m| token.eq_ignore_ascii_case(m)) {
            month = Some(m as u32 + 1);
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = token.parse().ok()?;
            match (token.len(), day) {
                (1 | 2, None) => day = Some(n),
                (2, Some(_)) => year = Some(if n < 70 { 2000 + n } else { 1900 + n }),
                (4, _) => year = Some(n),
                _ => return None,
            }
        } else if !token.eq_ignore_ascii_case("gmt")
            && !token.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return None;
        }
    }
    let (day, month, year, (h, m, s)) = (day?, month?, year?, time?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
    Some(secs as f64 * 1000.0)
}

fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut parts = token.split(':').map(|p| {
        if p.len() == 2 {
            p.parse::<u32>().ok()
        } else {
            None
        }
    });
    let t = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(t)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        let want = 784_111_777_000.0;
        assert_eq!(parse_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(want));
        assert_eq!(parse_ms("Sunday, 06-Nov-94 08:49:37 GMT"), Some(want));
        assert_eq!(parse_ms("Sun Nov  6 08:49:37 1994"), Some(want));
        assert_eq!(parse_ms("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_ms("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599_000.0)
        );
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            "",
            "120",
            "soon",
            "Sun, 06 Nov 1994",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 19945 08:49:37 GMT",
            "٣:٣:٣",
            "1:2:3:4",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
        assert_eq!(parse_ms(&"x".repeat(100)), None);
    }
}
