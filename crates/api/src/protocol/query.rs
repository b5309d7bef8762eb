//! The AWS query protocol (elbv2, sts, iam, autoscaling): a form-encoded request naming
//! `Action` and `Version`, answered with XML wrapped as
//! `<OpResponse><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`
//! and errors as `<ErrorResponse><Error>..</Error><RequestId>..</RequestId></ErrorResponse>`.

use crate::error::AwsError;

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

/// A successful response: `result` writes the children of `<ActionResult>`.
pub fn encode_response(action: &str, xmlns: &str, request_id: &str, result: impl FnOnce(&mut XmlWriter)) -> String {
    let mut w = XmlWriter::default();
    w.buf.push_str(&format!("<{action}Response xmlns=\"{xmlns}\">"));
    w.open(&format!("{action}Result"));
    result(&mut w);
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
    fn wraps_results_and_escapes_text() {
        let xml = encode_response("GetCallerIdentity", "https://sts.amazonaws.com/doc/2011-06-15/", "rid", |w| {
            w.leaf("Arn", "a<&>\"'b");
        });
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
