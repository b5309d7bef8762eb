//! DescribeAccountLimits: the limits berth enforces, with ELB's names.

use super::{Ctx, page};
use crate::error::AwsError;
use berth_model::elbv2::{DescribeAccountLimitsInput, DescribeAccountLimitsOutput, Limit};

/// In name order (the paging key).
const LIMITS: &[(&str, &str)] = &[
    ("application-load-balancers", "50"),
    ("listeners-per-application-load-balancer", "50"),
    ("rules-per-application-load-balancer", "100"),
    ("target-groups-per-action-on-application-load-balancer", "5"),
    ("targets-per-application-load-balancer", "1000"),
];

pub async fn describe(_ctx: Ctx, input: DescribeAccountLimitsInput) -> Result<DescribeAccountLimitsOutput, AwsError> {
    let limits: Vec<Limit> =
        LIMITS.iter().map(|(n, m)| Limit { name: Some((*n).into()), max: Some((*m).into()) }).collect();
    let (limits, next) =
        page(limits, |l| l.name.clone().unwrap_or_default(), input.marker.as_deref(), input.page_size)?;
    Ok(DescribeAccountLimitsOutput { limits: Some(limits), next_marker: next })
}
