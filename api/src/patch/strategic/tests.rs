use serde_json::{Value, json};

use super::super::PatchError as PE;
use super::FieldKind::{A, M, O};
use super::*;

const fn fd(
    name: &'static str,
    kind: FieldKind,
    target: &'static str,
    strategy: &'static str,
    merge_key: &'static str,
) -> FieldDef {
    FieldDef {
        name,
        kind,
        target,
        strategy,
        merge_key,
        list_type: "",
        list_map_keys: &[],
    }
}

/// A schema shaped like upstream's strategicpatch test type `mergeItem`.
static TEST_TYPES: &[TypeDef] = &[
    TypeDef {
        name: "mergeItem",
        fields: &[
            fd("mergeItemPtr", A, "mergeItem", "merge", "name"),
            fd("mergingIntList", A, "", "merge", ""),
            fd("mergingList", A, "mergeItem", "merge", "name"),
            fd("nonMergingIntList", A, "", "", ""),
            fd("nonMergingList", A, "mergeItem", "", ""),
            fd("replacingItem", O, "", "replace", ""),
            fd("retainKeysMap", O, "retainKeysStruct", "retainKeys", ""),
            fd(
                "retainKeysMergingList",
                A,
                "mergeItem",
                "merge,retainKeys",
                "name",
            ),
            fd("simpleMap", M, "", "", ""),
            fd("structMap", M, "mergeItem", "", ""),
        ],
    },
    TypeDef {
        name: "retainKeysStruct",
        fields: &[
            fd("mergingIntList", A, "", "merge", ""),
            fd("mergingList", A, "mergeItem", "merge", "name"),
            fd("nonMergingList", A, "mergeItem", "", ""),
        ],
    },
];

fn t(original: Value, patch: Value) -> Value {
    match strategic_merge_patch(TEST_TYPES, &original, &patch, "mergeItem") {
        Ok(v) => v,
        Err(e) => panic!("patch {patch} failed: {e}"),
    }
}

fn t_err(original: Value, patch: Value) -> PE {
    strategic_merge_patch(TEST_TYPES, &original, &patch, "mergeItem").unwrap_err()
}

fn k(original: Value, patch: Value, def: &str) -> Value {
    match super::super::strategic_merge_patch(&original, &patch, def) {
        Ok(v) => v,
        Err(e) => panic!("patch {patch} failed: {e}"),
    }
}

fn names(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.get("name").cloned().unwrap_or(Value::Null))
        .collect()
}

#[test]
fn test_table_is_sorted() {
    assert!(TEST_TYPES.windows(2).all(|w| w[0].name < w[1].name));
    for ty in TEST_TYPES {
        assert!(ty.fields.windows(2).all(|w| w[0].name < w[1].name));
    }
}

#[test]
fn scalars_maps_and_null_deletion() {
    assert_eq!(
        t(
            json!({"name":"a","value":"1","other":"x"}),
            json!({"value":"2","other":null})
        ),
        json!({"name":"a","value":"2"})
    );
    assert_eq!(
        t(
            json!({"simpleMap":{"a":"1","b":"2"}}),
            json!({"simpleMap":{"a":null,"c":"3"}})
        ),
        json!({"simpleMap":{"b":"2","c":"3"}})
    );
    // A null for a field the original lacks is ignored; new values lose their nulls.
    assert_eq!(
        t(json!({}), json!({"x":null,"y":{"a":null,"b":1}})),
        json!({"y":{"b":1}})
    );
    // Type changes replace.
    assert_eq!(
        t(json!({"value":{"a":1}}), json!({"value":"s"})),
        json!({"value":"s"})
    );
    assert_eq!(
        t(json!({"value":"s"}), json!({"value":[1,null]})),
        json!({"value":[1,null]})
    );
    // A null patch document is a no-op.
    assert_eq!(t(json!({"a":1}), json!(null)), json!({"a":1}));
}

#[test]
fn map_values_of_struct_type_use_their_metadata() {
    let got = t(
        json!({"structMap":{"x":{"mergingList":[{"name":"1"}]}}}),
        json!({"structMap":{"x":{"mergingList":[{"name":"2"}]}}}),
    );
    assert_eq!(
        names(&got["structMap"]["x"]["mergingList"]),
        vec![json!("2"), json!("1")]
    );
}

