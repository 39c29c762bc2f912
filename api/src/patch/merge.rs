//! JSON merge patch (RFC 7386), with the details of evanphx/json-patch v4
//! `MergePatch`, which kube-apiserver uses for `application/merge-patch+json`.

use serde_json::{Map, Value};

use super::PatchError;

const ERR_BAD_JSON_PATCH: &str = "Invalid JSON Patch";

pub(super) fn merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    match patch {
        Value::Object(p) => match original {
            Value::Object(doc) => {
                let mut doc = doc.clone();
                merge_docs(&mut doc, p);
                Ok(Value::Object(doc))
            }
            // The document is not an object: the patch (without nulls) becomes it.
            _ => {
                let mut p = p.clone();
                prune_doc_nulls(&mut p);
                Ok(Value::Object(p))
            }
        },
        // A patch that is an array replaces the document; kube-apiserver then
        // fails to decode it into an object (422 Invalid).
        Value::Array(a) => {
            let mut a = a.clone();
            prune_array_nulls(&mut a);
            Ok(Value::Array(a))
        }
        // `null`, strings, numbers and booleans are rejected as patches.
        _ => Err(PatchError::bad_request(ERR_BAD_JSON_PATCH)),
    }
}

fn merge_docs(doc: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            doc.remove(k);
            continue;
        }
        match doc.get_mut(k) {
            Some(cur) if !cur.is_null() => merge_value(cur, v),
            _ => {
                let mut v = v.clone();
                prune_nulls(&mut v);
                doc.insert(k.clone(), v);
            }
        }
    }
}

fn merge_value(cur: &mut Value, patch: &Value) {
    match (cur, patch) {
        (Value::Object(c), Value::Object(p)) => merge_docs(c, p),
        (cur @ Value::Object(_), p) => {
            // evanphx: a non-object patch value is taken as is (not pruned).
            *cur = p.clone();
        }
        (cur, p) => {
            let mut p = p.clone();
            prune_nulls(&mut p);
            *cur = p;
        }
    }
}

fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => prune_doc_nulls(m),
        Value::Array(a) => prune_array_nulls(a),
        _ => {}
    }
}

fn prune_doc_nulls(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        prune_nulls(v);
    }
}

/// Nulls inside arrays are kept; only objects within are pruned.
fn prune_array_nulls(a: &mut [Value]) {
    for v in a {
        prune_nulls(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mp(o: Value, p: Value) -> Value {
        merge_patch(&o, &p).unwrap()
    }

    #[test]
    fn rfc7386_appendix_a_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (o, p, want) in cases {
            assert_eq!(mp(o.clone(), p.clone()), want, "{o} + {p}");
        }
    }

    #[test]
    fn non_object_patches() {
        // An array replaces the document; nulls inside arrays are kept.
        assert_eq!(
            mp(json!({"a":1}), json!([1, null, {"x": null}])),
            json!([1, null, {}])
        );
        for p in [json!(null), json!("x"), json!(1), json!(true)] {
            let err = merge_patch(&json!({"a":1}), &p).unwrap_err();
            assert_eq!((err.code, err.reason), (400, "BadRequest"));
            assert_eq!(err.message, "Invalid JSON Patch");
        }
    }

    #[test]
    fn non_object_document_becomes_patch() {
        assert_eq!(mp(json!([1]), json!({"a":1,"b":null})), json!({"a":1}));
    }

    #[test]
    fn kubernetes_shapes() {
        let node = json!({"metadata":{"name":"n1","labels":{"a":"1","b":"2"}},"spec":{"podCIDR":"10.0.0.0/24"}});
        let got = mp(
            node,
            json!({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"unschedulable":true}}),
        );
        assert_eq!(
            got,
            json!({"metadata":{"name":"n1","labels":{"b":"2","c":"3"}},"spec":{"podCIDR":"10.0.0.0/24","unschedulable":true}})
        );
        // Lists are always replaced (nulls in objects inside them are pruned).
        let pod = json!({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}});
        let got = mp(
            pod,
            json!({"spec":{"containers":[{"name":"a","image":"y","env":null}]}}),
        );
        assert_eq!(
            got,
            json!({"spec":{"containers":[{"name":"a","image":"y"}]}})
        );
    }

    #[test]
    fn null_in_document_is_replaced_and_pruned() {
        assert_eq!(
            mp(json!({"a":null}), json!({"a":{"b":null,"c":1}})),
            json!({"a":{"c":1}})
        );
        // An object replaced by a scalar/array keeps the patch as is.
        assert_eq!(
            mp(json!({"a":{"x":1}}), json!({"a":[{"y":null}]})),
            json!({"a":[{"y":null}]})
        );
        assert_eq!(
            mp(json!({"a":1}), json!({"a":[{"y":null}]})),
            json!({"a":[{}]})
        );
    }
}
