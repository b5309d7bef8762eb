//! What an Auto Scaling operation fails with: one of Auto Scaling's refusals (its code is
//! chosen in berth-api's error table), or the store.

use berth_model::autoscaling::AsgError;
use berth_store::documents::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Asg(#[from] AsgError),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl From<berth_store::StoreError> for Error {
    fn from(e: berth_store::StoreError) -> Self {
        Error::Document(e.into())
    }
}