#[test]
fn patch_directive_on_maps() {
    let orig = json!({"simpleMap":{"a":"1"},"replacingItem":{"x":1,"y":2},"other":"o"});
    assert_eq!(
        t(
            orig.clone(),
            json!({"simpleMap":{"$patch":"replace","b":"2"}})
        ),
        json!({"simpleMap":{"b":"2"},"replacingItem":{"x":1,"y":2},"other":"o"})
    );
    assert_eq!(
        t(orig.clone(), json!({"simpleMap":{"$patch":"delete"}})),
        json!({"simpleMap":{},"replacingItem":{"x":1,"y":2},"other":"o"})
    );
    // Top-level replace / delete.
    assert_eq!(
        t(orig.clone(), json!({"$patch":"replace","n":1})),
        json!({"n":1})
    );
    assert_eq!(t(orig.clone(), json!({"$patch":"delete"})), json!({}));
    // A directive map new to the object is dropped.
    assert_eq!(
        t(json!({}), json!({"simpleMap":{"$patch":"replace","a":"1"}})),
        json!({})
    );
    // `$patch: merge` and unknown values are errors (500, passed through).
    let e = t_err(orig.clone(), json!({"simpleMap":{"$patch":"merge"}}));
    assert_eq!((e.code, e.reason), (500, ""));
    assert_eq!(
        e.message,
        "unknown patch type: merge in map: map[$patch:merge]"
    );
    let e = t_err(orig, json!({"$patch":"bogus"}));
    assert_eq!(e.code, 500);
}

#[test]
fn replace_strategy_on_maps() {
    assert_eq!(
        t(
            json!({"replacingItem":{"Some":"Generic","Field":"Period"}}),
            json!({"replacingItem":{"Newly":"Modified"}})
        ),
        json!({"replacingItem":{"Newly":"Modified"}})
    );
}

#[test]
fn non_merging_lists_are_replaced() {
    assert_eq!(
        t(
            json!({"nonMergingList":[{"name":"1"},{"name":"2"}]}),
            json!({"nonMergingList":[{"name":"3"}]})
        ),
        json!({"nonMergingList":[{"name":"3"}]})
    );
    assert_eq!(
        t(
            json!({"nonMergingIntList":[1,2]}),
            json!({"nonMergingIntList":[]})
        ),
        json!({"nonMergingIntList":[]})
    );
    // Unknown fields behave the same.
    assert_eq!(t(json!({"zz":[1,2]}), json!({"zz":[3]})), json!({"zz":[3]}));
}

#[test]
fn merging_list_without_set_element_order() {
    let orig = json!({"mergingList":[{"name":"a","value":"1"},{"name":"b"},{"name":"c"}]});
    // Existing item changed in place.
    let got = t(
        orig.clone(),
        json!({"mergingList":[{"name":"b","value":"2"}]}),
    );
    assert_eq!(
        got,
        json!({"mergingList":[{"name":"a","value":"1"},{"name":"b","value":"2"},{"name":"c"}]})
    );
    // New items are placed before the server-only items (upstream mergeSortedSlice).
    let got = t(orig.clone(), json!({"mergingList":[{"name":"d"}]}));
    assert_eq!(
        names(&got["mergingList"]),
        vec![json!("d"), json!("a"), json!("b"), json!("c")]
    );
    // Mixed: new d, changed c.
    let got = t(
        orig.clone(),
        json!({"mergingList":[{"name":"c","value":"3"},{"name":"d"}]}),
    );
    assert_eq!(
        names(&got["mergingList"]),
        vec![json!("a"), json!("b"), json!("c"), json!("d")]
    );
    // Nulls inside a merged item delete fields; a new item loses its nulls.
    let got = t(
        orig,
        json!({"mergingList":[{"name":"a","value":null},{"name":"e","value":null}]}),
    );
    assert_eq!(
        got,
        json!({"mergingList":[{"name":"a"},{"name":"e"},{"name":"b"},{"name":"c"}]})
    );
}

#[test]
fn merging_list_directives() {
    let orig =
        json!({"mergingList":[{"name":"a"},{"name":"b","value":"x"},{"name":"a","value":"dup"}]});
    // Delete removes every item with the key.
    assert_eq!(
        t(
            orig.clone(),
            json!({"mergingList":[{"name":"a","$patch":"delete"}]})
        ),
        json!({"mergingList":[{"name":"b","value":"x"}]})
    );
    // Deleting a missing item changes nothing but the order of duplicates,
    // which upstream sorts next to the first item with their key.
    assert_eq!(
        t(
            orig.clone(),
            json!({"mergingList":[{"name":"z","$patch":"delete"}]})
        ),
        json!({"mergingList":[{"name":"a"},{"name":"a","value":"dup"},{"name":"b","value":"x"}]})
    );
    // Replace the whole list with the other items of the patch.
    assert_eq!(
        t(
            orig.clone(),
            json!({"mergingList":[{"name":"q"},{"$patch":"replace"}]})
        ),
        json!({"mergingList":[{"name":"q"}]})
    );
    let e = t_err(
        orig.clone(),
        json!({"mergingList":[{"name":"a","$patch":"merge"}]}),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (500, "merging lists cannot yet be specified in the patch")
    );
    let e = t_err(orig.clone(), json!({"mergingList":[{"$patch":"delete"}]}));
    assert_eq!(
        e.message,
        "map: map[$patch:delete] does not contain declared merge key: name"
    );
    let e = t_err(
        orig.clone(),
        json!({"mergingList":[{"$patch":"bogus","name":"a"}]}),
    );
    assert!(
        e.message.starts_with("unknown patch type: bogus"),
        "{}",
        e.message
    );
    // A new list drops directive items.
    assert_eq!(
        t(
            json!({}),
            json!({"mergingList":[{"name":"a","$patch":"delete"},{"name":"b"}]})
        ),
        json!({"mergingList":[{"name":"b"}]})
    );
}

