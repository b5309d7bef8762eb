//! DescribeAccountLimits: the limits berth enforces, with ELB's names.

use super::{Ctx, page, to_value};
use crate::error::AwsError;
use berth_model::elbv2::Limit;
use serde::Deserialize;
use serde_json::{Value, json};

/// In name order (the paging key).
const LIMITS: &[(&str, &str)] = &[
    ("application-load-balancers", "50"),
    ("listeners-per-application-load-balancer", "50"),
    ("rules-per-application-load-balancer", "100"),
    ("target-groups-per-action-on-application-load-balancer", "5"),
    ("targets-per-application-load-balancer", "1000"),
];

#[derive(Deserialize)]
pub struct Input {
    #[serde(rename = "Marker")]
    marker: Option<String>,
    #[serde(rename = "PageSize", default, deserialize_with = "berth_model::elbv2::lenient::opt_i32")]
    page_size: Option<i32>,
}

pub async fn describe(_ctx: Ctx, input: Input) -> Result<Value, AwsError> {
    let limits: Vec<Limit> = LIMITS.iter().map(|(n, m)| Limit { name: (*n).into(), max: (*m).into() }).collect();
    let (limits, next) = page(limits, |l| l.name.clone(), input.marker.as_deref(), input.page_size)?;
    Ok(json!({"Limits": to_value(&limits)?, "NextMarker": next}))
}
