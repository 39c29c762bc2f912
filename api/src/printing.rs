//! Output shaping: server-side Table and unknown-field detection.

use crate::table::IncludeObject;
use crate::table::to_table;
use serde_json::Value;

use std::collections::HashMap;

use crate::openapi::OpenApi;
use crate::params::Params;
use crate::registry::ResourceDef;

/// A meta.k8s.io/v1 Table of `objects` (kube-apiserver's printers).
pub fn table(def: &ResourceDef, objects: &[Value], list_meta: Value, p: &Params) -> Value {
    let include = match p.include_object.as_deref() {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    };
    to_table(
        def.group,
        def.kind,
        objects,
        list_meta,
        include,
        jiff::Timestamp::now().as_second(),
    )
}

/// Every schema of the OpenAPI v3 documents by definition name, for
/// unknown-field detection (fieldValidation).
pub struct Schemas {
    by_name: HashMap<String, Value>,
}

/// Unknown fields reported per request, at most (the rest are dropped).
const MAX_UNKNOWN_FIELDS: usize = 64;

impl Schemas {
    pub fn from_openapi(openapi: &OpenApi) -> Schemas {
        let by_name = openapi
            .definitions()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Schemas { by_name }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut cur = schema;
        for _ in 0..8 {
            let r = cur
                .get("$ref")
                .or_else(|| cur.pointer("/allOf/0/$ref"))
                .and_then(Value::as_str);
            match r
                .and_then(|r| r.rsplit('/').next())
                .and_then(|n| self.by_name.get(n))
            {
                Some(next) => cur = next,
                None => break,
            }
        }
        cur
    }

    fn prune_walk(&self, schema: &Value, v: &mut Value, path: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if schema.get("x-kubernetes-preserve-unknown-fields").is_some() {
            return;
        }
        match v {
            Value::Object(map) => {
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    let mut unknown = Vec::new();
                    for (k, child) in map.iter_mut() {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        match props.get(k) {
                            Some(s) => self.prune_walk(s, child, &p, out),
                            None => {
                                unknown.push(k.clone());
                                if out.len() < MAX_UNKNOWN_FIELDS {
                                    out.push(p);
                                }
                            }
                        }
                    }
                    for k in unknown {
                        map.remove(&k);
                    }
                } else if let Some(ap) =
                    schema.get("additionalProperties").filter(|a| a.is_object())
                {
                    for (k, child) in map.iter_mut() {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        self.prune_walk(ap, child, &p, out);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, child) in items.iter_mut().enumerate() {
                        self.prune_walk(item_schema, child, &format!("{path}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }

    /// Drops the fields the kind's schema does not know (kube-apiserver's
    /// decoder never stores them) and returns their paths.
    pub fn prune(&self, def: &ResourceDef, obj: &mut Value) -> Vec<String> {
        let Some(name) = crate::patch::definition_for(def.group, def.version, def.kind) else {
            return Vec::new();
        };
        let Some(schema) = self.by_name.get(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.prune_walk(schema, obj, "", &mut out);
        out
    }

    /// Paths of fields the kind's schema does not know (as kube-apiserver's
    /// strict decoder names them: `spec.containers[0].foo`), without
    /// changing `obj`. Patch directives are not fields.
    pub fn unknown_fields(&self, def: &ResourceDef, obj: &Value) -> Vec<String> {
        let mut out = self.prune(def, &mut obj.clone());
        out.retain(|f| {
            !f.rsplit('.')
                .next()
                .is_some_and(|last| last.starts_with('$'))
        });
        out
    }
}
