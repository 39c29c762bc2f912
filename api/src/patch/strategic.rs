//! Strategic merge patch, following k8s.io/apimachinery
//! `strategicpatch.StrategicMergeMapPatch` as kube-apiserver 1.33 applies it
//! (`MergeParallelList` and `IgnoreUnmatchedNulls` both on), with the patch
//! metadata (`patchStrategy` / `patchMergeKey`) taken from the generated table
//! in `schema.rs`.
//!
//! Behaviour worth knowing (all as upstream):
//! * without `$setElementOrder`, items of a merged list that are new come
//!   *before* the server-only items they are compared with (upstream
//!   `mergeSortedSlice`): patching `[a, b]` with `[c]` gives `[c, a, b]`;
//!   existing items keep their order;
//! * `$patch: merge` is rejected (500), on maps and on list items;
//! * a map whose value holds `$patch` and that is new to the object is dropped.
//!
//! Deliberate differences, which only show where kube-apiserver would next
//! decode the result into a typed object (dropping unknown fields and nulls):
//! values taken whole from the patch (new fields, new list items) lose their
//! `null` members and any leftover `$retainKeys`, `$setElementOrder/...`
//! and `$deleteFromPrimitiveList/...` keys; an unknown field gets no patch
//! metadata instead of an error.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{PatchError, go_fmt};

type Obj = Map<String, Value>;
type Res<T> = Result<T, PatchError>;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

// Errors kube-apiserver's interpretStrategicMergePatchError maps to 400 / 422.
const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str =
    "invalid patch format of setElementOrder list";

/// What a field's value is, in the schema table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldKind {
    /// An object (`$ref`).
    O,
    /// An array; `target` is the item definition.
    A,
    /// A map (`additionalProperties`); `target` is the value definition.
    M,
    /// Anything else (a scalar carrying list extensions).
    S,
}

/// One field of a definition in the schema table; empty strings mean absent.
#[derive(Debug)]
pub(super) struct FieldDef {
    pub name: &'static str,
    pub kind: FieldKind,
    pub target: &'static str,
    pub strategy: &'static str,
    pub merge_key: &'static str,
    pub list_type: &'static str,
    pub list_map_keys: &'static [&'static str],
}

/// A definition in the schema table, fields sorted by name.
#[derive(Debug)]
pub(super) struct TypeDef {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
}

impl TypeDef {
    pub(super) fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields
            .binary_search_by(|f| f.name.cmp(name))
            .ok()
            .map(|i| &self.fields[i])
    }
}

pub(super) fn find_type(types: &'static [TypeDef], name: &str) -> Option<&'static TypeDef> {
    types
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &types[i])
}

/// Where we are in the type graph.
#[derive(Clone, Copy)]
enum Node {
    /// No metadata: maps merge, lists are replaced.
    Unknown,
    Type(&'static TypeDef),
    /// A map whose values are of this type.
    MapOf(&'static TypeDef),
}

#[derive(Clone, Copy, Default)]
struct Meta {
    strategy: &'static str,
    merge_key: &'static str,
}

#[derive(Clone, Copy)]
struct Schema {
    types: &'static [TypeDef],
}

impl Schema {
    fn resolve(&self, name: &str) -> Node {
        if name.is_empty() {
            return Node::Unknown;
        }
        find_type(self.types, name).map_or(Node::Unknown, Node::Type)
    }

    /// Sub-schema and metadata of `key` (for both struct and slice lookups:
    /// the table records the item type of arrays as their target).
    fn lookup(&self, node: Node, key: &str) -> (Node, Meta) {
        match node {
            Node::Unknown => (Node::Unknown, Meta::default()),
            Node::MapOf(t) => (Node::Type(t), Meta::default()),
            Node::Type(t) => {
                // encoding/json matches field names exactly first, then case-insensitively.
                let field = t
                    .field(key)
                    .or_else(|| t.fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)));
                let Some(f) = field else {
                    return (Node::Unknown, Meta::default());
                };
                let sub = match (f.kind, self.resolve(f.target)) {
                    (FieldKind::M, Node::Type(t)) => Node::MapOf(t),
                    (FieldKind::S, _) => Node::Unknown,
                    (_, n) => n,
                };
                (
                    sub,
                    Meta {
                        strategy: f.strategy,
                        merge_key: f.merge_key,
                    },
                )
            }
        }
    }
}

