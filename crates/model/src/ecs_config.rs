//! `/etc/ecs/ecs.config` as an instance's user data writes it, read without running
//! anything: berth never executes user data on a host. What the ECS-optimized AMI would
//! end up with in that file is found in three forms:
//!
//! - `echo KEY=VALUE >> /etc/ecs/ecs.config` (or `>`), the value quoted as a shell would
//!   read it (`echo 'ECS_INSTANCE_ATTRIBUTES={"a":"b"}' >> ...`);
//! - a here-document into the file (`cat <<EOF > /etc/ecs/ecs.config` ... `EOF`, or
//!   `cat > /etc/ecs/ecs.config <<'EOF'`, or `>>`), each line `KEY=VALUE`;
//! - plain `ECS_...=VALUE` lines (user data that is the file itself).
//!
//! Later lines win, as the agent's environment file does. Without `ECS_CLUSTER` the
//! agent joins `default`, as ECS's does.

use std::collections::BTreeMap;

/// The file the settings go to.
const CONFIG_FILE: &str = "ecs.config";

/// What the agent of an instance is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsConfig {
    pub cluster: String,
    /// `ECS_INSTANCE_ATTRIBUTES`: custom attributes of the container instance.
    pub instance_attributes: BTreeMap<String, String>,
    /// `ECS_ENABLE_GPU_SUPPORT=true`: the agent registers the instance's GPUs.
    pub enable_gpu_support: bool,
    /// `ECS_CONTAINER_INSTANCE_TAGS`: tags of the container instance.
    pub container_instance_tags: BTreeMap<String, String>,
    /// Every `KEY=VALUE` found, the last value of each key.
    pub settings: BTreeMap<String, String>,
}

/// A setting the ECS agent could not start with (its JSON does not parse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} in /etc/ecs/ecs.config is not a JSON object of strings: {reason}")]
pub struct EcsConfigError {
    pub key: String,
    pub reason: String,
}

impl Default for EcsConfig {
    fn default() -> Self {
        Self {
            cluster: "default".into(),
            instance_attributes: BTreeMap::new(),
            enable_gpu_support: false,
            container_instance_tags: BTreeMap::new(),
            settings: BTreeMap::new(),
        }
    }
}

/// Reads the settings `user_data` (already base64-decoded) writes to ecs.config.
pub fn parse(user_data: &str) -> Result<EcsConfig, EcsConfigError> {
    let settings = settings(user_data);
    let mut config = EcsConfig::default();
    if let Some(cluster) = settings.get("ECS_CLUSTER").filter(|c| !c.is_empty()) {
        config.cluster = cluster.clone();
    }
    config.enable_gpu_support = settings.get("ECS_ENABLE_GPU_SUPPORT").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    config.instance_attributes = json_map(&settings, "ECS_INSTANCE_ATTRIBUTES")?;
    config.container_instance_tags = json_map(&settings, "ECS_CONTAINER_INSTANCE_TAGS")?;
    config.settings = settings;
    Ok(config)
}

fn json_map(settings: &BTreeMap<String, String>, key: &str) -> Result<BTreeMap<String, String>, EcsConfigError> {
    let Some(text) = settings.get(key).filter(|t| !t.trim().is_empty()) else { return Ok(BTreeMap::new()) };
    serde_json::from_str(text).map_err(|e| EcsConfigError { key: key.into(), reason: e.to_string() })
}

/// Every `KEY=VALUE` the user data writes to ecs.config, in order (later wins).
fn settings(user_data: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // An open here-document: its delimiter, and whether its body goes to ecs.config.
    let mut heredoc: Option<(String, bool)> = None;
    for raw in user_data.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some((delimiter, into_config)) = &heredoc {
            if line.trim() == delimiter {
                heredoc = None;
            } else if *into_config && let Some((k, v)) = setting(line.trim()) {
                out.insert(k, v);
            }
            continue;
        }
        let trimmed = line.trim();
        if let Some(open) = heredoc_opened(trimmed) {
            heredoc = Some(open);
        } else if let Some(rest) = trimmed.strip_prefix("echo ") {
            if let Some((k, v)) = echo_into_config(rest).as_deref().and_then(setting) {
                out.insert(k, v);
            }
        } else if trimmed.starts_with("ECS_")
            && let Some((k, v)) = setting(trimmed)
        {
            out.insert(k, v);
        }
    }
    out
}

/// `KEY=VALUE` with an ECS setting's name.
fn setting(line: &str) -> Option<(String, String)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let valid =
        key.starts_with("ECS_") && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    valid.then(|| (key.to_string(), value.trim().to_string()))
}

/// A here-document this line opens: its delimiter, and whether it is `cat` writing to
/// ecs.config (`cat <<EOF > /etc/ecs/ecs.config`).
fn heredoc_opened(line: &str) -> Option<(String, bool)> {
    let position = line.find("<<").filter(|p| !line[p + 2..].starts_with('<'))?;
    let after = line[position + 2..].trim_start_matches('-').trim_start();
    let word: String = after.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != ';').collect();
    let delimiter = word.trim_matches(|c| c == '\'' || c == '"').to_string();
    if delimiter.is_empty() {
        return None;
    }
    let words = shell_words(line);
    let into_config = words.first().map(String::as_str) == Some("cat") && redirects_to_config(&words);
    Some((delimiter, into_config))
}

