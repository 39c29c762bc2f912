//! API discovery: legacy (/api, /api/v1, /apis, /apis/G, /apis/G/V) and
//! aggregated (apidiscovery.k8s.io/v2), both built from the registry.

use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use serde_json::json;

use crate::error::ApiError;
use crate::registry;
use crate::registry::Action;
use crate::registry::ResourceDef;

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn verbs_of(d: &ResourceDef) -> &'static [&'static str] {
    if d.create_only { &["create"] } else { VERBS }
}

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// (name, group, version, kind, verbs) of each subresource.
fn subresources(
    d: &ResourceDef,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
)> {
    let mut out = Vec::new();
    const GPU: &[&str] = &["get", "patch", "update"];
    if d.status {
        out.push(("status", d.group, d.version, d.kind, GPU));
    }
    if d.scale {
        out.push(("scale", "autoscaling", "v1", "Scale", GPU));
    }
    for a in d.actions {
        out.push(match a {
            Action::Binding => ("binding", "", "v1", "Binding", &["create"][..]),
            Action::Eviction => ("eviction", "policy", "v1", "Eviction", &["create"][..]),
            Action::Token => (
                "token",
                "authentication.k8s.io",
                "v1",
                "TokenRequest",
                &["create"][..],
            ),
        });
    }
    if d.plural == "namespaces" {
        out.push(("finalize", "", "v1", "Namespace", &["update"][..]));
    }
    out
}

fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for d in registry::resources_of(group, version) {
        let mut r = json!({
            "name": d.plural,
            "singularName": d.singular,
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": verbs_of(d),
        });
        if !d.short_names.is_empty() {
            r["shortNames"] = json!(d.short_names);
        }
        if !d.categories.is_empty() {
            r["categories"] = json!(d.categories);
        }
        resources.push(r);
        for (sub, g, v, kind, verbs) in subresources(d) {
            let mut s = json!({
                "name": format!("{}/{sub}", d.plural),
                "singularName": "",
                "namespaced": d.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if (g, v) != (d.group, d.version) {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn group_entry(group: &str) -> Value {
    let versions: Vec<Value> = registry::group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions.first().cloned().unwrap_or(json!({}))})
}

fn groups() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for (g, _) in registry::group_versions() {
        if !g.is_empty() && !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

fn aggregated_resources(group: &str, version: &str) -> Vec<Value> {
    registry::resources_of(group, version)
        .map(|d| {
            let subs: Vec<Value> = subresources(d)
                .into_iter()
                .map(|(sub, g, v, kind, verbs)| {
                    json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": kind}, "verbs": verbs})
                })
                .collect();
            let mut r = json!({
                "resource": d.plural,
                "responseKind": {"group": d.group, "version": d.version, "kind": d.kind},
                "scope": if d.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": d.singular,
                "verbs": verbs_of(d),
            });
            if !d.short_names.is_empty() {
                r["shortNames"] = json!(d.short_names);
            }
            if !d.categories.is_empty() {
                r["categories"] = json!(d.categories);
            }
            if !subs.is_empty() {
                r["subresources"] = json!(subs);
            }
            r
        })
        .collect()
}

fn aggregated(legacy: bool) -> Value {
    let items: Vec<Value> = if legacy {
        vec![json!({
            "metadata": {"creationTimestamp": null},
            "versions": [{"version": "v1", "resources": aggregated_resources("", "v1"), "freshness": "Current"}],
        })]
    } else {
        groups()
            .into_iter()
            .map(|g| {
                let versions: Vec<Value> = registry::group_versions()
                    .into_iter()
                    .filter(|(gg, _)| *gg == g)
                    .map(|(_, v)| json!({"version": v, "resources": aggregated_resources(g, v), "freshness": "Current"}))
                    .collect();
                json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
            })
            .collect()
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// Does the client ask for aggregated discovery v2 (first match wins)?
fn wants_aggregated(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    for part in accept.split(',') {
        let p = part.replace(' ', "");
        if p.contains("as=APIGroupDiscoveryList") && p.contains("g=apidiscovery.k8s.io") {
            return p.contains("v=v2") && !p.contains("v=v2beta1");
        }
        if p.starts_with("application/json") || p.starts_with("*/*") {
            return false;
        }
    }
    false
}

fn json(v: &Value, content_type: &'static str) -> Response {
    let mut r = (StatusCode::OK, serde_json::to_vec(v).unwrap_or_default()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub fn api(headers: &HeaderMap, server_address: &str) -> Response {
    if wants_aggregated(headers) {
        return json(&aggregated(true), AGGREGATED_CT);
    }
    json(
        &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}),
        "application/json",
    )
}

pub fn apis(headers: &HeaderMap) -> Response {
    if wants_aggregated(headers) {
        return json(&aggregated(false), AGGREGATED_CT);
    }
    let groups: Vec<Value> = groups().into_iter().map(group_entry).collect();
    json(
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
        "application/json",
    )
}

pub fn api_v1() -> Response {
    json(&resource_list("", "v1"), "application/json")
}

pub fn group(group: &str) -> Response {
    if !groups().contains(&group) {
        return ApiError::unknown_path().into_response();
    }
    let mut g = group_entry(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    json(&g, "application/json")
}

pub fn group_version(group: &str, version: &str) -> Response {
    if !registry::group_versions().contains(&(group, version)) || group.is_empty() {
        return ApiError::unknown_path().into_response();
    }
    json(&resource_list(group, version), "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresources_carry_their_group_version() {
        let v1 = resource_list("", "v1");
        let eviction = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods/eviction")
            .unwrap();
        assert_eq!(eviction["group"], "policy");
        assert_eq!(eviction["version"], "v1");
        let apps = resource_list("apps", "v1");
        let scale = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods")
            .unwrap();
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["shortNames"], json!(["po"]));
    }

    #[test]
    fn aggregated_only_when_asked_first() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"));
        assert!(wants_aggregated(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, */*"),
        );
        assert!(!wants_aggregated(&h));
    }
}