/// `extractRetainKeysPatchStrategy`: the strategy other than retainKeys.
fn non_retain_strategy(strategy: &'static str) -> Res<&'static str> {
    let parts: Vec<&'static str> = strategy.split(',').collect();
    match parts.as_slice() {
        [one] if *one == RETAIN_KEYS_STRATEGY => Ok(""),
        [one] => Ok(one),
        [a, b] if *a == RETAIN_KEYS_STRATEGY => Ok(b),
        [a, b] if *b == RETAIN_KEYS_STRATEGY => Ok(a),
        _ => Err(PatchError::internal(format!(
            "unexpected patch strategy: [{}]",
            parts.join(" ")
        ))),
    }
}

pub(super) fn strategic_merge_patch(
    types: &'static [TypeDef],
    original: &Value,
    patch: &Value,
    definition: &str,
) -> Res<Value> {
    let patch = match patch {
        Value::Object(p) => p.clone(),
        // Decoding `null` into a map leaves it empty.
        Value::Null => Obj::new(),
        other => {
            return Err(PatchError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    let Value::Object(original) = original else {
        return Err(PatchError::bad_request(ERR_BAD_JSON_DOC));
    };
    let schema = Schema { types };
    let root = schema.resolve(definition);
    merge_map(&schema, original.clone(), patch, root).map(Value::Object)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go type name of a decoded JSON value, for `ErrBadArgType` messages.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::internal(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

fn err_bad_map(actual: &Value) -> PatchError {
    err_bad_arg_type("map[string]interface {}", actual)
}

fn err_bad_slice(actual: &Value) -> PatchError {
    err_bad_arg_type("[]interface {}", actual)
}

fn err_no_merge_key(m: &Obj, key: &str) -> PatchError {
    PatchError::internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(&Value::Object(m.clone()))
    ))
}

fn err_bad_patch_type(t: &Value, m: &Obj) -> PatchError {
    PatchError::internal(format!(
        "unknown patch type: {} in map: {}",
        go_fmt(t),
        go_fmt(&Value::Object(m.clone()))
    ))
}

fn merge_map(schema: &Schema, mut original: Obj, mut patch: Obj, node: Node) -> Res<Obj> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.remove(DIRECTIVE_MARKER);
                Ok(patch)
            }
            Some(DELETE_DIRECTIVE) => Ok(Obj::new()),
            _ => Err(err_bad_patch_type(directive, &patch)),
        };
    }

    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(schema, &mut original, &mut patch, node)?;

    for (mut key, patch_v) in patch {
        let mut is_delete_list = false;
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let stripped = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            is_delete_list = true;
            if !stripped.is_empty() {
                key = stripped;
            }
        }

        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }

        let Some(orig_v) = original.get_mut(&key) else {
            if !is_delete_list {
                match take_patch_value(patch_v) {
                    Some(v) => {
                        original.insert(key, v);
                    }
                    None => {
                        original.remove(&key);
                    }
                }
            }
            continue;
        };

        match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup(node, &key);
                let strategy = non_retain_strategy(meta.strategy)?;
                let merged = if strategy == REPLACE_DIRECTIVE {
                    p
                } else {
                    merge_map(schema, std::mem::take(o), p, sub)?
                };
                original.insert(key, Value::Object(merged));
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup(node, &key);
                let strategy = non_retain_strategy(meta.strategy)?;
                let o = std::mem::take(o);
                let merged = merge_slice_handler(
                    schema,
                    o,
                    p,
                    sub,
                    strategy,
                    meta.merge_key,
                    is_delete_list,
                )?;
                original.insert(key, Value::Array(merged));
            }
            (o, p) => {
                let same_kind = std::mem::discriminant(o) == std::mem::discriminant(&p)
                    && go_type(o) == go_type(&p);
                if same_kind {
                    // Two scalars of one Go type: the patch wins, even for a delete list.
                    *o = p;
                } else if !is_delete_list {
                    match take_patch_value(p) {
                        Some(v) => *o = v,
                        None => {
                            original.remove(&key);
                        }
                    }
                }
            }
        }
    }
    Ok(original)
}

/// A value taken whole from the patch: nulls discarded, directives removed.
/// `None` when the value itself is a `$patch` directive map.
fn take_patch_value(mut v: Value) -> Option<Value> {
    discard_nulls(&mut v);
    remove_directives(v)
}

fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

fn is_leftover_directive_key(k: &str) -> bool {
    k == RETAIN_KEYS_DIRECTIVE
        || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            let m = m
                .into_iter()
                .filter(|(k, _)| !is_leftover_directive_key(k))
                .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                .collect();
            Some(Value::Object(m))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `extractKey`: the part after `prefix/`.
fn extract_key(key: &str, prefix: &str) -> Res<String> {
    match key.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ => Err(PatchError::bad_request(
            if prefix == SET_ELEMENT_ORDER_PREFIX {
                ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST
            } else {
                ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
            },
        )),
    }
}

