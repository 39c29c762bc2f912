//! Label and field selectors, parsed as apimachinery's pkg/labels and
//! pkg/fields parse them.

use serde_json::Value;

use crate::error::ApiError;
use crate::registry::ResourceDef;

#[derive(Debug, Clone, PartialEq)]
enum LabelOp {
    Exists,
    NotExists,
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

#[derive(Debug, Clone, PartialEq)]
struct LabelReq {
    key: String,
    op: LabelOp,
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<LabelReq>,
}

fn bad(msg: String) -> ApiError {
    ApiError::bad_request(format!("unable to parse requirement: {msg}"))
}

fn valid_label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    name_ok && prefix_ok
}

fn valid_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Splits at top-level commas (commas inside parentheses belong to a set).
fn split_requirements(s: &str) -> Result<Vec<&str>, ApiError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(bad(format!("unexpected ')' in {s:?}")));
                }
            }
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad(format!("unclosed '(' in {s:?}")));
    }
    out.push(&s[start..]);
    Ok(out)
}

fn parse_set(rest: &str) -> Result<Vec<String>, ApiError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(format!("expected a parenthesised set, found {rest:?}")))?;
    let mut vals = Vec::new();
    for v in inner.split(',') {
        let v = v.trim();
        if !valid_label_value(v) {
            return Err(bad(format!("invalid label value: {v:?}")));
        }
        vals.push(v.to_string());
    }
    Ok(vals)
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, ApiError> {
        let s = s.trim();
        let mut reqs = Vec::new();
        if s.is_empty() {
            return Ok(LabelSelector { reqs });
        }
        for part in split_requirements(s)? {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad(format!("empty requirement in {s:?}")));
            }
            let req = if let Some(k) = part.strip_prefix('!') {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::NotExists,
                }
            } else if let Some((k, v)) = part.split_once("!=") {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::NotEquals(v.trim().to_string()),
                }
            } else if let Some((k, v)) = part.split_once("==") {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::Equals(v.trim().to_string()),
                }
            } else if let Some((k, v)) = part.split_once('=') {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::Equals(v.trim().to_string()),
                }
            } else if let Some((k, v)) = part.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{v:?} is not an integer")))?;
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::Gt(n),
                }
            } else if let Some((k, v)) = part.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{v:?} is not an integer")))?;
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::Lt(n),
                }
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::NotIn(parse_set(rest)?),
                }
            } else if let Some((k, rest)) = part.split_once(" in ") {
                LabelReq {
                    key: k.trim().to_string(),
                    op: LabelOp::In(parse_set(rest)?),
                }
            } else if part.contains(char::is_whitespace) || part.contains('(') {
                return Err(bad(format!(
                    "found {part:?}, expected: in, notin, =, ==, !=, gt, lt"
                )));
            } else {
                LabelReq {
                    key: part.to_string(),
                    op: LabelOp::Exists,
                }
            };
            if !valid_label_key(&req.key) {
                return Err(bad(format!("invalid label key {:?}", req.key)));
            }
            if let LabelOp::Equals(v) | LabelOp::NotEquals(v) = &req.op
                && !valid_label_value(v)
            {
                return Err(bad(format!("invalid label value: {v:?}")));
            }
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    /// A metav1.LabelSelector object ({matchLabels, matchExpressions}).
    pub fn from_object(sel: &Value) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(LabelReq {
                    key: k.clone(),
                    op: LabelOp::Equals(v.as_str().unwrap_or_default().to_string()),
                });
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => LabelOp::In(values),
                    Some("NotIn") => LabelOp::NotIn(values),
                    Some("Exists") => LabelOp::Exists,
                    Some("DoesNotExist") => LabelOp::NotExists,
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"));
                    }
                };
                reqs.push(LabelReq { key, op });
            }
        }
        Ok(LabelSelector { reqs })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Matches against a `metadata.labels` map (None: no labels).
    pub fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        self.reqs.iter().all(|r| {
            let v = labels.and_then(|l| l.get(&r.key)).and_then(Value::as_str);
            match &r.op {
                LabelOp::Exists => v.is_some(),
                LabelOp::NotExists => v.is_none(),
                LabelOp::Equals(want) => v == Some(want.as_str()),
                LabelOp::NotEquals(want) => v != Some(want.as_str()),
                LabelOp::In(set) => v.is_some_and(|v| set.iter().any(|s| s == v)),
                LabelOp::NotIn(set) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
                LabelOp::Gt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|x| x > *n),
                LabelOp::Lt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|x| x < *n),
            }
        })
    }

    /// The selector in its string form (Scale status.selector).
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = self
            .reqs
            .iter()
            .map(|r| match &r.op {
                LabelOp::Exists => r.key.clone(),
                LabelOp::NotExists => format!("!{}", r.key),
                LabelOp::Equals(v) => format!("{}={v}", r.key),
                LabelOp::NotEquals(v) => format!("{}!={v}", r.key),
                LabelOp::In(s) => format!("{} in ({})", r.key, s.join(",")),
                LabelOp::NotIn(s) => format!("{} notin ({})", r.key, s.join(",")),
                LabelOp::Gt(n) => format!("{}>{n}", r.key),
                LabelOp::Lt(n) => format!("{}<{n}", r.key),
            })
            .collect();
        parts.sort();
        parts.join(",")
    }
}

