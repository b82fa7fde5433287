//! Faults to inject into HubSpot-namespace requests, by request number or
//! at random, and their spelling — the same on the command line, in
//! `/_emulator/faults` and in `Display`/`FromStr`. Applying a fault is the
//! hub's job.

use std::fmt;
use std::str::FromStr;

/// Faults to inject into HubSpot-namespace requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    /// `(n, fault)`: request number `n` (1-based, counting every
    /// HubSpot-namespace request; `/_emulator/*` is not counted) gets `fault`.
    pub at: Vec<(u64, Fault)>,
    /// `(fault, p)`: every request gets `fault` with probability `p`. Checked
    /// in order after `at`; the first hit wins.
    pub random: Vec<(Fault, f64)>,
}

/// One injected failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// That status (500, 502, 503, 504, …) with a HubSpot JSON error body.
    Status(u16),
    /// That status with an HTML body, as a CDN edge sends it.
    HtmlStatus(u16),
    /// Close the connection without answering.
    DropConnection,
    /// Wait this many milliseconds, then answer normally.
    Delay(u64),
    /// A burst-limit 429 (`TEN_SECONDLY_ROLLING`), optionally with `Retry-After`.
    TooManyRequests {
        /// Seconds for the `Retry-After` header; `None` sends no header.
        retry_after_secs: Option<u64>,
    },
    /// The request's token is expired from this request on (401).
    ExpireToken,
}

impl fmt::Display for Fault {
    /// The same spelling [`Fault::from_str`] accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(s) => write!(f, "{s}"),
            Fault::HtmlStatus(s) => write!(f, "html{s}"),
            Fault::DropConnection => write!(f, "drop"),
            Fault::Delay(ms) => write!(f, "delay{ms}"),
            Fault::TooManyRequests {
                retry_after_secs: None,
            } => write!(f, "429"),
            Fault::TooManyRequests {
                retry_after_secs: Some(s),
            } => write!(f, "429retry{s}"),
            Fault::ExpireToken => write!(f, "expire"),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    /// Parses `500`, `html502`, `drop`, `delay3000`, `429`, `429retry2`, `expire`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let num = |t: &str| {
            t.parse::<u64>()
                .map_err(|_| format!("bad number {t:?} in fault {s:?}"))
        };
        let fault = match s.as_str() {
            "drop" => Fault::DropConnection,
            "expire" => Fault::ExpireToken,
            "429" => Fault::TooManyRequests {
                retry_after_secs: None,
            },
            _ if s.starts_with("429retry") => Fault::TooManyRequests {
                retry_after_secs: Some(num(&s[8..])?),
            },
            _ if s.starts_with("html") => Fault::HtmlStatus(status(num(&s[4..])?)?),
            _ if s.starts_with("delay") => Fault::Delay(num(&s[5..])?),
            _ if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
                Fault::Status(status(num(&s)?)?)
            }
            _ => return Err(format!("unknown fault {s:?}")),
        };
        Ok(fault)
    }
}

fn status(n: u64) -> Result<u16, String> {
    match u16::try_from(n) {
        Ok(s) if (400..600).contains(&s) => Ok(s),
        _ => Err(format!("fault status {n} is not a 4xx/5xx code")),
    }
}

impl FaultPlan {
    /// Parses `N:FAULT` or `FIRST-LAST:FAULT` (a burst, inclusive) into `at`.
    pub fn push_at(&mut self, spec: &str) -> Result<(), String> {
        let (n, fault) = spec
            .split_once(':')
            .ok_or_else(|| format!("expected N:FAULT, got {spec:?}"))?;
        let num = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("bad request number in {spec:?}"))
        };
        let (first, last) = match n.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(n)?, num(n)?),
        };
        if first == 0 || last < first || last - first >= 100_000 {
            return Err(format!(
                "bad request range in {spec:?} (numbers start at 1)"
            ));
        }
        let fault: Fault = fault.parse()?;
        for n in first..=last {
            self.at.push((n, fault.clone()));
        }
        Ok(())
    }

    /// Parses `FAULT:P` (random, probability `P` in 0..=1) into `random`.
    pub fn push_random(&mut self, spec: &str) -> Result<(), String> {
        let (fault, p) = spec
            .rsplit_once(':')
            .ok_or_else(|| format!("expected FAULT:P, got {spec:?}"))?;
        let p: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("bad probability in {spec:?}"))?;
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("probability {p} is outside 0..=1"));
        }
        self.random.push((fault.parse()?, p));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_spellings_round_trip() {
        for s in [
            "500",
            "html502",
            "drop",
            "delay1500",
            "429",
            "429retry3",
            "expire",
        ] {
            let f: Fault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
        assert!("html99".parse::<Fault>().is_err());
        assert!("boom".parse::<Fault>().is_err());
    }

    #[test]
    fn fault_plan_parses_both_forms() {
        let mut plan = FaultPlan::default();
        plan.push_at("3:drop").unwrap();
        plan.push_random("503:0.25").unwrap();
        assert_eq!(plan.at, vec![(3, Fault::DropConnection)]);
        assert_eq!(plan.random, vec![(Fault::Status(503), 0.25)]);
        assert!(plan.push_at("0:500").is_err());
        plan.push_at("5-7:429").unwrap();
        assert_eq!(plan.at.len(), 4);
        assert!(plan.push_at("7-5:429").is_err());
        assert!(plan.push_random("500:1.5").is_err());
    }
}
