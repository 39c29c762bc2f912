//! Field ownership (`metadata.managedFields`) and server-side apply conflict
//! detection, after kube-apiserver's `k8s.io/apimachinery/pkg/util/managedfields`
//! and `sigs.k8s.io/structured-merge-diff` (fieldpath sets, compare, prune).
//!
//! This module is pure: it works on `serde_json::Value` objects and learns the
//! list semantics of a field (associative list keyed by a merge key, set of
//! primitives, or atomic) from a caller-supplied [`FieldMetaFn`].
//!
//! Model (as in kube):
//! * A manager's ownership is a set of field paths, stored as FieldsV1
//!   (`f:<field>`, `k:{"name":"app"}`, `v:"value"`, `i:<index>`, `.` marks a
//!   node that is itself owned and also has owned children).
//! * Apply: the applier owns exactly the fields of its applied configuration.
//!   Fields changed by the apply and owned by someone else are conflicts
//!   (unless `force`, which takes them over). Fields the applier owned at its
//!   previous apply, dropped from this one and owned by nobody else, are
//!   removed from the object.
//! * Update (create, update, non-apply patch): the writer takes the fields
//!   it added or changed; removed fields leave every manager's set.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Per-field list semantics for a definition's field, from the generated patch table
/// (the caller passes `|def, field| crate::patch::field_patch_meta(def, field)` adapted to this type).
pub struct ListMeta {
    /// x-kubernetes-patch-merge-key, or the first of list_map_keys.
    pub merge_key: Option<&'static str>,
    /// Primitive list with merge strategy or list-type=set.
    pub set: bool,
    /// Definition of the field's value (object field) or of its items (list field).
    pub child_definition: Option<&'static str>,
}

pub type FieldMetaFn<'a> =
    dyn Fn(&str /*definition*/, &str /*field*/) -> Option<ListMeta> + 'a;

/// One field whose apply conflicts with another manager.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Name of the manager owning the field.
    pub manager: String,
    /// Field path rendered like kube: `.data.a`, `.spec.containers[name="app"].image`.
    pub field: String,
    /// The manager as kube prints it in messages: `"kubectl"` for an Apply entry,
    /// `"kubectl-edit" using v1 at 2024-01-01T00:00:00Z` for an Update entry,
    /// with ` with subresource "status"` after the name for subresource entries.
    pub manager_display: String,
}

impl Conflict {
    /// The `message` of this conflict's `StatusCause` (type `FieldManagerConflict`,
    /// `field` = [`Conflict::field`]), e.g. `conflict with "kubectl"`.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.manager_display)
    }
}

/// kube's apply conflict message (the `message` of the 409 Status):
/// `Apply failed with 1 conflict: conflict with "kubectl": .data.a`, or for several
/// `Apply failed with 2 conflicts: conflicts with "a":\n- .data.x\nconflicts with "b":\n- .data.y`.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if conflicts.len() == 1 {
        let c = &conflicts[0];
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager_display, c.field
        );
    }
    // Group by manager, managers sorted, paths in their order of appearance.
    let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        groups
            .entry((c.manager.as_str(), c.manager_display.as_str()))
            .or_default()
            .push(&c.field);
    }
    let mut lines = Vec::new();
    for ((_, display), paths) in groups {
        lines.push(format!("conflicts with {display}:"));
        for p in paths {
            lines.push(format!("- {p}"));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Records ownership for a non-apply write (create, update, non-apply patch) by `manager` (operation "Update"):
/// fields whose value changed (or were added) between `old` (None on create) and `new` become owned by `manager`
/// (and are removed from other managers' sets); managers left with no fields are dropped. Writes `new.metadata.managedFields`.
///
/// As kube does: when `new` carries a non-empty `managedFields` (different from `old`'s) those are
/// taken as the starting point; `managedFields: []` (or `[{}]`) resets ownership; an existing
/// object without any managed fields stays untracked until its first apply.
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now_rfc3339: &str,
    meta: &FieldMetaFn,
    definition: &str,
) {
    let sc = Schema {
        meta,
        root: definition,
    };
    let new_mf = take_managed_fields(new);
    let old_mf = old.and_then(managed_fields_of);

    // decodeLiveOrNew
    let mut managers = if is_reset_managed_fields(new_mf.as_ref()) {
        Vec::new()
    } else {
        match new_mf.as_ref().map(decode_managed_fields) {
            Some(Ok(m)) if !m.is_empty() => m,
            _ => old_mf
                .and_then(|v| decode_managed_fields(v).ok())
                .unwrap_or_default(),
        }
    };

    // skipNonApplied: an existing object without managed fields is not tracked.
    if managers.is_empty() && old.is_some() {
        return;
    }

    let old_clean = old.map(without_managed_fields);
    let base = match &old_clean {
        Some(o) => o.clone(),
        None => sc.empty_object(new),
    };
    let cmp = sc.compare(&base, new);
    let changed = strip_ignored(&cmp.modified.union(&cmp.added));
    let removed = strip_ignored(&cmp.removed);

    for e in managers.iter_mut() {
        e.set = e.set.difference(&changed).difference(&removed);
    }
    if !changed.is_empty() {
        let id = Entry::identity(manager, OP_UPDATE, api_version, "");
        match managers.iter_mut().find(|e| e.id() == id) {
            Some(e) => {
                e.set = e.set.union(&changed);
                e.time = Some(normalize_time(now_rfc3339));
            }
            None => managers.push(Entry {
                manager: manager.to_string(),
                operation: OP_UPDATE.to_string(),
                api_version: api_version.to_string(),
                subresource: String::new(),
                time: Some(normalize_time(now_rfc3339)),
                set: changed,
            }),
        }
    }
    managers.retain(|e| !e.set.is_empty());
    cap_update_managers(&mut managers);
    write_managed_fields(new, &managers);
}

/// Server-side apply: `current` is the live object (None when creating), `applied` the applied configuration,
/// `merged` the object after merging `applied` into `current` (the caller computes it).
/// Returns Err(conflicts) when, without `force`, a field in `applied` whose value differs from the live value is owned by another manager (any operation).
/// On success: `manager`'s Apply entry owns exactly the fields set in `applied`; with force those fields are taken from the others;
/// fields the manager owned before, no longer in `applied` and owned by nobody else, are REMOVED from `merged` (that is how SSA deletes);
/// writes `merged.metadata.managedFields`.
///
/// An existing object without managed fields first gets all its fields assigned to a
/// `before-first-apply` Update manager, as kube does.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    current: Option<&Value>,
    applied: &Value,
    merged: &mut Value,
    manager: &str,
    force: bool,
    api_version: &str,
    now_rfc3339: &str,
    meta: &FieldMetaFn,
    definition: &str,
) -> Result<(), Vec<Conflict>> {
    let sc = Schema {
        meta,
        root: definition,
    };
    let now = normalize_time(now_rfc3339);
    take_managed_fields(merged);
    let live = current.map(without_managed_fields);
    let mut managers = current
        .and_then(managed_fields_of)
        .and_then(|v| decode_managed_fields(v).ok())
        .unwrap_or_default();

    if let (Some(live), true) = (&live, managers.is_empty()) {
        let base = sc.empty_object(live);
        let cmp = sc.compare(&base, live);
        let set = strip_ignored(&cmp.modified.union(&cmp.added));
        if !set.is_empty() {
            managers.push(Entry {
                manager: "before-first-apply".to_string(),
                operation: OP_UPDATE.to_string(),
                api_version: api_version.to_string(),
                subresource: String::new(),
                time: Some(now.clone()),
                set,
            });
        }
    }
    let live = match live {
        Some(l) => l,
        None => sc.empty_object(merged),
    };

    let id = Entry::identity(manager, OP_APPLY, api_version, "");
    let previous = managers.iter().position(|e| e.id() == id);
    let last_set = previous.map(|i| managers[i].set.clone());
    let last_time = previous.and_then(|i| managers[i].time.clone());
    let config_set = strip_ignored(&sc.to_field_set(&without_managed_fields(applied)));
    let idx = match previous {
        Some(i) => i,
        None => {
            managers.push(Entry {
                manager: manager.to_string(),
                operation: OP_APPLY.to_string(),
                api_version: api_version.to_string(),
                subresource: String::new(),
                time: None,
                set: FieldSet::default(),
            });
            managers.len() - 1
        }
    };
    managers[idx].set = config_set.clone();
    managers[idx].api_version = api_version.to_string();

    if let Some(last) = &last_set
        && !last.is_empty()
    {
        *merged = sc.prune(merged, &managers, last);
    }

    let cmp = sc.compare(&live, merged);
    let changed = strip_ignored(&cmp.modified.union(&cmp.added));
    let removed = strip_ignored(&cmp.removed);

    let mut conflicts = Vec::new();
    let mut taken = Vec::new();
    for (i, e) in managers.iter().enumerate() {
        if i == idx {
            continue;
        }
        let inter = e.set.intersection(&changed);
        if inter.is_empty() {
            continue;
        }
        for path in inter.paths() {
            conflicts.push((
                e.sort_key(),
                Conflict {
                    manager: e.manager.clone(),
                    field: render_path(&path),
                    manager_display: e.display(),
                },
            ));
        }
        taken.push((i, inter));
    }
    if !force && !conflicts.is_empty() {
        // Stable sort: managers in order, each manager's paths in set order.
        conflicts.sort_by(|a, b| a.0.cmp(&b.0));
        return Err(conflicts.into_iter().map(|(_, c)| c).collect());
    }
    for (i, inter) in taken {
        managers[i].set = managers[i].set.difference(&inter);
    }
    for (i, e) in managers.iter_mut().enumerate() {
        if i != idx {
            e.set = e.set.difference(&removed);
        }
    }

    let object_changed = live != *merged;
    let set_changed = last_set.as_ref() != Some(&config_set);
    managers[idx].time = if object_changed || set_changed || last_time.is_none() {
        Some(now)
    } else {
        last_time
    };
    managers.retain(|e| !e.set.is_empty());
    write_managed_fields(merged, &managers);
    Ok(())
}