#[test]
fn missing_merge_key_is_a_500() {
    let orig = json!({"mergingList":[{"name":"a"}]});
    let e = t_err(orig, json!({"mergingList":[{"value":"x"}]}));
    assert_eq!(
        e,
        PE {
            code: 500,
            reason: "",
            message: "map: map[value:x] does not contain declared merge key: name".into()
        }
    );
    // Items of the original without the key fail too.
    let e = t_err(
        json!({"mergingList":[{"value":"y"}]}),
        json!({"mergingList":[{"name":"a"}]}),
    );
    assert_eq!(e.code, 500);
}

#[test]
fn bad_list_shapes() {
    // Lists of lists: 422 Invalid.
    let e = t_err(
        json!({"mergingIntList":[[1]]}),
        json!({"mergingIntList":[[2]]}),
    );
    assert_eq!((e.code, e.reason), (422, "Invalid"));
    // Mixed element types.
    let e = t_err(
        json!({"mergingIntList":[1]}),
        json!({"mergingIntList":["a"]}),
    );
    assert_eq!(e.code, 500);
    assert!(
        e.message
            .starts_with("list element types are not identical")
    );
    // Maps in a merging list without merge key.
    let e = t_err(
        json!({"mergingIntList":[{"a":1}]}),
        json!({"mergingIntList":[{"a":2}]}),
    );
    assert_eq!(e.message, "cannot merge lists without merge key for struct");
}

#[test]
fn merging_primitive_lists() {
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3]}),
            json!({"mergingIntList":[4]})
        ),
        json!({"mergingIntList":[4,1,2,3]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3]}),
            json!({"mergingIntList":[2,5]})
        ),
        json!({"mergingIntList":[1,2,5,3]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,2]}),
            json!({"mergingIntList":[2]})
        ),
        json!({"mergingIntList":[1,2]})
    );
    assert_eq!(
        t(json!({}), json!({"mergingIntList":[1,1]})),
        json!({"mergingIntList":[1,1]})
    );
}

#[test]
fn delete_from_primitive_list() {
    // Removes every occurrence, with or without merge strategy.
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3,3]}),
            json!({"$deleteFromPrimitiveList/mergingIntList":[3]})
        ),
        json!({"mergingIntList":[1,2]})
    );
    assert_eq!(
        t(
            json!({"nonMergingIntList":[1,2,3]}),
            json!({"$deleteFromPrimitiveList/nonMergingIntList":[2]})
        ),
        json!({"nonMergingIntList":[1,3]})
    );
    // Deleting a missing item, from an empty or a missing list, adds nothing.
    assert_eq!(
        t(
            json!({"mergingIntList":[1]}),
            json!({"$deleteFromPrimitiveList/mergingIntList":[9]})
        ),
        json!({"mergingIntList":[1]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[]}),
            json!({"$deleteFromPrimitiveList/mergingIntList":[9]})
        ),
        json!({"mergingIntList":[]})
    );
    assert_eq!(
        t(
            json!({}),
            json!({"$deleteFromPrimitiveList/mergingIntList":[9]})
        ),
        json!({})
    );
    let e = t_err(
        json!({}),
        json!({"$deleteFromPrimitiveListmergingIntList":[9]}),
    );
    assert_eq!(
        (e.code, e.reason, e.message.as_str()),
        (400, "BadRequest", "invalid patch format of primitive list")
    );
}

