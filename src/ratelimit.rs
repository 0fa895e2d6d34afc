//! Pacing by the rate limit: when may the next request go? Pure state, fed with the
//! `Ratelimit` / `Ratelimit-Policy` headers of every response and asked before every request.
//!
//! Cloudflare allows 1200 requests per 5 minutes per user and answers **every** call with 429
//! for the rest of the window once that is exceeded. Each response says what is left:
//! `Ratelimit: "default";r=<remaining>;t=<seconds to reset>` and
//! `Ratelimit-Policy: "default";q=<quota>;w=<window seconds>`. One [`Pacer`] is shared by all
//! the calls of one client (their retries and `retire`'s polling too), so together they stay
//! within what the latest header allows: when the budget is spent, requests are held until the
//! window resets instead of being sent to get 429.
//!
//! How the estimate stays safe:
//! - every request sent takes one from the estimate at once, before its answer is known;
//! - an answer gives `r - (requests still in flight)`: those may not have been counted yet;
//! - within one window the lowest estimate and the earliest reset win. Each answer's reset
//!   time (`arrival + t`, `t` in whole seconds rounded up by the server) is never before the
//!   true reset, so the earliest of them is the tightest that is still safe;
//! - a 429 holds everything for the wait it names;
//! - until the first answer, one request goes at a time: the budget may be nearly spent
//!   already (by the dashboard, Terraform, another script of the same user).
//!
//! Without the headers nothing is held after the first answer: the client behaves as before.

use crate::client::ResponseHeaders;
#[allow(unused_imports)]
use crate::prelude::*;

/// One item of a structured-field list like `"default";r=10;t=30`: its name and parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Item<'a> {
    name: &'a str,
    /// `r=` (remaining) or `q=` (quota).
    count: Option<u64>,
    /// `t=` (seconds to reset) or `w=` (window seconds).
    seconds: Option<u64>,
}

/// Parses the items of a `Ratelimit` (`r`, `t`) or `Ratelimit-Policy` (`q`, `w`) header.
/// Lenient: an item without a number it needs is skipped; at most 8 items are read.
fn items<'a>(header: &'a str, count_key: &str, seconds_key: &str) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    for raw in header.split(',').take(8) {
        let mut params = raw.split(';').map(str::trim);
        let name = params.next().unwrap_or("").trim_matches('"');
        let mut item = Item {
            name,
            ..Item::default()
        };
        for p in params {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let n = number(v);
            if k.trim() == count_key {
                item.count = n;
            } else if k.trim() == seconds_key {
                item.seconds = n;
            }
        }
        if item.count.is_some() {
            out.push(item);
        }
    }
    out
}

/// A whole non-negative number of at most 12 digits.
fn number(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() || v.len() > 12 {
        return None;
    }
    v.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// What a `Ratelimit` header (and its policy) says: the most constraining item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Requests left in the window.
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset_s: u64,
    /// The window's quota, from `Ratelimit-Policy`.
    pub quota: Option<u64>,
    /// The window's length in seconds, from `Ratelimit-Policy`.
    pub window_s: Option<u64>,
}

impl Budget {
    /// Reads the headers; `None` without a usable `Ratelimit` (no `r=` and `t=`).
    pub fn from_headers(ratelimit: &str, policy: Option<&str>) -> Option<Self> {
        let tightest = items(ratelimit, "r", "t")
            .into_iter()
            .filter(|i| i.seconds.is_some())
            .min_by_key(|i| i.count)?;
        let policies = policy.map(|p| items(p, "q", "w")).unwrap_or_default();
        let rule = policies
            .iter()
            .find(|p| p.name == tightest.name)
            .or(policies.first());
        Some(Self {
            remaining: tightest.count?,
            reset_s: tightest.seconds?,
            quota: rule.and_then(|p| p.count),
            window_s: rule.and_then(|p| p.seconds),
        })
    }
}

/// The budget one client has left, and when it may send.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pacer {
    /// Requests this client may still send before the reset; `None`: unknown (no header yet,
    /// or a window ended with no quota known), so nothing is held.
    remaining: Option<i64>,
    /// When the current window resets, ms since the epoch.
    reset_at: f64,
    /// The quota of a fresh window, from the policy header.
    quota: Option<u64>,
    /// The window's length in ms, from the policy header.
    window_ms: Option<u64>,
    /// Requests sent and not answered yet.
    in_flight: u32,
    /// The window has ended since the last answer: the next answer starts a new one.
    expired: bool,
    /// The last `Ratelimit` and `Ratelimit-Policy` values seen, as sent.
    last: (Option<String>, Option<String>),
    /// A 429 named a wait: nothing is sent before this time (ms since the epoch).
    blocked_until: f64,
    /// An answer has come: until then one request goes at a time, so that a client started
    /// when the budget is nearly spent does not burst into the lockout.
    answered: bool,
}