/// The text `echo ARGS > FILE` writes, when FILE is ecs.config.
fn echo_into_config(rest: &str) -> Option<String> {
    let words = shell_words(rest);
    if !redirects_to_config(&words) {
        return None;
    }
    let args: Vec<&str> =
        words.iter().take_while(|w| !w.starts_with('>')).map(String::as_str).filter(|w| *w != "-e").collect();
    Some(args.join(" "))
}

fn redirects_to_config(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let target = match w.trim_start_matches('>') {
            "" if w.starts_with('>') => words.get(i + 1).map(String::as_str).unwrap_or_default(),
            inline if w.starts_with('>') => inline,
            _ => return false,
        };
        target.ends_with(CONFIG_FILE)
    })
}

/// Splits a command line into words as a shell would (quotes removed, `\` escapes in
/// double quotes and bare words); `>` and `>>` start words of their own. No expansion.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.extend(chars.next());
                        }
                        other => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '>' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                let mut op = String::from(">");
                if chars.peek() == Some(&'>') {
                    chars.next();
                    op.push('>');
                }
                words.push(op);
                in_word = false;
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_echo_line() {
        let config = parse("#!/bin/bash\necho ECS_CLUSTER=gpu-cluster >> /etc/ecs/ecs.config\n").unwrap();
        assert_eq!(config.cluster, "gpu-cluster");
        assert!(!config.enable_gpu_support);
    }

    #[test]
    fn no_cluster_is_default() {
        assert_eq!(parse("").unwrap().cluster, "default");
        assert_eq!(parse("#!/bin/bash\nyum update -y\n").unwrap().cluster, "default");
        assert_eq!(parse("ECS_CLUSTER=\n").unwrap().cluster, "default");
    }

    #[test]
    fn quoted_echo_values_are_unquoted_as_the_shell_does() {
        let data = r#"#!/bin/bash
echo 'ECS_INSTANCE_ATTRIBUTES={"team":"ml","tier":"gpu"}' >> /etc/ecs/ecs.config
echo "ECS_CONTAINER_INSTANCE_TAGS={\"owner\":\"ana\"}" >>/etc/ecs/ecs.config
echo ECS_ENABLE_GPU_SUPPORT=true>>/etc/ecs/ecs.config
"#;
        let config = parse(data).unwrap();
        assert_eq!(config.instance_attributes["team"], "ml");
        assert_eq!(config.instance_attributes["tier"], "gpu");
        assert_eq!(config.container_instance_tags["owner"], "ana");
        assert!(config.enable_gpu_support);
    }

    #[test]
    fn heredocs_into_the_file() {
        let data = "#!/bin/bash\ncat <<'EOF' >> /etc/ecs/ecs.config\nECS_CLUSTER=web\nECS_ENABLE_GPU_SUPPORT=TRUE\n\
                    ECS_INSTANCE_ATTRIBUTES={\"a\":\"1\"}\nEOF\necho done\n";
        let config = parse(data).unwrap();
        assert_eq!(config.cluster, "web");
        assert!(config.enable_gpu_support);
        assert_eq!(config.instance_attributes["a"], "1");
        let other_form = "cat > /etc/ecs/ecs.config <<EOF\nECS_CLUSTER=api\nEOF\nECS_RESERVED_MEMORY=1\n";
        let config = parse(other_form).unwrap();
        assert_eq!(config.cluster, "api");
        assert_eq!(config.settings["ECS_RESERVED_MEMORY"], "1");
    }

    #[test]
    fn plain_lines_and_last_wins() {
        let config = parse("ECS_CLUSTER=a\r\nECS_CLUSTER=b\n").unwrap();
        assert_eq!(config.cluster, "b");
    }

    #[test]
    fn other_files_and_commands_are_ignored() {
        let data = "echo ECS_CLUSTER=x >> /tmp/other\ncat <<EOF > /etc/motd\nECS_CLUSTER=y\nEOF\n\
                    export ECS_CLUSTER=z\necho hello > /etc/ecs/ecs.config\n";
        let config = parse(data).unwrap();
        assert_eq!(config.cluster, "default");
        assert!(config.settings.is_empty());
    }

    #[test]
    fn bad_json_is_an_error_naming_the_key() {
        let err = parse("ECS_INSTANCE_ATTRIBUTES={not json}\n").unwrap_err();
        assert_eq!(err.key, "ECS_INSTANCE_ATTRIBUTES");
        let err = parse("ECS_CONTAINER_INSTANCE_TAGS={\"a\":1}\n").unwrap_err();
        assert_eq!(err.key, "ECS_CONTAINER_INSTANCE_TAGS");
    }

    #[test]
    fn shell_words_split_like_a_shell() {
        assert_eq!(shell_words(r#"a 'b c' "d\"e" f\ g>>x"#), vec!["a", "b c", "d\"e", "f g", ">>", "x"]);
        assert_eq!(shell_words("a > b"), vec!["a", ">", "b"]);
    }
}
