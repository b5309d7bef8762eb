//! CreateRule, DescribeRules, ModifyRule, DeleteRule, SetRulePriorities. A listener's
//! default rule is its DefaultActions: described (Priority `default`, IsDefault), never
//! stored, modified or deleted as a rule; its ARN ends in the listener's own id.

use super::{Ctx, check_target_groups, listener, new_id, page, required};
use crate::error::AwsError;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::{ListenerRecord, RuleRecord};
use berth_model::elbv2::*;
use berth_model::keys;
use berth_store::documents::{self, Doc};
use berth_store::{Compare, Txn};

/// A listener's default rule as DescribeRules shows it.
fn default_rule(ctx: &Ctx, listener: &ListenerRecord) -> Option<Rule> {
    let Some(Resource::Listener { lb_name, lb_id, id }) = arn::parse(listener.arn()) else {
        return None;
    };
    let resource = Resource::Rule { lb_name, lb_id, listener_id: id.clone(), id };
    Some(Rule {
        rule_arn: Some(arn::arn(&ctx.api.scope, &resource)),
        priority: Some("default".into()),
        conditions: Some(Vec::new()),
        actions: listener.listener.default_actions.clone(),
        is_default: Some(true),
        transforms: None,
    })
}

/// The rule an ARN names: `Ok(None)` for a listener's default rule.
async fn find(ctx: &Ctx, rule_arn: &str) -> Result<(Doc<ListenerRecord>, Option<Doc<RuleRecord>>), AwsError> {
    let Some(Resource::Rule { lb_name, lb_id, listener_id, id }) = arn::parse(rule_arn) else {
        return Err(AwsError::validation(format!("'{rule_arn}' is not a valid rule ARN")));
    };
    let listener_arn = arn::arn(&ctx.api.scope, &Resource::Listener { lb_name, lb_id, id: listener_id.clone() });
    let owner = listener(ctx, &listener_arn).await.map_err(|_| AwsError::elbv2_rule_not_found())?;
    if id == listener_id {
        return Ok((owner, None));
    }
    let doc = documents::get::<RuleRecord>(ctx.api.store.as_ref(), &keys::rule(&listener_id, &id)).await?;
    let doc = doc.filter(|d| d.value.arn() == rule_arn).ok_or_else(AwsError::elbv2_rule_not_found)?;
    Ok((owner, Some(doc)))
}

fn listener_id(l: &ListenerRecord) -> Result<String, AwsError> {
    match arn::parse(l.arn()) {
        Some(Resource::Listener { id, .. }) => Ok(id),
        _ => Err(AwsError::elbv2_listener_not_found()),
    }
}

fn rule_key(rule_arn: &str) -> String {
    match arn::parse(rule_arn) {
        Some(Resource::Rule { listener_id, id, .. }) => keys::rule(&listener_id, &id),
        _ => String::new(),
    }
}

fn not_default() -> AwsError {
    AwsError::elbv2(
        "OperationNotPermitted",
        "The default rule of a listener cannot be changed or deleted as a rule; use ModifyListener",
    )
}

fn changed_meanwhile() -> AwsError {
    AwsError::elbv2("PriorRequestNotComplete", "The listener's rules changed meanwhile; try again")
}

async fn check(ctx: &Ctx, conditions: &[RuleCondition], actions: &[Action]) -> Result<(), AwsError> {
    validate::conditions(conditions).map_err(AwsError::elbv2_invalid)?;
    validate::actions(actions).map_err(AwsError::elbv2_invalid)?;
    check_target_groups(ctx, actions).await
}

