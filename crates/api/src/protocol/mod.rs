//! The wire protocols, each encoded in exactly one place.

pub mod ec2;
pub mod encoding;
pub mod json;
pub mod query;
pub mod strict;

/// A service's operation table: each wire name runs its handler, an
/// `async fn(Ctx, <Op>Input) -> Result<<Op>Output, AwsError>`, with the input decoded
/// and the output encoded by the protocol module named first (`json` or `query`), so
/// the types come from the handler's signature. A name not in the table is `$unknown`.
///
/// ```ignore
/// dispatch!(json(ctx, op, body) else AwsError::unknown_operation(op); {
///     "CreateCluster" => clusters::create,
/// })
/// ```
macro_rules! dispatch {
    ($protocol:ident($ctx:expr, $op:expr, $input:expr) else $unknown:expr; {
        $($name:literal => $handler:path,)*
    }) => {
        match $op {
            $($name => $crate::protocol::$protocol::encode(
                &$handler($ctx, $crate::protocol::$protocol::decode($input)?).await?,
            ),)*
            _ => Err($unknown),
        }
    };
}
pub(crate) use dispatch;
