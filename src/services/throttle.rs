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
    started: Instant,
}

/// Past this many tracked keys, expired ones are dropped (bounds memory under a spray attack).
const PRUNE_AT: usize = 10_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(&AccountsConfig::default())
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

    /// `Err(seconds)` while either the user name or the address is locked out.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), u64> {
        let retry = |w: &Window, limit: u32| {
            let age = w.started.elapsed();
            (w.failures >= limit && age < self.window).then(|| (self.window - age).as_secs().max(1))
        };
        if let Some(s) = self.by_user.get(username).and_then(|w| retry(&w, self.user_limit)) {
            return Err(s);
        }
        if let Some(s) = addr
            .and_then(|a| self.by_addr.get(&a))
            .and_then(|w| retry(&w, self.addr_limit))
        {
            return Err(s);
        }
        Ok(())
    }

    /// Counts one failure against the user name and the address.
    pub fn failure(&self, username: &str, addr: Option<IpAddr>) {
        let window = self.window;
        let bump = |w: &mut Window| {
            if w.started.elapsed() >= window {
                *w = Window {
                    failures: 0,
                    started: Instant::now(),
                };
            }
            w.failures += 1;
        };
        let fresh = || Window {
            failures: 0,
            started: Instant::now(),
        };
        bump(&mut self.by_user.entry(username.to_owned()).or_insert_with(fresh));
        if let Some(a) = addr {
            bump(&mut self.by_addr.entry(a).or_insert_with(fresh));
        }
        if self.by_user.len() > PRUNE_AT {
            self.by_user.retain(|_, w| w.started.elapsed() < window);
        }
        if self.by_addr.len() > PRUNE_AT {
            self.by_addr.retain(|_, w| w.started.elapsed() < window);
        }
    }

    /// Forgets the user name's failures after a successful login.
    pub fn success(&self, username: &str) {
        self.by_user.remove(username);
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
        t.failure("ann", Some(addr));
        assert!(t.check("ann", Some(addr)).is_ok());
        t.failure("ann", Some(addr));
        let wait = t.check("ann", Some(addr)).unwrap_err();
        assert!((1..=900).contains(&wait));
        // Another name from the same address still works until the address limit.
        assert!(t.check("bob", Some(addr)).is_ok());
        t.failure("bob", Some(addr));
        assert!(t.check("carl", Some(addr)).is_err());
        assert!(t.check("carl", Some([10, 0, 0, 2].into())).is_ok());
    }
}