pub async fn create(ctx: Ctx, input: CreateRuleInput) -> Result<CreateRuleOutput, AwsError> {
    let owner = listener(&ctx, required(&input.listener_arn, "ListenerArn")?).await?.value;
    let priority = input.priority;
    validate::priority(priority).map_err(AwsError::elbv2_invalid)?;
    check(&ctx, &input.conditions, &input.actions).await?;
    let lid = listener_id(&owner)?;
    let store = ctx.api.store.as_ref();
    let siblings = documents::list::<RuleRecord>(store, &keys::rules_of(&lid)).await?;
    if siblings.iter().any(|r| r.value.rule.priority == Some(priority.to_string())) {
        return Err(AwsError::elbv2("PriorityInUse", format!("Priority '{priority}' is currently in use")));
    }
    if siblings.len() >= 100 {
        return Err(AwsError::elbv2("TooManyRules", "A listener can have at most 100 rules"));
    }
    let Some(Resource::Listener { lb_name, lb_id, .. }) = arn::parse(owner.arn()) else {
        return Err(AwsError::elbv2_listener_not_found());
    };
    let id = new_id();
    let resource = Resource::Rule { lb_name, lb_id, listener_id: lid.clone(), id: id.clone() };
    let record = RuleRecord {
        rule: Rule {
            rule_arn: Some(arn::arn(&ctx.api.scope, &resource)),
            priority: Some(priority.to_string()),
            conditions: Some(input.conditions),
            actions: Some(input.actions),
            is_default: Some(false),
            transforms: None,
        },
        tags: input.tags.unwrap_or_default(),
    };
    let mut txn = Txn::new().when(Compare::ModRevision(keys::rule(&lid, &id), 0));
    for s in &siblings {
        txn = txn.when(Compare::ModRevision(rule_key(s.value.arn()), s.mod_revision));
    }
    if !store.txn(txn.put(keys::rule(&lid, &id), documents::encode(&record)?)).await?.succeeded {
        return Err(changed_meanwhile());
    }
    Ok(CreateRuleOutput { rules: Some(vec![record.rule]) })
}

/// Rules in evaluation order: by priority, the default rule last.
fn in_order(mut rules: Vec<Rule>) -> Vec<Rule> {
    rules.sort_by_key(|r| r.priority.as_deref().and_then(|p| p.parse::<i32>().ok()).unwrap_or(i32::MAX));
    rules
}

pub async fn describe(ctx: Ctx, input: DescribeRulesInput) -> Result<DescribeRulesOutput, AwsError> {
    let arns = input.rule_arns.unwrap_or_default();
    let rules = match (&input.listener_arn, arns.is_empty()) {
        (Some(l), true) => {
            let owner = listener(&ctx, l).await?.value;
            let stored =
                documents::list::<RuleRecord>(ctx.api.store.as_ref(), &keys::rules_of(&listener_id(&owner)?)).await?;
            let mut rules: Vec<Rule> = stored.into_iter().map(|d| d.value.rule).collect();
            rules.extend(default_rule(&ctx, &owner));
            in_order(rules)
        }
        (None, false) => {
            let mut out = Vec::new();
            for arn in &arns {
                match find(&ctx, arn).await? {
                    (_, Some(doc)) => out.push(doc.value.rule),
                    (owner, None) => out.extend(default_rule(&ctx, &owner.value)),
                }
            }
            out
        }
        _ => return Err(AwsError::validation("Exactly one of ListenerArn or RuleArns must be given")),
    };
    // Paged by position: the marker is the index of the next rule.
    let indexed: Vec<(usize, Rule)> = rules.into_iter().enumerate().collect();
    let (rules, next) = page(indexed, |(i, _)| format!("{i:05}"), input.marker.as_deref(), input.page_size)?;
    let rules: Vec<Rule> = rules.into_iter().map(|(_, r)| r).collect();
    Ok(DescribeRulesOutput { rules: Some(rules), next_marker: next })
}