// ---------------------------------------------------------------------------
// Field paths and sets (fieldpath.PathElement / fieldpath.Set)
// ---------------------------------------------------------------------------

/// One step of a field path. Variant order is kube's PathElement order
/// (field names, then keys, then values, then indexes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Pe {
    /// `f:<name>`: struct field or map key.
    Field(String),
    /// `k:<json object>`: associative list item; canonical (sorted, compact) JSON of its key fields.
    Key(String),
    /// `v:<json value>`: set item; canonical JSON of the value.
    Value(String),
    /// `i:<index>`: atomic-list position.
    Index(usize),
}

impl Pe {
    fn encode(&self) -> String {
        match self {
            Pe::Field(f) => format!("f:{f}"),
            Pe::Key(k) => format!("k:{k}"),
            Pe::Value(v) => format!("v:{v}"),
            Pe::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Pe> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "f" => Some(Pe::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Value>(rest).ok()? {
                v @ Value::Object(_) => Some(Pe::Key(v.to_string())),
                _ => None,
            },
            "v" => Some(Pe::Value(
                serde_json::from_str::<Value>(rest).ok()?.to_string(),
            )),
            "i" => rest.parse().ok().map(Pe::Index),
            _ => None,
        }
    }

    /// kube's `PathElement.String()`.
    fn render(&self) -> String {
        match self {
            Pe::Field(f) => format!(".{f}"),
            Pe::Key(k) => {
                let parts: Vec<String> = match serde_json::from_str::<Value>(k) {
                    Ok(Value::Object(m)) => m
                        .iter()
                        .map(|(n, v)| format!("{n}={}", value_to_string(v)))
                        .collect(),
                    _ => vec![k.clone()],
                };
                format!("[{}]", parts.join(","))
            }
            Pe::Value(v) => {
                let s = serde_json::from_str::<Value>(v)
                    .map(|v| value_to_string(&v))
                    .unwrap_or_else(|_| v.clone());
                format!("[={s}]")
            }
            Pe::Index(i) => format!("[{i}]"),
        }
    }
}

/// structured-merge-diff's `value.ToString`.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(value_to_string).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", value_to_string(v)))
            .collect(),
    }
}

fn render_path(path: &[Pe]) -> String {
    path.iter().map(Pe::render).collect()
}

/// A set of field paths as a tree: `members` are the paths ending at this node,
/// `children` the subtrees (never empty).
#[derive(Debug, Clone, Default, PartialEq)]
struct FieldSet {
    members: BTreeSet<Pe>,
    children: BTreeMap<Pe, FieldSet>,
}

impl FieldSet {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    fn insert(&mut self, path: &[Pe]) {
        match path {
            [] => {}
            [pe] => {
                self.members.insert(pe.clone());
            }
            [pe, rest @ ..] => self.children.entry(pe.clone()).or_default().insert(rest),
        }
    }

    fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                children.insert(pe.clone(), d);
            }
        }
        FieldSet { members, children }
    }

    fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    children.insert(pe.clone(), i);
                }
            }
        }
        FieldSet { members, children }
    }

    /// `EnsureNamedFieldsAreMembers`: field-name nodes with children become members too
    /// (every object key is taken for a named field here).
    fn with_named_fields(&self) -> FieldSet {
        let mut out = FieldSet {
            members: self.members.clone(),
            children: BTreeMap::new(),
        };
        for (pe, c) in &self.children {
            if matches!(pe, Pe::Field(_)) {
                out.members.insert(pe.clone());
            }
            out.children.insert(pe.clone(), c.with_named_fields());
        }
        out
    }

    /// All paths, in kube's `Set.Iterate` order (a node's members, then its children).
    fn paths(&self) -> Vec<Vec<Pe>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<Pe>, out: &mut Vec<Vec<Pe>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    fn to_fields_v1(&self) -> Value {
        let mut obj = Map::new();
        for m in &self.members {
            if !self.children.contains_key(m) {
                obj.insert(m.encode(), Value::Object(Map::new()));
            }
        }
        for (pe, c) in &self.children {
            let mut child = match c.to_fields_v1() {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            if self.members.contains(pe) {
                child.insert(".".to_string(), Value::Object(Map::new()));
            }
            obj.insert(pe.encode(), Value::Object(child));
        }
        Value::Object(obj)
    }

    fn from_fields_v1(v: &Value) -> Result<FieldSet, ()> {
        let obj = v.as_object().ok_or(())?;
        let mut out = FieldSet::default();
        for (k, child) in obj {
            if k == "." {
                continue;
            }
            let pe = Pe::decode(k).ok_or(())?;
            let child_obj = child.as_object().ok_or(())?;
            if child_obj.is_empty() || child_obj.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let sub = FieldSet::from_fields_v1(child)?;
            if !sub.is_empty() {
                out.children.insert(pe, sub);
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Fields kube never tracks (stripMetaManager)
// ---------------------------------------------------------------------------

fn strip_ignored(set: &FieldSet) -> FieldSet {
    let mut strip = FieldSet::default();
    let f = |s: &str| Pe::Field(s.to_string());
    strip.insert(&[f("apiVersion")]);
    strip.insert(&[f("kind")]);
    strip.insert(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        strip.insert(&[f("metadata"), f(name)]);
    }
    set.difference(&strip)
}

// ---------------------------------------------------------------------------
// Schema-driven walks over values (ToFieldSet, Compare, RemoveItems)
// ---------------------------------------------------------------------------

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

struct Schema<'a, 'b> {
    meta: &'a FieldMetaFn<'b>,
    root: &'a str,
}

enum ListKind {
    Assoc(&'static str),
    Set,
    Atomic,
}

/// What the walk knows about a field: its list semantics and the definition of its value/items.
struct FieldInfo {
    merge_key: Option<&'static str>,
    set: bool,
    child: Option<String>,
}

#[derive(Default)]
struct Comparison {
    added: FieldSet,
    modified: FieldSet,
    removed: FieldSet,
}

impl Schema<'_, '_> {
    fn field(&self, def: Option<&str>, field: &str, at_root: bool) -> FieldInfo {
        let lm = def.and_then(|d| (self.meta)(d, field));
        let mut info = FieldInfo {
            merge_key: lm.as_ref().and_then(|m| m.merge_key),
            set: lm.as_ref().is_some_and(|m| m.set),
            child: lm
                .as_ref()
                .and_then(|m| m.child_definition)
                .map(str::to_string),
        };
        if at_root && field == "metadata" && info.child.is_none() {
            info.child = Some(OBJECT_META.to_string());
        }
        info
    }

    fn list_kind(info: &FieldInfo, lists: &[Option<&Vec<Value>>]) -> ListKind {
        let items = || lists.iter().flatten().flat_map(|l| l.iter());
        if let Some(key) = info.merge_key {
            if items().all(|i| i.as_object().is_some_and(|o| o.contains_key(key))) {
                return ListKind::Assoc(key);
            }
            return ListKind::Atomic;
        }
        if info.set
            && items().all(|i| !matches!(i, Value::Null | Value::Object(_) | Value::Array(_)))
        {
            return ListKind::Set;
        }
        ListKind::Atomic
    }

    fn item_pe(kind: &ListKind, item: &Value) -> Pe {
        match kind {
            ListKind::Assoc(key) => {
                let mut m = Map::new();
                m.insert(key.to_string(), item[*key].clone());
                Pe::Key(Value::Object(m).to_string())
            }
            _ => Pe::Value(item.to_string()),
        }
    }

    /// The object kube compares a created object against: an empty object, with the
    /// top-level non-pointer structs of built-in types (`spec`, `status`) present but empty.
    fn empty_object(&self, like: &Value) -> Value {
        let mut out = Map::new();
        if self.root.starts_with("io.k8s.") {
            for k in ["metadata", "spec", "status"] {
                if like.get(k).is_some_and(Value::is_object) {
                    out.insert(k.to_string(), Value::Object(Map::new()));
                }
            }
        }
        Value::Object(out)
    }

    // --- ToFieldSet -------------------------------------------------------

    fn to_field_set(&self, v: &Value) -> FieldSet {
        let mut out = FieldSet::default();
        if let Value::Object(m) = v {
            self.tfs_object(m, Some(self.root), true, &mut out);
        }
        out
    }

    fn tfs_object(
        &self,
        obj: &Map<String, Value>,
        def: Option<&str>,
        root: bool,
        out: &mut FieldSet,
    ) {
        for (k, v) in obj {
            let pe = Pe::Field(k.clone());
            let info = self.field(def, k, root);
            match v {
                Value::Object(m) if !m.is_empty() => {
                    let mut child = FieldSet::default();
                    self.tfs_object(m, info.child.as_deref(), false, &mut child);
                    if !child.is_empty() {
                        out.children.insert(pe, child);
                    }
                }
                Value::Array(items) => {
                    let kind = Self::list_kind(&info, &[Some(items)]);
                    if let ListKind::Atomic = kind {
                        out.members.insert(pe);
                        continue;
                    }
                    let mut child = FieldSet::default();
                    for item in items {
                        let ipe = Self::item_pe(&kind, item);
                        if let (ListKind::Assoc(_), Value::Object(im)) = (&kind, item) {
                            let mut sub = FieldSet::default();
                            self.tfs_object(im, info.child.as_deref(), false, &mut sub);
                            if !sub.is_empty() {
                                let merged = match child.children.get(&ipe) {
                                    Some(prev) => prev.union(&sub),
                                    None => sub,
                                };
                                child.children.insert(ipe.clone(), merged);
                            }
                        }
                        child.members.insert(ipe);
                    }
                    if !child.is_empty() {
                        out.children.insert(pe, child);
                    }
                }
                // Scalars, null and empty objects are leaves.
                _ => {
                    out.members.insert(pe);
                }
            }
        }
    }

    // --- Compare ----------------------------------------------------------

    fn compare(&self, lhs: &Value, rhs: &Value) -> Comparison {
        let mut cmp = Comparison::default();
        let (l, r) = (lhs.as_object(), rhs.as_object());
        if l.is_some() || r.is_some() {
            self.cmp_object(l, r, Some(self.root), true, &mut Vec::new(), &mut cmp);
        }
        cmp
    }

    fn cmp_object(
        &self,
        l: Option<&Map<String, Value>>,
        r: Option<&Map<String, Value>>,
        def: Option<&str>,
        root: bool,
        path: &mut Vec<Pe>,
        cmp: &mut Comparison,
    ) {
        let keys: BTreeSet<&String> = l.into_iter().chain(r).flat_map(|m| m.keys()).collect();
        for k in keys {
            let info = self.field(def, k, root);
            path.push(Pe::Field(k.clone()));
            self.cmp_value(
                l.and_then(|m| m.get(k)),
                r.and_then(|m| m.get(k)),
                &info,
                path,
                cmp,
            );
            path.pop();
        }
    }

    fn cmp_value(
        &self,
        l: Option<&Value>,
        r: Option<&Value>,
        info: &FieldInfo,
        path: &mut Vec<Pe>,
        cmp: &mut Comparison,
    ) {
        match (as_obj(l), as_obj(r)) {
            (Some(Some(lm)), Some(Some(rm))) if !lm.is_empty() || !rm.is_empty() => {
                self.cmp_object(Some(lm), Some(rm), info.child.as_deref(), false, path, cmp);
                return;
            }
            (Some(Some(lm)), None) if !lm.is_empty() => {
                self.cmp_object(Some(lm), None, info.child.as_deref(), false, path, cmp);
                mark(l, r, false, path, cmp);
                return;
            }
            (None, Some(Some(rm))) if !rm.is_empty() => {
                self.cmp_object(None, Some(rm), info.child.as_deref(), false, path, cmp);
                mark(l, r, false, path, cmp);
                return;
            }
            _ => {}
        }
        let (la, ra) = match (as_arr(l), as_arr(r)) {
            (Some(Some(la)), Some(Some(ra))) => (Some(la), Some(ra)),
            (Some(Some(la)), None) => (Some(la), None),
            (None, Some(Some(ra))) => (None, Some(ra)),
            _ => return mark(l, r, true, path, cmp),
        };
        let kind = Self::list_kind(info, &[la, ra]);
        if let ListKind::Atomic = kind {
            return mark(l, r, true, path, cmp);
        }
        let mut items: BTreeMap<Pe, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
        for i in la.into_iter().flatten() {
            items.entry(Self::item_pe(&kind, i)).or_default().0.push(i);
        }
        for i in ra.into_iter().flatten() {
            items.entry(Self::item_pe(&kind, i)).or_default().1.push(i);
        }
        for (pe, (li, ri)) in items {
            path.push(pe);
            if li.len() > 1 || ri.len() > 1 {
                // Duplicate keys: compared as a whole.
                if li != ri {
                    cmp.modified.insert(path);
                }
            } else {
                let (lv, rv) = (li.first().copied(), ri.first().copied());
                match kind {
                    ListKind::Assoc(_) => {
                        self.cmp_object(
                            lv.and_then(Value::as_object),
                            rv.and_then(Value::as_object),
                            info.child.as_deref(),
                            false,
                            path,
                            cmp,
                        );
                        mark(lv, rv, false, path, cmp);
                    }
                    _ => mark(lv, rv, false, path, cmp),
                }
            }
            path.pop();
        }
        mark(l, r, false, path, cmp);
    }

    // --- RemoveItems / prune ----------------------------------------------

    fn remove_items(&self, v: &Value, set: &FieldSet) -> Value {
        let mut out = v.clone();
        if let Value::Object(m) = &mut out {
            self.remove_in_object(m, set, Some(self.root), true);
        }
        out
    }

    fn remove_in_object(
        &self,
        obj: &mut Map<String, Value>,
        set: &FieldSet,
        def: Option<&str>,
        root: bool,
    ) {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let pe = Pe::Field(k.clone());
            if set.members.contains(&pe) {
                obj.remove(&k);
                continue;
            }
            let Some(sub) = set.children.get(&pe) else {
                continue;
            };
            let info = self.field(def, &k, root);
            let Some(child) = obj.get_mut(&k) else {
                continue;
            };
            let emptied = match child {
                Value::Object(cm) if !cm.is_empty() => {
                    self.remove_in_object(cm, sub, info.child.as_deref(), false);
                    cm.is_empty()
                }
                Value::Array(items) if !items.is_empty() => {
                    let kind = Self::list_kind(&info, &[Some(items)]);
                    if !matches!(kind, ListKind::Atomic) {
                        let old = std::mem::take(items);
                        for mut item in old {
                            let ipe = Self::item_pe(&kind, &item);
                            if sub.members.contains(&ipe) {
                                continue;
                            }
                            if let (Some(isub), Value::Object(im)) =
                                (sub.children.get(&ipe), &mut item)
                            {
                                self.remove_in_object(im, isub, info.child.as_deref(), false);
                            }
                            items.push(item);
                        }
                    }
                    items.is_empty()
                }
                _ => false,
            };
            if emptied {
                obj.remove(&k);
            }
        }
    }

    /// `Updater.prune`: remove from `merged` what the applier owned at its last apply
    /// (`last`) and nobody (the applier's new set included) owns now.
    fn prune(&self, merged: &Value, managers: &[Entry], last: &FieldSet) -> Value {
        let last_n = last.with_named_fields();
        let pruned = self.remove_items(merged, &last_n);
        // addBackOwnedItems
        let managed = managers
            .iter()
            .fold(FieldSet::default(), |acc, e| acc.union(&e.set))
            .with_named_fields();
        let merged_set = self.to_field_set(merged).with_named_fields();
        let pruned_set = self.to_field_set(&pruned).with_named_fields();
        let pruned = self.remove_items(merged, &merged_set.difference(&pruned_set.union(&managed)));
        // addBackDanglingItems
        let pruned_set = self.to_field_set(&pruned).with_named_fields();
        self.remove_items(
            merged,
            &merged_set.difference(&pruned_set).intersection(&last_n),
        )
    }
}

/// Records `path` as added/removed by presence, or (for leaves) modified when the values differ.
fn mark(l: Option<&Value>, r: Option<&Value>, leaf: bool, path: &[Pe], cmp: &mut Comparison) {
    match (l, r) {
        (None, Some(_)) => cmp.added.insert(path),
        (Some(_), None) => cmp.removed.insert(path),
        (Some(a), Some(b)) if leaf && a != b => cmp.modified.insert(path),
        _ => {}
    }
}

fn as_obj(v: Option<&Value>) -> Option<Option<&Map<String, Value>>> {
    v.map(Value::as_object)
}

fn as_arr(v: Option<&Value>) -> Option<Option<&Vec<Value>>> {
    v.map(Value::as_array)
}

// ---------------------------------------------------------------------------
// managedFields entries
// ---------------------------------------------------------------------------

const OP_APPLY: &str = "Apply";
const OP_UPDATE: &str = "Update";
const MAX_UPDATE_MANAGERS: usize = 10;

#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    subresource: String,
    time: Option<String>,
    set: FieldSet,
}

type EntryId = (String, String, String, String);

impl Entry {
    /// kube's manager identifier: appliers are keyed without their apiVersion.
    fn identity(manager: &str, operation: &str, api_version: &str, subresource: &str) -> EntryId {
        let version = if operation == OP_APPLY {
            ""
        } else {
            api_version
        };
        (
            manager.to_string(),
            operation.to_string(),
            version.to_string(),
            subresource.to_string(),
        )
    }

    fn id(&self) -> EntryId {
        Self::identity(
            &self.manager,
            &self.operation,
            &self.api_version,
            &self.subresource,
        )
    }

    fn sort_key(&self) -> EntryId {
        self.id()
    }

    /// kube's `printManager`.
    fn display(&self) -> String {
        let mut s = Value::String(self.manager.clone()).to_string();
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                Value::String(self.subresource.clone())
            );
        }
        if self.operation == OP_UPDATE {
            return match &self.time {
                None => format!("{s} using {}", self.api_version),
                Some(t) => format!("{s} using {} at {}", self.api_version, normalize_time(t)),
            };
        }
        s
    }

    fn encode(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), self.manager.clone().into());
        m.insert("operation".into(), self.operation.clone().into());
        if !self.api_version.is_empty() {
            m.insert("apiVersion".into(), self.api_version.clone().into());
        }
        if let Some(t) = &self.time {
            m.insert("time".into(), t.clone().into());
        }
        m.insert("fieldsType".into(), "FieldsV1".into());
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(m)
    }
}

