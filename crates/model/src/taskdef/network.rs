//! Container networking members that depend on the task's network mode.

use super::validate::{Result, fail};
use crate::ecs::{ContainerDefinition, NetworkMode};

/// Port mappings. With awsvpc and host networking the container binds the host's (or
/// the ENI's) port directly, so the two ports are one; in bridge mode hostPort 0 or
/// absent asks Docker for a dynamic port. Duplicate mappings are not rejected: Docker
/// accepts publishing one container port on several host ports, and AWS does not
/// document a rule against it.
pub(crate) fn port_mappings(name: &str, c: &ContainerDefinition, mode: NetworkMode) -> Result {
    let Some(mappings) = c.port_mappings.as_ref().filter(|m| !m.is_empty()) else {
        return Ok(());
    };
    if mode == NetworkMode::None {
        return fail(format!(
            "Port mappings are not supported when networkMode=none. Remove 'portMappings' from \
             container '{name}' or use another network mode."
        ));
    }
    let port_ok = |p: i32| (0..=65535).contains(&p);
    for m in mappings {
        if m.container_port.is_none() && m.container_port_range.is_none() {
            return fail(format!(
                "Invalid port mapping in container '{name}': 'containerPort' is required \
                 (or 'containerPortRange' for a range of ports)."
            ));
        }
        if let Some(p) = m.container_port.filter(|p| !port_ok(*p)) {
            return fail(format!(
                "Invalid 'containerPort' {p} in container '{name}'. Ports must be between 0 and 65535."
            ));
        }
        if let Some(p) = m.host_port.filter(|p| !port_ok(*p)) {
            return fail(format!("Invalid 'hostPort' {p} in container '{name}'. Ports must be between 0 and 65535."));
        }
        if let Some(range) = &m.container_port_range {
            port_range(name, range)?;
        }
        if matches!(mode, NetworkMode::Awsvpc | NetworkMode::Host)
            && let (Some(host), Some(container)) = (m.host_port, m.container_port)
            && host != container
        {
            return fail(format!(
                "When networkMode={}, the host ports and container ports in port mappings must match.",
                mode.as_str()
            ));
        }
    }
    Ok(())
}

/// "first-last", both ports in 1..=65535 and first below last.
fn port_range(name: &str, range: &str) -> Result {
    let parsed =
        range.split_once('-').and_then(|(a, b)| Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?)));
    match parsed {
        Some((first, last)) if first >= 1 && first < last => Ok(()),
        _ => fail(format!(
            "Invalid 'containerPortRange' \"{range}\" in container '{name}'. Use \"first-last\" \
             with 1 <= first < last <= 65535, for example \"8000-8010\"."
        )),
    }
}

/// Docker links only exist on the default bridge network.
pub(crate) fn links(name: &str, c: &ContainerDefinition, mode: NetworkMode) -> Result {
    if mode != NetworkMode::Bridge && c.links.as_ref().is_some_and(|l| !l.is_empty()) {
        return fail(format!(
            "Links are not supported when networkMode={}. Remove 'links' from container '{name}' \
             or use networkMode=bridge.",
            mode.as_str()
        ));
    }
    Ok(())
}