#[test]
fn set_element_order_maps() {
    // Upstream "merge lists of maps".
    let got = t(
        json!({"mergingList":[{"name":"1","other":"a"},{"name":"2","value":"2","other":"b"}]}),
        json!({
            "$setElementOrder/mergingList":[{"name":"4"},{"name":"1"},{"name":"2"},{"name":"3"}],
            "mergingList":[{"name":"4","value":"4"},{"name":"3","value":"3"}]
        }),
    );
    assert_eq!(
        got,
        json!({"mergingList":[
            {"name":"4","value":"4"},
            {"name":"1","other":"a"},
            {"name":"2","value":"2","other":"b"},
            {"name":"3","value":"3"}
        ]})
    );
    // Server-only items stay after the patch item that precedes them on the server.
    let orig = |ns: &[&str]| json!({"mergingList": ns.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()});
    let order = |ns: &[&str]| json!({"$setElementOrder/mergingList": ns.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()});
    let cases: [(&[&str], &[&str], &[&str]); 3] = [
        (
            &["1", "3", "4", "2", "9"],
            &["4", "2", "3", "1"],
            &["4", "2", "3", "1", "9"],
        ),
        (
            &["1", "2", "9", "3", "4"],
            &["2", "1", "4", "3"],
            &["2", "1", "9", "4", "3"],
        ),
        (
            &["1", "2", "7", "9", "8", "3", "4"],
            &["2", "1", "4", "3"],
            &["2", "1", "7", "9", "8", "4", "3"],
        ),
    ];
    for (o, p, want) in cases {
        let got = t(orig(o), order(p));
        let want: Vec<Value> = want.iter().map(|n| json!(n)).collect();
        assert_eq!(names(&got["mergingList"]), want, "{o:?} {p:?}");
    }
    // Duplicates keep their relative order.
    let got = t(
        json!({"mergingList":[{"name":"1"},{"name":"2","value":"dup1"},{"name":"3"},{"name":"2","value":"dup2"},{"name":"4"}]}),
        order(&["2", "1", "4", "3", "2"]),
    );
    assert_eq!(
        got["mergingList"],
        json!([{"name":"2","value":"dup1"},{"name":"2","value":"dup2"},{"name":"1"},{"name":"4"},{"name":"3"}])
    );
}

#[test]
fn set_element_order_with_delete() {
    let got = t(
        json!({"mergingList":[{"name":"1","other":"a"},{"name":"2","value":"2","other":"b"},{"name":"3","value":"3"}]}),
        json!({
            "$setElementOrder/mergingList":[{"name":"4"},{"name":"2"},{"name":"1"}],
            "mergingList":[{"name":"4","value":"4"},{"name":"3","$patch":"delete"}]
        }),
    );
    assert_eq!(
        got,
        json!({"mergingList":[{"name":"4","value":"4"},{"name":"2","value":"2","other":"b"},{"name":"1","other":"a"}]})
    );
    // Upstream "delete and reorder in one list, reorder in another".
    let got = t(
        json!({"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]}),
        json!({
            "$setElementOrder/mergingList":[{"name":"b"}],
            "$setElementOrder/mergeItemPtr":[{"name":"d"},{"name":"c"}],
            "mergingList":[{"$patch":"delete","name":"a"}]
        }),
    );
    assert_eq!(
        got,
        json!({"mergingList":[{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"d","value":"d"},{"name":"c","value":"c"}]})
    );
}

#[test]
fn set_element_order_primitives() {
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2]}),
            json!({"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]})
        ),
        json!({"mergingIntList":[3,1,2]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,7,9,8,3,4]}),
            json!({"$setElementOrder/mergingIntList":[2,1,4,3]})
        ),
        json!({"mergingIntList":[2,1,7,9,8,4,3]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3,2,4]}),
            json!({"$setElementOrder/mergingIntList":[2,1,4,3,2]})
        ),
        json!({"mergingIntList":[2,2,1,4,3]})
    );
    // Upstream "delete all duplicate items in lists of scalars".
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3,3,4]}),
            json!({"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]})
        ),
        json!({"mergingIntList":[1,2,4]})
    );
    assert_eq!(
        t(
            json!({"mergingIntList":[1,2,3,4]}),
            json!({"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3],"mergingIntList":[4]})
        ),
        json!({"mergingIntList":[1,2,4]})
    );
}

#[test]
fn set_element_order_errors_and_edge_cases() {
    // Patch items out of the directive's order.
    let e = t_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"$setElementOrder/mergingList":[{"name":"1"},{"name":"2"}],"mergingList":[{"name":"2"},{"name":"1"}]}),
    );
    assert_eq!(e.code, 500);
    assert!(
        e.message.starts_with("The order in patch list:"),
        "{}",
        e.message
    );
    // Not a list.
    let e = t_err(
        json!({}),
        json!({"$setElementOrder/mergingList":{"name":"1"}}),
    );
    assert_eq!(e.code, 500);
    // Bad prefix form.
    let e = t_err(json!({}), json!({"$setElementOrderX":[]}));
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "invalid patch format of setElementOrder list")
    );
    // List new to the object.
    assert_eq!(
        t(
            json!({}),
            json!({"$setElementOrder/mergingList":[{"name":"b"},{"name":"a"}],"mergingList":[{"name":"b"},{"name":"a","x":null}]})
        ),
        json!({"mergingList":[{"name":"b"},{"name":"a"}]})
    );
    // Neither list present: nothing happens.
    assert_eq!(
        t(
            json!({"a":1}),
            json!({"$setElementOrder/mergingList":[{"name":"b"}]})
        ),
        json!({"a":1})
    );
    // Empty original list.
    assert_eq!(
        t(
            json!({"mergingList":[]}),
            json!({"$setElementOrder/mergingList":[]})
        ),
        json!({"mergingList":[]})
    );
}