fn managed_fields_of(obj: &Value) -> Option<&Value> {
    obj.get("metadata")?.get("managedFields")
}

fn take_managed_fields(obj: &mut Value) -> Option<Value> {
    obj.get_mut("metadata")?
        .as_object_mut()?
        .remove("managedFields")
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut o = obj.clone();
    take_managed_fields(&mut o);
    o
}

/// `managedFields: []` or `[{}]` in a write resets ownership.
fn is_reset_managed_fields(mf: Option<&Value>) -> bool {
    match mf {
        Some(Value::Array(a)) => {
            a.is_empty() || (a.len() == 1 && a[0].as_object().is_some_and(Map::is_empty))
        }
        _ => false,
    }
}

fn decode_managed_fields(v: &Value) -> Result<Vec<Entry>, ()> {
    let arr = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        _ => return Err(()),
    };
    let mut out: Vec<Entry> = Vec::new();
    for e in arr {
        let o = e.as_object().ok_or(())?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let fields_type = s("fieldsType");
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            return Err(());
        }
        let set = match o.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::default(),
            Some(f) => FieldSet::from_fields_v1(f)?,
        };
        let entry = Entry {
            manager: s("manager"),
            operation: s("operation"),
            api_version: s("apiVersion"),
            subresource: s("subresource"),
            time: o.get("time").and_then(Value::as_str).map(str::to_string),
            set,
        };
        match out.iter_mut().find(|x| x.id() == entry.id()) {
            Some(x) => x.set = x.set.union(&entry.set),
            None => out.push(entry),
        }
    }
    Ok(out)
}

