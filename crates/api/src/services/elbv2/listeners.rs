//! CreateListener, DescribeListeners, ModifyListener, DeleteListener. HTTP listeners
//! only; one per port per load balancer.

use super::{Ctx, check_target_groups, listener, load_balancer, new_id, page, required};
use crate::error::AwsError;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::ListenerRecord;
use berth_model::elbv2::*;
use berth_model::keys;
use berth_store::documents;
use berth_store::{Compare, Txn};

fn check_protocol(protocol: ProtocolEnum) -> Result<(), AwsError> {
    if protocol == ProtocolEnum::Http {
        Ok(())
    } else {
        Err(AwsError::elbv2("UnsupportedProtocol", format!("Protocol '{protocol}' is not supported; use HTTP")))
    }
}

async fn check_actions(ctx: &Ctx, actions: &[Action]) -> Result<(), AwsError> {
    validate::actions(actions).map_err(AwsError::elbv2_invalid)?;
    check_target_groups(ctx, actions).await
}

/// A concurrent change of the same load balancer's listeners won; the client retries.
fn changed_meanwhile() -> AwsError {
    AwsError::elbv2("PriorRequestNotComplete", "The load balancer's listeners changed meanwhile; try again")
}

pub async fn create(ctx: Ctx, input: CreateListenerInput) -> Result<CreateListenerOutput, AwsError> {
    let lb = load_balancer(&ctx, required(&input.load_balancer_arn, "LoadBalancerArn")?).await?.value;
    let protocol = input.protocol.unwrap_or(ProtocolEnum::Http);
    check_protocol(protocol)?;
    let Some(port) = input.port else {
        return Err(AwsError::validation("A listener port must be specified"));
    };
    validate::port(port).map_err(AwsError::elbv2_invalid)?;
    check_actions(&ctx, &input.default_actions).await?;
    let Some(Resource::LoadBalancer { name: lb_name, id: lb_id }) = arn::parse(lb.arn()) else {
        return Err(AwsError::elbv2_lb_not_found());
    };
    let store = ctx.api.store.as_ref();
    let existing = documents::list::<ListenerRecord>(store, &keys::listeners_of(&lb_id)).await?;
    if let Some(same) = existing.iter().find(|l| l.value.listener.port == Some(port)) {
        let l = &same.value.listener;
        if l.protocol == Some(protocol) && l.default_actions.as_ref() == Some(&input.default_actions) {
            return Ok(CreateListenerOutput { listeners: Some(vec![l.clone()]) });
        }
        return Err(AwsError::elbv2(
            "DuplicateListener",
            "A listener already exists on this port for this load balancer",
        ));
    }
    if existing.len() >= 50 {
        return Err(AwsError::elbv2("TooManyListeners", "A load balancer can have at most 50 listeners"));
    }
    let id = new_id();
    let resource = Resource::Listener { lb_name, lb_id: lb_id.clone(), id: id.clone() };
    let record = ListenerRecord {
        listener: Listener {
            listener_arn: Some(arn::arn(&ctx.api.scope, &resource)),
            load_balancer_arn: Some(lb.arn().to_string()),
            port: Some(port),
            protocol: Some(protocol),
            default_actions: Some(input.default_actions),
            ..Default::default()
        },
        tags: input.tags.unwrap_or_default(),
    };
    // Compared on every existing listener of the load balancer, so a concurrent change
    // of a port cannot slip past the check above.
    let mut txn = Txn::new().when(Compare::ModRevision(keys::listener(&lb_id, &id), 0));
    for l in &existing {
        txn = txn.when(Compare::ModRevision(key_of(&l.value), l.mod_revision));
    }
    if !store.txn(txn.put(keys::listener(&lb_id, &id), documents::encode(&record)?)).await?.succeeded {
        return Err(changed_meanwhile());
    }
    Ok(CreateListenerOutput { listeners: Some(vec![record.listener]) })
}

/// The store key of a listener, from its ARN.
fn key_of(l: &ListenerRecord) -> String {
    match arn::parse(l.arn()) {
        Some(Resource::Listener { lb_id, id, .. }) => keys::listener(&lb_id, &id),
        _ => String::new(),
    }
}