#[test]
fn retain_keys() {
    // Upstream "retainKeys map adds a field and clear a field".
    assert_eq!(
        t(
            json!({"retainKeysMap":{"name":"foo","other":"a"}}),
            json!({"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar"}})
        ),
        json!({"retainKeysMap":{"name":"foo","value":"bar"}})
    );
    // Nested lists keep their own strategies.
    assert_eq!(
        t(
            json!({"retainKeysMap":{"name":"foo","mergingIntList":[1,2],"other":"x"}}),
            json!({"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[3]}})
        ),
        json!({"retainKeysMap":{"name":"foo","mergingIntList":[3,1,2]}})
    );
    // Upstream "retainKeys list of maps clears a field".
    assert_eq!(
        t(
            json!({"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]}),
            json!({
                "$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],
                "retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo"}]
            })
        ),
        json!({"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]})
    );
    // Patch fields not listed: 400.
    let e = t_err(
        json!({"retainKeysMap":{}}),
        json!({"retainKeysMap":{"$retainKeys":["name"],"value":"x"}}),
    );
    assert_eq!(
        (e.code, e.reason, e.message.as_str()),
        (400, "BadRequest", "invalid patch format of retainKeys")
    );
    let e = t_err(
        json!({"retainKeysMap":{}}),
        json!({"retainKeysMap":{"$retainKeys":"name"}}),
    );
    assert_eq!(e.code, 400);
    // Nulls and directives need not be listed.
    assert_eq!(
        t(
            json!({"retainKeysMap":{"name":"foo","value":"v"}}),
            json!({"retainKeysMap":{"$retainKeys":["name"],"value":null}})
        ),
        json!({"retainKeysMap":{"name":"foo"}})
    );
}

#[test]
fn bad_documents() {
    for p in [json!([1]), json!("x"), json!(1)] {
        let e = t_err(json!({}), p);
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
    }
    let e = strategic_merge_patch(TEST_TYPES, &json!([]), &json!({}), "mergeItem").unwrap_err();
    assert_eq!(e.code, 400);
}

// ---------------------------------------------------------------------------
// The real Kubernetes 1.33 table.

const POD: &str = "io.k8s.api.core.v1.Pod";
const NODE: &str = "io.k8s.api.core.v1.Node";
const DEPLOY: &str = "io.k8s.api.apps.v1.Deployment";

fn deployment() -> Value {
    json!({
        "apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"web","namespace":"default","labels":{"app":"web"},
            "annotations":{"deployment.kubernetes.io/revision":"1"},
            "finalizers":["a.example.com/f"]},
        "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
            "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{
                "containers":[
                    {"name":"app","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
                     "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
                     "volumeMounts":[{"name":"data","mountPath":"/data"}]},
                    {"name":"sidecar","image":"busybox","args":["sleep","1d"]}
                ],
                "volumes":[{"name":"data","emptyDir":{}}],
                "tolerations":[{"key":"a","operator":"Exists"}]
            }}}
    })
}

