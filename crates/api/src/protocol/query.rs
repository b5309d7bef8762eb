//! The AWS query protocol (elbv2, sts, iam, autoscaling): a form-encoded request naming
//! `Action` and `Version`, answered with XML wrapped as
//! `<OpResponse><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`
//! and errors as `<ErrorResponse><Error>..</Error><RequestId>..</RequestId></ErrorResponse>`.

use super::strict::{Rules, Strict};
use crate::error::AwsError;
use serde::{Serialize, de::DeserializeOwned};

pub const CONTENT_TYPE: &str = "text/xml";

/// A decoded form: the parameters in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(body: &[u8]) -> Self {
        Params(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Refuses a form AWS does not read as one request: a parameter named twice (a
    /// second `Action=`) and, unless `flat` (EC2's lists), a list or map index that is
    /// not a number from 1 up (`Names.member.0`, `.member.-1`, `.member.99999999999999999999`).
    pub fn check(&self, flat: bool) -> Result<(), AwsError> {
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &self.0 {
            if !seen.insert(k.as_str()) {
                return Err(AwsError::malformed_query(format!("The parameter {k} appears more than once.")));
            }
            if flat {
                continue;
            }
            let mut segments = k.split('.').peekable();
            while let Some(seg) = segments.next() {
                if (seg == "member" || seg == "entry")
                    && let Some(index) = segments.peek()
                    && index_of(index).is_none()
                {
                    return Err(AwsError::malformed_query(format!(
                        "The parameter {k} has an invalid list index '{index}': indexes are numbers from 1 to {}.",
                        u32::MAX
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn action(&self) -> Option<&str> {
        self.get("Action").filter(|a| !a.is_empty())
    }

    pub fn version(&self) -> Option<&str> {
        self.get("Version")
    }

    /// The members of a list sent as `Name.member.1`, `Name.member.2`, ... in index order.
    /// A bare `Name=` (how the query protocol sends an empty list) gives an empty list.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, &str)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let idx = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((idx, v.as_str()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// The whole form as a JSON tree, for typed decoding with serde: `A.B=x` nests,
    /// `A.member.N...` becomes a list (in index order), `A.entry.N.key`/`.value` a map.
    /// Every scalar stays a string: the query protocol does not say which are numbers,
    /// so numeric and boolean members decode through `berth_model::lenient`.
    pub fn tree(&self) -> serde_json::Value {
        let mut root = Node::default();
        for (k, v) in &self.0 {
            root.insert(&k.split('.').collect::<Vec<_>>(), v);
        }
        root.into_value()
    }
}

/// A form parameter tree under construction: children by name (or list index) until
/// it is turned into JSON.
#[derive(Default)]
struct Node {
    text: Option<String>,
    children: std::collections::BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, path: &[&str], value: &str) {
        match path.split_first() {
            None => self.text = Some(value.to_string()),
            Some((head, rest)) => self.children.entry((*head).to_string()).or_default().insert(rest, value),
        }
    }

    fn into_value(self) -> serde_json::Value {
        use serde_json::Value;
        if self.children.is_empty() {
            return match self.text {
                // `Name=` is how an empty list is sent; as a scalar it is the empty string.
                Some(t) => Value::String(t),
                None => Value::Null,
            };
        }
        let mut children = self.children;
        if let Some(members) = children.remove("member") {
            return Value::Array(indexed(members).map(Node::into_value).collect());
        }
        if let Some(entries) = children.remove("entry") {
            let map = indexed(entries)
                .filter_map(|mut e| {
                    let key = e.children.remove("key")?.text?;
                    Some((key, e.children.remove("value").map_or(Value::Null, Node::into_value)))
                })
                .collect();
            return Value::Object(map);
        }
        Value::Object(children.into_iter().map(|(k, n)| (k, n.into_value())).collect())
    }
}

/// A list or map index as the query protocol writes it: 1, 2, ... (no sign, no zero).
fn index_of(text: &str) -> Option<u32> {
    text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten().filter(|i| *i >= 1)
}

/// The children of a `member`/`entry` node in numeric index order (indexes `Params::check`
/// refuses are dropped).
fn indexed(node: Node) -> impl Iterator<Item = Node> {
    let mut items: Vec<(u32, Node)> = node.children.into_iter().filter_map(|(k, n)| Some((index_of(&k)?, n))).collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, n)| n)
}

/// Writes XML elements with their text escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        escape_into(&mut self.buf, text);
        self.close(tag)
    }

    /// A JSON value as query-protocol XML: an object's members become child elements
    /// (nulls omitted), an array's items `<member>` elements, scalars escaped text.
    pub fn value(&mut self, tag: &str, value: &serde_json::Value) -> &mut Self {
        use serde_json::Value;
        match value {
            Value::Null => self,
            Value::Object(_) => {
                self.open(tag);
                self.members(value);
                self.close(tag)
            }
            Value::Array(items) => {
                self.open(tag);
                for item in items {
                    self.value("member", item);
                }
                self.close(tag)
            }
            Value::String(s) => self.leaf(tag, s),
            other => self.leaf(tag, &other.to_string()),
        }
    }

    /// The members of a JSON object as sibling elements (what goes inside `<OpResult>`).
    pub fn members(&mut self, value: &serde_json::Value) -> &mut Self {
        if let serde_json::Value::Object(members) = value {
            for (k, v) in members {
                self.value(k, v);
            }
        }
        self
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// The protocol's reading of a shape: `Name=` is an empty list (botocore's `[]`).
pub const RULES: Rules = Rules { empty_text_is_empty_list: true };

/// Decodes an operation's input from the form (see `Params::tree`). A required member
/// that is absent, or one that does not fit the shape, is a ValidationError naming it.
pub fn decode<T: DeserializeOwned>(params: &Params) -> Result<T, AwsError> {
    serde_path_to_error::deserialize(Strict::new(params.tree(), RULES)).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        match super::json::missing_field(&msg) {
            Some(field) if path == "." => AwsError::validation(format!("The parameter {field} is required")),
            Some(field) => AwsError::validation(format!("The parameter {field} is required in {path}")),
            None => AwsError::validation(format!("Invalid value at '{path}': {msg}")),
        }
    })
}

/// An operation's output as the children of `<OpResult>`: the typed output becomes a
/// JSON tree (members in name order, absent ones omitted), written by `XmlWriter::members`.
pub fn encode<T: Serialize>(output: &T) -> Result<String, AwsError> {
    let tree = serde_json::to_value(output).map_err(|e| {
        tracing::error!(error = %e, "response did not serialize");
        AwsError::internal("InternalFailure")
    })?;
    let mut w = XmlWriter::default();
    w.members(&tree);
    Ok(w.finish())
}

/// A successful response around `result`, the XML of the children of `<ActionResult>`.
pub fn encode_response(action: &str, xmlns: &str, request_id: &str, result: &str) -> String {
    let mut w = XmlWriter::default();
    w.buf.push_str(&format!("<{action}Response xmlns=\"{xmlns}\">"));
    w.open(&format!("{action}Result"));
    w.buf.push_str(result);
    w.close(&format!("{action}Result"));
    w.open("ResponseMetadata").leaf("RequestId", request_id).close("ResponseMetadata");
    w.close(&format!("{action}Response"));
    w.finish()
}

pub fn encode_error(err: &AwsError, request_id: &str) -> String {
    let mut w = XmlWriter::default();
    w.open("ErrorResponse").open("Error");
    w.leaf("Type", if err.sender_fault { "Sender" } else { "Receiver" });
    w.leaf("Code", &err.code).leaf("Message", &err.message);
    w.close("Error").leaf("RequestId", request_id).close("ErrorResponse");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms_and_lists() {
        let p = Params::parse(
            b"Action=CreateLoadBalancer&Version=2015-12-01&Subnets.member.2=b&Subnets.member.1=a%2Bx&Name=my+lb&Empty=",
        );
        assert_eq!(p.action(), Some("CreateLoadBalancer"));
        assert_eq!(p.version(), Some("2015-12-01"));
        assert_eq!(p.get("Name"), Some("my lb"));
        assert_eq!(p.list("Subnets"), vec!["a+x", "b"]);
        assert!(p.list("Empty").is_empty());
        assert_eq!(Params::parse(b"Action=").action(), None);
    }

    #[test]
    fn forms_become_trees() {
        let p = Params::parse(
            b"Action=CreateListener&Port=80&DefaultActions.member.2.Type=fixed-response\
              &DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=9\
              &DefaultActions.member.1.Type=forward&Tags.entry.1.key=k&Tags.entry.1.value=v&Empty=",
        );
        assert_eq!(
            p.tree(),
            serde_json::json!({
                "Action": "CreateListener", "Port": "80", "Empty": "",
                "DefaultActions": [
                    {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"Weight": "9"}]}},
                    {"Type": "fixed-response"}
                ],
                "Tags": {"k": "v"}
            })
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Input {
        #[serde(rename = "Names", default)]
        names: Option<Vec<String>>,
        #[serde(rename = "Tags", default)]
        tags: Option<Vec<Tag>>,
        #[serde(rename = "Attributes", default)]
        attributes: Option<std::collections::BTreeMap<String, String>>,
        #[serde(rename = "Name", default)]
        name: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Tag {
        #[serde(rename = "Key")]
        key: String,
    }

    #[test]
    fn an_empty_parameter_is_an_empty_list() {
        let input: Input = decode(&Params::parse(b"Action=A&Names=&Tags=&Attributes=&Name=")).unwrap();
        assert_eq!(input.names, Some(vec![]));
        assert_eq!(input.tags.map(|t| t.len()), Some(0));
        assert_eq!(input.attributes, Some(Default::default()));
        // A scalar stays the empty string; a non-empty one is not a list.
        assert_eq!(input.name.as_deref(), Some(""));
        let e = decode::<Input>(&Params::parse(b"Names=x")).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.contains("'Names'"), "{}", e.message);
        let input: Input = decode(&Params::parse(b"Names.member.2=b&Names.member.1=a")).unwrap();
        assert_eq!(input.names, Some(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn a_list_is_not_a_structure() {
        let e = decode::<Input>(&Params::parse(b"Tags.member.1.member.1=k")).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.contains("Tags[0]"), "{}", e.message);
    }

    #[test]
    fn malformed_indexes_and_repeated_parameters_are_refused() {
        for form in [
            &b"Action=DescribeLoadBalancers&Names.member.-1=a"[..],
            b"Names.member.0=a",
            b"Names.member.99999999999999999999=a",
            b"Names.member.+1=a",
            b"Names.member.=a",
            b"Names.member.x=a",
            b"Attributes.entry.0.key=a",
            b"Action=DescribeLoadBalancers&Action=DeleteLoadBalancer",
            b"Names.member.1=a&Names.member.1=b",
        ] {
            let e = Params::parse(form).check(false).unwrap_err();
            assert_eq!(e.code, "MalformedQueryString", "{}", String::from_utf8_lossy(form));
        }
        assert!(Params::parse(b"Action=A&Names.member.1=a&Names.member.4294967295=b&Tags=").check(false).is_ok());
        // EC2's flattened lists have no `member`; its indexes are checked by its decoder.
        assert!(Params::parse(b"Action=A&InstanceId.0=i").check(true).is_ok());
        assert!(Params::parse(b"Action=A&Action=B").check(true).is_err());
    }

    #[test]
    fn an_empty_form_value_is_an_empty_list_where_the_shape_wants_one() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Inner {
            #[serde(rename = "Values")]
            values: Vec<String>,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Input {
            #[serde(rename = "Actions")]
            actions: Option<Vec<String>>,
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "Items")]
            items: Vec<Inner>,
        }
        let got: Input = decode(&Params::parse(b"Actions=&Name=&Items.member.1.Values=")).unwrap();
        assert_eq!(got, Input { actions: Some(vec![]), name: String::new(), items: vec![Inner { values: vec![] }] });
        let err = decode::<Input>(&Params::parse(b"Actions=x&Name=n&Items=")).unwrap_err();
        assert!(err.message.starts_with("Invalid value at 'Actions'"), "{}", err.message);
    }

    #[test]
    fn json_values_become_xml() {
        let mut w = XmlWriter::default();
        w.members(&serde_json::json!({"A": [{"B": 1, "C": null}], "D": true, "E": []}));
        assert_eq!(w.finish(), "<A><member><B>1</B></member></A><D>true</D><E></E>");
    }

    #[test]
    fn wraps_results_and_escapes_text() {
        let result = encode(&serde_json::json!({"Arn": "a<&>\"'b"})).unwrap();
        let xml = encode_response("GetCallerIdentity", "https://sts.amazonaws.com/doc/2011-06-15/", "rid", &result);
        assert_eq!(
            xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><Arn>a&lt;&amp;&gt;&quot;&apos;b</Arn></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        );
    }

    #[test]
    fn errors_carry_type_code_and_message() {
        let xml = encode_error(&AwsError::invalid_action("Nope"), "rid");
        assert!(xml.starts_with("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"));
        assert!(xml.ends_with("<RequestId>rid</RequestId></ErrorResponse>"));
    }
}