pub async fn modify(ctx: Ctx, input: ModifyRuleInput) -> Result<ModifyRuleOutput, AwsError> {
    let (_, doc) = find(&ctx, required(&input.rule_arn, "RuleArn")?).await?;
    let Some(doc) = doc else { return Err(not_default()) };
    let mut record = doc.value;
    if let Some(c) = input.conditions {
        record.rule.conditions = Some(c);
    }
    if let Some(a) = input.actions {
        record.rule.actions = Some(a);
    }
    let rule = &record.rule;
    check(&ctx, rule.conditions.as_deref().unwrap_or_default(), rule.actions.as_deref().unwrap_or_default()).await?;
    let key = rule_key(record.arn());
    let txn =
        Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).put(key, documents::encode(&record)?);
    if !ctx.api.store.txn(txn).await?.succeeded {
        return Err(changed_meanwhile());
    }
    Ok(ModifyRuleOutput { rules: Some(vec![record.rule]) })
}

pub async fn delete(ctx: Ctx, input: DeleteRuleInput) -> Result<DeleteRuleOutput, AwsError> {
    let (_, doc) = find(&ctx, required(&input.rule_arn, "RuleArn")?).await?;
    let Some(doc) = doc else { return Err(not_default()) };
    ctx.api.store.txn(Txn::new().delete(rule_key(doc.value.arn()))).await?;
    Ok(DeleteRuleOutput {})
}

/// Gives rules of one listener new priorities, all at once: a priority may move from
/// one rule of the set to another, but not onto a rule outside it.
pub async fn set_priorities(ctx: Ctx, input: SetRulePrioritiesInput) -> Result<SetRulePrioritiesOutput, AwsError> {
    if input.rule_priorities.is_empty() {
        return Err(AwsError::validation("RulePriorities must name at least one rule"));
    }
    let mut changes: Vec<(Doc<RuleRecord>, i32)> = Vec::new();
    let mut owner_id: Option<String> = None;
    for pair in &input.rule_priorities {
        let (Some(rule_arn), Some(priority)) = (&pair.rule_arn, pair.priority) else {
            return Err(AwsError::validation("Every RulePriorities entry needs a RuleArn and a Priority"));
        };
        validate::priority(priority).map_err(AwsError::elbv2_invalid)?;
        let (owner, doc) = find(&ctx, rule_arn).await?;
        let Some(doc) = doc else { return Err(not_default()) };
        let lid = listener_id(&owner.value)?;
        if owner_id.get_or_insert_with(|| lid.clone()) != &lid {
            return Err(AwsError::validation("All rules must belong to the same listener"));
        }
        if changes.iter().any(|(_, p)| *p == priority) {
            return Err(AwsError::elbv2("PriorityInUse", format!("Priority '{priority}' is given twice")));
        }
        if changes.iter().any(|(d, _)| d.value.arn() == doc.value.arn()) {
            return Err(AwsError::validation(format!("Rule '{rule_arn}' is given twice")));
        }
        changes.push((doc, priority));
    }
    let lid = owner_id.unwrap_or_default();
    let store = ctx.api.store.as_ref();
    let siblings = documents::list::<RuleRecord>(store, &keys::rules_of(&lid)).await?;
    let moving = |arn: &str| changes.iter().any(|(d, _)| d.value.arn() == arn);
    let mut txn = Txn::new();
    for s in &siblings {
        let priority = s.value.rule.priority.as_deref().unwrap_or_default();
        if !moving(s.value.arn()) && changes.iter().any(|(_, p)| p.to_string() == priority) {
            return Err(AwsError::elbv2("PriorityInUse", format!("Priority '{priority}' is currently in use")));
        }
        txn = txn.when(Compare::ModRevision(rule_key(s.value.arn()), s.mod_revision));
    }
    let mut rules = Vec::new();
    for (doc, priority) in changes {
        let mut record = doc.value;
        record.rule.priority = Some(priority.to_string());
        txn = txn.put(rule_key(record.arn()), documents::encode(&record)?);
        rules.push(record.rule);
    }
    if !store.txn(txn).await?.succeeded {
        return Err(changed_meanwhile());
    }
    Ok(SetRulePrioritiesOutput { rules: Some(in_order(rules)) })
}
