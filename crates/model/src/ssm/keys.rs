//! Where Parameter Store keeps its parameters in the store (prefix `ssm/`). Names are
//! validated before they reach a key (`[A-Za-z0-9_.-/]`, no empty level), so one
//! parameter's key is never a prefix-read of another's by accident.

/// `ssm/parameters/{name}`: a `ParameterRecord`, every version of one parameter. A
/// hierarchical name keeps its leading `/` (`ssm/parameters//app/db`).
pub fn parameter(name: &str) -> String {
    format!("{PARAMETERS}{name}")
}

pub const PARAMETERS: &str = "ssm/parameters/";

/// The key prefix of every parameter under the path `path` (which begins with `/`).
pub fn parameters_under(path: &str) -> String {
    format!("{PARAMETERS}{}/", path.trim_end_matches('/'))
}

/// The parameter name a key holds.
pub fn name_of(key: &str) -> Option<&str> {
    key.strip_prefix(PARAMETERS)
}
