//! The metrics sampler: every sampling interval (a third of the server's metric minute,
//! told in each report's answer) one Docker stats reading of each running container of
//! the instance (`docker.rs`, one-shot), turned into each task's usage over the interval
//! (`reading.rs`, pure) and reported to the server in one `ReportTaskMetrics` call
//! (`sampler.rs`). A stopped task's containers are not running, so they are no longer
//! sampled; a container gone between the listing and its reading is skipped.

pub mod docker;
pub mod reading;
pub mod sampler;

pub use reading::{Reading, Sample};
