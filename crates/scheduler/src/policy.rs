//! Placement policy: ECS's strategies and constraints, read from their API shapes and
//! checked (the errors are InvalidParameterException messages naming the member and
//! position at fault).

use berth_model::cluster_query::{self, Expr, Subject};
use berth_model::ecs::{
    PlacementConstraint, PlacementConstraintType, PlacementStrategy, PlacementStrategyType,
    TaskDefinitionPlacementConstraint, TaskDefinitionPlacementConstraintType,
};

/// At most this many strategies and constraints per request (ECS's limits).
pub const MAX_STRATEGIES: usize = 5;
pub const MAX_CONSTRAINTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadField {
    /// `instanceId` or `host`: every instance is its own value.
    Instance,
    /// `attribute:NAME`; instances without the attribute share one value.
    Attribute(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinpackField {
    Cpu,
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    Random,
    Spread(SpreadField),
    Binpack(BinpackField),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// No two tasks of the same group on one instance.
    DistinctInstance,
    MemberOf(Expr),
}

/// How to place: strategies in order, constraints all at once, and the seed the
/// `random` strategy draws from (the caller picks it; placement stays a pure function).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Policy {
    pub strategies: Vec<Strategy>,
    pub constraints: Vec<Constraint>,
    pub seed: u64,
}

impl Policy {
    /// Reads a request's placementStrategy and placementConstraints, and the task
    /// definition's placementConstraints (which always apply too).
    pub fn from_ecs(
        strategies: &[PlacementStrategy],
        constraints: &[PlacementConstraint],
        task_definition: &[TaskDefinitionPlacementConstraint],
    ) -> Result<Policy, String> {
        if strategies.len() > MAX_STRATEGIES {
            return Err(format!(
                "placementStrategy can have at most {MAX_STRATEGIES} entries; {} were given.",
                strategies.len()
            ));
        }
        if constraints.len() > MAX_CONSTRAINTS {
            return Err(format!(
                "placementConstraints can have at most {MAX_CONSTRAINTS} entries; {} were given.",
                constraints.len()
            ));
        }
        let mut policy = Policy::default();
        for (i, s) in strategies.iter().enumerate() {
            policy.strategies.push(strategy(s).map_err(|e| format!("placementStrategy[{i}]: {e}"))?);
        }
        for (i, c) in constraints.iter().enumerate() {
            let at = |e: String| format!("placementConstraints[{i}]: {e}");
            policy.constraints.push(match (c.r#type, c.expression.as_deref()) {
                (Some(PlacementConstraintType::DistinctInstance), None) => Constraint::DistinctInstance,
                (Some(PlacementConstraintType::DistinctInstance), Some(e)) if e.trim().is_empty() => {
                    Constraint::DistinctInstance
                }
                (Some(PlacementConstraintType::DistinctInstance), Some(_)) => {
                    return Err(at("a distinctInstance constraint takes no expression.".into()));
                }
                (Some(PlacementConstraintType::MemberOf), Some(e)) => member_of(e).map_err(at)?,
                (Some(PlacementConstraintType::MemberOf), None) => {
                    return Err(at("a memberOf constraint needs an expression.".into()));
                }
                (None, _) => {
                    return Err(at("a placement constraint needs a type (distinctInstance or memberOf).".into()));
                }
            });
        }
        for (i, c) in task_definition.iter().enumerate() {
            let at = |e: String| format!("the task definition's placementConstraints[{i}]: {e}");
            match (c.r#type, c.expression.as_deref()) {
                (Some(TaskDefinitionPlacementConstraintType::MemberOf), Some(e)) => {
                    policy.constraints.push(member_of(e).map_err(at)?)
                }
                _ => return Err(at("only memberOf constraints with an expression are supported.".into())),
            }
        }
        Ok(policy)
    }

    /// Whether `instance` satisfies every memberOf constraint (as it stands; resources and
    /// distinctInstance aside): the instances a DAEMON service belongs on.
    pub fn admits(&self, instance: &crate::InstanceSnapshot) -> bool {
        self.constraints.iter().all(|c| match c {
            Constraint::DistinctInstance => true,
            Constraint::MemberOf(e) => e.eval(&|subject| instance.subject_values(subject)),
        })
    }

    /// Whether any memberOf asks about `task:group`, which changes as tasks are placed.
    pub(crate) fn is_dynamic(expr: &Expr) -> bool {
        match expr {
            Expr::And(a, b) | Expr::Or(a, b) => Self::is_dynamic(a) || Self::is_dynamic(b),
            Expr::Not(e) => Self::is_dynamic(e),
            Expr::Test { subject, .. } => *subject == Subject::TaskGroup,
        }
    }
}

fn member_of(expression: &str) -> Result<Constraint, String> {
    cluster_query::parse(expression).map(Constraint::MemberOf).map_err(|e| e.0)
}

fn strategy(s: &PlacementStrategy) -> Result<Strategy, String> {
    let field = s.field.as_deref().map(str::trim).filter(|f| !f.is_empty());
    match (s.r#type, field) {
        (Some(PlacementStrategyType::Random), _) => Ok(Strategy::Random),
        (Some(PlacementStrategyType::Binpack), Some(f)) if f.eq_ignore_ascii_case("cpu") => {
            Ok(Strategy::Binpack(BinpackField::Cpu))
        }
        (Some(PlacementStrategyType::Binpack), Some(f)) if f.eq_ignore_ascii_case("memory") => {
            Ok(Strategy::Binpack(BinpackField::Memory))
        }
        (Some(PlacementStrategyType::Binpack), Some(f)) => {
            Err(format!("the binpack field is cpu or memory; '{f}' is neither."))
        }
        (Some(PlacementStrategyType::Spread), Some(f)) if f == "instanceId" || f == "host" => {
            Ok(Strategy::Spread(SpreadField::Instance))
        }
        (Some(PlacementStrategyType::Spread), Some(f)) => match f.strip_prefix("attribute:") {
            Some(name) if !name.is_empty() => Ok(Strategy::Spread(SpreadField::Attribute(name.to_string()))),
            _ => Err(format!("the spread field is instanceId, host or attribute:NAME; '{f}' is none of them.")),
        },
        (Some(PlacementStrategyType::Binpack | PlacementStrategyType::Spread), None) => {
            Err("the binpack and spread strategies need a field.".into())
        }
        (None, _) => Err("a placement strategy needs a type (random, spread or binpack).".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_checks_member_of_only() {
        let mut gold = crate::InstanceSnapshot::default();
        gold.attributes.insert("tier".into(), Some("gold".into()));
        let silver = crate::InstanceSnapshot::default();
        let member_of = PlacementConstraint {
            r#type: Some(PlacementConstraintType::MemberOf),
            expression: Some("attribute:tier == gold".into()),
        };
        let distinct =
            PlacementConstraint { r#type: Some(PlacementConstraintType::DistinctInstance), expression: None };
        let policy = Policy::from_ecs(&[], &[member_of, distinct], &[]).unwrap();
        assert!(policy.admits(&gold));
        assert!(!policy.admits(&silver));
        assert!(Policy::default().admits(&silver));
    }

    fn strat(t: PlacementStrategyType, f: Option<&str>) -> PlacementStrategy {
        PlacementStrategy { r#type: Some(t), field: f.map(Into::into) }
    }

    fn member(e: &str) -> PlacementConstraint {
        PlacementConstraint { r#type: Some(PlacementConstraintType::MemberOf), expression: Some(e.into()) }
    }

    #[test]
    fn reads_ecs_strategies_and_constraints() {
        let p = Policy::from_ecs(
            &[
                strat(PlacementStrategyType::Spread, Some("attribute:ecs.availability-zone")),
                strat(PlacementStrategyType::Binpack, Some("MEMORY")),
                strat(PlacementStrategyType::Spread, Some("host")),
                strat(PlacementStrategyType::Random, None),
            ],
            &[
                member("attribute:ecs.instance-type =~ g4dn.*"),
                PlacementConstraint { r#type: Some(PlacementConstraintType::DistinctInstance), expression: None },
            ],
            &[TaskDefinitionPlacementConstraint {
                r#type: Some(TaskDefinitionPlacementConstraintType::MemberOf),
                expression: Some("task:group != db".into()),
            }],
        )
        .unwrap();
        assert_eq!(
            p.strategies,
            [
                Strategy::Spread(SpreadField::Attribute("ecs.availability-zone".into())),
                Strategy::Binpack(BinpackField::Memory),
                Strategy::Spread(SpreadField::Instance),
                Strategy::Random,
            ]
        );
        assert_eq!(p.constraints.len(), 3);
        assert!(matches!(&p.constraints[2], Constraint::MemberOf(e) if Policy::is_dynamic(e)));
        assert!(matches!(&p.constraints[0], Constraint::MemberOf(e) if !Policy::is_dynamic(e)));
    }

    #[test]
    fn errors_name_the_member_and_position() {
        let err = |s: &[PlacementStrategy], c: &[PlacementConstraint]| Policy::from_ecs(s, c, &[]).unwrap_err();
        let bad = err(
            &[strat(PlacementStrategyType::Random, None), strat(PlacementStrategyType::Binpack, Some("disk"))],
            &[],
        );
        assert!(bad.starts_with("placementStrategy[1]: the binpack field"), "{bad}");
        let bad = err(&[strat(PlacementStrategyType::Spread, Some("zone"))], &[]);
        assert!(bad.starts_with("placementStrategy[0]: the spread field"), "{bad}");
        assert!(err(&[strat(PlacementStrategyType::Spread, None)], &[]).contains("need a field"));
        let six = vec![strat(PlacementStrategyType::Random, None); 6];
        assert!(err(&six, &[]).contains("at most 5"));
        let eleven = vec![member("attribute:a exists"); 11];
        assert!(err(&[], &eleven).contains("at most 10"));
        let bad = err(&[], &[member("attribute:a exists"), member("attribute:a == ")]);
        assert!(bad.starts_with("placementConstraints[1]: Invalid expression") && bad.contains("position"), "{bad}");
        let distinct_with_expr = PlacementConstraint {
            r#type: Some(PlacementConstraintType::DistinctInstance),
            expression: Some("attribute:a exists".into()),
        };
        assert!(err(&[], &[distinct_with_expr]).contains("takes no expression"));
        let td = [TaskDefinitionPlacementConstraint {
            r#type: Some(TaskDefinitionPlacementConstraintType::MemberOf),
            expression: Some("nope".into()),
        }];
        assert!(
            Policy::from_ecs(&[], &[], &td).unwrap_err().starts_with("the task definition's placementConstraints[0]")
        );
    }
}