/// How often a request held for the first answer looks again, in ms.
const FIRST_ANSWER_POLL_MS: u64 = 5;

/// How much later than the earliest reset seen an answer's reset may be and still belong to
/// the same window: `t` is in whole seconds, and the answer may have spent time on the way.
const SAME_WINDOW_SLACK_MS: f64 = 1_500.0;

impl Pacer {
    /// How long to hold the next request, in ms; 0: send it now.
    pub fn delay_ms(&mut self, now_ms: f64) -> u64 {
        if now_ms < self.blocked_until {
            return crate::text::ceil_u64(self.blocked_until - now_ms);
        }
        if !self.answered && self.in_flight > 0 {
            return FIRST_ANSWER_POLL_MS;
        }
        let Some(remaining) = self.remaining else {
            return 0;
        };
        if now_ms >= self.reset_at {
            // The window is over: a fresh quota, less what is still on its way.
            // Until an answer says otherwise, assume the new window started now.
            self.remaining = self
                .quota
                .map(|q| i64::try_from(q).unwrap_or(i64::MAX) - i64::from(self.in_flight));
            self.reset_at = now_ms + self.window_ms.unwrap_or(1_000) as f64;
            self.expired = true;
            return match self.remaining {
                Some(r) if r <= 0 => (self.reset_at - now_ms) as u64,
                _ => 0,
            };
        }
        if remaining > 0 {
            0
        } else {
            crate::text::ceil_u64(self.reset_at - now_ms)
        }
    }

    /// A request is about to be sent.
    pub fn on_send(&mut self) {
        if let Some(r) = &mut self.remaining {
            *r -= 1;
        }
        self.in_flight = self.in_flight.saturating_add(1);
    }

    /// A request got no answer (connection failure, timeout, abort).
    pub fn on_no_answer(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// A request was answered. `wait_ms` is the wait a 429 named (see
    /// [`crate::retry::server_wait_ms`]).
    pub fn on_answer(
        &mut self,
        now_ms: f64,
        status: u16,
        headers: &ResponseHeaders,
        wait_ms: Option<u64>,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered = true;
        let budget = headers
            .ratelimit
            .as_deref()
            .and_then(|r| Budget::from_headers(r, headers.ratelimit_policy.as_deref()));
        if headers.ratelimit.is_some() {
            self.last = (headers.ratelimit.clone(), headers.ratelimit_policy.clone());
        }
        if let Some(b) = budget {
            // A quota of 0 is no quota: every fresh window would start spent, and as nothing
            // is sent while it is, no answer would ever come to say otherwise (a hang).
            if b.quota.is_some_and(|q| q > 0) {
                self.quota = b.quota;
            }
            if let Some(w) = b.window_s {
                self.window_ms = Some(w.saturating_mul(1000));
            }
            self.observe(now_ms, &b);
        }
        if let (429, Some(wait)) = (status, wait_ms) {
            // Limited anyway (another user of the budget, or no `Ratelimit` header): hold every
            // request of this client for the wait the server named; the budget's own rules
            // apply after it.
            self.blocked_until = self.blocked_until.max(now_ms + wait as f64);
        }
    }

    fn observe(&mut self, now_ms: f64, b: &Budget) {
        let reset_at = now_ms + b.reset_s.saturating_mul(1000) as f64;
        let estimate = i64::try_from(b.remaining).unwrap_or(i64::MAX) - i64::from(self.in_flight);
        let slack = self.window_ms.map_or(SAME_WINDOW_SLACK_MS, |w| {
            (w as f64 / 2.0).max(SAME_WINDOW_SLACK_MS)
        });
        match self.remaining {
            Some(_) if reset_at < self.reset_at - slack && !self.expired => {} // an older window's answer
            Some(r) if !self.expired && reset_at <= self.reset_at + slack => {
                self.remaining = Some(r.min(estimate));
                self.reset_at = self.reset_at.min(reset_at);
            }
            _ => {
                self.remaining = Some(estimate);
                self.reset_at = reset_at;
                self.expired = false;
            }
        }
    }

    /// The last `Ratelimit` and `Ratelimit-Policy` header values seen, as the server sent them.
    pub fn last_headers(&self) -> (Option<&str>, Option<&str>) {
        (self.last.0.as_deref(), self.last.1.as_deref())
    }

    /// Requests the estimate says may still be sent before the reset (`None`: unknown).
    pub fn remaining(&self) -> Option<i64> {
        self.remaining
    }

    /// Requests sent and not answered yet (the machine tests check it is back to 0).
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight
    }
}

#[cfg(test)]
mod tests;