#[derive(Debug, Clone, PartialEq)]
struct FieldReq {
    field: String,
    value: String,
    negate: bool,
}

/// A parsed field selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    reqs: Vec<FieldReq>,
}

/// Splits on an unescaped separator; `\` escapes `,`, `=`, `!` and `\`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.last_mut().expect("invariant: never empty").push(c);
            if let Some(n) = chars.next() {
                out.last_mut().expect("invariant: never empty").push(n);
            }
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().expect("invariant: never empty").push(c);
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl FieldSelector {
    /// Parses and checks each field against what `def` supports (400
    /// "field label not supported" as kube-apiserver answers).
    pub fn parse(s: &str, def: &ResourceDef) -> Result<FieldSelector, ApiError> {
        let s = s.trim();
        let mut reqs = Vec::new();
        if s.is_empty() {
            return Ok(FieldSelector { reqs });
        }
        for part in split_unescaped(s, ',') {
            let (field, value, negate) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, false)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !def.supports_field(field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push(FieldReq {
                field: field.to_string(),
                value: unescape(value.trim()),
                negate,
            });
        }
        Ok(FieldSelector { reqs })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// The required value of `field` if the selector pins it with `=`.
    pub fn equals(&self, field: &str) -> Option<&str> {
        self.reqs
            .iter()
            .find(|r| r.field == field && !r.negate)
            .map(|r| r.value.as_str())
    }

    /// Only metadata.name / metadata.namespace are used.
    pub fn metadata_only(&self) -> bool {
        self.reqs
            .iter()
            .all(|r| r.field == "metadata.name" || r.field == "metadata.namespace")
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|r| {
            let v = field_value(obj, &r.field);
            (v == r.value) != r.negate
        })
    }
}

/// A field's selectable value, rendered as kube-apiserver's field sets do
/// (missing strings are "", booleans "true"/"false", numbers decimal).
pub fn field_value(obj: &Value, field: &str) -> String {
    let path: &[&str] = match field {
        // core/v1 Event's "source" is source.component.
        "source" => &["source", "component"],
        _ => &[],
    };
    let owned: Vec<&str>;
    let path = if path.is_empty() {
        owned = field.split('.').collect();
        &owned[..]
    } else {
        path
    };
    let mut cur = obj;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => {
                return match field {
                    "spec.unschedulable" | "spec.hostNetwork" => "false".into(),
                    "status.successful" => "0".into(),
                    _ => String::new(),
                };
            }
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use serde_json::json;

    fn labels(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn label_selector_operators() {
        let l = labels(json!({"app": "web", "tier": "front", "n": "7"}));
        let t = |s: &str| LabelSelector::parse(s).unwrap().matches(Some(&l));
        assert!(t("app=web"));
        assert!(t("app==web,tier"));
        assert!(!t("app!=web"));
        assert!(t("app in (web, db),!missing"));
        assert!(!t("tier notin (front)"));
        assert!(t("missing notin (x)"));
        assert!(t("n>5"));
        assert!(!t("n<5"));
        assert!(t(""));
        assert!(!LabelSelector::parse("app").unwrap().matches(None));
    }

    #[test]
    fn label_selector_errors_are_bad_requests() {
        for s in ["app in (a", "a b", "=x", "app=in valid", "-bad=x"] {
            let e = LabelSelector::parse(s).unwrap_err();
            assert_eq!(e.code, 400, "{s}");
        }
    }

    #[test]
    fn field_selectors_check_support_and_match() {
        let pods = registry::lookup("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let f = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed", pods).unwrap();
        assert!(f.matches(&pod));
        let f = FieldSelector::parse("spec.nodeName=", pods).unwrap();
        assert!(!f.matches(&pod));
        let e = FieldSelector::parse("spec.foo=x", pods).unwrap_err();
        assert_eq!(e.message, "field label not supported: spec.foo");
        let nodes = registry::lookup("", "v1", "nodes").unwrap();
        let f = FieldSelector::parse("spec.unschedulable=false", nodes).unwrap();
        assert!(f.matches(&json!({"metadata": {"name": "n"}})));
    }

    #[test]
    fn selector_objects_render() {
        let s = LabelSelector::from_object(&json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]})).unwrap();
        assert_eq!(s.render(), "app=web,tier in (a,b)");
    }
}