pub async fn describe(ctx: Ctx, input: DescribeListenersInput) -> Result<DescribeListenersOutput, AwsError> {
    let arns = input.listener_arns.unwrap_or_default();
    let listeners: Vec<Listener> = match (&input.load_balancer_arn, arns.is_empty()) {
        (Some(lb), true) => {
            let lb = load_balancer(&ctx, lb).await?.value;
            let Some(Resource::LoadBalancer { id, .. }) = arn::parse(lb.arn()) else {
                return Err(AwsError::elbv2_lb_not_found());
            };
            let docs = documents::list::<ListenerRecord>(ctx.api.store.as_ref(), &keys::listeners_of(&id)).await?;
            docs.into_iter().map(|d| d.value.listener).collect()
        }
        (None, false) => {
            let mut out = Vec::new();
            for arn in &arns {
                out.push(listener(&ctx, arn).await?.value.listener);
            }
            out
        }
        _ => return Err(AwsError::validation("Exactly one of LoadBalancerArn or ListenerArns must be given")),
    };
    let arn_of = |l: &Listener| l.listener_arn.clone().unwrap_or_default();
    let (listeners, next) = page(listeners, arn_of, input.marker.as_deref(), input.page_size)?;
    Ok(DescribeListenersOutput { listeners: Some(listeners), next_marker: next })
}

pub async fn modify(ctx: Ctx, input: ModifyListenerInput) -> Result<ModifyListenerOutput, AwsError> {
    let doc = listener(&ctx, required(&input.listener_arn, "ListenerArn")?).await?;
    let mut l = doc.value.listener.clone();
    if let Some(p) = input.protocol {
        check_protocol(p)?;
        l.protocol = Some(p);
    }
    if let Some(actions) = input.default_actions {
        check_actions(&ctx, &actions).await?;
        l.default_actions = Some(actions);
    }
    let Some(Resource::Listener { lb_id, id, .. }) = arn::parse(doc.value.arn()) else {
        return Err(AwsError::elbv2_listener_not_found());
    };
    let store = ctx.api.store.as_ref();
    let mut txn = Txn::new().when(Compare::ModRevision(keys::listener(&lb_id, &id), doc.mod_revision));
    if let Some(port) = input.port.filter(|p| Some(*p) != l.port) {
        validate::port(port).map_err(AwsError::elbv2_invalid)?;
        let siblings = documents::list::<ListenerRecord>(store, &keys::listeners_of(&lb_id)).await?;
        if siblings.iter().any(|s| s.value.listener.port == Some(port)) {
            return Err(AwsError::elbv2(
                "DuplicateListener",
                "A listener already exists on this port for this load balancer",
            ));
        }
        for s in &siblings {
            txn = txn.when(Compare::ModRevision(key_of(&s.value), s.mod_revision));
        }
        l.port = Some(port);
    }
    let record = ListenerRecord { listener: l, tags: doc.value.tags };
    if !store.txn(txn.put(keys::listener(&lb_id, &id), documents::encode(&record)?)).await?.succeeded {
        return Err(changed_meanwhile());
    }
    Ok(ModifyListenerOutput { listeners: Some(vec![record.listener]) })
}

/// Deletes the listener and its rules.
pub async fn delete(ctx: Ctx, input: DeleteListenerInput) -> Result<DeleteListenerOutput, AwsError> {
    let doc = listener(&ctx, required(&input.listener_arn, "ListenerArn")?).await?;
    let Some(Resource::Listener { lb_id, id, .. }) = arn::parse(doc.value.arn()) else {
        return Err(AwsError::elbv2_listener_not_found());
    };
    let store = ctx.api.store.as_ref();
    let mut txn = Txn::new().delete(keys::listener(&lb_id, &id));
    for r in store.range(&keys::rules_of(&id)).await?.0 {
        txn = txn.delete(r.key);
    }
    store.txn(txn).await?;
    Ok(DeleteListenerOutput {})
}
