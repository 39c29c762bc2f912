//! JSON patch (RFC 6902) with the semantics of evanphx/json-patch v4.12
//! `Patch.Apply`, which kube-apiserver 1.33 uses for
//! `application/json-patch+json`. Notable details kept from it:
//! * negative array indices count from the end (`-1` is the last element);
//! * a JSON `null` member counts as absent when walking a path or testing;
//! * `replace` of a missing object member adds it; `replace` of `""`
//!   replaces the whole document (object or array values only);
//! * `add` without `value` adds `null`; `copy` from a missing member copies `null`.

use serde_json::{Map, Value};

use super::PatchError;

/// kube-apiserver rejects JSON patches with more operations than this
/// (`maxJSONPatchOperations` in handlers/patch.go) with 413.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10000;

/// Why an operation failed; kube-apiserver turns all of them into 422.
/// The text (evanphx's) is kept for tests and debugging.
#[derive(Debug)]
struct OpError(String);

type OpResult<T> = Result<T, OpError>;

fn fail<T>(msg: impl Into<String>) -> OpResult<T> {
    Err(OpError(msg.into()))
}

pub(super) fn apply(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    apply_detailed(original, patch).map_err(|e| match e {
        ApplyError::Patch(p) => p,
        ApplyError::Op(_) => PatchError::invalid(),
    })
}

#[derive(Debug)]
enum ApplyError {
    Patch(PatchError),
    /// The detail is dropped from the 422 (as kube-apiserver does) but kept
    /// for tests and debugging.
    Op(#[allow(dead_code)] OpError),
}

fn apply_detailed(original: &Value, patch: &Value) -> Result<Value, ApplyError> {
    let ops = decode(patch).map_err(ApplyError::Patch)?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(ApplyError::Patch(PatchError::too_large(format!(
            "The allowed maximum operations in a JSON patch is {}, got {}",
            MAX_JSON_PATCH_OPERATIONS,
            ops.len()
        ))));
    }
    let mut doc = original.clone();
    for op in ops {
        apply_op(&mut doc, op).map_err(ApplyError::Op)?;
    }
    Ok(doc)
}

/// Checks the document is an array of objects (or nulls), as decoding into
/// `[]map[string]*json.RawMessage` does.
fn decode(patch: &Value) -> Result<Vec<Option<&Map<String, Value>>>, PatchError> {
    let Value::Array(items) = patch else {
        return Err(PatchError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_type(patch)
        )));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(m) => Ok(Some(m)),
            Value::Null => Ok(None),
            other => Err(PatchError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                json_type(other)
            ))),
        })
        .collect()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn str_field<'a>(op: Option<&'a Map<String, Value>>, name: &str) -> OpResult<&'a str> {
    match op.and_then(|m| m.get(name)) {
        None | Some(Value::Null) => fail(format!("operation missing {name} field: missing value")),
        Some(Value::String(s)) => Ok(s),
        Some(v) => fail(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_type(v)
        )),
    }
}

/// The operation's `value`: `None` when absent, `Some(Null)` for `null`.
fn value_field(op: Option<&Map<String, Value>>) -> Option<&Value> {
    op.and_then(|m| m.get("value"))
}

