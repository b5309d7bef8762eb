//! Managed scaling's arithmetic, as ECS documents it.
//!
//! CapacityProviderReservation = M / N × 100, where N is the number of instances in the
//! group (in service or on their way) and M the number the provider's tasks need: the
//! instances running a task other than a daemon task, plus the instances the waiting
//! (PROVISIONING) tasks need beyond the room that the group's instances have, found by
//! packing them first fit, largest first, onto instances of the group's instance type.
//! N = 0 gives 100 when nothing needs an instance and 200 when something does (ECS's
//! values). The group's desired capacity is then ceil(M × 100 / targetCapacity), moved
//! at least minimumScalingStepSize and at most maximumScalingStepSize at a time, within
//! the group's minimum and maximum. It scales in only instances that have been empty for
//! the scale-in delay, and never one still warming up (instanceWarmupPeriod). Pure: no
//! I/O, no clock (times are given).

/// What one task needs of an instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Need {
    pub cpu: i64,
    pub memory: i64,
    pub gpus: i64,
}

impl Need {
    fn fits(&self, room: &Need) -> bool {
        self.cpu <= room.cpu && self.memory <= room.memory && self.gpus <= room.gpus
    }

    fn take(&self, room: &mut Need) {
        room.cpu -= self.cpu;
        room.memory -= self.memory;
        room.gpus -= self.gpus;
    }
}

/// One instance of the group as managed scaling sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub instance_id: String,
    /// Runs at least one task that is not a daemon's.
    pub busy: bool,
    /// What it has free for new tasks: its container instance's unreserved resources,
    /// or a whole instance of its type while it has not joined the cluster yet.
    pub room: Need,
    /// When it was launched (seconds): it warms up for instanceWarmupPeriod after.
    pub launched_at: f64,
    /// Since when it has been empty (seconds), if it is.
    pub empty_since: Option<f64>,
    /// Protected from scale-in (by the group or managed termination protection).
    pub protected: bool,
}

/// Everything one decision looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs<'a> {
    pub members: &'a [Member],
    /// The PROVISIONING tasks waiting for this provider's capacity.
    pub waiting: &'a [Need],
    /// What a new instance of the group's type offers.
    pub instance_type: Need,
    pub target_capacity: i32,
    pub min_step: i32,
    pub max_step: i32,
    pub warmup_secs: f64,
    /// How long an instance stays empty before it may be scaled in.
    pub scale_in_after_secs: f64,
    pub group_min: i32,
    pub group_max: i32,
    /// The group's desired capacity now.
    pub desired: i32,
    pub now: f64,
}

/// What managed scaling decides for one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// CapacityProviderReservation, percent.
    pub reservation: f64,
    /// M: the instances the tasks need.
    pub needed: i32,
    /// The group's new desired capacity (the same when nothing changes).
    pub desired: i32,
    /// On scale-in, the empty instances to remove (as many as desired goes down).
    pub scale_in: Vec<String>,
}

/// How many new instances of `size` the demands that do not fit `members`' room need.
/// Members that take a waiting task become busy. Demands larger than a whole instance
/// are left out: no instance of this type can ever run them.
pub fn needed(members: &[Member], waiting: &[Need], size: Need) -> (i32, usize) {
    let mut rooms: Vec<Need> = members.iter().map(|m| m.room).collect();
    let mut busy: Vec<bool> = members.iter().map(|m| m.busy).collect();
    let mut demands: Vec<Need> = waiting.iter().copied().filter(|d| d.fits(&size)).collect();
    demands.sort_by_key(|d| std::cmp::Reverse((d.gpus, d.cpu, d.memory)));
    let mut fresh: Vec<Need> = vec![];
    for d in demands {
        if let Some(i) = (0..rooms.len()).find(|&i| d.fits(&rooms[i])) {
            d.take(&mut rooms[i]);
            busy[i] = true;
        } else if let Some(room) = fresh.iter_mut().find(|r| d.fits(r)) {
            d.take(room);
        } else {
            let mut room = size;
            d.take(&mut room);
            fresh.push(room);
        }
    }
    (i32::try_from(fresh.len()).unwrap_or(i32::MAX), busy.iter().filter(|b| **b).count())
}

