//! Which container instances' desired state changed, and at which store revision: what
//! the agents' long polls (PollTasks) wait on.
//!
//! One store watch over the ECS keys serves every poll. Each change to a task is
//! credited to the instance the task is placed on (its record is decoded once, here,
//! not once per waiting poll), each change to an instance record to that instance, and
//! the polls of that instance alone are woken. With thousands of instances polling one
//! cluster, a task's state change wakes one poll, not thousands.
//!
//! What happened before the watch began is not known here: a poll waiting from an
//! earlier revision answers at once (the agent then reads the current state and waits
//! from there).

use berth_model::keys;
use berth_model::records::TaskSummary;
use berth_store::documents;
use berth_store::{Event, Revision, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

pub struct InstanceChanges {
    /// The revision the watch began after.
    since: Revision,
    /// Instance key → the revision of its last change seen.
    latest: Mutex<HashMap<String, watch::Sender<Revision>>>,
}

impl InstanceChanges {
    /// Starts following the store from its current revision; the watch ends with the store.
    pub async fn start(store: &dyn Store) -> Result<Arc<Self>, StoreError> {
        let since = store.revision().await?;
        let mut events = store.watch(ECS, since).await?;
        let changes = Arc::new(Self { since, latest: Mutex::default() });
        let noted = changes.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                noted.note(&event);
            }
        });
        Ok(changes)
    }

    fn note(&self, event: &Event) {
        let Some(instance) = instance_of(event) else { return };
        let revision = match event {
            Event::Put(kv) => kv.mod_revision,
            Event::Delete { mod_revision, .. } => *mod_revision,
        };
        self.sender(&instance).send_replace(revision);
    }

    fn sender(&self, instance: &str) -> watch::Sender<Revision> {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.entry(instance.to_string()).or_insert_with(|| watch::Sender::new(0)).clone()
    }

    /// Returns once the instance (`keys::instance`) or one of its tasks has changed
    /// after `after`: at once if that happened already or cannot be known.
    pub async fn changed_after(&self, instance: &str, after: Revision) {
        if after < self.since {
            return;
        }
        let mut latest = self.sender(instance).subscribe();
        // Fails only if the sender is dropped, which the map never does.
        let _ = latest.wait_for(|revision| *revision > after).await;
    }
}

const ECS: &str = "ecs/";
const INSTANCES: &str = "ecs/instances/";

/// The instance key a change concerns: the instance itself, or the one a task is
/// placed on. Deleted tasks concern no agent (only STOPPED tasks are deleted).
fn instance_of(event: &Event) -> Option<String> {
    let key = event.key();
    if key.starts_with(INSTANCES) {
        return Some(key.to_string());
    }
    let (cluster, _) = key.strip_prefix(keys::TASKS)?.rsplit_once('/')?;
    let Event::Put(kv) = event else { return None };
    let placed = documents::decodable::<TaskSummary>(kv)?.value;
    Some(keys::instance(cluster, &placed.placement.container_instance_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::KeyValue;

    fn put(key: &str, value: &str) -> Event {
        Event::Put(KeyValue { key: key.into(), value: value.as_bytes().to_vec(), create_revision: 1, mod_revision: 7 })
    }

    #[test]
    fn changes_are_credited_to_the_instance() {
        let instance = keys::instance("c", "i1");
        assert_eq!(instance_of(&put(&instance, "{}")), Some(instance.clone()));
        let task = put(&keys::task("c", "t1"), r#"{"task":{},"placement":{"containerInstanceId":"i1","reserved":{}}}"#);
        assert_eq!(instance_of(&task), Some(instance));
        assert_eq!(instance_of(&put(&keys::cluster("c"), "{}")), None);
        assert_eq!(instance_of(&put(&keys::task("c", "t2"), "not json")), None);
        assert_eq!(instance_of(&Event::Delete { key: keys::task("c", "t1"), mod_revision: 3 }), None);
    }

    #[tokio::test]
    async fn a_poll_wakes_for_its_own_instance_only() {
        let changes = Arc::new(InstanceChanges { since: 5, latest: Mutex::default() });
        let (mine, other) = (keys::instance("c", "i1"), keys::instance("c", "i2"));
        // From before the watch began: at once.
        changes.changed_after(&mine, 4).await;
        let waiting = tokio::spawn({
            let changes = changes.clone();
            let mine = mine.clone();
            async move { changes.changed_after(&mine, 6).await }
        });
        changes.note(&put(&other, "{}"));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "another instance's change woke the poll");
        changes.note(&put(&mine, "{}"));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.unwrap().unwrap();
        // A change already seen answers a later poll from before it at once.
        changes.changed_after(&mine, 6).await;
    }
}