fn apply_op(doc: &mut Value, op: Option<&Map<String, Value>>) -> OpResult<()> {
    let kind = match op.and_then(|m| m.get("op")) {
        Some(Value::String(s)) => s.as_str(),
        _ => "unknown",
    };
    match kind {
        "add" => {
            let path = str_field(op, "path")?;
            let value = value_field(op).cloned().unwrap_or(Value::Null);
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "add operation does not apply: doc is missing path: \"{path}\""
                ))
            })?;
            add(parent, &key, value)
                .map_err(|e| OpError(format!("error in add for path: '{path}': {}", e.0)))
        }
        "remove" => {
            let path = str_field(op, "path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "remove operation does not apply: doc is missing path: \"{path}\""
                ))
            })?;
            remove(parent, &key)
                .map(drop)
                .map_err(|e| OpError(format!("error in remove for path: '{path}': {}", e.0)))
        }
        "replace" => {
            let path = str_field(op, "path")?;
            let value = value_field(op);
            if path.is_empty() {
                return match value {
                    Some(v @ (Value::Object(_) | Value::Array(_))) => {
                        *doc = v.clone();
                        Ok(())
                    }
                    _ => fail("replace operation value must be object or array"),
                };
            }
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "replace operation does not apply: doc is missing path: {path}"
                ))
            })?;
            replace(parent, &key, value.cloned().unwrap_or(Value::Null)).map_err(|e| {
                OpError(format!(
                    "replace operation does not apply: doc is missing key: {path}: {}",
                    e.0
                ))
            })
        }
        "move" => {
            let from = str_field(op, "from")?;
            let (parent, key) = find_parent(doc, from).ok_or_else(|| {
                OpError(format!(
                    "move operation does not apply: doc is missing from path: {from}"
                ))
            })?;
            get(parent, &key)
                .map_err(|e| OpError(format!("error in move for path: '{key}': {}", e.0)))?;
            let val = remove(parent, &key)
                .map_err(|e| OpError(format!("error in move for path: '{key}': {}", e.0)))?;
            let path = str_field(op, "path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "move operation does not apply: doc is missing destination path: {path}"
                ))
            })?;
            add(parent, &key, val)
                .map_err(|e| OpError(format!("error in move for path: '{path}': {}", e.0)))
        }
        "copy" => {
            let from = str_field(op, "from")?;
            let (parent, key) = find_parent(doc, from).ok_or_else(|| {
                OpError(format!(
                    "copy operation does not apply: doc is missing from path: {from}"
                ))
            })?;
            let val = get(parent, &key)
                .map_err(|e| OpError(format!("error in copy for from: '{from}': {}", e.0)))?
                .cloned()
                .unwrap_or(Value::Null);
            let path = str_field(op, "path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "copy operation does not apply: doc is missing destination path: {path}"
                ))
            })?;
            add(parent, &key, val)
                .map_err(|e| OpError(format!("error while adding value during copy: {}", e.0)))
        }
        "test" => {
            let path = str_field(op, "path")?;
            let expected = value_field(op);
            let failed = || OpError(format!("testing value {path} failed: test failed"));
            if path.is_empty() {
                return match expected {
                    Some(v) if values_equal(doc, v) => Ok(()),
                    _ => Err(failed()),
                };
            }
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                OpError(format!(
                    "test operation does not apply: is missing path: {path}"
                ))
            })?;
            let actual = get(parent, &key)
                .map_err(|e| OpError(format!("error in test for path: '{path}': {}", e.0)))?;
            match (actual, expected) {
                // A missing (or null) member matches only an explicit `"value": null`.
                (None, Some(Value::Null)) => Ok(()),
                (Some(a), Some(e)) if values_equal(a, e) => Ok(()),
                _ => Err(failed()),
            }
        }
        other => fail(format!("Unexpected kind: {other}")),
    }
}

/// Structural equality where an object member holding `null` equals one holding
/// `null` (numbers compare by value and representation, as serde_json does).
fn values_equal(a: &Value, b: &Value) -> bool {
    a == b
}

fn decode_key(k: &str) -> String {
    // RFC 6901: "~1" -> "/" then "~0" -> "~", in a single left-to-right pass.
    let mut out = String::with_capacity(k.len());
    let mut chars = k.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('1') => {
                    chars.next();
                    out.push('/');
                    continue;
                }
                Some('0') => {
                    chars.next();
                    out.push('~');
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Parses an index as Go's `strconv.Atoi` does (optional sign, decimal digits).
fn atoi(key: &str) -> OpResult<i64> {
    key.parse::<i64>()
        .map_err(|_| OpError(format!("strconv.Atoi: parsing \"{key}\": invalid syntax")))
}

/// Walks to the container holding the last path segment, like evanphx's
/// `findObject`: the segment before the first `/` is ignored, and a path
/// with no `/` at all has no parent.
fn find_parent<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    let key = decode_key(parts.pop()?);
    let mut cur = doc;
    for part in &parts[1..] {
        let part = decode_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&part),
            Value::Array(a) => {
                let idx = resolve_index(a.len(), atoi(&part).ok()?, false).ok()?;
                a.get_mut(idx)
            }
            _ => None,
        }?;
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        cur = next;
    }
    if !(cur.is_object() || cur.is_array()) {
        return None;
    }
    Some((cur, key))
}

