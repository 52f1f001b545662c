//! When to try connecting again: exponential backoff with jitter, as a pure function.

/// The reconnect schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay, in milliseconds.
    pub initial_ms: u32,
    /// No delay is longer than this.
    pub max_ms: u32,
}

impl Default for Backoff {
    /// 0.5 s, 1 s, 2 s, … up to 30 s: quick after a blip, gentle on the server after an outage.
    fn default() -> Self {
        Self {
            initial_ms: 500,
            max_ms: 30_000,
        }
    }
}

impl Backoff {
    /// How long to wait before attempt number `attempt` (0 after the first failure), given
    /// `random` in `[0, 1)` (`js_sys::Math::random()` in the browser).
    ///
    /// The ceiling doubles with each attempt up to `max_ms`; the delay is between half the
    /// ceiling and the ceiling ("equal jitter"), so phones that lost the server together do not
    /// all come back in the same millisecond, and none retries in a tight loop.
    pub fn delay_ms(&self, attempt: u32, random: f64) -> u32 {
        let ceiling = (u64::from(self.initial_ms) << attempt.min(31)).min(u64::from(self.max_ms));
        let half = ceiling as f64 / 2.0;
        let random = if random.is_nan() {
            0.0
        } else {
            random.clamp(0.0, 1.0)
        };
        let jitter = random * half;
        (half + jitter).min(ceiling as f64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_stay_at_the_ceiling() {
        let backoff = Backoff::default();
        let upper: Vec<u32> = (0..9).map(|a| backoff.delay_ms(a, 1.0)).collect();
        assert_eq!(
            upper,
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000
            ]
        );
        let lower: Vec<u32> = (0..9).map(|a| backoff.delay_ms(a, 0.0)).collect();
        assert_eq!(
            lower,
            [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]
        );
    }

    #[test]
    fn jitter_spreads_delays_within_the_bounds() {
        let backoff = Backoff::default();
        for attempt in 0..40 {
            for step in 0..=10 {
                let random = f64::from(step) / 10.0;
                let delay = backoff.delay_ms(attempt, random);
                let ceiling = backoff.delay_ms(attempt, 1.0);
                assert!(
                    delay >= ceiling / 2 && delay <= ceiling,
                    "{attempt} {random}"
                );
            }
        }
        assert_ne!(backoff.delay_ms(3, 0.1), backoff.delay_ms(3, 0.9));
        // Out-of-range randomness is clamped, never a zero or overlong delay.
        assert_eq!(backoff.delay_ms(100, f64::NAN), backoff.delay_ms(100, 0.0));
        assert_eq!(backoff.delay_ms(2, 7.0), 2_000);
    }
}
