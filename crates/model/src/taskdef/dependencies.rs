//! dependsOn: the order ECS starts and stops a task's containers in.

use std::collections::HashMap;

use super::validate::{Result, fail};
use crate::ecs::{ContainerCondition, ContainerDefinition};

/// dependsOn: targets must exist, conditions must be satisfiable, and the graph must
/// be acyclic (ECS starts containers in dependency order).
pub(crate) fn dependencies(containers: &[ContainerDefinition], names: &[&str]) -> Result {
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for (c, name) in containers.iter().zip(names) {
        for dep in c.depends_on.iter().flatten() {
            let target = dep.container_name.as_str();
            let Some(&t) = index.get(target) else {
                return fail(format!(
                    "Container '{name}' depends on container '{target}', which is not defined \
                     in this task definition."
                ));
            };
            match dep.condition {
                // Waiting for an essential container to exit would stop the whole task.
                ContainerCondition::Complete | ContainerCondition::Success
                    if containers[t].essential.unwrap_or(true) =>
                {
                    return fail(format!(
                        "A dependency container with SUCCESS or COMPLETE condition cannot be an \
                         essential container: container '{name}' waits for '{target}' to {}; set \
                         \"essential\": false on '{target}'.",
                        if dep.condition == ContainerCondition::Success { "succeed" } else { "complete" }
                    ));
                }
                ContainerCondition::Healthy if containers[t].health_check.is_none() => {
                    return fail(format!(
                        "Container '{name}' depends on container '{target}' with condition \
                         HEALTHY, but '{target}' has no 'healthCheck'. Add one or use condition START."
                    ));
                }
                _ => {}
            }
        }
    }
    if let Some(cycle) = find_cycle(containers, &index) {
        let path: Vec<&str> = cycle.into_iter().map(|i| names[i]).collect();
        return fail(format!("Circular dependency found between containers: {}", path.join(" -> ")));
    }
    Ok(())
}

/// The first dependency cycle in definition order, as container indexes with the first
/// repeated at the end (`a -> b -> a`); a container depending on itself is `a -> a`.
fn find_cycle(containers: &[ContainerDefinition], index: &HashMap<&str, usize>) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    fn visit(
        i: usize,
        containers: &[ContainerDefinition],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        match marks[i] {
            Mark::Done => return None,
            Mark::OnPath => {
                let start = path.iter().position(|p| *p == i)?;
                let mut cycle = path[start..].to_vec();
                cycle.push(i);
                return Some(cycle);
            }
            Mark::Unvisited => {}
        }
        marks[i] = Mark::OnPath;
        path.push(i);
        for dep in containers[i].depends_on.iter().flatten() {
            if let Some(&t) = index.get(dep.container_name.as_str())
                && let Some(cycle) = visit(t, containers, index, marks, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        marks[i] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::Unvisited; containers.len()];
    (0..containers.len()).find_map(|i| visit(i, containers, index, &mut marks, &mut Vec::new()))
}
