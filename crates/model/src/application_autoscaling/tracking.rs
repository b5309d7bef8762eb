//! Target tracking as Application Auto Scaling does it for ECS services.
//!
//! AlarmHigh in ALARM: the capacity that brings the metric to the target,
//! `ceil(capacity × metric / target)`, at least one more, at most MaxCapacity. During the
//! scale-out cooldown the capacity the last scale-out started from is the base, so a
//! metric measured before the new tasks ran does not count twice: a scale-out then
//! happens only if it goes higher than now.
//!
//! AlarmLow in ALARM: scale in, conservatively: toward the same proportional capacity
//! but by at most half the capacity (at least one task) per step, never below
//! MinCapacity; not during either cooldown, not with DisableScaleIn.

use super::records::Cooldown;

/// What target tracking knows when its alarm is in ALARM.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub current: i32,
    pub min: i32,
    pub max: i32,
    pub target: f64,
    /// The metric's latest value, if the alarm's data or the metric store has one.
    pub metric: Option<f64>,
    pub now: f64,
    pub scale_out_cooldown: f64,
    pub scale_in_cooldown: f64,
    pub disable_scale_in: bool,
    pub cooldown: &'a Cooldown,
}

/// ECS's default cooldowns (seconds) when a policy gives none.
pub const DEFAULT_COOLDOWN: i32 = 300;

fn proportional(base: i32, metric: f64, target: f64) -> i64 {
    let wanted = (f64::from(base) * metric / target).ceil();
    if wanted.is_finite() { wanted.clamp(0.0, i32::MAX as f64) as i64 } else { i64::from(i32::MAX) }
}

impl Situation<'_> {
    fn in_scale_out_cooldown(&self) -> Option<i32> {
        self.cooldown.scale_out.filter(|(at, _)| self.now < at.as_secs_f64() + self.scale_out_cooldown).map(|(_, b)| b)
    }

    /// The new capacity when AlarmHigh is in ALARM, or None when nothing changes.
    pub fn scale_out(&self) -> Option<i32> {
        let wanted = match (self.in_scale_out_cooldown(), self.metric) {
            (Some(base), Some(m)) => proportional(base, m, self.target),
            (Some(_), None) => return None,
            (None, Some(m)) => proportional(self.current, m, self.target).max(i64::from(self.current) + 1),
            (None, None) => i64::from(self.current) + 1,
        };
        let new = wanted.clamp(i64::from(self.min), i64::from(self.max)) as i32;
        (new > self.current).then_some(new)
    }

    /// The new capacity when AlarmLow is in ALARM, or None when nothing changes.
    pub fn scale_in(&self) -> Option<i32> {
        if self.disable_scale_in || self.in_scale_out_cooldown().is_some() {
            return None;
        }
        if self.cooldown.scale_in.is_some_and(|at| self.now < at.as_secs_f64() + self.scale_in_cooldown) {
            return None;
        }
        let floor = i64::from(self.current) - i64::from((self.current / 2).max(1));
        let wanted = match self.metric {
            Some(m) => proportional(self.current, m, self.target).max(floor),
            None => floor,
        };
        let new = wanted.clamp(i64::from(self.min), i64::from(self.max)) as i32;
        (new < self.current).then_some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn at(current: i32, metric: Option<f64>, cooldown: &Cooldown) -> Situation<'_> {
        Situation {
            current,
            min: 1,
            max: 4,
            target: 70.0,
            metric,
            now: 1000.0,
            scale_out_cooldown: 60.0,
            scale_in_cooldown: 60.0,
            disable_scale_in: false,
            cooldown,
        }
    }

    #[test]
    fn scale_out_is_proportional_at_least_one_and_within_max() {
        let none = Cooldown::default();
        assert_eq!(at(1, Some(100.0), &none).scale_out(), Some(2), "ceil(1 x 100/70) = 2");
        assert_eq!(at(2, Some(75.0), &none).scale_out(), Some(3), "ceil(2 x 75/70) = 3");
        assert_eq!(at(1, Some(70.1), &none).scale_out(), Some(2), "at least one more");
        assert_eq!(at(2, Some(300.0), &none).scale_out(), Some(4), "within max");
        assert_eq!(at(4, Some(300.0), &none).scale_out(), None, "at max already");
        assert_eq!(at(1, None, &none).scale_out(), Some(2), "no datapoint: one more");
        assert_eq!(at(6, Some(100.0), &none).scale_out(), None, "above max (a manual update) is left alone");
    }

    #[test]
    fn a_scale_out_in_cooldown_only_goes_higher() {
        let cd = Cooldown { scale_out: Some((Timestamp(990.0), 1)), scale_in: None };
        // The last scale-out went 1 -> 2 from a metric of 100; the same stale metric asks nothing more.
        assert_eq!(at(2, Some(100.0), &cd).scale_out(), None);
        // A higher metric measured from the same base asks more.
        assert_eq!(at(2, Some(250.0), &cd).scale_out(), Some(4));
        let expired = Cooldown { scale_out: Some((Timestamp(900.0), 1)), scale_in: None };
        assert_eq!(at(2, Some(100.0), &expired).scale_out(), Some(3));
    }

    #[test]
    fn scale_in_is_gradual_and_honours_cooldowns_and_min() {
        let none = Cooldown::default();
        assert_eq!(at(4, Some(1.0), &none).scale_in(), Some(2), "at most half per step");
        assert_eq!(at(2, Some(1.0), &none).scale_in(), Some(1));
        assert_eq!(at(1, Some(1.0), &none).scale_in(), None, "never below min");
        assert_eq!(at(4, Some(60.0), &none).scale_in(), None, "ceil(4 x 60/70) = 4: nothing to remove");
        assert_eq!(at(4, None, &none).scale_in(), Some(2));
        let after_in = Cooldown { scale_out: None, scale_in: Some(Timestamp(990.0)) };
        assert_eq!(at(4, Some(1.0), &after_in).scale_in(), None, "scale-in cooldown");
        let after_out = Cooldown { scale_out: Some((Timestamp(990.0), 2)), scale_in: None };
        assert_eq!(at(4, Some(1.0), &after_out).scale_in(), None, "no scale-in during a scale-out cooldown");
        let mut s = at(4, Some(1.0), &none);
        s.disable_scale_in = true;
        assert_eq!(s.scale_in(), None);
    }
}