/// Resolves a possibly negative index against an array of `len` elements;
/// `insert` allows `len` itself.
fn resolve_index(len: usize, idx: i64, insert: bool) -> OpResult<usize> {
    let size = if insert { len as i64 + 1 } else { len as i64 };
    let err = || {
        OpError(format!(
            "Unable to access invalid index: {idx}: invalid index referenced"
        ))
    };
    if idx >= size {
        return Err(err());
    }
    if idx < 0 {
        if idx < -size {
            return Err(err());
        }
        return Ok((idx + size) as usize);
    }
    Ok(idx as usize)
}

fn get<'a>(container: &'a Value, key: &str) -> OpResult<Option<&'a Value>> {
    match container {
        Value::Object(m) => Ok(m.get(key).filter(|v| !v.is_null())),
        Value::Array(a) => {
            let idx = resolve_index(a.len(), atoi(key)?, false)?;
            Ok(Some(&a[idx]).filter(|v| !v.is_null()))
        }
        _ => fail("invalid state detected"),
    }
}

fn add(container: &mut Value, key: &str, value: Value) -> OpResult<()> {
    match container {
        Value::Object(m) => {
            m.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
                return Ok(());
            }
            let idx = atoi(key).map_err(|e| {
                OpError(format!(
                    "value was not a proper array index: '{key}': {}",
                    e.0
                ))
            })?;
            let idx = resolve_index(a.len(), idx, true)?;
            a.insert(idx, value);
            Ok(())
        }
        _ => fail("invalid state detected"),
    }
}

fn remove(container: &mut Value, key: &str) -> OpResult<Value> {
    match container {
        Value::Object(m) => m.remove(key).ok_or_else(|| {
            OpError(format!(
                "Unable to remove nonexistent key: {key}: missing value"
            ))
        }),
        Value::Array(a) => {
            let idx = resolve_index(a.len(), atoi(key)?, false)?;
            Ok(a.remove(idx))
        }
        _ => fail("invalid state detected"),
    }
}