#[test]
fn kubectl_apply_patch_shape() {
    let patch = json!({
        "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{...}"}},
        "spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
            "containers":[{"image":"nginx:1.26","name":"app"}]
        }}}
    });
    let got = k(deployment(), patch, DEPLOY);
    let mut want = deployment();
    want["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!("{...}");
    want["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert_eq!(got, want);

    // Apply that adds a container, an env var and a port, and removes the sidecar.
    let patch = json!({"spec":{"template":{"spec":{
    "$setElementOrder/containers":[{"name":"app"},{"name":"log"}],
    "containers":[
        {"name":"app","$setElementOrder/env":[{"name":"A"},{"name":"C"},{"name":"B"}],"env":[{"name":"C","value":"3"}],
         "$setElementOrder/ports":[{"containerPort":80},{"containerPort":443}],"ports":[{"containerPort":443}]},
        {"name":"log","image":"fluentbit"},
        {"name":"sidecar","$patch":"delete"}
    ]}}}});
    let got = k(deployment(), patch, DEPLOY);
    let spec = &got["spec"]["template"]["spec"];
    assert_eq!(names(&spec["containers"]), vec![json!("app"), json!("log")]);
    assert_eq!(
        names(&spec["containers"][0]["env"]),
        vec![json!("A"), json!("C"), json!("B")]
    );
    assert_eq!(
        spec["containers"][0]["ports"],
        json!([{"containerPort":80,"protocol":"TCP"},{"containerPort":443}])
    );
    assert_eq!(
        spec["containers"][1],
        json!({"name":"log","image":"fluentbit"})
    );
    // Untouched siblings stay.
    assert_eq!(
        spec["volumes"],
        deployment()["spec"]["template"]["spec"]["volumes"]
    );
}

#[test]
fn kubectl_patch_shapes() {
    // kubectl set image / patch: merge container by name.
    let got = k(
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}}}}),
        DEPLOY,
    );
    let c = &got["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(c), vec![json!("app"), json!("sidecar")]);
    assert_eq!(
        c[1],
        json!({"name":"sidecar","image":"busybox:2","args":["sleep","1d"]})
    );
    // Env merged by name, volume mounts by mountPath, ports by containerPort.
    let got = k(
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"app",
            "env":[{"name":"B","value":"20"}],
            "volumeMounts":[{"mountPath":"/data","readOnly":true}],
            "ports":[{"containerPort":80,"name":"http"}]}]}}}}),
        DEPLOY,
    );
    let app = &got["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        app["env"],
        json!([{"name":"A","value":"1"},{"name":"B","value":"20"}])
    );
    assert_eq!(
        app["volumeMounts"],
        json!([{"name":"data","mountPath":"/data","readOnly":true}])
    );
    assert_eq!(
        app["ports"],
        json!([{"containerPort":80,"protocol":"TCP","name":"http"}])
    );
    // Container args are atomic: replaced.
    let got = k(
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","args":["x"]}]}}}}),
        DEPLOY,
    );
    assert_eq!(
        got["spec"]["template"]["spec"]["containers"][1]["args"],
        json!(["x"])
    );
    // Tolerations have no patch strategy: replaced.
    let got = k(
        deployment(),
        json!({"spec":{"template":{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}}}),
        DEPLOY,
    );
    assert_eq!(
        got["spec"]["template"]["spec"]["tolerations"],
        json!([{"key":"b","operator":"Exists"}])
    );
    // kubectl scale / rollout restart.
    let got = k(
        deployment(),
        json!({"spec":{"replicas":3,"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-01T00:00:00Z"}}}}}),
        DEPLOY,
    );
    assert_eq!(got["spec"]["replicas"], json!(3));
    assert_eq!(
        got["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        json!("2025-01-01T00:00:00Z")
    );
    assert_eq!(
        got["spec"]["template"]["metadata"]["labels"],
        json!({"app":"web"})
    );
}

#[test]
fn deployment_strategy_retain_keys() {
    // kubectl apply switching to Recreate sends $retainKeys for the retainKeys field.
    let got = k(
        deployment(),
        json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}),
        DEPLOY,
    );
    assert_eq!(got["spec"]["strategy"], json!({"type":"Recreate"}));
    // Without the directive the map is merged.
    let got = k(
        deployment(),
        json!({"spec":{"strategy":{"type":"Recreate"}}}),
        DEPLOY,
    );
    assert_eq!(
        got["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
        json!("25%")
    );
    // Volumes: merge,retainKeys — switching a volume's source.
    let got = k(
        deployment(),
        json!({"spec":{"template":{"spec":{"volumes":[{"$retainKeys":["configMap","name"],"name":"data","configMap":{"name":"cm"}}]}}}}),
        DEPLOY,
    );
    assert_eq!(
        got["spec"]["template"]["spec"]["volumes"],
        json!([{"name":"data","configMap":{"name":"cm"}}])
    );
}