/// `$retainKeys`: drop the original's fields not listed; every non-null
/// field of the patch must be listed.
fn apply_retain_keys(original: &mut Obj, patch: &mut Obj) -> Res<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(PatchError::bad_request(
            ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
        ));
    };
    let listed = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !listed(k) {
            return Err(PatchError::bad_request(
                ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
            ));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// `mergePatchIntoOriginal`: merges each list that has a `$setElementOrder`
/// directive, then orders it by the directive.
fn merge_set_element_order(
    schema: &Schema,
    original: &mut Obj,
    patch: &mut Obj,
    node: Node,
) -> Res<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(err_bad_slice(&order));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_slice(other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_slice(other)),
        };
        let (sub, meta) = schema.lookup(node, &field);
        let strategy = non_retain_strategy(meta.strategy)?;
        let merge_key = meta.merge_key;
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or(&[]),
            &order,
            merge_key,
        )?;

        let merged = match (&original_list, &patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => match take_patch_value(Value::Array(p.clone())) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => merge_slice_handler(
                schema,
                o.clone(),
                p.clone(),
                sub,
                strategy,
                merge_key,
                false,
            )?,
            (None, None) => continue,
        };

        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, &order)
        } else {
            partition_maps(merged, &order, merge_key)?
        };
        let server_order = original_list.unwrap_or_default();
        let all = match slice_element_type(&[&server_order, patch_list.as_deref().unwrap_or(&[])])?
        {
            Some(kind) => normalize_element_order(
                patch_items,
                server_only,
                &order,
                &server_order,
                merge_key,
                kind,
            )?,
            // Upstream errors on two empty lists; kube-apiserver never sees
            // them (omitempty), so keep the (empty) merge result.
            None => patch_items.into_iter().chain(server_only).collect(),
        };
        original.insert(field.clone(), Value::Array(all));
        patch.remove(&field);
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list's items must appear in the
/// `$setElementOrder` list, in the same relative order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Res<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<Value> = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi]
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &order[oi], merge_key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(PatchError::internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Res<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let l = left.as_object().ok_or_else(|| err_bad_map(left))?;
    let r = right.as_object().ok_or_else(|| err_bad_map(right))?;
    let lv = l
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(l, merge_key))?;
    let rv = r
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}