/// M / N × 100 (100 when both are 0, 200 when only N is).
pub fn reservation(m: i32, n: i32) -> f64 {
    match (m, n) {
        (0, 0) => 100.0,
        (_, 0) => 200.0,
        _ => f64::from(m) * 100.0 / f64::from(n),
    }
}

/// One managed scaling decision.
pub fn decide(input: &Inputs<'_>) -> Decision {
    let n = i32::try_from(input.members.len()).unwrap_or(i32::MAX);
    let (extra, busy) = needed(input.members, input.waiting, input.instance_type);
    let m = i32::try_from(busy).unwrap_or(i32::MAX).saturating_add(extra);
    let target = i64::from(input.target_capacity.clamp(1, 100));
    let wanted = i32::try_from((i64::from(m) * 100 + target - 1) / target).unwrap_or(i32::MAX);
    let (lo, hi) = (input.min_step.max(1), input.max_step.max(input.min_step.max(1)));
    let current = input.desired.max(n);
    let mut out = Decision { reservation: reservation(m, n), needed: m, desired: input.desired, scale_in: vec![] };
    if wanted > current {
        let step = (wanted - current).clamp(lo, hi);
        out.desired = (current + step).min(input.group_max).max(input.desired);
    } else if wanted < n && input.desired <= n {
        // An instance still warming up is not scaled in.
        let mut removable: Vec<&Member> = input
            .members
            .iter()
            .filter(|mb| !mb.busy && !mb.protected && input.now - mb.launched_at >= input.warmup_secs)
            .filter(|mb| mb.empty_since.is_some_and(|since| input.now - since >= input.scale_in_after_secs))
            .collect();
        // The longest empty first.
        removable.sort_by(|a, b| a.empty_since.partial_cmp(&b.empty_since).unwrap_or(std::cmp::Ordering::Equal));
        let room_above_min = usize::try_from(n - input.group_min.max(0)).unwrap_or(0);
        let step = usize::try_from((n - wanted).clamp(lo, hi)).unwrap_or(0);
        let k = step.min(removable.len()).min(room_above_min);
        // What can go may be fewer than the minimum step: that much is scaled in.
        out.scale_in = removable[..k].iter().map(|mb| mb.instance_id.clone()).collect();
        out.desired = n - i32::try_from(k).unwrap_or(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const G4DN: Need = Need { cpu: 4096, memory: 15_000, gpus: 1 };

    fn member(id: &str, busy: bool, room: Need, empty_since: Option<f64>) -> Member {
        Member { instance_id: id.into(), busy, room, launched_at: 0.0, empty_since, protected: false }
    }

    fn inputs<'a>(members: &'a [Member], waiting: &'a [Need]) -> Inputs<'a> {
        Inputs {
            members,
            waiting,
            instance_type: G4DN,
            target_capacity: 100,
            min_step: 1,
            max_step: 10_000,
            warmup_secs: 300.0,
            scale_in_after_secs: 900.0,
            group_min: 1,
            group_max: 3,
            desired: i32::try_from(members.len()).unwrap(),
            now: 10_000.0,
        }
    }

    #[test]
    fn the_metric_follows_ecs_special_cases() {
        assert_eq!(reservation(0, 0), 100.0);
        assert_eq!(reservation(2, 0), 200.0);
        assert_eq!(reservation(3, 2), 150.0);
        assert_eq!(reservation(1, 2), 50.0);
    }

    #[test]
    fn waiting_tasks_use_the_room_first_then_new_instances() {
        let half = Need { cpu: 2048, memory: 4000, gpus: 0 };
        let members = [member("i-1", true, half, None), member("i-2", false, G4DN, Some(0.0))];
        // Three tasks of 2048 CPU: one fits i-1, two fit i-2: no new instance, both busy.
        assert_eq!(needed(&members, &[half; 3], G4DN), (0, 2));
        // Five: one more new instance.
        assert_eq!(needed(&members, &[half; 5], G4DN), (1, 2));
        // One GPU per task, one GPU per instance: each waiting GPU task needs its own.
        let gpu = Need { cpu: 1024, memory: 1000, gpus: 1 };
        let members = [member("i-1", true, Need { cpu: 3072, memory: 14_000, gpus: 0 }, None)];
        assert_eq!(needed(&members, &[gpu; 2], G4DN), (2, 1));
        // Too big for the type: never counted.
        assert_eq!(needed(&[], &[Need { cpu: 8192, memory: 1, gpus: 0 }], G4DN), (0, 0));
    }

    #[test]
    fn scale_out_is_bounded_by_steps_and_the_group_max() {
        let task = Need { cpu: 3000, memory: 1000, gpus: 0 };
        let members = [member("i-1", true, Need { cpu: 1096, memory: 14_000, gpus: 1 }, None)];
        let waiting = [task; 4];
        let mut i = inputs(&members, &waiting);
        let d = decide(&i);
        assert_eq!((d.needed, d.reservation), (5, 500.0));
        assert_eq!(d.desired, 3, "capped at the group's max");
        i.max_step = 1;
        assert_eq!(decide(&i).desired, 2, "one at a time");
        i.max_step = 10_000;
        i.target_capacity = 50;
        i.group_max = 20;
        assert_eq!(decide(&i).desired, 10, "ceil(5 × 100 / 50)");
        // The seed's min_step bigger than the need: at least that many.
        i.target_capacity = 100;
        i.min_step = 6;
        i.max_step = 6;
        assert_eq!(decide(&i).desired, 7);
    }

    #[test]
    fn nothing_changes_when_the_tasks_fill_the_group() {
        let members = [member("i-1", true, Need::default(), None), member("i-2", true, Need::default(), None)];
        let d = decide(&inputs(&members, &[]));
        assert_eq!((d.reservation, d.desired, d.scale_in.len()), (100.0, 2, 0));
    }

    #[test]
    fn scale_in_takes_only_instances_empty_long_enough() {
        let members = [
            member("i-1", true, Need::default(), None),
            member("i-2", false, G4DN, Some(9_500.0)), // empty 500 s: too recent
            member("i-3", false, G4DN, Some(1_000.0)),
        ];
        let d = decide(&inputs(&members, &[]));
        assert_eq!((d.reservation.round(), d.desired, d.scale_in.clone()), (33.0, 2, vec!["i-3".to_string()]));
        // Protected ones stay.
        let mut protected = members.clone();
        protected[2].protected = true;
        assert_eq!(decide(&inputs(&protected, &[])).desired, 3);
    }

    #[test]
    fn scale_in_waits_for_warm_up_and_keeps_the_group_min() {
        let mut members = vec![member("i-1", false, G4DN, Some(0.0)), member("i-2", false, G4DN, Some(0.0))];
        let d = decide(&inputs(&members, &[]));
        assert_eq!((d.needed, d.reservation, d.desired), (0, 0.0, 1), "down to the group's min of 1");
        members[0].launched_at = 9_900.0;
        let d = decide(&inputs(&members, &[]));
        assert_eq!((d.desired, d.scale_in), (1, vec!["i-2".to_string()]), "i-1 is warming up: i-2 goes");
        members[1].launched_at = 9_900.0;
        assert_eq!(decide(&inputs(&members, &[])).desired, 2, "both are warming up");
    }

    #[test]
    fn instances_on_their_way_count_so_scale_out_is_not_repeated() {
        // Desired already raised to 2; the new instance has not joined (a whole instance of room).
        let task = Need { cpu: 4000, memory: 1000, gpus: 0 };
        let members = [member("i-1", true, Need::default(), None), member("i-2", false, G4DN, None)];
        let d = decide(&inputs(&members, &[task]));
        assert_eq!((d.needed, d.desired), (2, 2));
    }
}