#[test]
fn finalizers_are_a_merged_set() {
    let got = k(
        deployment(),
        json!({"metadata":{"finalizers":["b.example.com/f"]}}),
        DEPLOY,
    );
    assert_eq!(
        got["metadata"]["finalizers"],
        json!(["b.example.com/f", "a.example.com/f"])
    );
    let got = k(
        deployment(),
        json!({"metadata":{"finalizers":["a.example.com/f"]}}),
        DEPLOY,
    );
    assert_eq!(got["metadata"]["finalizers"], json!(["a.example.com/f"]));
    let got = k(
        deployment(),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a.example.com/f"]}}),
        DEPLOY,
    );
    assert_eq!(got["metadata"]["finalizers"], json!([]));
    let got = k(
        deployment(),
        json!({"metadata":{"finalizers":null}}),
        DEPLOY,
    );
    assert_eq!(got["metadata"].get("finalizers"), None);
    // Owner references merge by uid.
    let orig = json!({"metadata":{"ownerReferences":[{"uid":"1","kind":"ReplicaSet","name":"a"}]}});
    let got = k(
        orig,
        json!({"metadata":{"ownerReferences":[{"uid":"2","kind":"ReplicaSet","name":"b"}]}}),
        POD,
    );
    assert_eq!(
        got["metadata"]["ownerReferences"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn kubectl_cordon_and_taints() {
    let node = json!({"metadata":{"name":"n1"},"spec":{"podCIDR":"10.0.0.0/24","podCIDRs":["10.0.0.0/24"],
        "taints":[{"key":"a","effect":"NoSchedule"}]}});
    let got = k(node.clone(), json!({"spec":{"unschedulable":true}}), NODE);
    assert_eq!(got["spec"]["unschedulable"], json!(true));
    assert_eq!(got["spec"]["podCIDR"], json!("10.0.0.0/24"));
    let got = k(node.clone(), json!({"spec":{"unschedulable":null}}), NODE);
    assert_eq!(got["spec"].get("unschedulable"), None);
    // Taints are atomic in 1.33 (no patch strategy): replaced.
    let got = k(
        node.clone(),
        json!({"spec":{"taints":[{"key":"b","effect":"NoExecute"}]}}),
        NODE,
    );
    assert_eq!(
        got["spec"]["taints"],
        json!([{"key":"b","effect":"NoExecute"}])
    );
    // podCIDRs: merge of primitives.
    let got = k(node, json!({"spec":{"podCIDRs":["fd00::/64"]}}), NODE);
    assert_eq!(got["spec"]["podCIDRs"], json!(["fd00::/64", "10.0.0.0/24"]));
}

#[test]
fn kubelet_node_status_patch() {
    let node = json!({"metadata":{"name":"n1"},"status":{
        "conditions":[
            {"type":"MemoryPressure","status":"False","lastHeartbeatTime":"t0"},
            {"type":"DiskPressure","status":"False","lastHeartbeatTime":"t0"},
            {"type":"Ready","status":"False","lastHeartbeatTime":"t0","reason":"KubeletNotReady"}
        ],
        "addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"}],
        "images":[{"names":["a:1"],"sizeBytes":1}],
        "capacity":{"cpu":"2","memory":"4Gi"}
    }});
    let patch = json!({"status":{
        "$setElementOrder/addresses":[{"type":"InternalIP"},{"type":"Hostname"}],
        "$setElementOrder/conditions":[{"type":"MemoryPressure"},{"type":"DiskPressure"},{"type":"PIDPressure"},{"type":"Ready"}],
        "addresses":[{"address":"10.0.0.2","type":"InternalIP"}],
        "conditions":[
            {"lastHeartbeatTime":"t1","type":"MemoryPressure"},
            {"lastHeartbeatTime":"t1","type":"DiskPressure"},
            {"lastHeartbeatTime":"t1","status":"False","type":"PIDPressure"},
            {"lastHeartbeatTime":"t1","reason":"KubeletReady","status":"True","type":"Ready"}
        ],
        "images":[{"names":["b:1"],"sizeBytes":2}],
        "capacity":{"pods":"110"}
    }});
    let got = k(node, patch, NODE);
    let st = &got["status"];
    let types: Vec<&str> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    );
    assert_eq!(
        st["conditions"][0],
        json!({"type":"MemoryPressure","status":"False","lastHeartbeatTime":"t1"})
    );
    assert_eq!(
        st["conditions"][3],
        json!({"type":"Ready","status":"True","lastHeartbeatTime":"t1","reason":"KubeletReady"})
    );
    assert_eq!(
        st["addresses"],
        json!([{"type":"InternalIP","address":"10.0.0.2"},{"type":"Hostname","address":"n1"}])
    );
    // images is atomic: replaced.
    assert_eq!(st["images"], json!([{"names":["b:1"],"sizeBytes":2}]));
    assert_eq!(
        st["capacity"],
        json!({"cpu":"2","memory":"4Gi","pods":"110"})
    );
    assert!(st.as_object().unwrap().keys().all(|k| !k.starts_with('$')));
}