/// Writes the entries sorted as kube sorts them (operation, time, manager,
/// apiVersion, subresource); no entries removes the field.
fn write_managed_fields(obj: &mut Value, managers: &[Entry]) {
    let mut sorted: Vec<&Entry> = managers.iter().filter(|e| !e.set.is_empty()).collect();
    sorted.sort_by(|p, q| {
        let secs = |e: &Entry| e.time.as_deref().and_then(unix_seconds).unwrap_or(0);
        p.operation
            .cmp(&q.operation)
            .then_with(|| secs(p).cmp(&secs(q)))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if sorted.is_empty() {
        if let Some(Value::Object(m)) = root.get_mut("metadata") {
            m.remove("managedFields");
        }
        return;
    }
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(m) = meta {
        m.insert(
            "managedFields".into(),
            Value::Array(sorted.iter().map(|e| e.encode()).collect()),
        );
    }
}

/// capManagersManager: at most 10 Update entries; the oldest are merged into
/// per-apiVersion `ancient-changes` buckets.
fn cap_update_managers(managers: &mut Vec<Entry>) {
    let updaters = managers.iter().filter(|e| e.operation != OP_APPLY).count();
    if updaters <= MAX_UPDATE_MANAGERS {
        return;
    }
    let mut order: Vec<(i64, EntryId)> = managers
        .iter()
        .filter(|e| e.operation != OP_APPLY)
        .map(|e| {
            (
                e.time.as_deref().and_then(unix_seconds).unwrap_or(0),
                e.id(),
            )
        })
        .collect();
    order.sort();
    let mut length = updaters;
    let mut first_of_version: BTreeMap<String, EntryId> = BTreeMap::new();
    for (_, id) in order {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let Some(pos) = managers.iter().position(|e| e.id() == id) else {
            continue;
        };
        let version = managers[pos].api_version.clone();
        let Some(first) = first_of_version.get(&version).cloned() else {
            first_of_version.insert(version, id);
            continue;
        };
        let entry = managers.remove(pos);
        let bucket_id = Entry::identity("ancient-changes", OP_UPDATE, &version, "");
        if !managers.iter().any(|e| e.id() == bucket_id)
            && let Some(f) = managers.iter_mut().find(|e| e.id() == first)
        {
            f.manager = "ancient-changes".to_string();
            f.subresource = String::new();
        }
        if let Some(b) = managers.iter_mut().find(|e| e.id() == bucket_id) {
            b.set = b.set.union(&entry.set);
            b.time = entry.time;
        }
        length -= 1;
    }
}

// ---------------------------------------------------------------------------
// Time helpers (metav1.Time serializes RFC 3339 with second precision, UTC)
// ---------------------------------------------------------------------------

fn unix_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &t[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // days from civil (Howard Hinnant)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + s - offset)
}

fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn normalize_time(t: &str) -> String {
    unix_seconds(t)
        .map(format_unix)
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:01:00Z";
    const T2: &str = "2024-01-01T00:02:00Z";

    fn lm(
        merge_key: Option<&'static str>,
        set: bool,
        child: Option<&'static str>,
    ) -> Option<ListMeta> {
        Some(ListMeta {
            merge_key,
            set,
            child_definition: child,
        })
    }

    fn meta(def: &str, field: &str) -> Option<ListMeta> {
        match (def, field) {
            ("Deployment", "metadata") | ("PodTemplateSpec", "metadata") => {
                lm(None, false, Some("ObjectMeta"))
            }
            ("Deployment", "spec") => lm(None, false, Some("DeploymentSpec")),
            ("DeploymentSpec", "template") => lm(None, false, Some("PodTemplateSpec")),
            ("PodTemplateSpec", "spec") => lm(None, false, Some("PodSpec")),
            ("PodSpec", "containers") => lm(Some("name"), false, Some("Container")),
            ("Container", "ports") => lm(Some("containerPort"), false, Some("ContainerPort")),
            ("ObjectMeta", "finalizers") | (OBJECT_META, "finalizers") => lm(None, true, None),
            _ => None,
        }
    }

    /// A small stand-in for the caller's strategic merge of `patch` into `base`.
    fn merge(base: &Value, patch: &Value, def: Option<&str>) -> Value {
        let (Some(b), Some(p)) = (base.as_object(), patch.as_object()) else {
            return patch.clone();
        };
        let mut out = b.clone();
        for (k, pv) in p {
            let info = def.and_then(|d| meta(d, k));
            let child = info.as_ref().and_then(|i| i.child_definition);
            let child = child.or((k == "metadata").then_some("ObjectMeta"));
            let merged = match (out.get(k), pv, info.as_ref().and_then(|i| i.merge_key)) {
                (Some(Value::Array(bl)), Value::Array(pl), Some(key)) => {
                    let mut items = bl.clone();
                    for pi in pl {
                        match items.iter_mut().find(|bi| bi[key] == pi[key]) {
                            Some(bi) => *bi = merge(bi, pi, child),
                            None => items.push(pi.clone()),
                        }
                    }
                    Value::Array(items)
                }
                (Some(Value::Array(bl)), Value::Array(pl), None)
                    if info.as_ref().is_some_and(|i| i.set) =>
                {
                    let mut items = bl.clone();
                    items.extend(pl.iter().filter(|i| !bl.contains(i)).cloned());
                    Value::Array(items)
                }
                (Some(bv @ Value::Object(_)), Value::Object(_), _) => merge(bv, pv, child),
                _ => pv.clone(),
            };
            out.insert(k.clone(), merged);
        }
        Value::Object(out)
    }

    fn do_apply(
        current: Option<&Value>,
        applied: &Value,
        manager: &str,
        force: bool,
        def: &str,
        now: &str,
    ) -> Result<Value, Vec<Conflict>> {
        let mut merged = match current {
            Some(c) => merge(c, applied, Some(def)),
            None => applied.clone(),
        };
        let api_version = applied["apiVersion"].as_str().unwrap_or("v1");
        apply(
            current,
            applied,
            &mut merged,
            manager,
            force,
            api_version,
            now,
            &meta,
            def,
        )?;
        Ok(merged)
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, "data": data})
    }

    fn bare_cm() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    }

    fn entries(obj: &Value) -> Vec<Value> {
        obj["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn fields_of(obj: &Value, manager: &str, op: &str) -> Option<Value> {
        entries(obj)
            .into_iter()
            .find(|e| e["manager"] == manager && e["operation"] == op)
            .map(|e| e["fieldsV1"].clone())
    }

    fn deployment(image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 2, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 80}], "args": ["a", "b"]}]}
            }}
        })
    }

    #[test]
    fn create_via_apply_records_exact_entry() {
        let mut applied = cm(json!({"a": "1"}));
        applied["metadata"]["labels"] = json!({"app": "x"});
        let obj = do_apply(
            None,
            &applied,
            "kubectl",
            false,
            "ConfigMap",
            "2024-01-01T00:00:00.123456Z",
        )
        .unwrap();
        assert_eq!(
            obj["metadata"]["managedFields"],
            json!([{
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}
            }])
        );
        assert_eq!(obj["data"], json!({"a": "1"}));
    }

    #[test]
    fn conflicting_apply_is_rejected_with_kube_message() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let err = do_apply(
            Some(&obj),
            &cm(json!({"a": "changed"})),
            "other",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap_err();
        assert_eq!(
            err,
            vec![Conflict {
                manager: "kubectl".into(),
                field: ".data.a".into(),
                manager_display: "\"kubectl\"".into()
            }]
        );
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a"
        );
        assert_eq!(err[0].cause_message(), "conflict with \"kubectl\"");
    }

    #[test]
    fn force_takes_ownership() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let obj = do_apply(
            Some(&obj),
            &cm(json!({"a": "changed"})),
            "other",
            true,
            "ConfigMap",
            T1,
        )
        .unwrap();
        assert_eq!(obj["data"], json!({"a": "changed", "b": "2"}));
        assert_eq!(
            fields_of(&obj, "kubectl", "Apply").unwrap(),
            json!({"f:data": {"f:b": {}}})
        );
        assert_eq!(
            fields_of(&obj, "other", "Apply").unwrap(),
            json!({"f:data": {"f:a": {}}})
        );
        // kubectl re-applying its old value now conflicts with "other".
        let err = do_apply(
            Some(&obj),
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T2,
        )
        .unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"other\": .data.a"
        );
    }

    #[test]
    fn same_value_is_shared_ownership() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let obj = do_apply(
            Some(&obj),
            &cm(json!({"a": "1"})),
            "other",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap();
        assert_eq!(
            fields_of(&obj, "kubectl", "Apply").unwrap(),
            json!({"f:data": {"f:a": {}}})
        );
        assert_eq!(
            fields_of(&obj, "other", "Apply").unwrap(),
            json!({"f:data": {"f:a": {}}})
        );
        // Dropping a shared field does not delete it.
        let obj = do_apply(Some(&obj), &bare_cm(), "kubectl", false, "ConfigMap", T2).unwrap();
        assert_eq!(obj["data"], json!({"a": "1"}));
        assert!(fields_of(&obj, "kubectl", "Apply").is_none());
    }

    #[test]
    fn dropping_a_solely_owned_field_removes_it() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let obj = do_apply(
            Some(&obj),
            &cm(json!({"a": "1"})),
            "kubectl",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap();
        assert_eq!(obj["data"], json!({"a": "1"}));
        assert_eq!(
            fields_of(&obj, "kubectl", "Apply").unwrap(),
            json!({"f:data": {"f:a": {}}})
        );
        // Dropping everything removes the emptied map as well; unowned fields stay.
        let mut cur = obj.clone();
        cur["metadata"]["annotations"] = json!({"note": "unowned"});
        let obj = do_apply(Some(&cur), &bare_cm(), "kubectl", false, "ConfigMap", T2).unwrap();
        assert!(obj.get("data").is_none(), "{obj}");
        assert_eq!(obj["metadata"]["annotations"], json!({"note": "unowned"}));
        assert!(obj["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn update_after_apply_takes_changed_field() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let mut edited = obj.clone();
        edited["data"]["a"] = json!("edited");
        edited["metadata"]["labels"] = json!({"env": "prod"});
        record_update(
            Some(&obj),
            &mut edited,
            "kubectl-edit",
            "v1",
            T1,
            &meta,
            "ConfigMap",
        );
        assert_eq!(
            fields_of(&edited, "kubectl-edit", "Update").unwrap(),
            json!({"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:env": {}}}})
        );
        assert_eq!(
            fields_of(&edited, "kubectl", "Apply").unwrap(),
            json!({"f:data": {"f:b": {}}})
        );
        let list = entries(&edited);
        assert_eq!(list[0]["operation"], "Apply");
        assert_eq!(list[1]["operation"], "Update");
        assert_eq!(list[1]["time"], T1);
        assert_eq!(list[1]["apiVersion"], "v1");
        // Re-applying the old value conflicts with the editor.
        let err = do_apply(
            Some(&edited),
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T2,
        )
        .unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1 at 2024-01-01T00:01:00Z: .data.a"
        );
    }

    #[test]
    fn update_without_change_keeps_entries_and_removal_drops_ownership() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let mut same = obj.clone();
        record_update(
            Some(&obj),
            &mut same,
            "kubectl-edit",
            "v1",
            T1,
            &meta,
            "ConfigMap",
        );
        assert_eq!(
            same["metadata"]["managedFields"],
            obj["metadata"]["managedFields"]
        );
        let mut removed = obj.clone();
        removed.as_object_mut().unwrap().remove("data");
        record_update(
            Some(&obj),
            &mut removed,
            "kubectl-edit",
            "v1",
            T1,
            &meta,
            "ConfigMap",
        );
        assert!(removed["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn create_via_update_marks_added_objects() {
        let mut obj = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"app": "x"}, "finalizers": ["f1"]},
            "spec": {"containers": [{"name": "app", "image": "nginx", "args": ["x"], "resources": {}}]}
        });
        let m = |def: &str, field: &str| match (def, field) {
            ("io.k8s.api.core.v1.Pod", "spec") => lm(None, false, Some("PodSpec")),
            _ => meta(def, field),
        };
        record_update(
            None,
            &mut obj,
            "kubectl-create",
            "v1",
            T0,
            &m,
            "io.k8s.api.core.v1.Pod",
        );
        assert_eq!(
            obj["metadata"]["managedFields"][0]["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {".": {}, "v:\"f1\"": {}}},
                // kube has no "." on f:containers here: the typed empty Pod it compares
                // against carries `containers: null`.
                "f:spec": {"f:containers": {".": {}, "k:{\"name\":\"app\"}": {
                    ".": {}, "f:args": {}, "f:image": {}, "f:name": {}, "f:resources": {}
                }}}
            })
        );
        assert_eq!(obj["metadata"]["managedFields"][0]["operation"], "Update");
    }

    #[test]
    fn untracked_existing_object_stays_untracked_on_update() {
        let old = cm(json!({"a": "1"}));
        let mut new = cm(json!({"a": "2"}));
        record_update(
            Some(&old),
            &mut new,
            "kubectl-edit",
            "v1",
            T1,
            &meta,
            "ConfigMap",
        );
        assert!(new["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn managed_fields_reset_by_empty_list() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let mut new = obj.clone();
        new["metadata"]["managedFields"] = json!([]);
        record_update(Some(&obj), &mut new, "x", "v1", T1, &meta, "ConfigMap");
        assert!(new["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn first_apply_on_untracked_object_conflicts_with_before_first_apply() {
        let live = cm(json!({"a": "1"}));
        let err = do_apply(
            Some(&live),
            &cm(json!({"a": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1 at 2024-01-01T00:01:00Z: .data.a"
        );
        let obj = do_apply(
            Some(&live),
            &cm(json!({"a": "1", "b": "2"})),
            "kubectl",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap();
        assert_eq!(
            fields_of(&obj, "before-first-apply", "Update").unwrap(),
            json!({"f:data": {".": {}, "f:a": {}}})
        );
        assert_eq!(
            fields_of(&obj, "kubectl", "Apply").unwrap(),
            json!({"f:data": {"f:a": {}, "f:b": {}}})
        );
    }

    #[test]
    fn deployment_container_image_ownership() {
        let obj = do_apply(
            None,
            &deployment("nginx:1"),
            "kubectl",
            false,
            "Deployment",
            T0,
        )
        .unwrap();
        assert_eq!(
            fields_of(&obj, "kubectl", "Apply").unwrap(),
            json!({"f:spec": {"f:replicas": {}, "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                    ".": {}, "f:args": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80}": {".": {}, "f:containerPort": {}}}
                }}}
            }}})
        );
        assert_eq!(entries(&obj)[0]["apiVersion"], "apps/v1");

        let ci = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}});
        let err = do_apply(Some(&obj), &ci, "ci", false, "Deployment", T1).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            err[0].field,
            ".spec.template.spec.containers[name=\"app\"].image"
        );
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.template.spec.containers[name=\"app\"].image"
        );

        let obj = do_apply(Some(&obj), &ci, "ci", true, "Deployment", T1).unwrap();
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
        assert_eq!(
            fields_of(&obj, "ci", "Apply").unwrap(),
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                ".": {}, "f:image": {}, "f:name": {}
            }}}}}})
        );
        let kubectl = fields_of(&obj, "kubectl", "Apply").unwrap();
        let item =
            &kubectl["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
        assert!(item.get("f:image").is_none());
        assert!(item.get("f:name").is_some() && item.get("f:ports").is_some());
    }

    #[test]
    fn dropping_a_container_removes_it_and_keeps_shared_ones() {
        let mut two = deployment("nginx:1");
        two["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "side", "image": "busybox"}));
        let obj = do_apply(None, &two, "kubectl", false, "Deployment", T0).unwrap();
        let obj = do_apply(
            Some(&obj),
            &deployment("nginx:1"),
            "kubectl",
            false,
            "Deployment",
            T1,
        )
        .unwrap();
        let containers = obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "app");
        // Dropping an atomic list removes it too.
        let mut no_args = deployment("nginx:1");
        no_args["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("args");
        let obj = do_apply(Some(&obj), &no_args, "kubectl", false, "Deployment", T2).unwrap();
        assert!(
            obj["spec"]["template"]["spec"]["containers"][0]
                .get("args")
                .is_none()
        );
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1"
        );
    }

    #[test]
    fn atomic_list_conflicts_as_a_whole() {
        let obj = do_apply(
            None,
            &deployment("nginx:1"),
            "kubectl",
            false,
            "Deployment",
            T0,
        )
        .unwrap();
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["c"]}]}}}});
        let err = do_apply(Some(&obj), &other, "other", false, "Deployment", T1).unwrap_err();
        assert_eq!(
            err[0].field,
            ".spec.template.spec.containers[name=\"app\"].args"
        );
    }

    #[test]
    fn several_conflicts_use_the_plural_message() {
        let obj = do_apply(
            None,
            &cm(json!({"a": "1", "b": "1"})),
            "alpha",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        let obj = do_apply(
            Some(&obj),
            &cm(json!({"c": "1"})),
            "beta",
            false,
            "ConfigMap",
            T1,
        )
        .unwrap();
        let err = do_apply(
            Some(&obj),
            &cm(json!({"a": "2", "b": "2", "c": "2"})),
            "gamma",
            false,
            "ConfigMap",
            T2,
        )
        .unwrap_err();
        assert_eq!(err.len(), 3);
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 3 conflicts: conflicts with \"alpha\":\n- .data.a\n- .data.b\nconflicts with \"beta\":\n- .data.c"
        );
    }

    #[test]
    fn set_items_are_owned_individually() {
        let mut a = cm(json!({"a": "1"}));
        a["metadata"]["finalizers"] = json!(["x/one"]);
        let obj = do_apply(None, &a, "one", false, "ConfigMap", T0).unwrap();
        let mut b = bare_cm();
        b["metadata"]["finalizers"] = json!(["x/two"]);
        let obj = do_apply(Some(&obj), &b, "two", false, "ConfigMap", T1).unwrap();
        assert_eq!(obj["metadata"]["finalizers"], json!(["x/one", "x/two"]));
        assert_eq!(
            fields_of(&obj, "two", "Apply").unwrap(),
            json!({"f:metadata": {"f:finalizers": {"v:\"x/two\"": {}}}})
        );
        // "one" drops its finalizer: only that item goes.
        let obj = do_apply(
            Some(&obj),
            &cm(json!({"a": "1"})),
            "one",
            false,
            "ConfigMap",
            T2,
        )
        .unwrap();
        assert_eq!(obj["metadata"]["finalizers"], json!(["x/two"]));
    }

    #[test]
    fn entries_sorted_and_no_op_apply_keeps_time() {
        let obj = do_apply(None, &cm(json!({"a": "1"})), "zeta", false, "ConfigMap", T0).unwrap();
        let mut upd = obj.clone();
        upd["data"]["u"] = json!("1");
        record_update(
            Some(&obj),
            &mut upd,
            "alpha-updater",
            "v1",
            T1,
            &meta,
            "ConfigMap",
        );
        let obj = do_apply(
            Some(&upd),
            &cm(json!({"a": "1"})),
            "zeta",
            false,
            "ConfigMap",
            T2,
        )
        .unwrap();
        let list = entries(&obj);
        assert_eq!(list[0]["manager"], "zeta");
        assert_eq!(list[0]["time"], T0, "no-op apply keeps its time");
        assert_eq!(list[1]["manager"], "alpha-updater");
    }

    #[test]
    fn fields_v1_roundtrip_and_rendering() {
        let v = json!({"f:data": {".": {}, "f:a": {}}, "f:spec": {"f:ports": {
            "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}}
        }, "f:list": {"i:0": {}}, "f:s": {"v:3": {}}}});
        let s = FieldSet::from_fields_v1(&v).unwrap();
        assert_eq!(s.to_fields_v1(), v);
        let rendered: Vec<String> = s.paths().iter().map(|p| render_path(p)).collect();
        assert_eq!(
            rendered,
            vec![
                ".data",
                ".data.a",
                ".spec.list[0]",
                ".spec.ports[containerPort=80,protocol=\"TCP\"]",
                ".spec.ports[containerPort=80,protocol=\"TCP\"].name",
                ".spec.s[=3]",
            ]
        );
        assert!(FieldSet::from_fields_v1(&json!({"x:1": {}})).is_err());
    }

    #[test]
    fn update_managers_are_capped() {
        let mut obj = do_apply(
            None,
            &cm(json!({"a": "1"})),
            "kubectl",
            false,
            "ConfigMap",
            T0,
        )
        .unwrap();
        for i in 0..12 {
            let mut new = obj.clone();
            new["data"][format!("k{i}")] = json!("v");
            let t = format!("2024-01-01T01:{i:02}:00Z");
            record_update(
                Some(&obj),
                &mut new,
                &format!("m{i}"),
                "v1",
                &t,
                &meta,
                "ConfigMap",
            );
            obj = new;
        }
        let list = entries(&obj);
        let updates: Vec<&Value> = list.iter().filter(|e| e["operation"] == "Update").collect();
        assert_eq!(updates.len(), 10);
        let ancient = updates
            .iter()
            .find(|e| e["manager"] == "ancient-changes")
            .unwrap();
        assert_eq!(
            ancient["fieldsV1"],
            json!({"f:data": {"f:k0": {}, "f:k1": {}, "f:k2": {}}})
        );
    }

    #[test]
    fn time_helpers() {
        assert_eq!(
            normalize_time("2024-02-29T23:59:59.999Z"),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(
            normalize_time("2024-03-01T01:00:00+02:00"),
            "2024-02-29T23:00:00Z"
        );
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
    }
}
