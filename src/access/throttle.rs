//! Failed-login counting per user name and per client address, within a fixed window
//! (`accounts.login_*`). Wrong passwords and wrong one-time passwords both count.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::config::AccountsConfig;

/// Failures per user name and per client address within a window.
#[derive(Debug)]
pub struct LoginThrottle {
    by_user: DashMap<String, Window>,
    by_addr: DashMap<IpAddr, Window>,
    window: Duration,
    user_limit: u32,
    addr_limit: u32,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    /// Attempts being checked right now: counted up front, so a burst of parallel guesses
    /// cannot all pass the check before the first failure is recorded.
    in_flight: u32,
    started: Instant,
}

/// Past this many tracked keys, expired ones are dropped (bounds memory under a spray attack).
const PRUNE_AT: usize = 10_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(&AccountsConfig::default())
    }
}

/// One login attempt in progress; dropping it without [`Attempt::failed`] counts nothing.
#[must_use]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    username: String,
    addr: Option<IpAddr>,
}

impl Attempt<'_> {
    /// Counts the attempt as a failure against the user name and the address.
    pub fn failed(self) {
        let window = self.throttle.window;
        let bump = |w: &mut Window| {
            w.failures += 1;
            if w.started.elapsed() >= window {
                w.failures = 1;
                w.started = Instant::now();
            }
        };
        if let Some(mut w) = self.throttle.by_user.get_mut(&self.username) {
            bump(&mut w);
        }
        if let Some(mut w) = self.addr.and_then(|a| self.throttle.by_addr.get_mut(&a)) {
            bump(&mut w);
        }
    }

    /// Forgets the user name's failures.
    pub fn succeeded(self) {
        if let Some(mut w) = self.throttle.by_user.get_mut(&self.username) {
            w.failures = 0;
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Some(mut w) = self.throttle.by_user.get_mut(&self.username) {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
        if let Some(mut w) = self.addr.and_then(|a| self.throttle.by_addr.get_mut(&a)) {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
    }
}

impl LoginThrottle {
    /// A throttle with the configured window and limits.
    pub fn new(config: &AccountsConfig) -> Self {
        Self {
            by_user: DashMap::new(),
            by_addr: DashMap::new(),
            window: Duration::from_secs(config.login_window_s),
            user_limit: config.login_failures_per_user,
            addr_limit: config.login_failures_per_address,
        }
    }

    /// Starts an attempt, or `Err(seconds to wait)` while the user name or the address is
    /// locked out (failures in the window, plus attempts in flight, reach the limit).
    pub fn begin(&self, username: &str, addr: Option<IpAddr>) -> Result<Attempt<'_>, u64> {
        self.prune();
        let window = self.window;
        let admit = |w: &mut Window, limit: u32| -> Result<(), u64> {
            let age = w.started.elapsed();
            if age >= window {
                w.failures = 0;
                w.started = Instant::now();
            }
            if w.failures >= limit {
                return Err((window - w.started.elapsed()).as_secs().max(1));
            }
            if w.failures + w.in_flight >= limit {
                return Err(1);
            }
            w.in_flight += 1;
            Ok(())
        };
        let fresh = || Window {
            failures: 0,
            in_flight: 0,
            started: Instant::now(),
        };
        admit(
            &mut self.by_user.entry(username.to_owned()).or_insert_with(fresh),
            self.user_limit,
        )?;
        if let Some(a) = addr
            && let Err(wait) = admit(&mut self.by_addr.entry(a).or_insert_with(fresh), self.addr_limit)
        {
            if let Some(mut w) = self.by_user.get_mut(username) {
                w.in_flight = w.in_flight.saturating_sub(1);
            }
            return Err(wait);
        }
        Ok(Attempt {
            throttle: self,
            username: username.to_owned(),
            addr,
        })
    }

    fn prune(&self) {
        let window = self.window;
        let stale = |w: &Window| w.in_flight == 0 && w.started.elapsed() >= window;
        if self.by_user.len() > PRUNE_AT {
            self.by_user.retain(|_, w| !stale(w));
        }
        if self.by_addr.len() > PRUNE_AT {
            self.by_addr.retain(|_, w| !stale(w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_names_the_wait() {
        let config = AccountsConfig {
            login_failures_per_user: 2,
            login_failures_per_address: 3,
            ..Default::default()
        };
        let t = LoginThrottle::new(&config);
        let addr: IpAddr = [10, 0, 0, 1].into();
        t.begin("ann", Some(addr)).unwrap().failed();
        t.begin("ann", Some(addr)).unwrap().failed();
        let wait = t.begin("ann", Some(addr)).err().unwrap();
        assert!((1..=900).contains(&wait));
        // Another name from the same address still works until the address limit.
        t.begin("bob", Some(addr)).unwrap().failed();
        assert!(t.begin("carl", Some(addr)).is_err());
        assert!(t.begin("carl", Some([10, 0, 0, 2].into())).is_ok());
    }

    #[test]
    fn parallel_attempts_count_before_they_fail() {
        let config = AccountsConfig {
            login_failures_per_user: 3,
            ..Default::default()
        };
        let t = LoginThrottle::new(&config);
        let held: Vec<_> = (0..3).map(|_| t.begin("dan", None).unwrap()).collect();
        assert_eq!(t.begin("dan", None).err(), Some(1), "a fourth guess waits");
        drop(held);
        let ok = t.begin("dan", None).unwrap();
        ok.succeeded();
        assert!(t.begin("dan", None).is_ok());
    }
}
