//! Validation of Kubernetes objects, modelled on kube-apiserver's
//! `pkg/apis/*/validation` and apimachinery's `pkg/api/validation` /
//! `pkg/util/validation`.
//!
//! Objects are plain `serde_json::Value`s. Every check reports a [`Cause`]
//! whose `reason`, `field` and `message` render like the upstream
//! `field.Error` (the message is what `field.Error.Error()` prints after the
//! field path), so clients matching on upstream texts keep working.
//!
//! Like kube-apiserver, validation is meant to run after defaulting
//! ([`super::defaults::apply_defaults`]); fields that defaulting always fills
//! in (restartPolicy, port protocols, ...) are nevertheless accepted when
//! absent and treated as having their default value.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

use serde_json::{Map, Value, json};

/// One validation failure, as in `metav1.StatusCause`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cause {
    /// A `metav1.CauseType`: "FieldValueRequired", "FieldValueInvalid", ...
    pub reason: &'static str,
    /// Field path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The error body as `field.Error.Error()` renders it after the field.
    pub message: String,
}

// ---------------------------------------------------------------------------
// field.Error constructors
// ---------------------------------------------------------------------------

const REQUIRED: &str = "FieldValueRequired";
const INVALID: &str = "FieldValueInvalid";
const NOT_SUPPORTED: &str = "FieldValueNotSupported";
const DUPLICATE: &str = "FieldValueDuplicate";
const FORBIDDEN: &str = "FieldValueForbidden";
const TOO_LONG: &str = "FieldValueTooLong";
const NOT_FOUND: &str = "FieldValueNotFound";

/// Message of `ValidateImmutableField`.
pub const FIELD_IMMUTABLE: &str = "field is immutable";
/// Message of `ValidateNonnegativeField`.
pub const NEGATIVE_MSG: &str = "must be greater than or equal to 0";
/// Total size limit for annotations (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// Size limit of ConfigMap and Secret payloads (1 MiB).
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

fn with_detail(mut s: String, detail: &str) -> String {
    if !detail.is_empty() {
        s.push_str(": ");
        s.push_str(detail);
    }
    s
}

fn cause(reason: &'static str, field: impl Into<String>, message: String) -> Cause {
    Cause {
        reason,
        field: field.into(),
        message,
    }
}

/// `field.Required`.
pub fn required(field: impl Into<String>, detail: &str) -> Cause {
    cause(
        REQUIRED,
        field,
        with_detail("Required value".into(), detail),
    )
}

/// `field.Invalid`.
pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Cause {
    cause(
        INVALID,
        field,
        with_detail(format!("Invalid value: {}", render_value(value)), detail),
    )
}

fn invalid_str(field: impl Into<String>, value: &str, detail: &str) -> Cause {
    invalid(field, &Value::String(value.to_string()), detail)
}

/// `field.Invalid` with an omitted value.
fn invalid_omitted(field: impl Into<String>, detail: &str) -> Cause {
    cause(INVALID, field, with_detail("Invalid value".into(), detail))
}

/// `field.NotSupported`.
pub fn not_supported(field: impl Into<String>, value: &Value, valid: &[&str]) -> Cause {
    let detail = if valid.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        format!("supported values: {}", quoted.join(", "))
    };
    cause(
        NOT_SUPPORTED,
        field,
        with_detail(
            format!("Unsupported value: {}", render_value(value)),
            &detail,
        ),
    )
}

/// `field.Duplicate`.
pub fn duplicate(field: impl Into<String>, value: &Value) -> Cause {
    cause(
        DUPLICATE,
        field,
        format!("Duplicate value: {}", render_value(value)),
    )
}

/// `field.Forbidden`.
pub fn forbidden(field: impl Into<String>, detail: &str) -> Cause {
    cause(FORBIDDEN, field, with_detail("Forbidden".into(), detail))
}

/// `field.TooLong` (byte limit).
pub fn too_long(field: impl Into<String>, max: usize) -> Cause {
    let unit = if max == 1 { "byte" } else { "bytes" };
    cause(
        TOO_LONG,
        field,
        format!("Too long: may not be more than {max} {unit}"),
    )
}

/// `field.NotFound`.
pub fn not_found(field: impl Into<String>, value: &Value) -> Cause {
    cause(
        NOT_FOUND,
        field,
        format!("Not found: {}", render_value(value)),
    )
}

/// Renders a bad value like `field.Error.ErrorBody`: strings quoted (`%q`),
/// scalars plainly, everything else as JSON.
fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Go's `strconv.Quote` for the common cases.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Field paths and JSON accessors
// ---------------------------------------------------------------------------

fn ch(path: &str, child: &str) -> String {
    if path.is_empty() {
        child.to_string()
    } else {
        format!("{path}.{child}")
    }
}

fn ix(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn key(path: &str, k: &str) -> String {
    format!("{path}[{k}]")
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

/// A string field; absent, null and non-string values read as "".
fn str_or_empty<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get_str(v, path).unwrap_or("")
}

fn get_i64(v: &Value, path: &[&str]) -> Option<i64> {
    let x = get(v, path)?;
    x.as_i64()
        .or_else(|| x.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

fn get_arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn get_obj<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(v, path).and_then(Value::as_object)
}

fn get_bool(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path).and_then(Value::as_bool)
}

/// Map of string to string (labels, annotations, data); non-string values
/// are skipped.
fn string_map<'a>(v: &'a Value, path: &[&str]) -> Vec<(&'a str, &'a str)> {
    get_obj(v, path)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
                .collect()
        })
        .unwrap_or_default()
}

fn null_to_absent(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

// ---------------------------------------------------------------------------
// apimachinery/pkg/util/validation
// ---------------------------------------------------------------------------

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_MSG: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

/// `validation.RegexError`.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(e);
        out.push_str("', ");
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

/// `validation.MaxLenError`.
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

fn matches_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// `validation.IsDNS1123Label`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".into());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `validation.IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `validation.IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !(matches_dns1123_label(value) && value.as_bytes()[0].is_ascii_lowercase()) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `validation.IsQualifiedName` (label keys, annotation keys, finalizers).
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !matches_qualified_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `validation.IsValidLabelValue`.
pub fn is_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !value.is_empty() && !matches_qualified_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `validation.IsConfigMapKey`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_MSG,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errs.push("must not be '.'".into());
    } else if value == ".." {
        errs.push("must not be '..'".into());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

/// `validation.IsRelaxedEnvVarName` (the default since 1.32).
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push("environment variable name must be non-empty".into());
    }
    if value.bytes().any(|c| !(32..=126).contains(&c) || c == b'=') {
        errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='".into());
    }
    errs
}

/// `validation.IsValidPortName`.
pub fn is_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if !port
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `validation.IsValidPortNum`.
pub fn is_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `path.IsValidPathSegmentName` (RBAC and a few other kinds).
pub fn is_path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

fn is_percent(s: &str) -> bool {
    s.len() > 1 && s.ends_with('%') && s[..s.len() - 1].bytes().all(|c| c.is_ascii_digit())
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.bytes().all(|c| c.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

// ---------------------------------------------------------------------------
// Resource quantities
// ---------------------------------------------------------------------------

const QUANTITY_MSG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Parses a `resource.Quantity` string into an approximate value.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    let number: f64 = s[..i].parse().ok()?;
    let suffix = &s[i..];
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            10f64.powi(exp.parse::<i32>().ok()?)
        }
    };
    Some(number * mult)
}

/// A quantity may be written as a JSON number or string.
fn quantity_of(v: &Value) -> Option<(String, Option<f64>)> {
    match v {
        Value::String(s) => Some((s.clone(), parse_quantity(s))),
        Value::Number(n) => Some((n.to_string(), n.as_f64())),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// ObjectMeta (apimachinery/pkg/api/validation)
// ---------------------------------------------------------------------------

/// How `metadata.name` is validated for a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
    PathSegment,
}

impl NameRule {
    fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let name = if prefix && self != NameRule::PathSegment {
            masked = mask_trailing_dash(name);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Dns1123Subdomain => is_dns1123_subdomain(name),
            NameRule::Dns1123Label => is_dns1123_label(name),
            NameRule::Dns1035Label => is_dns1035_label(name),
            NameRule::PathSegment => {
                if prefix {
                    let mut errs = Vec::new();
                    for bad in ["/", "%"] {
                        if name.contains(bad) {
                            errs.push(format!("may not contain '{bad}'"));
                        }
                    }
                    errs
                } else {
                    is_path_segment_name(name)
                }
            }
        }
    }
}

fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        format!("{}a", &name[..name.len() - 2])
    } else {
        name.to_string()
    }
}

/// The name rule kube-apiserver applies to `metadata.name` of a kind.
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Namespace") => NameRule::Dns1123Label,
        ("", "Service") => NameRule::Dns1035Label,
        ("", "PersistentVolume") => NameRule::PathSegment,
        ("apps", "StatefulSet") => NameRule::Dns1123Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

/// `ValidateLabels` on the map at `obj[path]`, reported at `fld`.
fn validate_labels_at(obj: &Value, path: &[&str], fld: &str, errs: &mut Vec<Cause>) {
    for (k, v) in string_map(obj, path) {
        for m in is_qualified_name(k) {
            errs.push(invalid_str(fld, k, &m));
        }
        for m in is_label_value(v) {
            errs.push(invalid_str(fld, v, &m));
        }
    }
}