fn merge_slice_handler(
    schema: &Schema,
    original: Vec<Value>,
    patch: Vec<Value>,
    node: Node,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
) -> Res<Vec<Value>> {
    if strategy == MERGE_DIRECTIVE || is_delete_list {
        merge_slice(schema, original, patch, node, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// The Go type of list elements, for `sliceElementType`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ElemKind {
    Map,
    Scalar(&'static str),
}

/// `sliceElementType`: all elements must be of one type, and not lists.
/// `None` when there are no elements at all.
fn slice_element_type(slices: &[&[Value]]) -> Res<Option<ElemKind>> {
    let mut prev: Option<&'static str> = None;
    for s in slices {
        for v in s.iter() {
            let t = go_type(v);
            match prev {
                None => {
                    if v.is_array() {
                        // ErrNoListOfLists: 422 via interpretStrategicMergePatchError.
                        return Err(PatchError::invalid());
                    }
                    prev = Some(t);
                }
                Some(p) if p != t => {
                    let all: Vec<String> = slices
                        .iter()
                        .map(|s| go_fmt(&Value::Array(s.to_vec())))
                        .collect();
                    return Err(PatchError::internal(format!(
                        "list element types are not identical: [{}]",
                        all.join(" ")
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(prev.map(|t| {
        if t == "map[string]interface {}" {
            ElemKind::Map
        } else {
            ElemKind::Scalar(t)
        }
    }))
}

fn merge_slice(
    schema: &Schema,
    original: Vec<Value>,
    patch: Vec<Value>,
    node: Node,
    merge_key: &str,
    is_delete_list: bool,
) -> Res<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let Some(kind) = slice_element_type(&[&original, &patch])? else {
        return Ok(original);
    };

    let (merged, server_order, patch) = if kind != ElemKind::Map {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let both: Vec<Value> = original.iter().chain(patch.iter()).cloned().collect();
        (deduplicate_scalars(both), original, patch)
    } else {
        if merge_key.is_empty() {
            let name = match node {
                Node::MapOf(_) => "map",
                _ => "struct",
            };
            return Err(PatchError::internal(format!(
                "cannot merge lists without merge key for {name}"
            )));
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged = merge_slice_without_special_elements(
            schema,
            original.clone(),
            &patch,
            merge_key,
            node,
        )?;
        (merged, original, patch)
    };

    let (patch_items, server_only) = if merge_key.is_empty() {
        partition_primitives(merged, &patch)
    } else {
        partition_maps(merged, &patch, merge_key)?
    };
    normalize_element_order(
        patch_items,
        server_only,
        &patch,
        &server_order,
        merge_key,
        kind,
    )
}

/// Upstream's in-place deduplication (not order preserving: a duplicate is
/// overwritten by the last element); order is restored by the caller.
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if s[i] == s[j] {
                s.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// Handles list items holding `$patch`; returns the new original and the
/// patch items without directives.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Res<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let m = v.as_object().ok_or_else(|| err_bad_map(&v))?;
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let value = m
                    .get(merge_key)
                    .ok_or_else(|| err_no_merge_key(m, merge_key))?;
                let mut kept = Vec::with_capacity(original.len());
                for item in original {
                    let im = item
                        .as_object()
                        .ok_or_else(|| value_not_a_map(kept.len()))?;
                    if im.get(merge_key) != Some(value) {
                        kept.push(item);
                    }
                }
                original = kept;
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(PatchError::internal(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

fn value_not_a_map(index: usize) -> PatchError {
    PatchError::internal(format!("value for key {index} is not a map"))
}

/// `findMapInSliceBasedOnKeyValue`.
fn find_by_key(list: &[Value], merge_key: &str, value: &Value) -> Res<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let m = v.as_object().ok_or_else(|| value_not_a_map(i))?;
        if m.get(merge_key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn merge_slice_without_special_elements(
    schema: &Schema,
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    node: Node,
) -> Res<Vec<Value>> {
    for v in patch {
        let m = v.as_object().ok_or_else(|| err_bad_map(v))?;
        let value = m
            .get(merge_key)
            .ok_or_else(|| err_no_merge_key(m, merge_key))?;
        match find_by_key(&original, merge_key, value)? {
            Some(i) => {
                let Value::Object(o) = std::mem::take(&mut original[i]) else {
                    unreachable!("find_by_key only matches maps");
                };
                original[i] = Value::Object(merge_map(schema, o, m.clone(), node)?);
            }
            None => {
                let mut v = v.clone();
                discard_nulls(&mut v);
                original.push(v);
            }
        }
    }
    Ok(original)
}

/// Splits `list` into the items present in `by` and the others (server-only).
fn partition_primitives(list: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    list.into_iter().partition(|v| by.contains(v))
}

fn partition_maps(
    list: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Res<(Vec<Value>, Vec<Value>)> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for v in list {
        let m = v.as_object().ok_or_else(|| err_bad_map(&v))?;
        let value = m
            .get(merge_key)
            .ok_or_else(|| err_no_merge_key(m, merge_key))?;
        if find_by_key(by, merge_key, value)?.is_some() {
            in_patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((in_patch, server_only))
}

/// `normalizeElementOrder`: sorts the patch items by `patch_order` and the
/// server-only items by `server_order`, then interleaves them.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Res<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

fn sort_value<'a>(item: &'a Value, merge_key: &str, kind: ElemKind) -> Option<&'a Value> {
    match kind {
        ElemKind::Map => item.as_object().and_then(|m| m.get(merge_key)),
        ElemKind::Scalar(_) => Some(item),
    }
}

/// Position of `item` in `list`, comparing merge key values for maps.
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: ElemKind) -> Option<usize> {
    let want = sort_value(item, merge_key, kind);
    list.iter()
        .position(|v| sort_value(v, merge_key, kind) == want)
}

fn extract_to_delete_items(list: Vec<Value>) -> Res<(Vec<Value>, Vec<Value>)> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let m = v.as_object().ok_or_else(|| err_bad_map(&v))?;
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Res<()> {
    for list in lists {
        for item in list.iter() {
            let m = item.as_object().ok_or_else(|| err_bad_map(item))?;
            if !m.contains_key(merge_key) {
                return Err(err_no_merge_key(m, merge_key));
            }
        }
    }
    Ok(())
}

/// `normalizeSliceOrder`: a stable sort by position in `order`; for maps,
/// `$patch: delete` items go last. (Items missing from `order` cannot occur
/// on valid input; they are put first.)
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Res<Vec<Value>> {
    let (mut to_sort, to_delete) = if kind == ElemKind::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort
        .drain(..)
        .map(|v| (index_of(order, &v, merge_key, kind), v))
        .collect();
    keyed.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    Ok(keyed.into_iter().map(|(_, v)| v).chain(to_delete).collect())
}

/// `mergeSortedSlice`: inserts the server-only items (`left`) among the patch
/// items (`right`): a server-only item goes first only when both items are
/// in `server_order` and it comes earlier there.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                let li = index_of(server_order, l, merge_key, kind);
                let ri = index_of(server_order, r, merge_key, kind);
                matches!((li, ri), (Some(a), Some(b)) if a < b)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests;