#[test]
fn kubelet_pod_status_patch() {
    let pod = json!({"metadata":{"name":"p","uid":"u1"},"spec":{"containers":[{"name":"app","image":"x"}]},
        "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True"}]}});
    let patch = json!({"metadata":{"uid":"u1"},"status":{
        "$setElementOrder/conditions":[{"type":"Initialized"},{"type":"Ready"},{"type":"ContainersReady"},{"type":"PodScheduled"}],
        "conditions":[
            {"status":"True","type":"Initialized"},
            {"status":"True","type":"Ready"},
            {"status":"True","type":"ContainersReady"}
        ],
        "containerStatuses":[{"name":"app","ready":true,"state":{"running":{"startedAt":"t"}}}],
        "phase":"Running","podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"}]
    }});
    let got = k(pod, patch, POD);
    let st = &got["status"];
    let types: Vec<&str> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["Initialized", "Ready", "ContainersReady", "PodScheduled"]
    );
    assert_eq!(st["phase"], json!("Running"));
    assert_eq!(st["podIPs"], json!([{"ip":"10.1.0.5"}]));
    assert_eq!(st["containerStatuses"][0]["name"], json!("app"));

    // The same patch on a pod stored without status: directives do not leak.
    let pod = json!({"metadata":{"name":"p"}});
    let patch = json!({"status":{"$setElementOrder/conditions":[{"type":"Ready"}],"conditions":[{"type":"Ready","status":"True"}]}});
    let got = k(pod, patch, POD);
    assert_eq!(
        got["status"],
        json!({"conditions":[{"type":"Ready","status":"True"}]})
    );
}

#[test]
fn pdb_selector_is_replaced() {
    let pdb = json!({"spec":{"selector":{"matchLabels":{"a":"1"}},"minAvailable":1}});
    let got = k(
        pdb,
        json!({"spec":{"selector":{"matchLabels":{"b":"2"}}}}),
        "io.k8s.api.policy.v1.PodDisruptionBudget",
    );
    assert_eq!(got["spec"]["selector"], json!({"matchLabels":{"b":"2"}}));
}

#[test]
fn service_ports_merge_by_port() {
    let svc = json!({"spec":{"ports":[{"port":80,"targetPort":8080,"protocol":"TCP"}],"selector":{"app":"a"}}});
    let got = k(
        svc,
        json!({"spec":{"ports":[{"port":80,"targetPort":9090}]}}),
        "io.k8s.api.core.v1.Service",
    );
    assert_eq!(
        got["spec"]["ports"],
        json!([{"port":80,"targetPort":9090,"protocol":"TCP"}])
    );
}

#[test]
fn unknown_definitions_merge_maps_and_replace_lists() {
    let orig = json!({"spec":{"a":1,"list":[{"name":"x"}],"m":{"k":"v"}}});
    let got = k(
        orig.clone(),
        json!({"spec":{"list":[{"name":"y"}],"m":{"k2":"v2"}}}),
        "com.example.v1.Widget",
    );
    assert_eq!(
        got,
        json!({"spec":{"a":1,"list":[{"name":"y"}],"m":{"k":"v","k2":"v2"}}})
    );
    // The directives still work.
    let got = k(orig, json!({"spec":{"$patch":"replace","b":2}}), "");
    assert_eq!(got, json!({"spec":{"b":2}}));
}

#[test]
fn labels_and_annotations() {
    let got = k(
        deployment(),
        json!({"metadata":{"labels":{"app":null,"tier":"fe"},"annotations":{"x":"y"}}}),
        DEPLOY,
    );
    assert_eq!(got["metadata"]["labels"], json!({"tier":"fe"}));
    assert_eq!(
        got["metadata"]["annotations"],
        json!({"deployment.kubernetes.io/revision":"1","x":"y"})
    );
}

#[test]
fn case_insensitive_field_lookup() {
    // encoding/json's case-insensitive match finds the field's metadata.
    let got = t(
        json!({"MergingList":[{"name":"a"}]}),
        json!({"MergingList":[{"name":"b"}]}),
    );
    assert_eq!(names(&got["MergingList"]), vec![json!("b"), json!("a")]);
}

#[test]
fn input_is_not_modified() {
    let orig = deployment();
    let patch =
        json!({"spec":{"template":{"spec":{"containers":[{"name":"app","$patch":"delete"}]}}}});
    let before = (orig.clone(), patch.clone());
    let got = k(orig.clone(), patch.clone(), DEPLOY);
    assert_eq!((orig, patch), before);
    assert_eq!(
        names(&got["spec"]["template"]["spec"]["containers"]),
        vec![json!("sidecar")]
    );
}

#[test]
fn strategy_parsing() {
    assert_eq!(non_retain_strategy("").unwrap(), "");
    assert_eq!(non_retain_strategy("merge").unwrap(), "merge");
    assert_eq!(non_retain_strategy("retainKeys").unwrap(), "");
    assert_eq!(non_retain_strategy("merge,retainKeys").unwrap(), "merge");
    assert_eq!(
        non_retain_strategy("retainKeys,replace").unwrap(),
        "replace"
    );
    assert_eq!(non_retain_strategy("merge,replace").unwrap_err().code, 500);
    assert_eq!(non_retain_strategy("a,b,c").unwrap_err().code, 500);
}