fn validate_annotations_at(obj: &Value, path: &[&str], fld: &str, errs: &mut Vec<Cause>) {
    let Some(m) = get_obj(obj, path) else {
        return;
    };
    let mut total = 0usize;
    for (k, v) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(invalid_str(fld, k, &msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(too_long(fld, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
}

fn validate_owner_references(meta: &Value, errs: &mut Vec<Cause>) {
    let fld = "metadata.ownerReferences";
    let refs = get_arr(meta, &["ownerReferences"]);
    let mut first_controller: Option<String> = None;
    for (i, r) in refs.iter().enumerate() {
        let p = ix(fld, i);
        let api_version = str_or_empty(r, &["apiVersion"]);
        let (group, version) = match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [v] => (Some(""), *v),
            [g, v] => (Some(*g), *v),
            _ => (None, ""),
        };
        if api_version.is_empty() {
            errs.push(required(ch(&p, "apiVersion"), "must not be empty"));
        } else if group.is_none() || version.is_empty() {
            errs.push(invalid_str(
                ch(&p, "apiVersion"),
                api_version,
                "must be <group>/<version> or <version>",
            ));
        }
        let kind = str_or_empty(r, &["kind"]);
        let name = str_or_empty(r, &["name"]);
        if kind.is_empty() {
            errs.push(required(ch(&p, "kind"), "must not be empty"));
        }
        if name.is_empty() {
            errs.push(required(ch(&p, "name"), "must not be empty"));
        }
        if str_or_empty(r, &["uid"]).is_empty() {
            errs.push(required(ch(&p, "uid"), "must not be empty"));
        }
        if group == Some("") && version == "v1" && kind == "Event" {
            errs.push(invalid(
                &p,
                r,
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if get_bool(r, &["controller"]) == Some(true) {
            let cur = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errs.push(invalid(
                    fld,
                    &Value::Array(refs.to_vec()),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {cur}"
                    ),
                )),
                None => first_controller = Some(cur),
            }
        }
    }
}

fn validate_finalizers(meta: &Value, errs: &mut Vec<Cause>) {
    let fld = "metadata.finalizers";
    let list = get_arr(meta, &["finalizers"]);
    let mut orphan = false;
    let mut foreground = false;
    for f in list.iter().filter_map(Value::as_str) {
        for m in is_qualified_name(f) {
            errs.push(invalid_str(fld, f, &m));
        }
        orphan |= f == "orphan";
        foreground |= f == "foregroundDeletion";
    }
    if orphan && foreground {
        errs.push(invalid(
            fld,
            &Value::Array(list.to_vec()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
}

/// `ValidateObjectMeta` for a create.
pub fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameRule) -> Vec<Cause> {
    let mut errs = Vec::new();
    let empty = json!({});
    let meta = get(obj, &["metadata"]).unwrap_or(&empty);
    let generate_name = str_or_empty(meta, &["generateName"]);
    if !generate_name.is_empty() {
        for m in rule.check(generate_name, true) {
            errs.push(invalid_str("metadata.generateName", generate_name, &m));
        }
    }
    let name = str_or_empty(meta, &["name"]);
    if name.is_empty() {
        errs.push(required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for m in rule.check(name, false) {
            errs.push(invalid_str("metadata.name", name, &m));
        }
    }
    let namespace = str_or_empty(meta, &["namespace"]);
    if namespaced {
        if namespace.is_empty() {
            errs.push(required("metadata.namespace", ""));
        } else {
            for m in is_dns1123_label(namespace) {
                errs.push(invalid_str("metadata.namespace", namespace, &m));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(forbidden("metadata.namespace", "not allowed on this type"));
    }
    validate_meta_common(meta, &mut errs);
    validate_finalizers(meta, &mut errs);
    errs
}

fn validate_meta_common(meta: &Value, errs: &mut Vec<Cause>) {
    validate_labels_at(meta, &["labels"], "metadata.labels", errs);
    validate_annotations_at(meta, &["annotations"], "metadata.annotations", errs);
    validate_owner_references(meta, errs);
}

/// `ValidateObjectMetaUpdate`.
pub fn validate_object_meta_update(obj: &Value, old: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let empty = json!({});
    let meta = get(obj, &["metadata"]).unwrap_or(&empty);
    let old_meta = get(old, &["metadata"]).unwrap_or(&empty);
    if get(old_meta, &["deletionTimestamp"]).is_some() {
        let old_f: BTreeSet<&str> = get_arr(old_meta, &["finalizers"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let extra: BTreeSet<&str> = get_arr(meta, &["finalizers"])
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        if !extra.is_empty() {
            let list: Vec<String> = extra.iter().map(|f| go_quote(f)).collect();
            errs.push(forbidden(
                "metadata.finalizers",
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    list.join(", ")
                ),
            ));
        }
    }
    for f in ["name", "namespace"] {
        let new_v = str_or_empty(meta, &[f]);
        if new_v != str_or_empty(old_meta, &[f]) {
            errs.push(invalid_str(ch("metadata", f), new_v, FIELD_IMMUTABLE));
        }
    }
    validate_meta_common(meta, &mut errs);
    errs
}

// ---------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------

fn validate_label_selector(sel: &Value, fld: &str, errs: &mut Vec<Cause>) {
    validate_labels_at(sel, &["matchLabels"], &ch(fld, "matchLabels"), errs);
    for (i, e) in get_arr(sel, &["matchExpressions"]).iter().enumerate() {
        let p = ix(&ch(fld, "matchExpressions"), i);
        let values = get_arr(e, &["values"]);
        match str_or_empty(e, &["operator"]) {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(required(
                        ch(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(forbidden(
                        ch(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            op => errs.push(invalid_str(
                ch(&p, "operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let k = str_or_empty(e, &["key"]);
        for m in is_qualified_name(k) {
            errs.push(invalid_str(ch(&p, "key"), k, &m));
        }
        for (vi, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            for m in is_label_value(v) {
                errs.push(invalid_str(ix(&ch(&p, "values"), vi), v, &m));
            }
        }
    }
}

fn selector_is_empty(sel: &Value) -> bool {
    get_obj(sel, &["matchLabels"]).is_none_or(Map::is_empty)
        && get_arr(sel, &["matchExpressions"]).is_empty()
}

/// Whether a `metav1.LabelSelector` matches a label set.
pub fn selector_matches(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
    for (k, v) in string_map(sel, &["matchLabels"]) {
        if labels.get(k).map(String::as_str) != Some(v) {
            return false;
        }
    }
    for e in get_arr(sel, &["matchExpressions"]) {
        let k = str_or_empty(e, &["key"]);
        let values: Vec<&str> = get_arr(e, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(k).map(String::as_str);
        let ok = match str_or_empty(e, &["operator"]) {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn labels_of(v: &Value, path: &[&str]) -> BTreeMap<String, String> {
    string_map(v, path)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// Pod spec (pkg/apis/core/validation)
// ---------------------------------------------------------------------------

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn validate_port_num_or_name(v: &Value, fld: &str, errs: &mut Vec<Cause>) {
    match v {
        Value::String(s) => {
            for m in is_port_name(s) {
                errs.push(invalid(fld, v, &m));
            }
        }
        _ => {
            let n = v.as_i64().unwrap_or(0);
            for m in is_port_num(n) {
                errs.push(invalid(fld, v, &m));
            }
        }
    }
}

fn validate_volumes(spec: &Value, fld: &str, errs: &mut Vec<Cause>) -> HashSet<String> {
    let mut names = HashSet::new();
    for (i, vol) in get_arr(spec, &["volumes"]).iter().enumerate() {
        let p = ix(fld, i);
        let name = str_or_empty(vol, &["name"]);
        if name.is_empty() {
            errs.push(required(ch(&p, "name"), ""));
        } else {
            for m in is_dns1123_label(name) {
                errs.push(invalid_str(ch(&p, "name"), name, &m));
            }
        }
        if !name.is_empty() && !names.insert(name.to_string()) {
            errs.push(duplicate(ch(&p, "name"), &json!(name)));
        }
        let sources: Vec<&String> = vol
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| k.as_str() != "name" && !v.is_null())
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        for extra in sources.iter().skip(1) {
            errs.push(forbidden(
                ch(&p, extra),
                "may not specify more than 1 volume type",
            ));
        }
        if let Some(src) = sources.first() {
            let sp = ch(&p, src);
            let body = &vol[src.as_str()];
            let required_field = match src.as_str() {
                "hostPath" => Some("path"),
                "persistentVolumeClaim" => Some("claimName"),
                "configMap" => Some("name"),
                "secret" => Some("secretName"),
                "nfs" => Some("server"),
                _ => None,
            };
            if let Some(f) = required_field
                && str_or_empty(body, &[f]).is_empty()
            {
                errs.push(required(ch(&sp, f), ""));
            }
        }
    }
    names
}

fn validate_resources(c: &Value, fld: &str, errs: &mut Vec<Cause>) {
    let mut limits: BTreeMap<&str, (String, f64)> = BTreeMap::new();
    for part in ["limits", "requests"] {
        let Some(m) = get_obj(c, &["resources", part]) else {
            continue;
        };
        let pp = ch(fld, part);
        for (name, q) in m {
            let kp = key(&pp, name);
            let standard = matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage")
                || name.starts_with("hugepages-")
                || name.contains('/');
            if !standard {
                errs.push(invalid_str(
                    &kp,
                    name,
                    "must be a standard resource for containers",
                ));
            } else if name.contains('/') {
                for m in is_qualified_name(name) {
                    errs.push(invalid_str(&kp, name, &m));
                }
            }
            let Some((text, val)) = quantity_of(q) else {
                errs.push(invalid(&kp, q, QUANTITY_MSG));
                continue;
            };
            let Some(val) = val else {
                errs.push(invalid_str(&kp, &text, QUANTITY_MSG));
                continue;
            };
            if val < 0.0 {
                errs.push(invalid_str(&kp, &text, NEGATIVE_MSG));
                continue;
            }
            if part == "limits" {
                limits.insert(name.as_str(), (text, val));
            } else if let Some((ltext, lval)) = limits.get(name.as_str())
                && val > *lval
            {
                errs.push(invalid_str(
                    &kp,
                    &text,
                    &format!("must be less than or equal to {name} limit of {ltext}"),
                ));
            }
        }
    }
}

fn validate_probe(c: &Value, probe: &str, fld: &str, errs: &mut Vec<Cause>) {
    let Some(p) = get(c, &[probe]) else {
        return;
    };
    let handlers: Vec<&str> = ["exec", "httpGet", "tcpSocket", "grpc"]
        .into_iter()
        .filter(|h| get(p, &[h]).is_some())
        .collect();
    if handlers.is_empty() {
        errs.push(required(fld, "must specify a handler type"));
    }
    for h in handlers.iter().skip(1) {
        errs.push(forbidden(
            ch(fld, h),
            "may not specify more than 1 handler type",
        ));
    }
    for h in ["httpGet", "tcpSocket"] {
        if let Some(port) = get(p, &[h, "port"]) {
            validate_port_num_or_name(port, &ch(&ch(fld, h), "port"), errs);
        }
    }
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        if let Some(n) = get_i64(p, &[f])
            && n < 0
        {
            errs.push(invalid(ch(fld, f), &json!(n), NEGATIVE_MSG));
        }
    }
}

struct ContainerCtx<'a> {
    volumes: &'a HashSet<String>,
    names: HashSet<String>,
    host_ports: HashSet<String>,
}

fn validate_containers(
    list: &[Value],
    fld: &str,
    init: bool,
    ctx: &mut ContainerCtx<'_>,
    errs: &mut Vec<Cause>,
) {
    for (i, c) in list.iter().enumerate() {
        let p = ix(fld, i);
        let name = str_or_empty(c, &["name"]);
        if name.is_empty() {
            errs.push(required(ch(&p, "name"), ""));
        } else {
            for m in is_dns1123_label(name) {
                errs.push(invalid_str(ch(&p, "name"), name, &m));
            }
            if !ctx.names.insert(name.to_string()) {
                errs.push(duplicate(ch(&p, "name"), &json!(name)));
            }
        }
        let image = str_or_empty(c, &["image"]);
        if image.is_empty() {
            errs.push(required(ch(&p, "image"), ""));
        } else if image.trim() != image {
            errs.push(invalid_str(
                ch(&p, "image"),
                image,
                "must not have leading or trailing whitespace",
            ));
        }
        if let Some(v) = get_str(c, &["imagePullPolicy"])
            && !PULL_POLICIES.contains(&v)
        {
            errs.push(not_supported(
                ch(&p, "imagePullPolicy"),
                &json!(v),
                PULL_POLICIES,
            ));
        }
        if let Some(v) = get_str(c, &["terminationMessagePolicy"])
            && !TERMINATION_MESSAGE_POLICIES.contains(&v)
        {
            errs.push(not_supported(
                ch(&p, "terminationMessagePolicy"),
                &json!(v),
                TERMINATION_MESSAGE_POLICIES,
            ));
        }
        validate_ports(c, &ch(&p, "ports"), ctx, errs);
        validate_env(c, &ch(&p, "env"), errs);
        validate_volume_mounts(c, &ch(&p, "volumeMounts"), ctx.volumes, errs);
        validate_resources(c, &ch(&p, "resources"), errs);
        let sidecar = init && get_str(c, &["restartPolicy"]) == Some("Always");
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if init && !sidecar && get(c, &[probe]).is_some() {
                errs.push(forbidden(
                    ch(&p, probe),
                    "may not be set for init containers without restartPolicy=Always",
                ));
            } else {
                validate_probe(c, probe, &ch(&p, probe), errs);
            }
        }
        if let Some(rp) = get_str(c, &["restartPolicy"]) {
            if !init {
                errs.push(forbidden(
                    ch(&p, "restartPolicy"),
                    "may not be set for non-init containers",
                ));
            } else if rp != "Always" {
                errs.push(not_supported(
                    ch(&p, "restartPolicy"),
                    &json!(rp),
                    &["Always"],
                ));
            }
        }
    }
}

fn validate_ports(c: &Value, fld: &str, ctx: &mut ContainerCtx<'_>, errs: &mut Vec<Cause>) {
    let mut names = HashSet::new();
    for (i, port) in get_arr(c, &["ports"]).iter().enumerate() {
        let p = ix(fld, i);
        if let Some(name) = get_str(port, &["name"])
            && !name.is_empty()
        {
            for m in is_port_name(name) {
                errs.push(invalid_str(ch(&p, "name"), name, &m));
            }
            if !names.insert(name) {
                errs.push(duplicate(ch(&p, "name"), &json!(name)));
            }
        }
        match get(port, &["containerPort"]) {
            None => errs.push(required(ch(&p, "containerPort"), "")),
            Some(v) => {
                let n = v.as_i64().unwrap_or(0);
                if n == 0 {
                    errs.push(required(ch(&p, "containerPort"), ""));
                } else {
                    for m in is_port_num(n) {
                        errs.push(invalid(ch(&p, "containerPort"), v, &m));
                    }
                }
            }
        }
        let protocol = get_str(port, &["protocol"]).unwrap_or("TCP");
        if !PROTOCOLS.contains(&protocol) {
            errs.push(not_supported(
                ch(&p, "protocol"),
                &json!(protocol),
                PROTOCOLS,
            ));
        }
        if let Some(hp) = get(port, &["hostPort"]) {
            let n = hp.as_i64().unwrap_or(0);
            if n != 0 {
                for m in is_port_num(n) {
                    errs.push(invalid(ch(&p, "hostPort"), hp, &m));
                }
                let k = format!("{n}/{protocol}");
                if !ctx.host_ports.insert(k.clone()) {
                    errs.push(duplicate(ch(&p, "hostPort"), &json!(k)));
                }
            }
        }
    }
}

fn validate_env(c: &Value, fld: &str, errs: &mut Vec<Cause>) {
    for (i, e) in get_arr(c, &["env"]).iter().enumerate() {
        let p = ix(fld, i);
        let name = str_or_empty(e, &["name"]);
        if name.is_empty() {
            errs.push(required(ch(&p, "name"), ""));
        } else {
            for m in is_env_var_name(name) {
                errs.push(invalid_str(ch(&p, "name"), name, &m));
            }
        }
        if let Some(vf) = get(e, &["valueFrom"]) {
            let vp = ch(&p, "valueFrom");
            if !str_or_empty(e, &["value"]).is_empty() {
                errs.push(invalid_str(
                    &vp,
                    "",
                    "may not be specified when `value` is not empty",
                ));
            }
            let sources = [
                "fieldRef",
                "resourceFieldRef",
                "configMapKeyRef",
                "secretKeyRef",
                "fileKeyRef",
            ]
            .into_iter()
            .filter(|s| get(vf, &[s]).is_some())
            .count();
            if sources == 0 {
                errs.push(invalid_str(
                    &vp,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                ));
            } else if sources > 1 {
                errs.push(invalid_str(
                    &vp,
                    "",
                    "may not have more than one field specified at a time",
                ));
            }
            for r in ["configMapKeyRef", "secretKeyRef"] {
                if let Some(kr) = get(vf, &[r]) {
                    let k = str_or_empty(kr, &["key"]);
                    let kp = ch(&ch(&vp, r), "key");
                    if k.is_empty() {
                        errs.push(required(kp, ""));
                    } else {
                        for m in is_config_map_key(k) {
                            errs.push(invalid_str(&kp, k, &m));
                        }
                    }
                }
            }
            if let Some(fr) = get(vf, &["fieldRef"])
                && str_or_empty(fr, &["fieldPath"]).is_empty()
            {
                errs.push(required(ch(&ch(&vp, "fieldRef"), "fieldPath"), ""));
            }
        }
    }
}

fn validate_volume_mounts(c: &Value, fld: &str, volumes: &HashSet<String>, errs: &mut Vec<Cause>) {
    let mut paths = HashSet::new();
    for (i, m) in get_arr(c, &["volumeMounts"]).iter().enumerate() {
        let p = ix(fld, i);
        let name = str_or_empty(m, &["name"]);
        if name.is_empty() {
            errs.push(required(ch(&p, "name"), ""));
        }
        if !volumes.contains(name) {
            errs.push(not_found(ch(&p, "name"), &json!(name)));
        }
        let path = str_or_empty(m, &["mountPath"]);
        if path.is_empty() {
            errs.push(required(ch(&p, "mountPath"), ""));
        } else if !paths.insert(path) {
            errs.push(invalid_str(ch(&p, "mountPath"), path, "must be unique"));
        }
        let sub = str_or_empty(m, &["subPath"]);
        if !sub.is_empty() {
            if sub.starts_with('/') {
                errs.push(invalid_str(
                    ch(&p, "subPath"),
                    sub,
                    "must be a relative path",
                ));
            }
            if sub.split('/').any(|s| s == "..") {
                errs.push(invalid_str(ch(&p, "subPath"), sub, "must not contain '..'"));
            }
        }
    }
}

fn validate_tolerations(spec: &Value, fld: &str, errs: &mut Vec<Cause>) {
    for (i, t) in get_arr(spec, &["tolerations"]).iter().enumerate() {
        let p = ix(fld, i);
        let k = str_or_empty(t, &["key"]);
        if !k.is_empty() {
            for m in is_qualified_name(k) {
                errs.push(invalid_str(ch(&p, "key"), k, &m));
            }
        }
        let op = str_or_empty(t, &["operator"]);
        if k.is_empty() && op != "Exists" {
            errs.push(invalid_str(
                ch(&p, "operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let effect = str_or_empty(t, &["effect"]);
        if get(t, &["tolerationSeconds"]).is_some() && effect != "NoExecute" {
            errs.push(invalid_str(
                ch(&p, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = str_or_empty(t, &["value"]);
        match op {
            "" | "Equal" => {
                for m in is_label_value(value) {
                    errs.push(invalid_str(ch(&p, "operator"), value, &m));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(invalid(
                        ch(&p, "operator"),
                        t,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            _ => errs.push(not_supported(
                ch(&p, "operator"),
                &json!(op),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            errs.push(not_supported(
                ch(&p, "effect"),
                &json!(effect),
                TAINT_EFFECTS,
            ));
        }
    }
}

/// `ValidatePodSpec` on the spec at field path `fld` ("spec" for pods,
/// "spec.template.spec" for workloads).
pub fn validate_pod_spec(spec: &Value, fld: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    let volumes = validate_volumes(spec, &ch(fld, "volumes"), &mut errs);
    let mut ctx = ContainerCtx {
        volumes: &volumes,
        names: HashSet::new(),
        host_ports: HashSet::new(),
    };
    let containers = get_arr(spec, &["containers"]);
    if containers.is_empty() {
        errs.push(required(ch(fld, "containers"), ""));
    }
    // Regular containers are validated first; init container names must be
    // unique among all of them, so a clash is reported on the init container.
    validate_containers(
        containers,
        &ch(fld, "containers"),
        false,
        &mut ctx,
        &mut errs,
    );
    validate_containers(
        get_arr(spec, &["initContainers"]),
        &ch(fld, "initContainers"),
        true,
        &mut ctx,
        &mut errs,
    );
    if let Some(rp) = get_str(spec, &["restartPolicy"])
        && !RESTART_POLICIES.contains(&rp)
    {
        errs.push(not_supported(
            ch(fld, "restartPolicy"),
            &json!(rp),
            RESTART_POLICIES,
        ));
    }
    if let Some(dp) = get_str(spec, &["dnsPolicy"]) {
        if !DNS_POLICIES.contains(&dp) {
            errs.push(not_supported(
                ch(fld, "dnsPolicy"),
                &json!(dp),
                DNS_POLICIES,
            ));
        } else if dp == "None" && get(spec, &["dnsConfig"]).is_none() {
            errs.push(required(
                ch(fld, "dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ));
        }
    }
    if let Some(v) = get(spec, &["activeDeadlineSeconds"]) {
        let n = v.as_i64().unwrap_or(0);
        if !(1..=i64::from(i32::MAX)).contains(&n) {
            errs.push(invalid(
                ch(fld, "activeDeadlineSeconds"),
                v,
                &inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    for (f, rule) in [
        ("serviceAccountName", NameRule::Dns1123Subdomain),
        ("nodeName", NameRule::Dns1123Subdomain),
        ("hostname", NameRule::Dns1123Label),
        ("subdomain", NameRule::Dns1123Label),
        ("priorityClassName", NameRule::Dns1123Subdomain),
    ] {
        if let Some(v) = get_str(spec, &[f])
            && !v.is_empty()
        {
            for m in rule.check(v, false) {
                errs.push(invalid_str(ch(fld, f), v, &m));
            }
        }
    }
    validate_labels_at(spec, &["nodeSelector"], &ch(fld, "nodeSelector"), &mut errs);
    validate_tolerations(spec, &ch(fld, "tolerations"), &mut errs);
    errs
}

/// `ValidatePodTemplateSpec` at `fld` (e.g. "spec.template"); returns the
/// effective restart policy for the caller's kind-specific check.
fn validate_pod_template(tmpl: Option<&Value>, fld: &str, errs: &mut Vec<Cause>) -> String {
    let Some(t) = tmpl else {
        errs.push(required(fld, ""));
        return "Always".into();
    };
    let mp = ch(fld, "metadata");
    validate_labels_at(t, &["metadata", "labels"], &ch(&mp, "labels"), errs);
    validate_annotations_at(
        t,
        &["metadata", "annotations"],
        &ch(&mp, "annotations"),
        errs,
    );
    let empty = json!({});
    let spec = get(t, &["spec"]).unwrap_or(&empty);
    errs.extend(validate_pod_spec(spec, &ch(fld, "spec")));
    get_str(spec, &["restartPolicy"])
        .unwrap_or("Always")
        .to_string()
}

const POD_UPDATE_MSG: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn validate_pod_update(obj: &Value, old: &Value, errs: &mut Vec<Cause>) {
    let empty = json!({});
    let new_spec = get(obj, &["spec"]).unwrap_or(&empty);
    let old_spec = get(old, &["spec"]).unwrap_or(&empty);
    errs.extend(validate_pod_spec(new_spec, "spec"));

    if let (Some(o), n) = (
        get_i64(old_spec, &["activeDeadlineSeconds"]),
        get_i64(new_spec, &["activeDeadlineSeconds"]),
    ) {
        match n {
            None => errs.push(invalid(
                "spec.activeDeadlineSeconds",
                &Value::Null,
                "must not update from a positive integer to nil value",
            )),
            Some(n) if n > o => errs.push(invalid(
                "spec.activeDeadlineSeconds",
                &json!(n),
                "must be less than or equal to previous value",
            )),
            _ => {}
        }
    }

    // Mask the mutable fields, then compare what is left.
    let mut munged = new_spec.clone();
    let mut mask_images = |list: &str| {
        let old_list = get_arr(old_spec, &[list]);
        if let Some(arr) = munged.get_mut(list).and_then(Value::as_array_mut)
            && arr.len() == old_list.len()
        {
            for (c, oc) in arr.iter_mut().zip(old_list) {
                if let (Some(m), Some(img)) = (c.as_object_mut(), oc.get("image")) {
                    m.insert("image".into(), img.clone());
                }
            }
        }
    };
    mask_images("containers");
    mask_images("initContainers");
    let m = munged.as_object_mut();
    if let Some(m) = m {
        match old_spec.get("activeDeadlineSeconds") {
            Some(v) => m.insert("activeDeadlineSeconds".into(), v.clone()),
            None => m.remove("activeDeadlineSeconds"),
        };
        let old_tol = get_arr(old_spec, &["tolerations"]);
        let new_tol = get_arr(new_spec, &["tolerations"]);
        if old_tol.iter().all(|t| new_tol.contains(t)) {
            match old_spec.get("tolerations") {
                Some(v) => m.insert("tolerations".into(), v.clone()),
                None => m.remove("tolerations"),
            };
        }
        let old_grace = get_i64(old_spec, &["terminationGracePeriodSeconds"]);
        let new_grace = get_i64(new_spec, &["terminationGracePeriodSeconds"]);
        if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
            m.insert("terminationGracePeriodSeconds".into(), json!(old_grace));
        }
    }
    if strip_nulls(&munged) != strip_nulls(old_spec) {
        errs.push(forbidden("spec", POD_UPDATE_MSG));
    }
}

/// Null-valued object members are treated as absent when comparing.
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn immutable(obj: &Value, old: &Value, path: &[&str], fld: &str, errs: &mut Vec<Cause>) {
    let n = null_to_absent(get(obj, path)).map(strip_nulls);
    let o = null_to_absent(get(old, path)).map(strip_nulls);
    if n != o {
        errs.push(invalid(
            fld,
            n.as_ref().unwrap_or(&Value::Null),
            FIELD_IMMUTABLE,
        ));
    }
}

fn nonneg(obj: &Value, path: &[&str], fld: &str, errs: &mut Vec<Cause>) {
    if let Some(n) = get_i64(obj, path)
        && n < 0
    {
        errs.push(invalid(fld, &json!(n), NEGATIVE_MSG));
    }
}

// ---------------------------------------------------------------------------
// apps
// ---------------------------------------------------------------------------

/// `ValidatePositiveIntOrPercent` + `IsNotMoreThan100Percent`.
fn validate_int_or_percent(v: &Value, fld: &str, errs: &mut Vec<Cause>) {
    match v {
        Value::String(s) => {
            if !is_percent(s) {
                errs.push(invalid(
                    fld,
                    v,
                    &regex_error(PERCENT_MSG, PERCENT_FMT, &["1%", "93%"]),
                ));
            } else if s[..s.len() - 1].parse::<u64>().is_ok_and(|p| p > 100) {
                errs.push(invalid(fld, v, "must not be greater than 100%"));
            }
        }
        _ => {
            if v.as_i64().is_some_and(|n| n < 0) {
                errs.push(invalid(fld, v, NEGATIVE_MSG));
            }
        }
    }
}

fn is_zero_int_or_percent(v: Option<&Value>) -> bool {
    match v {
        None => true,
        Some(Value::String(s)) => s == "0%" || s == "0",
        Some(v) => v.as_i64() == Some(0),
    }
}

fn validate_rolling_update(ru: &Value, fld: &str, errs: &mut Vec<Cause>) {
    let mu = get(ru, &["maxUnavailable"]);
    let ms = get(ru, &["maxSurge"]);
    if let Some(v) = mu {
        validate_int_or_percent(v, &ch(fld, "maxUnavailable"), errs);
    }
    if let Some(v) = ms {
        validate_int_or_percent(v, &ch(fld, "maxSurge"), errs);
    }
    if mu.is_some() && is_zero_int_or_percent(mu) && is_zero_int_or_percent(ms) {
        errs.push(invalid(
            ch(fld, "maxUnavailable"),
            mu.unwrap_or(&Value::Null),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
}

/// Selector + template checks shared by the replicated workloads
/// (`ValidatePodTemplateSpecForReplicaSet` and friends).
fn validate_selector_and_template(
    obj: &Value,
    kind: &str,
    allowed_restart: &[&str],
    errs: &mut Vec<Cause>,
) {
    let empty = json!({});
    let spec = get(obj, &["spec"]).unwrap_or(&empty);
    let sel = get(spec, &["selector"]);
    match sel {
        None => errs.push(required("spec.selector", "")),
        Some(s) => {
            validate_label_selector(s, "spec.selector", errs);
            if selector_is_empty(s) {
                errs.push(invalid(
                    "spec.selector",
                    s,
                    &format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
    let tmpl = get(spec, &["template"]);
    if let (Some(s), Some(t)) = (sel, tmpl)
        && !selector_is_empty(s)
    {
        let labels = labels_of(t, &["metadata", "labels"]);
        if !selector_matches(s, &labels) {
            errs.push(invalid(
                "spec.template.metadata.labels",
                get(t, &["metadata", "labels"]).unwrap_or(&json!({})),
                "`selector` does not match template `labels`",
            ));
        }
    }
    let rp = validate_pod_template(tmpl, "spec.template", errs);
    if tmpl.is_some() && !allowed_restart.contains(&rp.as_str()) {
        errs.push(not_supported(
            "spec.template.spec.restartPolicy",
            &json!(rp),
            allowed_restart,
        ));
    }
    if allowed_restart == ["Always"]
        && let Some(v) = tmpl.and_then(|t| get(t, &["spec", "activeDeadlineSeconds"]))
    {
        errs.push(invalid(
            "spec.template.spec.activeDeadlineSeconds",
            v,
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

fn validate_deployment(obj: &Value, errs: &mut Vec<Cause>) {
    nonneg(obj, &["spec", "replicas"], "spec.replicas", errs);
    validate_selector_and_template(obj, "deployment", &["Always"], errs);
    if let Some(st) = get(obj, &["spec", "strategy"]) {
        let t = get_str(st, &["type"]).unwrap_or("RollingUpdate");
        match t {
            "Recreate" => {
                if get(st, &["rollingUpdate"]).is_some() {
                    errs.push(forbidden(
                        "spec.strategy.rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
            }
            "RollingUpdate" => {
                if let Some(ru) = get(st, &["rollingUpdate"]) {
                    validate_rolling_update(ru, "spec.strategy.rollingUpdate", errs);
                }
            }
            _ => errs.push(not_supported(
                "spec.strategy.type",
                &json!(t),
                &["Recreate", "RollingUpdate"],
            )),
        }
    }
    nonneg(
        obj,
        &["spec", "minReadySeconds"],
        "spec.minReadySeconds",
        errs,
    );
    nonneg(
        obj,
        &["spec", "revisionHistoryLimit"],
        "spec.revisionHistoryLimit",
        errs,
    );
    if let Some(pds) = get_i64(obj, &["spec", "progressDeadlineSeconds"]) {
        if pds < 0 {
            errs.push(invalid(
                "spec.progressDeadlineSeconds",
                &json!(pds),
                NEGATIVE_MSG,
            ));
        } else if pds <= get_i64(obj, &["spec", "minReadySeconds"]).unwrap_or(0) {
            errs.push(invalid(
                "spec.progressDeadlineSeconds",
                &json!(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn validate_replica_set(obj: &Value, kind: &str, errs: &mut Vec<Cause>) {
    nonneg(obj, &["spec", "replicas"], "spec.replicas", errs);
    nonneg(
        obj,
        &["spec", "minReadySeconds"],
        "spec.minReadySeconds",
        errs,
    );
    validate_selector_and_template(obj, kind, &["Always"], errs);
}

fn validate_stateful_set(obj: &Value, errs: &mut Vec<Cause>) {
    nonneg(obj, &["spec", "replicas"], "spec.replicas", errs);
    nonneg(
        obj,
        &["spec", "minReadySeconds"],
        "spec.minReadySeconds",
        errs,
    );
    if let Some(p) = get_str(obj, &["spec", "podManagementPolicy"])
        && !["OrderedReady", "Parallel"].contains(&p)
    {
        errs.push(invalid_str(
            "spec.podManagementPolicy",
            p,
            &format!("must be '{}' or '{}'", "OrderedReady", "Parallel"),
        ));
    }
    if let Some(st) = get(obj, &["spec", "updateStrategy"]) {
        match get_str(st, &["type"]).unwrap_or("RollingUpdate") {
            "OnDelete" => {
                if get(st, &["rollingUpdate"]).is_some() {
                    errs.push(invalid(
                        "spec.updateStrategy.rollingUpdate",
                        &st["rollingUpdate"],
                        "only allowed for updateStrategy 'RollingUpdate'",
                    ));
                }
            }
            "RollingUpdate" => {
                nonneg(
                    st,
                    &["rollingUpdate", "partition"],
                    "spec.updateStrategy.rollingUpdate.partition",
                    errs,
                );
                if let Some(mu) = get(st, &["rollingUpdate", "maxUnavailable"]) {
                    let f = "spec.updateStrategy.rollingUpdate.maxUnavailable";
                    validate_int_or_percent(mu, f, errs);
                    if is_zero_int_or_percent(Some(mu)) {
                        errs.push(invalid(f, mu, "must be greater than 0"));
                    }
                }
            }
            t => errs.push(invalid_str(
                "spec.updateStrategy.type",
                t,
                "must be 'RollingUpdate' or 'OnDelete'",
            )),
        }
    }
    validate_selector_and_template(obj, "statefulset", &["Always"], errs);
    let mut names = HashSet::new();
    for (i, t) in get_arr(obj, &["spec", "volumeClaimTemplates"])
        .iter()
        .enumerate()
    {
        let p = ix("spec.volumeClaimTemplates", i);
        let name = str_or_empty(t, &["metadata", "name"]);
        if name.is_empty() {
            errs.push(required(ch(&ch(&p, "metadata"), "name"), ""));
        } else if !names.insert(name) {
            errs.push(duplicate(ch(&ch(&p, "metadata"), "name"), &json!(name)));
        }
    }
}

fn validate_daemon_set(obj: &Value, errs: &mut Vec<Cause>) {
    nonneg(
        obj,
        &["spec", "minReadySeconds"],
        "spec.minReadySeconds",
        errs,
    );
    nonneg(
        obj,
        &["spec", "revisionHistoryLimit"],
        "spec.revisionHistoryLimit",
        errs,
    );
    validate_selector_and_template(obj, "daemonset", &["Always"], errs);
    if let Some(st) = get(obj, &["spec", "updateStrategy"]) {
        match get_str(st, &["type"]).unwrap_or("RollingUpdate") {
            "OnDelete" => {}
            "RollingUpdate" => {
                if let Some(ru) = get(st, &["rollingUpdate"]) {
                    validate_rolling_update(ru, "spec.updateStrategy.rollingUpdate", errs);
                }
            }
            t => errs.push(not_supported(
                "spec.updateStrategy.type",
                &json!(t),
                &["OnDelete", "RollingUpdate"],
            )),
        }
    }
}

const STATEFULSET_UPDATE_MSG: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

fn validate_stateful_set_update(obj: &Value, old: &Value, errs: &mut Vec<Cause>) {
    let strip = |v: &Value| {
        let mut s = strip_nulls(get(v, &["spec"]).unwrap_or(&json!({})));
        if let Some(m) = s.as_object_mut() {
            for f in [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ] {
                m.remove(f);
            }
        }
        s
    };
    if strip(obj) != strip(old) {
        errs.push(forbidden("spec", STATEFULSET_UPDATE_MSG));
    }
}

// ---------------------------------------------------------------------------
// batch
// ---------------------------------------------------------------------------

fn validate_job_spec(spec: &Value, fld: &str, errs: &mut Vec<Cause>) {
    for f in ["parallelism", "completions", "backoffLimit"] {
        nonneg(spec, &[f], &ch(fld, f), errs);
    }
    if let Some(n) = get_i64(spec, &["activeDeadlineSeconds"])
        && n <= 0
    {
        errs.push(invalid(
            ch(fld, "activeDeadlineSeconds"),
            &json!(n),
            "must be greater than 0",
        ));
    }
    nonneg(
        spec,
        &["ttlSecondsAfterFinished"],
        &ch(fld, "ttlSecondsAfterFinished"),
        errs,
    );
    match get_str(spec, &["completionMode"]) {
        None | Some("NonIndexed") => {}
        Some("Indexed") => {
            if get(spec, &["completions"]).is_none() {
                errs.push(required(
                    ch(fld, "completions"),
                    "when completion mode is Indexed",
                ));
            }
        }
        Some(m) => errs.push(not_supported(
            ch(fld, "completionMode"),
            &json!(m),
            &["NonIndexed", "Indexed"],
        )),
    }
    let sel = get(spec, &["selector"]);
    if let Some(s) = sel {
        validate_label_selector(s, &ch(fld, "selector"), errs);
    } else if get_bool(spec, &["manualSelector"]) == Some(true) {
        errs.push(required(ch(fld, "selector"), ""));
    }
    let tmpl = get(spec, &["template"]);
    if let (Some(s), Some(t)) = (sel, tmpl)
        && !selector_is_empty(s)
        && !selector_matches(s, &labels_of(t, &["metadata", "labels"]))
    {
        errs.push(invalid(
            ch(&ch(&ch(fld, "template"), "metadata"), "labels"),
            get(t, &["metadata", "labels"]).unwrap_or(&json!({})),
            "`selector` does not match template `labels`",
        ));
    }
    let tp = ch(fld, "template");
    let rp = validate_pod_template(tmpl, &tp, errs);
    if tmpl.is_some() && rp != "OnFailure" && rp != "Never" {
        errs.push(not_supported(
            ch(&ch(&tp, "spec"), "restartPolicy"),
            &json!(rp),
            &["OnFailure", "Never"],
        ));
    }
}

fn validate_job_update(obj: &Value, old: &Value, errs: &mut Vec<Cause>) {
    immutable(obj, old, &["spec", "selector"], "spec.selector", errs);
    immutable(
        obj,
        old,
        &["spec", "completionMode"],
        "spec.completionMode",
        errs,
    );
    if get_str(obj, &["spec", "completionMode"]) != Some("Indexed") {
        immutable(obj, old, &["spec", "completions"], "spec.completions", errs);
    }
    // Scheduling directives of a suspended job that never started may change;
    // otherwise the template is immutable.
    let suspended_unstarted = get_bool(old, &["spec", "suspend"]) == Some(true)
        && get(old, &["status", "startTime"]).is_none();
    if suspended_unstarted {
        let strip = |v: &Value| {
            let mut t = strip_nulls(get(v, &["spec", "template"]).unwrap_or(&json!({})));
            if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                for f in ["nodeSelector", "tolerations", "affinity", "schedulingGates"] {
                    s.remove(f);
                }
            }
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            t
        };
        if strip(obj) != strip(old) {
            errs.push(invalid(
                "spec.template",
                get(obj, &["spec", "template"]).unwrap_or(&Value::Null),
                FIELD_IMMUTABLE,
            ));
        }
    } else {
        immutable(obj, old, &["spec", "template"], "spec.template", errs);
    }
}

fn validate_cron_schedule(s: &str) -> Option<String> {
    if let Some(d) = s.strip_prefix('@') {
        if let Some(every) = d.strip_prefix("every ") {
            return (every.trim().is_empty()).then(|| format!("failed to parse duration {every}"));
        }
        return (!matches!(
            d,
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly"
        ))
        .then(|| format!("unrecognized descriptor: {s}"));
    }
    // Strip an optional TZ=/CRON_TZ= prefix (rejected separately upstream).
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!(
            "expected exactly 5 fields, found {}: {}",
            fields.len(),
            s
        ));
    }
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (f, (lo, hi)) in fields.iter().zip(ranges) {
        for part in f.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            if let Some(st) = step
                && st.parse::<u32>().map_or(true, |n| n == 0)
            {
                return Some(format!("failed to parse int from {st}"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            let bounds: Vec<&str> = range.split('-').collect();
            if bounds.len() > 2 {
                return Some(format!("too many hyphens: {range}"));
            }
            for b in &bounds {
                let n = match b.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => {
                        // Month and weekday names.
                        const NAMES: [&str; 19] = [
                            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                            "nov", "dec", "sun", "mon", "tue", "wed", "thu", "fri", "sat",
                        ];
                        if NAMES.contains(&b.to_lowercase().as_str()) {
                            continue;
                        }
                        return Some(format!("failed to parse int from {b}"));
                    }
                };
                if n < lo || n > hi {
                    return Some(format!("end of range ({n}) above maximum ({hi}): {range}"));
                }
            }
        }
    }
    None
}

fn validate_cron_job(obj: &Value, errs: &mut Vec<Cause>) {
    let name = str_or_empty(obj, &["metadata", "name"]);
    if name.len() > 52 {
        errs.push(invalid_str("metadata.name", name, &max_len_error(52)));
    }
    match get_str(obj, &["spec", "schedule"]) {
        None | Some("") => errs.push(required("spec.schedule", "")),
        Some(s) => {
            if s.contains("TZ") {
                errs.push(invalid_str(
                    "spec.schedule",
                    s,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            } else if let Some(m) = validate_cron_schedule(s) {
                errs.push(invalid_str("spec.schedule", s, &m));
            }
        }
    }
    if let Some(p) = get_str(obj, &["spec", "concurrencyPolicy"])
        && !["Allow", "Forbid", "Replace"].contains(&p)
    {
        errs.push(not_supported(
            "spec.concurrencyPolicy",
            &json!(p),
            &["Allow", "Forbid", "Replace"],
        ));
    }
    for f in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        nonneg(obj, &["spec", f], &ch("spec", f), errs);
    }
    let jt = "spec.jobTemplate";
    let empty = json!({});
    let jt_v = get(obj, &["spec", "jobTemplate"]).unwrap_or(&empty);
    validate_labels_at(
        jt_v,
        &["metadata", "labels"],
        &ch(&ch(jt, "metadata"), "labels"),
        errs,
    );
    let js = get(jt_v, &["spec"]).unwrap_or(&empty);
    validate_job_spec(js, &ch(jt, "spec"), errs);
}

// ---------------------------------------------------------------------------
// core: Service, ConfigMap, Secret, Namespace, Node
// ---------------------------------------------------------------------------

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

fn validate_service(obj: &Value, errs: &mut Vec<Cause>) {
    let empty = json!({});
    let spec = get(obj, &["spec"]).unwrap_or(&empty);
    let stype = get_str(spec, &["type"]).unwrap_or("ClusterIP");
    let cluster_ip = str_or_empty(spec, &["clusterIP"]);
    let headless = cluster_ip == "None";
    if !SERVICE_TYPES.contains(&stype) {
        errs.push(not_supported("spec.type", &json!(stype), SERVICE_TYPES));
    }
    let ports = get_arr(spec, &["ports"]);
    if stype == "ExternalName" {
        if !cluster_ip.is_empty() {
            errs.push(forbidden(
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ));
        }
        let en = str_or_empty(spec, &["externalName"]);
        if en.is_empty() {
            errs.push(required("spec.externalName", ""));
        } else {
            let trimmed = en.strip_suffix('.').unwrap_or(en);
            for m in is_dns1123_subdomain(trimmed) {
                errs.push(invalid_str("spec.externalName", en, &m));
            }
        }
    } else if ports.is_empty() && !headless {
        errs.push(required("spec.ports", ""));
    }
    if !cluster_ip.is_empty() && !headless && cluster_ip.parse::<IpAddr>().is_err() {
        errs.push(invalid_str(
            "spec.clusterIPs[0]",
            cluster_ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
    if let Some(first) = get_arr(spec, &["clusterIPs"])
        .first()
        .and_then(Value::as_str)
        && !cluster_ip.is_empty()
        && first != cluster_ip
    {
        errs.push(invalid(
            "spec.clusterIPs",
            &spec["clusterIPs"],
            "first value must match `clusterIP`",
        ));
    }
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = ix("spec.ports", i);
        let name = str_or_empty(port, &["name"]);
        if ports.len() > 1 && name.is_empty() {
            errs.push(required(ch(&p, "name"), ""));
        } else if !name.is_empty() {
            for m in is_dns1123_label(name) {
                errs.push(invalid_str(ch(&p, "name"), name, &m));
            }
            if !names.insert(name) {
                errs.push(duplicate(ch(&p, "name"), &json!(name)));
            }
        }
        let num = get_i64(port, &["port"]).unwrap_or(0);
        for m in is_port_num(num) {
            errs.push(invalid(
                ch(&p, "port"),
                get(port, &["port"]).unwrap_or(&json!(0)),
                &m,
            ));
        }
        let protocol = get_str(port, &["protocol"]).unwrap_or("TCP");
        if !PROTOCOLS.contains(&protocol) {
            errs.push(not_supported(
                ch(&p, "protocol"),
                &json!(protocol),
                PROTOCOLS,
            ));
        }
        if let Some(tp) = get(port, &["targetPort"]) {
            validate_port_num_or_name(tp, &ch(&p, "targetPort"), errs);
        }
        if let Some(np) = get_i64(port, &["nodePort"])
            && np != 0
        {
            if stype == "ClusterIP" {
                errs.push(forbidden(
                    ch(&p, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else {
                for m in is_port_num(np) {
                    errs.push(invalid(ch(&p, "nodePort"), &json!(np), &m));
                }
            }
        }
        if !keys.insert((num, protocol)) {
            errs.push(duplicate(
                &p,
                &json!({"protocol": protocol, "port": num, "targetPort": 0}),
            ));
        }
    }
    validate_labels_at(spec, &["selector"], "spec.selector", errs);
    if let Some(sa) = get_str(spec, &["sessionAffinity"])
        && !["ClientIP", "None"].contains(&sa)
    {
        errs.push(not_supported(
            "spec.sessionAffinity",
            &json!(sa),
            &["ClientIP", "None"],
        ));
    }
    for f in ["internalTrafficPolicy", "externalTrafficPolicy"] {
        if let Some(v) = get_str(spec, &[f])
            && !["Cluster", "Local"].contains(&v)
        {
            errs.push(not_supported(
                ch("spec", f),
                &json!(v),
                &["Cluster", "Local"],
            ));
        }
    }
    if get(spec, &["externalTrafficPolicy"]).is_some()
        && !["NodePort", "LoadBalancer"].contains(&stype)
    {
        errs.push(invalid(
            "spec.externalTrafficPolicy",
            &spec["externalTrafficPolicy"],
            "may only be set for externally-accessible services",
        ));
    }
    if let Some(p) = get_str(spec, &["ipFamilyPolicy"])
        && !["SingleStack", "PreferDualStack", "RequireDualStack"].contains(&p)
    {
        errs.push(not_supported(
            "spec.ipFamilyPolicy",
            &json!(p),
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }
    let mut fams = HashSet::new();
    for (i, f) in get_arr(spec, &["ipFamilies"]).iter().enumerate() {
        let fs = f.as_str().unwrap_or("");
        if !["IPv4", "IPv6"].contains(&fs) {
            errs.push(not_supported(
                ix("spec.ipFamilies", i),
                f,
                &["IPv4", "IPv6"],
            ));
        } else if !fams.insert(fs) {
            errs.push(duplicate(ix("spec.ipFamilies", i), f));
        }
    }
}

fn validate_service_update(obj: &Value, old: &Value, errs: &mut Vec<Cause>) {
    let old_type = get_str(old, &["spec", "type"]).unwrap_or("ClusterIP");
    let new_type = get_str(obj, &["spec", "type"]).unwrap_or("ClusterIP");
    if old_type == "ExternalName" || new_type == "ExternalName" {
        return;
    }
    let old_ip = str_or_empty(old, &["spec", "clusterIP"]);
    let new_ip = str_or_empty(obj, &["spec", "clusterIP"]);
    if !old_ip.is_empty() && !new_ip.is_empty() && old_ip != new_ip {
        let ips = get(obj, &["spec", "clusterIPs"])
            .cloned()
            .unwrap_or_else(|| json!([new_ip]));
        errs.push(invalid(
            "spec.clusterIPs[0]",
            &ips,
            "may not change once set",
        ));
    }
}

fn decode_base64_len(s: &str) -> Result<usize, usize> {
    let b = s.as_bytes();
    let mut n = 0usize;
    let mut pad = 0usize;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pad == 0 => n += 1,
            b'=' if i + 2 >= b.len() && i >= 2 => pad += 1,
            b'\r' | b'\n' => {}
            _ => return Err(i),
        }
    }
    let total = n + pad;
    if !total.is_multiple_of(4) {
        return Err(b.len() - b.len() % 4);
    }
    Ok(n * 3 / 4)
}

fn validate_data_keys(obj: &Value, part: &str, errs: &mut Vec<Cause>) {
    if let Some(m) = get_obj(obj, &[part]) {
        for k in m.keys() {
            for msg in is_config_map_key(k) {
                errs.push(invalid_str(key(part, k), k, &msg));
            }
        }
    }
}

fn validate_config_map(obj: &Value, errs: &mut Vec<Cause>) {
    validate_data_keys(obj, "data", errs);
    validate_data_keys(obj, "binaryData", errs);
    let mut total = 0;
    let data = get_obj(obj, &["data"]);
    if let Some(m) = data {
        total += m
            .values()
            .map(|v| v.as_str().map_or(0, str::len))
            .sum::<usize>();
    }
    if let Some(m) = get_obj(obj, &["binaryData"]) {
        for (k, v) in m {
            if data.is_some_and(|d| d.contains_key(k)) {
                errs.push(invalid_str(
                    key("data", k),
                    k,
                    "duplicate of key present in binaryData",
                ));
            }
            match decode_base64_len(v.as_str().unwrap_or("")) {
                Ok(n) => total += n,
                Err(at) => errs.push(invalid_omitted(
                    key("binaryData", k),
                    &format!("illegal base64 data at input byte {at}"),
                )),
            }
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long("", MAX_SECRET_SIZE));
    }
}

const SA_NAME_KEY: &str = "kubernetes.io/service-account.name";

fn validate_secret(obj: &Value, errs: &mut Vec<Cause>) {
    validate_data_keys(obj, "data", errs);
    let mut total = 0;
    let data = get_obj(obj, &["data"]);
    if let Some(m) = data {
        for (k, v) in m {
            match decode_base64_len(v.as_str().unwrap_or("")) {
                Ok(n) => total += n,
                Err(at) => errs.push(invalid_omitted(
                    key("data", k),
                    &format!("illegal base64 data at input byte {at}"),
                )),
            }
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let require_key = |k: &str, errs: &mut Vec<Cause>| {
        if !has(k) {
            errs.push(required(key("data", k), ""));
        }
    };
    match get_str(obj, &["type"]).unwrap_or("Opaque") {
        "kubernetes.io/service-account-token"
            if str_or_empty(obj, &["metadata", "annotations", SA_NAME_KEY]).is_empty() =>
        {
            errs.push(required(
                "metadata.annotations[kubernetes.io/service-account.name]",
                "",
            ));
        }
        "kubernetes.io/dockercfg" => require_key(".dockercfg", errs),
        "kubernetes.io/dockerconfigjson" => require_key(".dockerconfigjson", errs),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(required(
                key("data", "username"),
                "either username or password is required",
            ));
        }
        "kubernetes.io/ssh-auth" => require_key("ssh-privatekey", errs),
        "kubernetes.io/tls" => {
            require_key("tls.key", errs);
            require_key("tls.crt", errs);
        }
        _ => {}
    }
}

fn validate_immutable_data(obj: &Value, old: &Value, parts: &[&str], errs: &mut Vec<Cause>) {
    if get_bool(old, &["immutable"]) != Some(true) {
        return;
    }
    if get_bool(obj, &["immutable"]) != Some(true) {
        errs.push(forbidden(
            "immutable",
            "field is immutable when `immutable` is set",
        ));
    }
    for p in parts {
        let n = get_obj(obj, &[p]).filter(|m| !m.is_empty());
        let o = get_obj(old, &[p]).filter(|m| !m.is_empty());
        if n != o {
            errs.push(forbidden(*p, "field is immutable when `immutable` is set"));
        }
    }
}

fn validate_namespace(obj: &Value, errs: &mut Vec<Cause>) {
    for (i, f) in get_arr(obj, &["spec", "finalizers"]).iter().enumerate() {
        let p = ix("spec.finalizers", i);
        let f = f.as_str().unwrap_or("");
        let msgs = is_qualified_name(f);
        let none = msgs.is_empty();
        for m in msgs {
            errs.push(invalid_str(&p, f, &m));
        }
        if none && f != "kubernetes" && !f.contains('/') {
            errs.push(invalid_str(
                &p,
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

fn validate_node(obj: &Value, errs: &mut Vec<Cause>) {
    let cidrs: Vec<Value> = match get_arr(obj, &["spec", "podCIDRs"]) {
        [] => get(obj, &["spec", "podCIDR"])
            .cloned()
            .into_iter()
            .collect(),
        list => list.to_vec(),
    };
    for (i, c) in cidrs.iter().enumerate() {
        let s = c.as_str().unwrap_or("");
        if !is_cidr(s) {
            errs.push(invalid_str(
                ix("spec.podCIDRs", i),
                s,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    }
    if cidrs.len() > 2 {
        errs.push(invalid(
            "spec.podCIDRs",
            &Value::Array(cidrs.clone()),
            "may specify no more than one CIDR for each IP family",
        ));
    }
    let mut seen = HashSet::new();
    for (i, t) in get_arr(obj, &["spec", "taints"]).iter().enumerate() {
        let p = ix("spec.taints", i);
        let k = str_or_empty(t, &["key"]);
        if k.is_empty() {
            errs.push(required(ch(&p, "key"), ""));
        }
        for m in is_qualified_name(k) {
            if !k.is_empty() {
                errs.push(invalid_str(ch(&p, "key"), k, &m));
            }
        }
        let v = str_or_empty(t, &["value"]);
        for m in is_label_value(v) {
            errs.push(invalid_str(ch(&p, "value"), v, &m));
        }
        let e = str_or_empty(t, &["effect"]);
        if e.is_empty() {
            errs.push(required(ch(&p, "effect"), ""));
        } else if !TAINT_EFFECTS.contains(&e) {
            errs.push(not_supported(ch(&p, "effect"), &json!(e), TAINT_EFFECTS));
        }
        if !seen.insert((k, e)) {
            errs.push(invalid(
                &p,
                t,
                "taints must be unique by key and effect pair",
            ));
        }
    }
}

fn validate_node_update(obj: &Value, old: &Value, errs: &mut Vec<Cause>) {
    let old_cidrs = get_arr(old, &["spec", "podCIDRs"]);
    if !old_cidrs.is_empty() && get_arr(obj, &["spec", "podCIDRs"]) != old_cidrs {
        errs.push(forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_cidr = str_or_empty(old, &["spec", "podCIDR"]);
    let new_cidr = str_or_empty(obj, &["spec", "podCIDR"]);
    if old_cidrs.is_empty() && !old_cidr.is_empty() && new_cidr != old_cidr {
        errs.push(forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_id = str_or_empty(old, &["spec", "providerID"]);
    if !old_id.is_empty() && str_or_empty(obj, &["spec", "providerID"]) != old_id {
        errs.push(forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
}

fn validate_lease(obj: &Value, errs: &mut Vec<Cause>) {
    if let Some(n) = get_i64(obj, &["spec", "leaseDurationSeconds"])
        && n <= 0
    {
        errs.push(invalid(
            "spec.leaseDurationSeconds",
            &json!(n),
            "must be greater than 0",
        ));
    }
    nonneg(
        obj,
        &["spec", "leaseTransitions"],
        "spec.leaseTransitions",
        errs,
    );
    if let Some(s) = get_str(obj, &["spec", "strategy"])
        && !s.is_empty()
        && s != "OldestEmulationVersion"
    {
        errs.push(not_supported(
            "spec.strategy",
            &json!(s),
            &["OldestEmulationVersion"],
        ));
    }
    if !str_or_empty(obj, &["spec", "preferredHolder"]).is_empty()
        && str_or_empty(obj, &["spec", "strategy"]).is_empty()
    {
        errs.push(forbidden(
            "spec.preferredHolder",
            "may only be specified if `strategy` is defined",
        ));
    }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Validates a create (`old = None`) or update (`old = Some`) of a main
/// resource (not a subresource). `group` is "" for core.
pub fn validate(
    group: &str,
    kind: &str,
    obj: &Value,
    old: Option<&Value>,
    namespaced: bool,
) -> Vec<Cause> {
    let mut errs = match old {
        None => validate_object_meta(obj, namespaced, name_rule(group, kind)),
        Some(o) => validate_object_meta_update(obj, o),
    };
    let e = &mut errs;
    match (group, kind) {
        ("", "Pod") => match old {
            None => e.extend(validate_pod_spec(
                get(obj, &["spec"]).unwrap_or(&json!({})),
                "spec",
            )),
            Some(o) => validate_pod_update(obj, o, e),
        },
        ("", "PodTemplate") => {
            validate_pod_template(get(obj, &["template"]), "template", e);
        }
        ("", "ReplicationController") => {
            nonneg(obj, &["spec", "replicas"], "spec.replicas", e);
            let rp = validate_pod_template(get(obj, &["spec", "template"]), "spec.template", e);
            if get(obj, &["spec", "template"]).is_some() && rp != "Always" {
                e.push(not_supported(
                    "spec.template.spec.restartPolicy",
                    &json!(rp),
                    &["Always"],
                ));
            }
        }
        ("", "Service") => {
            validate_service(obj, e);
            if let Some(o) = old {
                validate_service_update(obj, o, e);
            }
        }
        ("", "ConfigMap") => {
            validate_config_map(obj, e);
            if let Some(o) = old {
                validate_immutable_data(obj, o, &["data", "binaryData"], e);
            }
        }
        ("", "Secret") => {
            validate_secret(obj, e);
            if let Some(o) = old {
                let nt = get_str(obj, &["type"]).unwrap_or("Opaque");
                let ot = get_str(o, &["type"]).unwrap_or("Opaque");
                if nt != ot {
                    e.push(invalid_str("type", nt, FIELD_IMMUTABLE));
                }
                validate_immutable_data(obj, o, &["data"], e);
            }
        }
        ("", "Namespace") => validate_namespace(obj, e),
        ("", "Node") => {
            validate_node(obj, e);
            if let Some(o) = old {
                validate_node_update(obj, o, e);
            }
        }
        ("apps", "Deployment") => {
            validate_deployment(obj, e);
            if let Some(o) = old {
                immutable(obj, o, &["spec", "selector"], "spec.selector", e);
            }
        }
        ("apps", "ReplicaSet") => {
            validate_replica_set(obj, "replicaset", e);
            if let Some(o) = old {
                immutable(obj, o, &["spec", "selector"], "spec.selector", e);
            }
        }
        ("apps", "StatefulSet") => {
            validate_stateful_set(obj, e);
            if let Some(o) = old {
                validate_stateful_set_update(obj, o, e);
            }
        }
        ("apps", "DaemonSet") => {
            validate_daemon_set(obj, e);
            if let Some(o) = old {
                immutable(obj, o, &["spec", "selector"], "spec.selector", e);
            }
        }
        ("batch", "Job") => {
            validate_job_spec(get(obj, &["spec"]).unwrap_or(&json!({})), "spec", e);
            if let Some(o) = old {
                validate_job_update(obj, o, e);
            }
        }
        ("batch", "CronJob") => validate_cron_job(obj, e),
        ("coordination.k8s.io", "Lease") => validate_lease(obj, e),
        _ => {}
    }
    errs
}

/// Validation of a status subresource update: object metadata plus
/// non-negative status counters of the workload kinds.
pub fn validate_status(group: &str, kind: &str, obj: &Value, old: &Value) -> Vec<Cause> {
    let mut errs = validate_object_meta_update(obj, old);
    let counters: &[&str] = match (group, kind) {
        ("apps", "Deployment") => &[
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
            "observedGeneration",
        ],
        ("apps", "ReplicaSet") | ("", "ReplicationController") => &[
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "observedGeneration",
        ],
        ("apps", "StatefulSet") => &[
            "replicas",
            "readyReplicas",
            "currentReplicas",
            "updatedReplicas",
            "availableReplicas",
            "observedGeneration",
        ],
        ("apps", "DaemonSet") => &[
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
            "updatedNumberScheduled",
            "numberAvailable",
            "numberUnavailable",
            "observedGeneration",
        ],
        ("batch", "Job") => &["active", "succeeded", "failed"],
        _ => &[],
    };
    for c in counters {
        nonneg(obj, &["status", c], &ch("status", c), &mut errs);
    }
    if (group, kind) == ("", "Service") {
        for (i, ing) in get_arr(obj, &["status", "loadBalancer", "ingress"])
            .iter()
            .enumerate()
        {
            let p = ix("status.loadBalancer.ingress", i);
            if let Some(ip) = get_str(ing, &["ip"])
                && ip.parse::<IpAddr>().is_err()
            {
                errs.push(invalid_str(
                    ch(&p, "ip"),
                    ip,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                ));
            }
            if let Some(h) = get_str(ing, &["hostname"]) {
                for m in is_dns1123_subdomain(h) {
                    errs.push(invalid_str(ch(&p, "hostname"), h, &m));
                }
            }
        }
    }
    if (group, kind) == ("", "Pod")
        && let Some(ph) = get_str(obj, &["status", "phase"])
        && !["Pending", "Running", "Succeeded", "Failed", "Unknown"].contains(&ph)
    {
        errs.push(not_supported(
            "status.phase",
            &json!(ph),
            &["Failed", "Pending", "Running", "Succeeded", "Unknown"],
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    fn c(reason: &'static str, field: &str, message: &str) -> Cause {
        Cause {
            reason,
            field: field.into(),
            message: message.into(),
        }
    }

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default"})
    }

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("p"), "spec": spec})
    }

    fn ok_pod() -> Value {
        pod(json!({
            "volumes": [{"name": "data", "emptyDir": {}}],
            "containers": [{
                "name": "app", "image": "nginx:1.25",
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                "env": [{"name": "MY_VAR", "value": "x"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "resources": {"limits": {"cpu": "1", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}
            }],
            "initContainers": [{"name": "init", "image": "busybox"}],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
            "nodeSelector": {"disk": "ssd"}
        }))
    }

    fn core(kind: &str, obj: &Value) -> Vec<Cause> {
        validate("", kind, obj, None, kind != "Namespace" && kind != "Node")
    }

    fn one(errs: Vec<Cause>) -> Cause {
        assert_eq!(errs.len(), 1, "expected exactly one cause, got {errs:#?}");
        errs.into_iter().next().unwrap()
    }

    fn with(mut v: Value, path: &[&str], value: Value) -> Value {
        let mut cur = &mut v;
        for p in &path[..path.len() - 1] {
            cur = if let Ok(i) = p.parse::<usize>() {
                &mut cur[i]
            } else {
                &mut cur[*p]
            };
        }
        let last = path[path.len() - 1];
        match value {
            Value::Null => {
                cur.as_object_mut().unwrap().remove(last);
            }
            value => cur[last] = value,
        }
        v
    }

    // ---- util/validation ------------------------------------------------

    #[test]
    fn name_formats() {
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert_eq!(is_dns1123_subdomain("Foo_"), vec![SUBDOMAIN.to_string()]);
        assert_eq!(
            is_dns1123_subdomain(&"a".repeat(254)),
            vec!["must be no more than 253 characters".to_string()]
        );
        assert!(is_dns1123_label("my-name").is_empty());
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
        assert_eq!(is_dns1123_label("-a"), vec![LABEL]);
        assert_eq!(
            is_dns1035_label("1abc"),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        assert!(is_qualified_name("example.com/My_Name-1").is_empty());
        assert_eq!(is_qualified_name("-x"), vec![NAME_PART]);
        assert_eq!(
            is_qualified_name("/x"),
            vec!["prefix part must be non-empty"]
        );
        assert_eq!(
            is_qualified_name("Bad_/x"),
            vec![format!("prefix part {SUBDOMAIN}")]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec![
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        );
        assert_eq!(
            is_qualified_name("x/"),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART.to_string()
            ]
        );
        assert!(is_label_value("").is_empty());
        assert_eq!(
            is_label_value("a b"),
            vec![
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ]
        );
        assert_eq!(
            is_port_name("http--x"),
            vec!["must not contain consecutive hyphens"]
        );
        assert_eq!(
            is_port_name("80"),
            vec!["must contain at least one letter (a-z)"]
        );
        assert_eq!(is_path_segment_name(".."), vec!["may not be '..'"]);
        assert_eq!(
            is_path_segment_name("a/b%"),
            vec!["may not contain '/'", "may not contain '%'"]
        );
        assert_eq!(is_config_map_key(".."), vec!["must not be '..'"]);
        assert!(is_env_var_name("1-weird.name").is_empty());
        assert_eq!(parse_quantity("1.5Gi"), Some(1.5 * 1024f64.powi(3)));
        assert_eq!(parse_quantity("250m"), Some(0.25));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("1x"), None);
        assert_eq!(parse_quantity("m"), None);
        assert!(is_cidr("10.244.0.0/24") && is_cidr("fd00::/64") && !is_cidr("10.0.0.0/33"));
        assert_eq!(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
    }

    // ---- ObjectMeta -----------------------------------------------------

    #[test]
    fn object_meta_create() {
        let ok = json!({"metadata": {
            "name": "cfg", "namespace": "default",
            "labels": {"app.kubernetes.io/name": "x", "tier": ""},
            "annotations": {"example.com/Note": "anything goes"},
            "finalizers": ["example.com/cleanup"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true}]
        }});
        assert_eq!(core("ConfigMap", &ok), vec![]);

        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"namespace": "default"}})
            )),
            c(
                REQUIRED,
                "metadata.name",
                "Required value: name or generateName is required"
            )
        );
        assert_eq!(
            one(core("ConfigMap", &json!({"metadata": meta("Foo_")}))),
            c(
                INVALID,
                "metadata.name",
                &format!("Invalid value: \"Foo_\": {SUBDOMAIN}")
            )
        );
        assert_eq!(
            one(core("ConfigMap", &json!({"metadata": {"name": "x"}}))),
            c(REQUIRED, "metadata.namespace", "Required value")
        );
        assert_eq!(
            one(validate(
                "",
                "Node",
                &json!({"metadata": meta("n1")}),
                None,
                false
            )),
            c(
                FORBIDDEN,
                "metadata.namespace",
                "Forbidden: not allowed on this type"
            )
        );
        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "Bad"}})
            )),
            c(
                INVALID,
                "metadata.namespace",
                &format!("Invalid value: \"Bad\": {LABEL}")
            )
        );
        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "d", "labels": {"-k": "v"}}})
            )),
            c(
                INVALID,
                "metadata.labels",
                &format!("Invalid value: \"-k\": {NAME_PART}")
            )
        );
        let long = "v".repeat(64);
        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "d", "labels": {"k": long}}})
            )),
            c(
                INVALID,
                "metadata.labels",
                &format!("Invalid value: \"{long}\": must be no more than 63 characters")
            )
        );
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "d", "annotations": {"a": big}}})
            )),
            c(
                TOO_LONG,
                "metadata.annotations",
                "Too long: may not be more than 262144 bytes"
            )
        );
        assert_eq!(
            one(core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "d", "finalizers": ["bad finalizer"]}})
            )),
            c(
                INVALID,
                "metadata.finalizers",
                &format!("Invalid value: \"bad finalizer\": {NAME_PART}")
            )
        );
        assert_eq!(
            core(
                "ConfigMap",
                &json!({"metadata": {"name": "x", "namespace": "d", "generateName": "Web-"}})
            ),
            vec![c(
                INVALID,
                "metadata.generateName",
                &format!("Invalid value: \"Web-\": {SUBDOMAIN}")
            )]
        );
    }

    #[test]
    fn owner_references() {
        let refs = json!([
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
            {"apiVersion": "a/b/c", "kind": "ReplicaSet", "name": "b", "controller": true}
        ]);
        let errs = core(
            "ConfigMap",
            &json!({"metadata": {"name": "x", "namespace": "d", "ownerReferences": refs}}),
        );
        assert_eq!(
            errs,
            vec![
                c(
                    INVALID,
                    "metadata.ownerReferences[1].apiVersion",
                    "Invalid value: \"a/b/c\": must be <group>/<version> or <version>"
                ),
                c(
                    REQUIRED,
                    "metadata.ownerReferences[1].uid",
                    "Required value: must not be empty"
                ),
                c(
                    INVALID,
                    "metadata.ownerReferences",
                    &format!(
                        "Invalid value: {refs}: Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"
                    )
                ),
            ]
        );
    }

    #[test]
    fn object_meta_update() {
        let old = json!({"metadata": {"name": "x", "namespace": "d", "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": ["a/b"]}});
        let new =
            json!({"metadata": {"name": "y", "namespace": "d", "finalizers": ["a/b", "c/d"]}});
        assert_eq!(
            validate("", "ConfigMap", &new, Some(&old), true),
            vec![
                c(
                    FORBIDDEN,
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"c/d\"}"
                ),
                c(
                    INVALID,
                    "metadata.name",
                    "Invalid value: \"y\": field is immutable"
                ),
            ]
        );
    }

    #[test]
    fn name_rules_per_kind() {
        let svc = json!({"metadata": meta("1svc"), "spec": {"ports": [{"port": 80}]}});
        assert_eq!(
            one(core("Service", &svc)).message,
            "Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        );
        assert_eq!(
            one(core("Namespace", &json!({"metadata": {"name": "a.b"}}))),
            c(
                INVALID,
                "metadata.name",
                "Invalid value: \"a.b\": must not contain dots"
            )
        );
        assert_eq!(
            one(validate(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                &json!({"metadata": {"name": "system:a/b"}}),
                None,
                false
            )),
            c(
                INVALID,
                "metadata.name",
                "Invalid value: \"system:a/b\": may not contain '/'"
            )
        );
        assert_eq!(
            validate(
                "rbac.authorization.k8s.io",
                "Role",
                &json!({"metadata": {"name": "system:Admin", "namespace": "d"}}),
                None,
                true
            ),
            vec![]
        );
        // Unknown kinds: ObjectMeta only.
        assert_eq!(
            validate(
                "example.com",
                "Widget",
                &json!({"metadata": meta("w"), "spec": {"x": -1}}),
                None,
                true
            ),
            vec![]
        );
    }

    // ---- Pod -------------------------------------------------------------

    #[test]
    fn pod_valid() {
        assert_eq!(core("Pod", &ok_pod()), vec![]);
        // Minimal, undefaulted pod validates too.
        assert_eq!(
            core(
                "Pod",
                &pod(json!({"containers": [{"name": "c", "image": "i"}]}))
            ),
            vec![]
        );
    }

    #[test]
    fn pod_invalid() {
        let p = ok_pod();
        assert_eq!(
            one(core(
                "Pod",
                &with(p.clone(), &["spec", "containers"], json!([]))
            )),
            c(REQUIRED, "spec.containers", "Required value")
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "image"],
                    Value::Null
                )
            )),
            c(REQUIRED, "spec.containers[0].image", "Required value")
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "name"],
                    json!("init")
                )
            )),
            c(
                DUPLICATE,
                "spec.initContainers[0].name",
                "Duplicate value: \"init\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "name"],
                    json!("App")
                )
            )),
            c(
                INVALID,
                "spec.containers[0].name",
                &format!("Invalid value: \"App\": {LABEL}")
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "ports", "0", "containerPort"],
                    json!(70000)
                )
            )),
            c(
                INVALID,
                "spec.containers[0].ports[0].containerPort",
                "Invalid value: 70000: must be between 1 and 65535, inclusive"
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "ports", "0", "protocol"],
                    json!("HTTP")
                )
            )),
            c(
                NOT_SUPPORTED,
                "spec.containers[0].ports[0].protocol",
                "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "volumeMounts", "0", "name"],
                    json!("missing")
                )
            )),
            c(
                NOT_FOUND,
                "spec.containers[0].volumeMounts[0].name",
                "Not found: \"missing\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "volumes"],
                    json!([{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])
                )
            )),
            c(
                DUPLICATE,
                "spec.volumes[1].name",
                "Duplicate value: \"data\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(p.clone(), &["spec", "restartPolicy"], json!("Sometimes"))
            )),
            c(
                NOT_SUPPORTED,
                "spec.restartPolicy",
                "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(p.clone(), &["spec", "dnsPolicy"], json!("None"))
            )),
            c(
                REQUIRED,
                "spec.dnsConfig",
                "Required value: must provide `dnsConfig` when `dnsPolicy` is None"
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "env", "0", "name"],
                    json!("A=B")
                )
            )),
            c(
                INVALID,
                "spec.containers[0].env[0].name",
                "Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "resources", "limits", "memory"],
                    json!("lots")
                )
            )),
            c(
                INVALID,
                "spec.containers[0].resources.limits[memory]",
                &format!("Invalid value: \"lots\": {QUANTITY_MSG}")
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "resources", "requests", "cpu"],
                    json!("2")
                )
            )),
            c(
                INVALID,
                "spec.containers[0].resources.requests[cpu]",
                "Invalid value: \"2\": must be less than or equal to cpu limit of 1"
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "containers", "0", "imagePullPolicy"],
                    json!("Sometimes")
                )
            )),
            c(
                NOT_SUPPORTED,
                "spec.containers[0].imagePullPolicy",
                "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p.clone(),
                    &["spec", "tolerations", "0", "effect"],
                    json!("Never")
                )
            )),
            c(
                NOT_SUPPORTED,
                "spec.tolerations[0].effect",
                "Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
            )
        );
        assert_eq!(
            one(core(
                "Pod",
                &with(
                    p,
                    &["spec", "initContainers", "0", "livenessProbe"],
                    json!({"exec": {"command": ["true"]}})
                )
            )),
            c(
                FORBIDDEN,
                "spec.initContainers[0].livenessProbe",
                "Forbidden: may not be set for init containers without restartPolicy=Always"
            )
        );
    }

    #[test]
    fn pod_update() {
        let old = ok_pod();
        let new = with(
            old.clone(),
            &["spec", "containers", "0", "image"],
            json!("nginx:1.26"),
        );
        let new = with(
            new,
            &["spec", "tolerations"],
            json!([
                {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
                {"key": "other", "operator": "Exists"}
            ]),
        );
        let new = with(new, &["spec", "activeDeadlineSeconds"], json!(60));
        let new = with(new, &["metadata", "labels"], json!({"extra": "label"}));
        assert_eq!(validate("", "Pod", &new, Some(&old), true), vec![]);

        let bad = with(
            old.clone(),
            &["spec", "containers", "0", "ports", "0", "containerPort"],
            json!(81),
        );
        assert_eq!(
            one(validate("", "Pod", &bad, Some(&old), true)),
            c(FORBIDDEN, "spec", &format!("Forbidden: {POD_UPDATE_MSG}"))
        );
        let removed = with(old.clone(), &["spec", "tolerations"], json!([]));
        assert_eq!(
            one(validate("", "Pod", &removed, Some(&old), true)).field,
            "spec"
        );
    }

    // ---- apps ------------------------------------------------------------

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}}
            }
        })
    }

    fn apps(kind: &str, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
        validate("apps", kind, obj, old, true)
    }

    #[test]
    fn deployment_validation() {
        let d = deployment();
        assert_eq!(apps("Deployment", &d, None), vec![]);
        assert_eq!(
            one(apps(
                "Deployment",
                &with(d.clone(), &["spec", "selector"], Value::Null),
                None
            )),
            c(REQUIRED, "spec.selector", "Required value")
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "template", "metadata", "labels"],
                    json!({"app": "other"})
                ),
                None
            )),
            c(
                INVALID,
                "spec.template.metadata.labels",
                "Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(d.clone(), &["spec", "replicas"], json!(-1)),
                None
            )),
            c(
                INVALID,
                "spec.replicas",
                "Invalid value: -1: must be greater than or equal to 0"
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "template", "spec", "restartPolicy"],
                    json!("Never")
                ),
                None
            )),
            c(
                NOT_SUPPORTED,
                "spec.template.spec.restartPolicy",
                "Unsupported value: \"Never\": supported values: \"Always\""
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "strategy", "rollingUpdate"],
                    json!({"maxUnavailable": 0, "maxSurge": "0%"})
                ),
                None
            )),
            c(
                INVALID,
                "spec.strategy.rollingUpdate.maxUnavailable",
                "Invalid value: 0: may not be 0 when `maxSurge` is 0"
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "strategy", "rollingUpdate", "maxUnavailable"],
                    json!("150%")
                ),
                None
            )),
            c(
                INVALID,
                "spec.strategy.rollingUpdate.maxUnavailable",
                "Invalid value: \"150%\": must not be greater than 100%"
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "selector", "matchExpressions", "0", "values"],
                    json!([])
                ),
                None
            )),
            c(
                REQUIRED,
                "spec.selector.matchExpressions[0].values",
                "Required value: must be specified when `operator` is 'In' or 'NotIn'"
            )
        );
        assert_eq!(
            one(apps(
                "Deployment",
                &with(
                    d.clone(),
                    &["spec", "template", "spec", "containers", "0", "image"],
                    json!("")
                ),
                None
            )),
            c(
                REQUIRED,
                "spec.template.spec.containers[0].image",
                "Required value"
            )
        );
        let moved = with(
            d.clone(),
            &["spec", "selector"],
            json!({"matchLabels": {"app": "web"}}),
        );
        assert_eq!(
            one(apps("Deployment", &moved, Some(&d))),
            c(
                INVALID,
                "spec.selector",
                "Invalid value: {\"matchLabels\":{\"app\":\"web\"}}: field is immutable"
            )
        );
        let scaled = with(d.clone(), &["spec", "replicas"], json!(5));
        assert_eq!(apps("Deployment", &scaled, Some(&d)), vec![]);
    }

    #[test]
    fn statefulset_daemonset_replicaset() {
        let mut s = deployment();
        s["metadata"]["name"] = json!("db");
        s["spec"].as_object_mut().unwrap().remove("strategy");
        s["spec"]["serviceName"] = json!("db");
        s["spec"]["podManagementPolicy"] = json!("OrderedReady");
        s["spec"]["updateStrategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}});
        assert_eq!(apps("StatefulSet", &s, None), vec![]);
        assert_eq!(
            one(apps(
                "StatefulSet",
                &with(s.clone(), &["spec", "podManagementPolicy"], json!("Random")),
                None
            )),
            c(
                INVALID,
                "spec.podManagementPolicy",
                "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"
            )
        );
        assert_eq!(
            one(apps(
                "StatefulSet",
                &with(
                    s.clone(),
                    &["spec", "updateStrategy", "rollingUpdate", "partition"],
                    json!(-1)
                ),
                None
            )),
            c(
                INVALID,
                "spec.updateStrategy.rollingUpdate.partition",
                "Invalid value: -1: must be greater than or equal to 0"
            )
        );
        assert_eq!(
            one(apps(
                "StatefulSet",
                &with(s.clone(), &["spec", "serviceName"], json!("other")),
                Some(&s)
            )),
            c(
                FORBIDDEN,
                "spec",
                &format!("Forbidden: {STATEFULSET_UPDATE_MSG}")
            )
        );
        assert_eq!(
            apps(
                "StatefulSet",
                &with(s.clone(), &["spec", "replicas"], json!(9)),
                Some(&s)
            ),
            vec![]
        );

        let mut ds = deployment();
        ds["spec"].as_object_mut().unwrap().remove("strategy");
        ds["spec"].as_object_mut().unwrap().remove("replicas");
        ds["spec"]["updateStrategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}});
        assert_eq!(apps("DaemonSet", &ds, None), vec![]);
        assert_eq!(
            one(apps(
                "DaemonSet",
                &with(
                    ds.clone(),
                    &["spec", "updateStrategy", "type"],
                    json!("Sometimes")
                ),
                None
            )),
            c(
                NOT_SUPPORTED,
                "spec.updateStrategy.type",
                "Unsupported value: \"Sometimes\": supported values: \"OnDelete\", \"RollingUpdate\""
            )
        );

        let mut rs = deployment();
        rs["spec"].as_object_mut().unwrap().remove("strategy");
        assert_eq!(apps("ReplicaSet", &rs, None), vec![]);
        assert_eq!(
            one(apps(
                "ReplicaSet",
                &with(rs, &["spec", "selector"], json!({})),
                None
            )),
            c(
                INVALID,
                "spec.selector",
                "Invalid value: {}: empty selector is invalid for replicaset"
            )
        );
    }

    // ---- Service ---------------------------------------------------------

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web"), "spec": {
            "type": "ClusterIP", "clusterIP": "10.96.0.10",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                      {"name": "https", "port": 443, "targetPort": 8443}]
        }})
    }

    #[test]
    fn service_validation() {
        let s = service();
        assert_eq!(core("Service", &s), vec![]);
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "ports"], json!([]))
            )),
            c(REQUIRED, "spec.ports", "Required value")
        );
        let headless = with(
            with(s.clone(), &["spec", "ports"], json!([])),
            &["spec", "clusterIP"],
            json!("None"),
        );
        assert_eq!(core("Service", &headless), vec![]);
        let ext = json!({"metadata": meta("ext"), "spec": {"type": "ExternalName"}});
        assert_eq!(
            one(core("Service", &ext)),
            c(REQUIRED, "spec.externalName", "Required value")
        );
        assert_eq!(
            core(
                "Service",
                &with(ext, &["spec", "externalName"], json!("db.example.com."))
            ),
            vec![]
        );
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "ports", "0", "port"], json!(0))
            )),
            c(
                INVALID,
                "spec.ports[0].port",
                "Invalid value: 0: must be between 1 and 65535, inclusive"
            )
        );
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "ports", "1", "name"], Value::Null)
            )),
            c(REQUIRED, "spec.ports[1].name", "Required value")
        );
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "ports", "1", "name"], json!("http"))
            )),
            c(DUPLICATE, "spec.ports[1].name", "Duplicate value: \"http\"")
        );
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "ports", "0", "nodePort"], json!(30080))
            )),
            c(
                FORBIDDEN,
                "spec.ports[0].nodePort",
                "Forbidden: may not be used when `type` is 'ClusterIP'"
            )
        );
        let np = with(
            with(s.clone(), &["spec", "type"], json!("NodePort")),
            &["spec", "ports", "0", "nodePort"],
            json!(30080),
        );
        assert_eq!(core("Service", &np), vec![]);
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "type"], json!("Internal"))
            )),
            c(
                NOT_SUPPORTED,
                "spec.type",
                "Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            )
        );
        assert_eq!(
            one(core(
                "Service",
                &with(s.clone(), &["spec", "sessionAffinity"], json!("Cookie"))
            )),
            c(
                NOT_SUPPORTED,
                "spec.sessionAffinity",
                "Unsupported value: \"Cookie\": supported values: \"ClientIP\", \"None\""
            )
        );
        // Update: clusterIP is immutable, everything else may change.
        let moved = with(s.clone(), &["spec", "clusterIP"], json!("10.96.0.11"));
        assert_eq!(
            one(validate("", "Service", &moved, Some(&s), true)),
            c(
                INVALID,
                "spec.clusterIPs[0]",
                "Invalid value: [\"10.96.0.11\"]: may not change once set"
            )
        );
        let unset = with(s.clone(), &["spec", "clusterIP"], Value::Null);
        assert_eq!(validate("", "Service", &unset, Some(&s), true), vec![]);
    }

    // ---- ConfigMap / Secret ----------------------------------------------

    #[test]
    fn config_map_validation() {
        let cm = json!({"metadata": meta("cfg"), "data": {"app.properties": "a=b", "KEY_1": "v"}, "binaryData": {"blob": "AAEC"}});
        assert_eq!(core("ConfigMap", &cm), vec![]);
        assert_eq!(
            one(core(
                "ConfigMap",
                &with(cm.clone(), &["data", "bad/key"], json!("x"))
            )),
            c(
                INVALID,
                "data[bad/key]",
                "Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            )
        );
        assert_eq!(
            one(core(
                "ConfigMap",
                &with(
                    cm.clone(),
                    &["data", "big"],
                    json!("x".repeat(MAX_SECRET_SIZE))
                )
            )),
            c(TOO_LONG, "", "Too long: may not be more than 1048576 bytes")
        );
        let frozen = with(cm.clone(), &["immutable"], json!(true));
        let changed = with(frozen.clone(), &["data", "KEY_1"], json!("w"));
        assert_eq!(
            one(validate("", "ConfigMap", &changed, Some(&frozen), true)),
            c(
                FORBIDDEN,
                "data",
                "Forbidden: field is immutable when `immutable` is set"
            )
        );
        let thawed = with(frozen.clone(), &["immutable"], json!(false));
        assert_eq!(
            one(validate("", "ConfigMap", &thawed, Some(&frozen), true)),
            c(
                FORBIDDEN,
                "immutable",
                "Forbidden: field is immutable when `immutable` is set"
            )
        );
        assert_eq!(validate("", "ConfigMap", &changed, Some(&cm), true), vec![]);
    }

    #[test]
    fn secret_validation() {
        let s = json!({"metadata": meta("s"), "type": "Opaque", "data": {"password": "aHVudGVyMg==", "x": ""}});
        assert_eq!(core("Secret", &s), vec![]);
        assert_eq!(
            one(core(
                "Secret",
                &with(s.clone(), &["data", "password"], json!("not base64!"))
            )),
            c(
                INVALID,
                "data[password]",
                "Invalid value: illegal base64 data at input byte 3"
            )
        );
        assert_eq!(
            one(validate(
                "",
                "Secret",
                &with(s.clone(), &["type"], json!("kubernetes.io/basic-auth")),
                Some(&s),
                true
            )),
            c(
                INVALID,
                "type",
                "Invalid value: \"kubernetes.io/basic-auth\": field is immutable"
            )
        );
        let tls = json!({"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "AA=="}});
        assert_eq!(
            one(core("Secret", &tls)),
            c(REQUIRED, "data[tls.key]", "Required value")
        );
        assert_eq!(decode_base64_len("Zm9v"), Ok(3));
        assert_eq!(decode_base64_len("Zm8="), Ok(2));
        assert_eq!(decode_base64_len("Zg=="), Ok(1));
        assert!(decode_base64_len("Zg=").is_err());
    }

    // ---- Namespace / Node / Lease -----------------------------------------

    #[test]
    fn namespace_node_lease() {
        let ns = json!({"metadata": {"name": "team-a"}, "spec": {"finalizers": ["kubernetes"]}});
        assert_eq!(core("Namespace", &ns), vec![]);
        assert_eq!(
            one(core(
                "Namespace",
                &with(ns, &["spec", "finalizers"], json!(["custom"]))
            )),
            c(
                INVALID,
                "spec.finalizers[0]",
                "Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"
            )
        );

        let node = json!({"metadata": {"name": "node-1.example.com"}, "spec": {
            "podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}});
        assert_eq!(core("Node", &node), vec![]);
        assert_eq!(
            one(core(
                "Node",
                &with(node.clone(), &["spec", "podCIDRs"], json!(["10.244.1.0"]))
            )),
            c(
                INVALID,
                "spec.podCIDRs[0]",
                "Invalid value: \"10.244.1.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
            )
        );
        assert_eq!(
            one(core(
                "Node",
                &with(
                    node.clone(),
                    &["spec", "taints", "0", "effect"],
                    json!("NoRun")
                )
            )),
            c(
                NOT_SUPPORTED,
                "spec.taints[0].effect",
                "Unsupported value: \"NoRun\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
            )
        );
        let moved = with(
            node.clone(),
            &["spec", "podCIDRs"],
            json!(["10.244.2.0/24"]),
        );
        let moved = with(moved, &["spec", "podCIDR"], json!("10.244.2.0/24"));
        assert_eq!(
            validate("", "Node", &moved, Some(&node), false)[0],
            c(
                FORBIDDEN,
                "spec.podCIDRs",
                "Forbidden: node updates may not change podCIDR except from \"\" to valid"
            )
        );

        let lease = json!({"metadata": meta("leader"), "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15, "leaseTransitions": 0}});
        let coord = |v: &Value| validate("coordination.k8s.io", "Lease", v, None, true);
        assert_eq!(coord(&lease), vec![]);
        assert_eq!(
            one(coord(&with(
                lease.clone(),
                &["spec", "leaseDurationSeconds"],
                json!(0)
            ))),
            c(
                INVALID,
                "spec.leaseDurationSeconds",
                "Invalid value: 0: must be greater than 0"
            )
        );
        assert_eq!(
            one(coord(&with(
                lease,
                &["spec", "leaseTransitions"],
                json!(-1)
            ))),
            c(
                INVALID,
                "spec.leaseTransitions",
                "Invalid value: -1: must be greater than or equal to 0"
            )
        );
    }

    // ---- batch -----------------------------------------------------------

    fn job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("pi"), "spec": {
            "backoffLimit": 4, "completions": 1, "parallelism": 1,
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Never"}}
        }})
    }

    #[test]
    fn job_validation() {
        let j = job();
        let batch = |v: &Value, old: Option<&Value>| validate("batch", "Job", v, old, true);
        assert_eq!(batch(&j, None), vec![]);
        assert_eq!(
            one(batch(
                &with(
                    j.clone(),
                    &["spec", "template", "spec", "restartPolicy"],
                    Value::Null
                ),
                None
            )),
            c(
                NOT_SUPPORTED,
                "spec.template.spec.restartPolicy",
                "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            )
        );
        assert_eq!(
            one(batch(
                &with(
                    with(j.clone(), &["spec", "completionMode"], json!("Indexed")),
                    &["spec", "completions"],
                    Value::Null
                ),
                None
            )),
            c(
                REQUIRED,
                "spec.completions",
                "Required value: when completion mode is Indexed"
            )
        );
        assert_eq!(
            one(batch(
                &with(j.clone(), &["spec", "backoffLimit"], json!(-1)),
                None
            )),
            c(
                INVALID,
                "spec.backoffLimit",
                "Invalid value: -1: must be greater than or equal to 0"
            )
        );
        let changed = with(
            j.clone(),
            &["spec", "template", "spec", "containers", "0", "image"],
            json!("perl:2"),
        );
        let errs = batch(&changed, Some(&j));
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (errs[0].reason, errs[0].field.as_str()),
            (INVALID, "spec.template")
        );
        assert!(errs[0].message.ends_with(": field is immutable"));
        assert_eq!(
            batch(
                &with(j.clone(), &["spec", "parallelism"], json!(3)),
                Some(&j)
            ),
            vec![]
        );
    }

    #[test]
    fn cron_job_validation() {
        let cj = json!({"metadata": meta("backup"), "spec": {
            "schedule": "*/5 0-6 * jan mon-fri", "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}
        }});
        let batch = |v: &Value| validate("batch", "CronJob", v, None, true);
        assert_eq!(batch(&cj), vec![]);
        assert_eq!(
            batch(&with(cj.clone(), &["spec", "schedule"], json!("@hourly"))),
            vec![]
        );
        assert_eq!(
            one(batch(&with(cj.clone(), &["spec", "schedule"], Value::Null))),
            c(REQUIRED, "spec.schedule", "Required value")
        );
        assert_eq!(
            one(batch(&with(
                cj.clone(),
                &["spec", "schedule"],
                json!("* * *")
            ))),
            c(
                INVALID,
                "spec.schedule",
                "Invalid value: \"* * *\": expected exactly 5 fields, found 3: * * *"
            )
        );
        assert_eq!(
            one(batch(&with(
                cj.clone(),
                &["spec", "schedule"],
                json!("61 * * * *")
            )))
            .field,
            "spec.schedule"
        );
        assert_eq!(
            one(batch(&with(
                cj.clone(),
                &["spec", "concurrencyPolicy"],
                json!("Sometimes")
            ))),
            c(
                NOT_SUPPORTED,
                "spec.concurrencyPolicy",
                "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""
            )
        );
        assert_eq!(
            one(batch(&with(
                cj.clone(),
                &[
                    "spec",
                    "jobTemplate",
                    "spec",
                    "template",
                    "spec",
                    "restartPolicy"
                ],
                json!("Always")
            ))),
            c(
                NOT_SUPPORTED,
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            )
        );
        let long = "c".repeat(53);
        assert_eq!(
            one(batch(&with(cj, &["metadata", "name"], json!(long)))),
            c(
                INVALID,
                "metadata.name",
                &format!("Invalid value: \"{long}\": must be no more than 52 characters")
            )
        );
    }

    // ---- status ------------------------------------------------------------

    #[test]
    fn status_updates() {
        let d = deployment();
        let ok = with(
            d.clone(),
            &["status"],
            json!({"replicas": 3, "readyReplicas": 2}),
        );
        assert_eq!(validate_status("apps", "Deployment", &ok, &d), vec![]);
        let bad = with(d.clone(), &["status"], json!({"replicas": -3}));
        assert_eq!(
            one(validate_status("apps", "Deployment", &bad, &d)),
            c(
                INVALID,
                "status.replicas",
                "Invalid value: -3: must be greater than or equal to 0"
            )
        );
        let p = ok_pod();
        let bad = with(p.clone(), &["status"], json!({"phase": "Sleeping"}));
        assert_eq!(
            one(validate_status("", "Pod", &bad, &p)).field,
            "status.phase"
        );
        let renamed = with(p.clone(), &["metadata", "name"], json!("q"));
        assert_eq!(
            one(validate_status("", "Pod", &renamed, &p)).field,
            "metadata.name"
        );
    }

    #[test]
    fn causes_serialize_like_status_causes() {
        let v = serde_json::to_value(required("spec.containers", "")).unwrap();
        assert_eq!(
            v,
            json!({"reason": "FieldValueRequired", "field": "spec.containers", "message": "Required value"})
        );
    }
}