fn replace(container: &mut Value, key: &str, value: Value) -> OpResult<()> {
    match container {
        // evanphx v4 does not check that the member exists.
        Value::Object(m) => {
            m.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let idx = resolve_index(a.len(), atoi(key)?, false)?;
            a[idx] = value;
            Ok(())
        }
        _ => fail("invalid state detected"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(doc: Value, patch: Value) -> Value {
        match apply_detailed(&doc, &patch) {
            Ok(v) => v,
            Err(e) => panic!("{patch}: {e:?}"),
        }
    }

    fn op_err(doc: Value, patch: Value) -> String {
        match apply_detailed(&doc, &patch) {
            Err(ApplyError::Op(e)) => {
                let pe = apply(&doc, &patch).unwrap_err();
                assert_eq!((pe.code, pe.reason), (422, "Invalid"));
                assert_eq!(pe.message, super::super::INVALID_REQUEST_MESSAGE);
                e.0
            }
            other => panic!("{patch}: expected op error, got {other:?}"),
        }
    }

    #[test]
    fn add_remove_replace() {
        let doc = json!({"metadata":{"labels":{"a":"1"}},"spec":{"list":[1,2,3]}});
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"add","path":"/metadata/labels/b","value":"2"}])
            ),
            json!({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"list":[1,2,3]}})
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"add","path":"/spec/list/1","value":9}])
            )["spec"]["list"],
            json!([1, 9, 2, 3])
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"add","path":"/spec/list/-","value":4}])
            )["spec"]["list"],
            json!([1, 2, 3, 4])
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"add","path":"/spec/list/3","value":4}])
            )["spec"]["list"],
            json!([1, 2, 3, 4])
        );
        assert_eq!(
            ok(doc.clone(), json!([{"op":"remove","path":"/spec/list/0"}]))["spec"]["list"],
            json!([2, 3])
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"replace","path":"/spec/list/2","value":"x"}])
            )["spec"]["list"],
            json!([1, 2, "x"])
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"remove","path":"/metadata/labels"}])
            ),
            json!({"metadata":{},"spec":{"list":[1,2,3]}})
        );
        // Operations apply in order, each on the previous result.
        assert_eq!(
            ok(
                doc,
                json!([
                    {"op":"add","path":"/metadata/annotations","value":{}},
                    {"op":"add","path":"/metadata/annotations/x","value":"y"},
                    {"op":"remove","path":"/spec"}
                ])
            ),
            json!({"metadata":{"labels":{"a":"1"},"annotations":{"x":"y"}}})
        );
    }

    #[test]
    fn negative_indices_are_supported() {
        let doc = json!({"l":[1,2,3]});
        assert_eq!(
            ok(doc.clone(), json!([{"op":"remove","path":"/l/-1"}])),
            json!({"l":[1,2]})
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"replace","path":"/l/-3","value":0}])
            ),
            json!({"l":[0,2,3]})
        );
        assert_eq!(
            ok(doc.clone(), json!([{"op":"add","path":"/l/-1","value":4}])),
            json!({"l":[1,2,3,4]})
        );
        op_err(doc, json!([{"op":"remove","path":"/l/-4"}]));
    }

    #[test]
    fn escapes() {
        let doc = json!({"metadata":{"annotations":{"a/b":"1","c~d":"2"}}});
        assert_eq!(
            ok(
                doc,
                json!([
                    {"op":"remove","path":"/metadata/annotations/a~1b"},
                    {"op":"replace","path":"/metadata/annotations/c~0d","value":"3"},
                    {"op":"add","path":"/metadata/annotations/e~01","value":"4"}
                ])
            ),
            json!({"metadata":{"annotations":{"c~d":"3","e~1":"4"}}})
        );
    }

    #[test]
    fn move_and_copy() {
        let doc = json!({"a":{"b":1},"l":[1,2,3]});
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"move","from":"/a/b","path":"/c"}])
            ),
            json!({"a":{},"l":[1,2,3],"c":1})
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"move","from":"/l/0","path":"/l/-"}])
            ),
            json!({"a":{"b":1},"l":[2,3,1]})
        );
        assert_eq!(
            ok(doc.clone(), json!([{"op":"copy","from":"/a","path":"/d"}])),
            json!({"a":{"b":1},"l":[1,2,3],"d":{"b":1}})
        );
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"copy","from":"/l/1","path":"/l/0"}])
            ),
            json!({"a":{"b":1},"l":[2,1,2,3]})
        );
        // copy from a missing member copies null (evanphx v4).
        assert_eq!(
            ok(doc.clone(), json!([{"op":"copy","from":"/x","path":"/y"}]))["y"],
            json!(null)
        );
        op_err(doc.clone(), json!([{"op":"move","from":"/x","path":"/y"}]));
        op_err(
            doc.clone(),
            json!([{"op":"move","from":"/a","path":"/a/b/c"}]),
        );
        op_err(doc, json!([{"op":"move","path":"/y"}]));
    }

    #[test]
    fn test_op() {
        let doc = json!({"metadata":{"resourceVersion":"5","labels":{"a":"1"}},"n":null,"l":[1]});
        ok(
            doc.clone(),
            json!([{"op":"test","path":"/metadata/resourceVersion","value":"5"}]),
        );
        ok(
            doc.clone(),
            json!([{"op":"test","path":"/metadata/labels","value":{"a":"1"}}]),
        );
        ok(doc.clone(), json!([{"op":"test","path":"/l","value":[1]}]));
        ok(
            doc.clone(),
            json!([{"op":"test","path":"/missing","value":null}]),
        );
        ok(doc.clone(), json!([{"op":"test","path":"/n","value":null}]));
        ok(
            doc.clone(),
            json!([{"op":"test","path":"","value":doc.clone()}]),
        );
        let e = op_err(
            doc.clone(),
            json!([{"op":"test","path":"/metadata/resourceVersion","value":"6"}]),
        );
        assert!(e.contains("test failed"), "{e}");
        op_err(
            doc.clone(),
            json!([{"op":"test","path":"/metadata/labels/a","value":1}]),
        );
        op_err(
            doc.clone(),
            json!([{"op":"test","path":"/missing","value":"x"}]),
        );
        op_err(
            doc.clone(),
            json!([{"op":"test","path":"/metadata/resourceVersion"}]),
        );
        op_err(doc.clone(), json!([{"op":"test","path":"/l/5","value":1}]));
        op_err(doc, json!([{"op":"test","path":"/x/y","value":1}]));
        // A failing test leaves nothing applied.
        let doc = json!({"a":1});
        let r = apply(
            &doc,
            &json!([{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":2}]),
        );
        assert_eq!(r.unwrap_err().code, 422);
    }

    #[test]
    fn missing_paths_fail_with_422() {
        let doc = json!({"metadata":{"labels":{"a":"1"}},"l":[1]});
        let e = op_err(
            doc.clone(),
            json!([{"op":"add","path":"/spec/x","value":1}]),
        );
        assert!(e.contains("doc is missing path"), "{e}");
        op_err(
            doc.clone(),
            json!([{"op":"remove","path":"/metadata/labels/b"}]),
        );
        op_err(doc.clone(), json!([{"op":"remove","path":"/l/1"}]));
        op_err(doc.clone(), json!([{"op":"add","path":"/l/3","value":1}]));
        op_err(doc.clone(), json!([{"op":"add","path":"/l/x","value":1}]));
        op_err(
            doc.clone(),
            json!([{"op":"replace","path":"/l/1","value":1}]),
        );
        op_err(doc.clone(), json!([{"op":"add","path":"","value":{}}]));
        op_err(
            doc.clone(),
            json!([{"op":"remove","path":"/metadata/labels/a/b"}]),
        );
        op_err(doc.clone(), json!([{"op":"add","value":1}]));
        op_err(doc.clone(), json!([{"op":"add","path":5,"value":1}]));
        let e = op_err(doc.clone(), json!([{"op":"frobnicate","path":"/a"}]));
        assert_eq!(e, "Unexpected kind: frobnicate");
        let e = op_err(doc.clone(), json!([{"path":"/a"}]));
        assert_eq!(e, "Unexpected kind: unknown");
        op_err(doc, json!([null]));
    }

    #[test]
    fn evanphx_v4_quirks() {
        let doc = json!({"a":{"b":1}});
        // replace of a missing member adds it.
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"replace","path":"/a/c","value":2}])
            ),
            json!({"a":{"b":1,"c":2}})
        );
        // replace of the root.
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op":"replace","path":"","value":{"z":1}}])
            ),
            json!({"z":1})
        );
        op_err(doc.clone(), json!([{"op":"replace","path":"","value":1}]));
        // add without a value adds null.
        assert_eq!(
            ok(doc.clone(), json!([{"op":"add","path":"/n"}]))["n"],
            json!(null)
        );
        // The root-relative part before the first "/" is ignored.
        assert_eq!(
            ok(doc.clone(), json!([{"op":"add","path":"x/y","value":1}]))["y"],
            json!(1)
        );
        // A null member cannot be walked through.
        op_err(
            json!({"a":null}),
            json!([{"op":"add","path":"/a/b","value":1}]),
        );
        // Indices accept a sign and leading zeros, like strconv.Atoi.
        assert_eq!(
            ok(json!({"l":[1,2]}), json!([{"op":"remove","path":"/l/+01"}])),
            json!({"l":[1]})
        );
    }

    #[test]
    fn malformed_patch_documents() {
        for p in [
            json!({"op":"add"}),
            json!("x"),
            json!(null),
            json!([1]),
            json!([[]]),
        ] {
            let e = apply(&json!({}), &p).unwrap_err();
            assert_eq!((e.code, e.reason), (400, "BadRequest"), "{p}");
        }
        let e = apply(&json!({}), &json!(["x"])).unwrap_err();
        assert_eq!(
            e.message,
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation"
        );
        // An empty patch is a no-op.
        assert_eq!(apply(&json!({"a":1}), &json!([])).unwrap(), json!({"a":1}));
    }

    #[test]
    fn operation_limit() {
        let op = json!({"op":"test","path":"/a","value":1});
        let patch = Value::Array(vec![op.clone(); MAX_JSON_PATCH_OPERATIONS]);
        assert!(apply(&json!({"a":1}), &patch).is_ok());
        let patch = Value::Array(vec![op; MAX_JSON_PATCH_OPERATIONS + 1]);
        let e = apply(&json!({"a":1}), &patch).unwrap_err();
        assert_eq!((e.code, e.reason), (413, "RequestEntityTooLarge"));
        assert_eq!(
            e.message,
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
    }

    #[test]
    fn kubectl_style_patches() {
        let deploy = json!({"metadata":{"name":"d","finalizers":["a","b"]},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}}}});
        let got = ok(
            deploy,
            json!([
                {"op":"replace","path":"/spec/replicas","value":3},
                {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.26"},
                {"op":"remove","path":"/metadata/finalizers/0"}
            ]),
        );
        assert_eq!(got["spec"]["replicas"], json!(3));
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("nginx:1.26")
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["b"]));
    }
}
