//! The Kubernetes REST verbs over the registry: request routing, get, list,
//! create, update, patch, delete, deletecollection and the status, scale
//! and action subresources. Watch lives in `watch_stream`.
//!
//! Writes follow kube-apiserver's GuaranteedUpdate: read the current
//! object, compute the new one, commit with a mod_revision compare, retry
//! on a lost race (a client-supplied resourceVersion turns the race into a
//! 409 Conflict instead).

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use raftplane_store::Compare;
use raftplane_store::KeyValue;
use raftplane_store::Op;
use raftplane_store::Revision;
use raftplane_store::Txn;
use serde_json::Value;
use serde_json::json;

use crate::error::ApiError;
use crate::error::ApiResult;
use crate::hooks;
use crate::objects;
use crate::objects::Objects;
use crate::objects::ReadMode;
use crate::params::FieldValidation;
use crate::params::Params;
use crate::registry;
use crate::registry::Action;
use crate::registry::ResourceDef;
use crate::registry::StatusOnCreate;
use crate::selectors::FieldSelector;
use crate::selectors::LabelSelector;

/// Largest request body kube-apiserver accepts (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Attempts of one read-modify-write before giving up with 409.
const MAX_UPDATE_ATTEMPTS: usize = 16;
/// generateName collisions retried before 409 AlreadyExists.
const MAX_GENERATE_NAME_ATTEMPTS: usize = 8;
/// Service creates retried when a random IP or port reservation collides.
const MAX_ALLOCATION_ATTEMPTS: usize = 4;
/// Default grace period of a pod without terminationGracePeriodSeconds.
const DEFAULT_POD_GRACE_SECS: i64 = 30;

/// What a request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub def: &'static ResourceDef,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Reached through the deprecated /watch/ path prefix.
    pub legacy_watch: bool,
}

impl Target {
    pub fn key(&self) -> String {
        self.def.key(
            self.namespace.as_deref(),
            self.name.as_deref().unwrap_or(""),
        )
    }

    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// Resolves the path segments after /api/v1 or /apis/G/V.
pub fn parse_target(group: &str, version: &str, segs: &[&str]) -> ApiResult<Target> {
    let (legacy_watch, segs) = match segs.first() {
        Some(&"watch") => (true, &segs[1..]),
        _ => (false, segs),
    };
    let namespaced_path = segs.len() >= 3
        && segs[0] == "namespaces"
        && registry::lookup(group, version, segs[2]).is_some_and(|d| d.namespaced);
    let (namespace, rest) = if namespaced_path {
        (Some(segs[1].to_string()), &segs[2..])
    } else {
        (None, segs)
    };
    let plural = rest.first().ok_or_else(ApiError::unknown_path)?;
    let def = registry::lookup(group, version, plural).ok_or_else(ApiError::unknown_path)?;
    if rest.len() > 3 || rest.iter().any(|s| s.is_empty()) {
        return Err(ApiError::unknown_path());
    }
    let name = rest.get(1).map(|s| s.to_string());
    let sub = rest.get(2).map(|s| s.to_string());
    // A namespaced kind addressed by name needs its namespace.
    if def.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::unknown_path());
    }
    if let Some(s) = &sub {
        let ok = match s.as_str() {
            "status" => def.status,
            "scale" => def.scale,
            "binding" => def.actions.contains(&Action::Binding),
            "eviction" => def.actions.contains(&Action::Eviction),
            "token" => def.actions.contains(&Action::Token),
            "finalize" => def.plural == "namespaces",
            _ => false,
        };
        if !ok || legacy_watch {
            return Err(ApiError::unknown_path());
        }
    }
    Ok(Target {
        def,
        namespace,
        name,
        sub,
        legacy_watch,
    })
}

/// Shared state of the API handlers.
#[derive(Clone)]
pub struct Api {
    pub objects: Objects,
    pub extras: Arc<Extras>,
}

/// Documents built once at startup.
pub struct Extras {
    pub openapi: crate::openapi::OpenApi,
    pub schemas: crate::printing::Schemas,
}

impl Extras {
    pub fn build() -> Extras {
        let openapi = crate::openapi::OpenApi::build(&|definition, field| {
            crate::patch::field_patch_meta(definition, field).map(|m| (m.strategy, m.merge_key))
        });
        let schemas = crate::printing::Schemas::from_openapi(&openapi);
        Extras { openapi, schemas }
    }
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// generateName's random suffix: 5 characters from the alphabet of
/// apimachinery's util/rand (no vowels, no confusable digits).
fn name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn value_response(status: StatusCode, v: &Value) -> Response {
    json_response(status, serde_json::to_vec(v).unwrap_or_default())
}

/// The request body's media type, normalised.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Reads the body, refusing more than MAX_BODY_BYTES with 413.
pub async fn read_body(body: Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::too_large(format!(
                "Request entity too large: limit is {MAX_BODY_BYTES}"
            ))
        })
}

/// Decodes a JSON, YAML or Kubernetes protobuf body into an object.
pub fn decode_body(ct: &str, body: &[u8]) -> ApiResult<Value> {
    let v: Value = match ct {
        crate::protobuf::CONTENT_TYPE => crate::protobuf::decode(body)
            .map_err(|e| ApiError::bad_request(format!("unable to decode protobuf body: {e}")))?,
        "" | "application/json" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        "application/yaml"
        | "application/x-yaml"
        | "text/yaml"
        | "application/apply-patch+yaml" => serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not a JSON object",
        ));
    }
    Ok(v)
}

/// Checks apiVersion/kind against the endpoint (filling them if absent).
fn check_type(obj: &mut Value, api_version: &str, kind: &str) -> ApiResult<()> {
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => obj["apiVersion"] = json!(api_version),
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => obj["kind"] = json!(kind),
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({kind})"
            )));
        }
    }
    Ok(())
}

fn meta(obj: &Value) -> &Value {
    obj.get("metadata").unwrap_or(&Value::Null)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).get(field).and_then(Value::as_str)
}

fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("invariant: metadata was just made an object")
}

fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The object without the fields a write never compares (resourceVersion,
/// managedFields timestamps are left alone).
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    v
}

/// Everything outside metadata and status (what bumps generation).
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    v
}

fn parse_rv(s: &str) -> ApiResult<Revision> {
    s.parse::<u64>()
        .map(Revision)
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))
}

/// The read mode of a GET.
fn get_mode(p: &Params) -> ApiResult<ReadMode> {
    Ok(match p.resource_version.as_deref() {
        None => ReadMode::Consistent,
        Some("0") => ReadMode::Any,
        Some(s) => ReadMode::NotOlderThan(parse_rv(s)?),
    })
}

/// The continue token of kube-apiserver's storage/continue.go.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let t = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.into(),
    };
    base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_continue(s: &str) -> ApiResult<ContinueToken> {
    let bad = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
        .map_err(|_| bad("not base64"))?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|_| bad("not JSON"))?;
    if t.v != "meta.k8s.io/v1" {
        return Err(bad("unsupported version"));
    }
    if t.start.is_empty() || t.start.starts_with('/') || t.start.contains("..") {
        return Err(bad("invalid start key"));
    }
    Ok(t)
}

/// The parts of metadata selection needs.
#[derive(serde::Deserialize, Default)]
struct SelectMeta {
    #[serde(default)]
    labels: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Parses only what selection needs from a stored value's `metadata`
/// (which comes first, see `objects`). Objects written by this version
/// start metadata with name, namespace, labels: reading stops at the first
/// other key, so annotations and managedFields are never scanned. Older
/// layouts (first key not "name") are read whole.
fn stored_meta(stored: &[u8]) -> Option<SelectMeta> {
    use serde::Deserialize;
    use serde::de::MapAccess;
    use serde::de::Visitor;
    let rest = stored.strip_prefix(b"{\"metadata\":")?;
    if !rest.starts_with(b"{\"name\":") {
        let mut de = serde_json::Deserializer::from_slice(rest);
        return SelectMeta::deserialize(&mut de).ok();
    }
    struct Leading<'a>(&'a mut SelectMeta);
    impl<'de> Visitor<'de> for Leading<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("object metadata")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match key.as_ref() {
                    "name" => self.0.name = Some(map.next_value()?),
                    "namespace" => self.0.namespace = Some(map.next_value()?),
                    "labels" => self.0.labels = Some(map.next_value()?),
                    // Past the leading keys: stop. The deserializer then
                    // reports the unread rest, which is ignored below.
                    _ => return Ok(()),
                }
            }
            Ok(())
        }
    }
    let mut out = SelectMeta::default();
    let mut de = serde_json::Deserializer::from_slice(rest);
    let _ = serde::Deserializer::deserialize_map(&mut de, Leading(&mut out));
    out.name.as_ref()?;
    Some(out)
}

/// Label + field selection of stored objects.
pub struct Selection {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selection {
    pub fn parse(p: &Params, def: &ResourceDef) -> ApiResult<Selection> {
        Ok(Selection {
            labels: LabelSelector::parse(&p.label_selector)?,
            fields: FieldSelector::parse(&p.field_selector, def)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// Does the stored object match?
    pub fn matches_stored(&self, stored: &[u8]) -> bool {
        if self.is_empty() {
            return true;
        }
        if self.fields.metadata_only() {
            return stored_meta(stored).is_some_and(|m| {
                self.labels.matches(m.labels.as_ref())
                    && (self.fields.is_empty()
                        || self.fields.matches(
                            &json!({"metadata": {"name": m.name, "namespace": m.namespace}}),
                        ))
            });
        }
        match serde_json::from_slice::<Value>(stored) {
            Ok(v) => self.matches(&v),
            Err(_) => false,
        }
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels
            .matches(meta(obj).get("labels").and_then(Value::as_object))
            && self.fields.matches(obj)
    }
}

/// Does the client want a Table?
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .next()
                .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
        })
}

impl Api {
    /// Serves one request under /api/v1 or /apis/G/V.
    #[allow(clippy::too_many_arguments)]
    pub async fn serve(
        &self,
        group: &str,
        version: &str,
        segs: &[&str],
        method: Method,
        query: Option<&str>,
        headers: HeaderMap,
        body: Body,
    ) -> Response {
        match self
            .dispatch(group, version, segs, method, query, headers, body)
            .await
        {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispatch(
        &self,
        group: &str,
        version: &str,
        segs: &[&str],
        method: Method,
        query: Option<&str>,
        headers: HeaderMap,
        body: Body,
    ) -> ApiResult<Response> {
        let t = parse_target(group, version, segs)?;
        let mut p = Params::parse(query)?;
        p.user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let def = t.def;
        let verb_err = || {
            ApiError::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({method} {})",
                def.plural
            ))
        };
        if def.create_only {
            return match (&method, t.name.is_some()) {
                (&Method::POST, false) => {
                    let body = read_body(body).await?;
                    let mut obj = decode_body(&content_type(&headers), &body)?;
                    check_type(&mut obj, &def.api_version(), def.kind)?;
                    Ok(value_response(
                        StatusCode::CREATED,
                        &crate::actions::review(obj),
                    ))
                }
                _ => Err(verb_err()),
            };
        }
        match (t.name.is_some(), t.sub.as_deref()) {
            (false, None) => match method {
                Method::GET if p.watch || t.legacy_watch => {
                    crate::watch_stream::watch(self, &t, &p, &headers).await
                }
                Method::GET => self.list(&t, &p, &headers).await,
                Method::POST if t.namespace.is_some() || !def.namespaced => {
                    let body = read_body(body).await?;
                    self.create(&t, &p, &headers, &body).await
                }
                Method::DELETE if t.namespace.is_some() || !def.namespaced => {
                    let body = read_body(body).await?;
                    let body = delete_body(&headers, &body)?;
                    self.delete_collection(&t, &p, &headers, &body).await
                }
                _ => Err(verb_err()),
            },
            (true, None) => match method {
                Method::GET if p.watch || t.legacy_watch => {
                    let mut p = p.clone();
                    p.field_selector = format!("metadata.name={}", t.name());
                    let mut list_t = t.clone();
                    list_t.name = None;
                    crate::watch_stream::watch(self, &list_t, &p, &headers).await
                }
                Method::GET => self.get(&t, &p, &headers).await,
                Method::PUT => {
                    let body = read_body(body).await?;
                    self.update(&t, &p, &headers, &body).await
                }
                Method::PATCH => {
                    let body = read_body(body).await?;
                    self.patch(&t, &p, &headers, &body).await
                }
                Method::DELETE => {
                    let body = read_body(body).await?;
                    let body = delete_body(&headers, &body)?;
                    self.delete(&t, &p, &body).await
                }
                _ => Err(verb_err()),
            },
            (true, Some("status")) | (true, Some("finalize")) => match method {
                Method::GET => self.get(&t, &p, &headers).await,
                Method::PUT => {
                    let body = read_body(body).await?;
                    self.update(&t, &p, &headers, &body).await
                }
                Method::PATCH => {
                    let body = read_body(body).await?;
                    self.patch(&t, &p, &headers, &body).await
                }
                _ => Err(verb_err()),
            },
            (true, Some("scale")) => match method {
                Method::GET => self.get_scale(&t, &p).await,
                Method::PUT | Method::PATCH => {
                    let body = read_body(body).await?;
                    self.write_scale(&t, &p, &headers, method == Method::PATCH, &body)
                        .await
                }
                _ => Err(verb_err()),
            },
            (true, Some(action)) => match method {
                Method::POST => {
                    let body = read_body(body).await?;
                    crate::actions::post(self, &t, &p, &headers, action, &body).await
                }
                _ => Err(verb_err()),
            },
            (false, Some(_)) => Err(ApiError::unknown_path()),
        }
    }

    /// Reads one object as stored.
    pub async fn read(&self, t: &Target, mode: ReadMode) -> ApiResult<Option<KeyValue>> {
        let rev = self.objects.prepare(mode).await?;
        self.objects.get(&t.key(), rev).await
    }

    async fn get(&self, t: &Target, p: &Params, headers: &HeaderMap) -> ApiResult<Response> {
        let kv = self
            .read(t, get_mode(p)?)
            .await?
            .ok_or_else(|| ApiError::not_found(t.def.group, t.def.plural, t.name()))?;
        if wants_table(headers) {
            let obj = objects::decode(&kv)?;
            return Ok(value_response(
                StatusCode::OK,
                &crate::printing::table(
                    t.def,
                    &[obj],
                    json!({"resourceVersion": kv.mod_revision.0.to_string()}),
                    p,
                ),
            ));
        }
        Ok(json_response(
            StatusCode::OK,
            objects::with_rv(&kv.value, kv.mod_revision),
        ))
    }

    /// LIST with selectors and pagination; see kube-apiserver's etcd3
    /// store GetList for the resourceVersion/limit/continue rules.
    async fn list(&self, t: &Target, p: &Params, headers: &HeaderMap) -> ApiResult<Response> {
        let def = t.def;
        let sel = Selection::parse(p, def)?;
        let list_prefix = def.list_prefix(t.namespace.as_deref());
        let root = def.prefix();
        let mut limit = p.limit.filter(|l| *l > 0).map(|l| l as usize);
        let (mode, mut start) = match &p.continue_token {
            Some(tok) => {
                if p.resource_version.is_some() {
                    return Err(ApiError::bad_request(
                        "specifying resource version is not allowed when using continue",
                    ));
                }
                let c = decode_continue(tok)?;
                let key = format!("{root}{}", c.start);
                if !key.starts_with(&list_prefix) {
                    return Err(ApiError::bad_request(
                        "continue key is not valid: it does not belong to this list",
                    ));
                }
                let mode = if c.rv < 0 {
                    ReadMode::Consistent
                } else {
                    ReadMode::Exact(Revision(c.rv as u64))
                };
                (mode, Some(key))
            }
            None => {
                let mode = match (
                    p.resource_version.as_deref(),
                    p.resource_version_match.as_deref(),
                ) {
                    (None, Some(_)) => {
                        return Err(ApiError::bad_request(
                            "resourceVersionMatch is forbidden unless resourceVersion is provided",
                        ));
                    }
                    (None, None) => ReadMode::Consistent,
                    (Some("0"), Some("Exact")) => {
                        return Err(ApiError::bad_request(
                            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
                        ));
                    }
                    (Some("0"), _) => {
                        // kube-apiserver serves "0" from its cache and ignores the limit.
                        limit = None;
                        ReadMode::Any
                    }
                    (Some(s), Some("Exact")) => ReadMode::Exact(parse_rv(s)?),
                    (Some(s), Some(_)) => ReadMode::NotOlderThan(parse_rv(s)?),
                    (Some(s), None) if limit.is_some() => ReadMode::Exact(parse_rv(s)?),
                    (Some(s), None) => ReadMode::NotOlderThan(parse_rv(s)?),
                };
                (mode, None)
            }
        };
        // metadata.name pins one key: read it instead of scanning.
        if start.is_none()
            && (t.namespace.is_some() || !def.namespaced)
            && let Some(name) = sel.fields.equals("metadata.name")
        {
            start = Some(def.key(t.namespace.as_deref(), name));
        }
        let mut rev = self.objects.prepare(mode).await?;
        let want_table = wants_table(headers);
        let mut items: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut table_objs: Vec<Value> = Vec::new();
        let mut n = 0usize;
        let mut cont: Option<String> = None;
        let mut remaining: Option<u64> = None;
        let name_pinned = sel.fields.equals("metadata.name");
        loop {
            let chunk = match limit {
                Some(l) if sel.is_empty() => l - n + 1,
                Some(_) => 512,
                None => 0,
            };
            let r = self
                .objects
                .list(&list_prefix, start.as_deref(), chunk, rev)
                .await
                .map_err(|e| match (e.code, p.continue_token.as_deref()) {
                    // An expired continue token: 410 carrying a fresh,
                    // inconsistent (rv -1) token in the Status's ListMeta,
                    // as kube-apiserver's handleCompactedErrorForPaging.
                    (410, Some(token)) => {
                        let fresh = decode_continue(token)
                            .map(|c| encode_continue(-1, &c.start))
                            .unwrap_or_default();
                        ApiError {
                            metadata: Some(json!({"continue": fresh})),
                            ..ApiError::expired(
                                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                            )
                        }
                    }
                    (410, None) => ApiError::expired(format!(
                        "The resourceVersion for the provided list is too old: {}",
                        e.message
                    )),
                    _ => e,
                })?;
            if rev == Revision::ZERO {
                rev = r.revision;
            }
            let total_from_start = r.count;
            let mut examined = 0u64;
            let mut last_key: Option<Bytes> = None;
            let mut full = false;
            for kv in &r.kvs {
                if limit.is_some_and(|l| n >= l) {
                    full = true;
                    break;
                }
                examined += 1;
                last_key = Some(kv.key.clone());
                // Namespaced list across namespaces: keys are ns/name; a
                // pinned name must match the key's last segment.
                if let Some(nm) = name_pinned
                    && !kv.key.ends_with(format!("/{nm}").as_bytes())
                {
                    continue;
                }
                if !sel.matches_stored(&kv.value) {
                    continue;
                }
                if want_table {
                    table_objs.push(objects::decode(kv)?);
                } else {
                    if n > 0 {
                        items.push(b',');
                    }
                    objects::write_with_rv(&mut items, &kv.value, kv.mod_revision);
                }
                n += 1;
            }
            let more_in_store = full || r.more;
            if !more_in_store {
                break;
            }
            let Some(last) = last_key else { break };
            let mut next = last.to_vec();
            next.push(0);
            let next = String::from_utf8_lossy(&next).into_owned();
            if limit.is_some_and(|l| n >= l) {
                let rel = next.strip_prefix(&root).unwrap_or(&next).to_string();
                cont = Some(encode_continue(rev.0 as i64, &rel));
                if sel.is_empty() {
                    remaining = Some(total_from_start.saturating_sub(examined));
                }
                break;
            }
            start = Some(next);
        }
        let mut list_meta = json!({"resourceVersion": rev.0.to_string()});
        if let Some(c) = &cont {
            list_meta["continue"] = json!(c);
        }
        if let Some(r) = remaining.filter(|r| *r > 0) {
            list_meta["remainingItemCount"] = json!(r);
        }
        if want_table {
            return Ok(value_response(
                StatusCode::OK,
                &crate::printing::table(def, &table_objs, list_meta, p),
            ));
        }
        let mut out = Vec::with_capacity(items.len() + 256);
        out.extend_from_slice(b"{\"kind\":\"");
        out.extend_from_slice(def.list_kind().as_bytes());
        out.extend_from_slice(b"\",\"apiVersion\":\"");
        out.extend_from_slice(def.api_version().as_bytes());
        out.extend_from_slice(b"\",\"metadata\":");
        out.extend_from_slice(&serde_json::to_vec(&list_meta).unwrap_or_default());
        out.extend_from_slice(b",\"items\":[");
        out.extend_from_slice(&items);
        out.extend_from_slice(b"]}");
        Ok(json_response(StatusCode::OK, out))
    }

    /// Fails with 404 if the namespace does not exist and 403 if it is
    /// terminating (NamespaceLifecycle admission).
    async fn check_namespace(&self, t: &Target, name: &str, ns: &str) -> ApiResult<()> {
        let nsdef =
            registry::lookup("", "v1", "namespaces").expect("invariant: namespaces registered");
        let key = nsdef.key(None, ns);
        let mut kv = self.objects.get(&key, Revision::ZERO).await?;
        if kv.is_none() {
            // This member may lag: confirm with a linearizable read.
            self.objects.prepare(ReadMode::Consistent).await?;
            kv = self.objects.get(&key, Revision::ZERO).await?;
        }
        let kv = kv.ok_or_else(|| ApiError::not_found("", "namespaces", ns))?;
        let obj = objects::decode(&kv)?;
        if meta(&obj).get("deletionTimestamp").is_some()
            || obj.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        {
            let mut details = json!({"name": name, "kind": t.def.plural, "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]});
            if !t.def.group.is_empty() {
                details["group"] = json!(t.def.group);
            }
            return Err(ApiError {
                details: Some(details),
                ..ApiError::forbidden(format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    crate::error::qualified(t.def.group, t.def.plural)
                ))
            });
        }
        Ok(())
    }

    /// Runs defaulting and validation; 422 on failure.
    fn admit(
        &self,
        def: &ResourceDef,
        obj: &mut Value,
        old: Option<&Value>,
        status_only: bool,
    ) -> ApiResult<()> {
        hooks::apply_defaults(def.group, def.kind, obj);
        let causes = match (status_only, old) {
            (true, Some(old)) => hooks::validate_status(def.group, def.kind, obj, old),
            _ => hooks::validate(def.group, def.kind, obj, old, def.namespaced),
        };
        if !causes.is_empty() {
            let name = meta_str(obj, "name").unwrap_or("").to_string();
            return Err(ApiError::invalid(def.group, def.kind, &name, &causes));
        }
        Ok(())
    }

    /// Unknown-field handling for fieldValidation (Strict: 400, Warn: a
    /// Warning header).
    fn check_fields(&self, def: &ResourceDef, obj: &Value, p: &Params) -> ApiResult<Vec<String>> {
        if p.field_validation == FieldValidation::Ignore {
            return Ok(Vec::new());
        }
        let unknown = self.extras.schemas.unknown_fields(def, obj);
        field_verdict(&unknown, p)
    }

    /// A create or update body: decoded, type-checked against the endpoint,
    /// unknown fields pruned (and reported per fieldValidation).
    fn decode_object(
        &self,
        def: &ResourceDef,
        p: &Params,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult<(Value, Vec<String>)> {
        let mut obj = decode_body(&content_type(headers), body)?;
        check_type(&mut obj, &def.api_version(), def.kind)?;
        let warnings = self.check_and_prune(def, &mut obj, p)?;
        Ok((obj, warnings))
    }

    /// check_fields for a whole object body, pruning the unknown fields in
    /// the same walk (they are never stored).
    fn check_and_prune(
        &self,
        def: &ResourceDef,
        obj: &mut Value,
        p: &Params,
    ) -> ApiResult<Vec<String>> {
        let unknown = self.extras.schemas.prune(def, obj);
        if p.field_validation == FieldValidation::Ignore {
            return Ok(Vec::new());
        }
        field_verdict(&unknown, p)
    }

    /// Builds the object a create stores (before admission).
    fn prepare_create(&self, t: &Target, obj: &mut Value) -> ApiResult<()> {
        let def = t.def;
        let now = now_rfc3339();
        let m = meta_mut(obj);
        if def.namespaced {
            let url_ns = t.namespace.as_deref().unwrap_or("");
            match m.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    m.insert("namespace".into(), json!(url_ns));
                }
                Some(ns) if ns == url_ns => {}
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
            }
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), json!(new_uid()));
        m.insert("creationTimestamp".into(), json!(now));
        m.remove("resourceVersion");
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("selfLink");
        if def.generation {
            m.insert("generation".into(), json!(1));
        } else {
            m.remove("generation");
        }
        match def.status_on_create {
            StatusOnCreate::Keep => {}
            StatusOnCreate::Clear => {
                obj["status"] = json!({});
            }
            StatusOnCreate::Phase(p) => {
                obj["status"] = json!({"phase": p});
            }
        }
        if def.kind == "Namespace" && obj.pointer("/spec/finalizers").is_none() {
            obj["spec"]["finalizers"] = json!(["kubernetes"]);
        }
        if def.kind == "Pod" && obj.get("status").is_some() {
            obj["status"]["qosClass"] = json!(pod_qos(obj));
        }
        Ok(())
    }

    async fn create(
        &self,
        t: &Target,
        p: &Params,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult<Response> {
        let def = t.def;
        let (obj, warnings) = self.decode_object(def, p, headers, body)?;
        let (resp, _) = self.create_object(t, p, obj).await?;
        Ok(with_warnings(
            value_response(StatusCode::CREATED, &resp),
            &warnings,
        ))
    }

    /// Creates `obj` (already type-checked); returns the stored object.
    pub async fn create_object(
        &self,
        t: &Target,
        p: &Params,
        obj: Value,
    ) -> ApiResult<(Value, Revision)> {
        self.create_object_as(t, p, obj, true).await
    }

    /// Creates `obj`; `record`: record a non-apply write's ownership (an
    /// apply has recorded its own).
    pub async fn create_object_as(
        &self,
        t: &Target,
        p: &Params,
        mut obj: Value,
        record: bool,
    ) -> ApiResult<(Value, Revision)> {
        let def = t.def;
        self.prepare_create(t, &mut obj)?;
        if def.namespaced {
            let ns = t.namespace.clone().unwrap_or_default();
            let name = meta_str(&obj, "name")
                .or(meta_str(&obj, "generateName"))
                .unwrap_or("")
                .to_string();
            self.check_namespace(t, &name, &ns).await?;
        }
        let generate = meta_str(&obj, "generateName").map(String::from);
        let explicit_name = meta_str(&obj, "name")
            .filter(|n| !n.is_empty())
            .map(String::from);
        // generateName collisions and raced allocations are retried.
        let attempts = if explicit_name.is_none() && generate.is_some() {
            MAX_GENERATE_NAME_ATTEMPTS
        } else if def.kind == "Service" {
            MAX_ALLOCATION_ATTEMPTS
        } else {
            1
        };
        for attempt in 0..attempts {
            let name = match (&explicit_name, &generate) {
                (Some(n), _) => n.clone(),
                (None, Some(g)) => format!("{g}{}", name_suffix()),
                (None, None) => {
                    return Err(ApiError::invalid(
                        def.group,
                        def.kind,
                        "",
                        &[hooks::Cause {
                            reason: "FieldValueRequired",
                            field: "metadata.name".into(),
                            message: "Required value: name or generateName is required".into(),
                        }],
                    ));
                }
            };
            meta_mut(&mut obj).insert("name".into(), json!(name));
            // The last attempt takes the object instead of copying it.
            let mut candidate = if attempt + 1 == attempts {
                std::mem::take(&mut obj)
            } else {
                obj.clone()
            };
            self.admit(def, &mut candidate, None, false)?;
            if record {
                record_ownership(def, None, &mut candidate, p);
            }
            let mut target = t.clone();
            target.name = Some(name.clone());
            let key = target.key();
            let mut txn = Txn {
                compares: vec![Compare::Absent(Bytes::from(key.clone()))],
                ..Txn::default()
            };
            if def.kind == "Service" {
                crate::actions::allocate_service(self, &mut candidate, &mut txn).await?;
            }
            let stored = objects::encode(&candidate)?;
            if p.dry_run {
                // Everything but the write: an existing object is still 409.
                self.objects.prepare(ReadMode::Consistent).await?;
                if self.objects.get(&key, Revision::ZERO).await?.is_some() {
                    return Err(ApiError::already_exists(def.group, def.plural, &name));
                }
                return Ok((candidate, self.objects.revision()));
            }
            txn.success.push(Op::Put {
                key: Bytes::from(key),
                value: Bytes::from(stored),
            });
            let r = self.objects.txn(txn).await?;
            if r.succeeded {
                meta_mut(&mut candidate)
                    .insert("resourceVersion".into(), json!(r.revision.0.to_string()));
                return Ok((candidate, r.revision));
            }
            let object_exists = r
                .compared
                .first()
                .is_some_and(|kv| !kv.value.is_empty() || kv.mod_revision.0 > 0);
            if !object_exists {
                // An allocation raced; retry with fresh allocations.
                continue;
            }
            if explicit_name.is_some() || attempt + 1 == attempts {
                return Err(ApiError::already_exists(def.group, def.plural, &name));
            }
        }
        Err(ApiError::already_exists(
            def.group,
            def.plural,
            explicit_name.as_deref().unwrap_or(""),
        ))
    }

    async fn update(
        &self,
        t: &Target,
        p: &Params,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult<Response> {
        let def = t.def;
        let (mut obj, warnings) = self.decode_object(def, p, headers, body)?;
        match meta_str(&obj, "name") {
            Some(n) if n == t.name() => {}
            None | Some("") => {
                meta_mut(&mut obj).insert("name".into(), json!(t.name()));
            }
            Some(n) => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({})",
                    t.name()
                )));
            }
        }
        if def.namespaced {
            match meta_str(&obj, "namespace") {
                None | Some("") => {
                    let ns = t.namespace.clone().unwrap_or_default();
                    meta_mut(&mut obj).insert("namespace".into(), json!(ns));
                }
                Some(ns) if Some(ns) == t.namespace.as_deref() => {}
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
            }
        }
        let obj = Arc::new(obj);
        let (status, resp) = self
            .guaranteed_update(t, p, false, |current| {
                let current =
                    current.ok_or_else(|| ApiError::not_found(def.group, def.plural, t.name()))?;
                let _ = current;
                Ok(Some((*obj).clone()))
            })
            .await?;
        Ok(with_warnings(value_response(status, &resp), &warnings))
    }

    /// The read-modify-write loop. `f` gets the current object (with its
    /// resourceVersion) and returns the desired object, or None for "no
    /// change". With `create_if_absent`, `f(None)` may return an object to
    /// create (server-side apply).
    pub async fn guaranteed_update<F>(
        &self,
        t: &Target,
        p: &Params,
        create_if_absent: bool,
        f: F,
    ) -> ApiResult<(StatusCode, Value)>
    where
        F: FnMut(Option<&Value>) -> ApiResult<Option<Value>>,
    {
        self.guaranteed_update_as(t, p, create_if_absent, true, f)
            .await
    }

    /// guaranteed_update; `record`: record a non-apply write's ownership.
    pub async fn guaranteed_update_as<F>(
        &self,
        t: &Target,
        p: &Params,
        create_if_absent: bool,
        record: bool,
        mut f: F,
    ) -> ApiResult<(StatusCode, Value)>
    where
        F: FnMut(Option<&Value>) -> ApiResult<Option<Value>>,
    {
        let def = t.def;
        let status_only = matches!(t.sub.as_deref(), Some("status"));
        let internal = matches!(t.sub.as_deref(), Some("binding") | Some("finalize"));
        let key = t.key();
        // Local state may lag the leader: a precondition that fails against
        // it, or a lost compare, is re-checked after a read barrier.
        let mut fresh = false;
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let kv = self.objects.get(&key, Revision::ZERO).await?;
            let current = kv.as_ref().map(objects::decode).transpose()?;
            let Some(current) = current else {
                // Local state may lag: confirm the absence first.
                if !fresh {
                    self.objects.prepare(ReadMode::Consistent).await?;
                    fresh = true;
                    continue;
                }
                if !create_if_absent {
                    return Err(ApiError::not_found(def.group, def.plural, t.name()));
                }
                let Some(mut new) = f(None)? else {
                    return Err(ApiError::not_found(def.group, def.plural, t.name()));
                };
                self.extras.schemas.prune(def, &mut new);
                match self.create_object_as(t, p, new, record).await {
                    Ok((created, _)) => return Ok((StatusCode::CREATED, created)),
                    // Created meanwhile: apply to it instead.
                    Err(e) if e.reason == "AlreadyExists" => {
                        fresh = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            };
            let kv = kv.expect("invariant: current came from kv");
            let planned = f(Some(&current)).and_then(|desired| match desired {
                None => Ok(None),
                Some(d) => {
                    let owner = (record && !internal).then_some(p);
                    self.prepare_update(t, &current, d, status_only, internal, owner)
                        .map(Some)
                }
            });
            let new = match planned {
                // A precondition, a patch (e.g. a JSON patch `test`) or a
                // validation may fail only because this member lags: retry
                // once against the latest state before answering.
                Err(e) if e.code < 500 && !fresh => {
                    self.objects.prepare(ReadMode::Consistent).await?;
                    fresh = true;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(None) => return Ok((StatusCode::OK, current)),
                Ok(Some(plan)) => plan,
            };
            let new = match new {
                UpdatePlan::NoChange => return Ok((StatusCode::OK, current)),
                UpdatePlan::Write(v) => v,
                UpdatePlan::Delete(v) => {
                    if p.dry_run {
                        return Ok((StatusCode::OK, v));
                    }
                    let txn = Txn {
                        compares: vec![Compare::ModRevisionEquals(
                            Bytes::from(key.clone()),
                            kv.mod_revision,
                        )],
                        success: vec![Op::Delete {
                            key: Bytes::from(key.clone()),
                        }],
                        failure: vec![],
                    };
                    let mut txn = txn;
                    crate::actions::release_allocations(def, &current, &mut txn);
                    let r = self.objects.txn(txn).await?;
                    if r.succeeded {
                        let mut v = v;
                        meta_mut(&mut v)
                            .insert("resourceVersion".into(), json!(r.revision.0.to_string()));
                        return Ok((StatusCode::OK, v));
                    }
                    self.objects.prepare(ReadMode::Consistent).await?;
                    fresh = true;
                    continue;
                }
            };
            let stored = objects::encode(&new)?;
            if p.dry_run {
                return Ok((StatusCode::OK, new));
            }
            let txn = Txn {
                compares: vec![Compare::ModRevisionEquals(
                    Bytes::from(key.clone()),
                    kv.mod_revision,
                )],
                success: vec![Op::Put {
                    key: Bytes::from(key.clone()),
                    value: Bytes::from(stored),
                }],
                failure: vec![],
            };
            let r = self.objects.txn(txn).await?;
            if r.succeeded {
                let mut new = new;
                meta_mut(&mut new)
                    .insert("resourceVersion".into(), json!(r.revision.0.to_string()));
                return Ok((StatusCode::OK, new));
            }
            // Lost a race: catch up, re-read and recompute. A
            // resourceVersion the client pinned now mismatches and
            // `prepare_update` answers 409.
            self.objects.prepare(ReadMode::Consistent).await?;
            fresh = true;
        }
        Err(ApiError::modified(def.group, def.plural, t.name()))
    }

    /// Applies kube-apiserver's update strategy to `desired` against `current`.
    fn prepare_update(
        &self,
        t: &Target,
        current: &Value,
        mut desired: Value,
        status_only: bool,
        internal: bool,
        // Records this request's field ownership (non-apply writes).
        owner: Option<&Params>,
    ) -> ApiResult<UpdatePlan> {
        let def = t.def;
        check_type(&mut desired, &def.api_version(), def.kind)?;
        if !desired.get("metadata").is_some_and(Value::is_object) {
            desired["metadata"] = json!({});
        }
        let cur_rv = meta_str(current, "resourceVersion").unwrap_or("");
        match meta_str(&desired, "resourceVersion") {
            Some(rv) if !rv.is_empty() && rv != cur_rv => {
                return Err(ApiError::modified(def.group, def.plural, t.name()));
            }
            _ => {}
        }
        let uid = meta_str(&desired, "uid").filter(|u| !u.is_empty());
        check_precondition(t, current, "uid", uid)?;
        let mut new = if status_only {
            // Status writes change status (and labels/annotations) only.
            let mut n = current.clone();
            n["status"] = desired.get("status").cloned().unwrap_or(json!({}));
            for f in ["labels", "annotations"] {
                match meta(&desired).get(f) {
                    Some(v) => {
                        meta_mut(&mut n).insert(f.into(), v.clone());
                    }
                    None => {
                        meta_mut(&mut n).remove(f);
                    }
                }
            }
            n
        } else if internal {
            // Server-internal writes (binding, namespace finalize) set
            // exactly what they computed.
            desired
        } else {
            let mut n = desired;
            if def.status {
                match current.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            n
        };
        // System-owned metadata survives every update.
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
            "name",
        ] {
            match meta(current).get(f) {
                Some(v) => {
                    meta_mut(&mut new).insert(f.into(), v.clone());
                }
                None => {
                    meta_mut(&mut new).remove(f);
                }
            }
        }
        if meta(current).get("deletionTimestamp").is_some() {
            // Finalizers may only be removed from an object being deleted.
            let cur_f = finalizers(current);
            let new_f = finalizers(&new);
            if new_f.iter().any(|f| !cur_f.contains(f)) {
                return Err(ApiError::invalid(
                    def.group,
                    def.kind,
                    t.name(),
                    &[hooks::Cause {
                        reason: "FieldValueForbidden",
                        field: "metadata.finalizers".into(),
                        message: "Forbidden: no new finalizers can be added if the object is being deleted".into(),
                    }],
                ));
            }
        }
        self.extras.schemas.prune(def, &mut new);
        if !internal {
            self.admit(def, &mut new, Some(current), status_only)?;
        }
        if def.generation && !status_only && spec_part(&new) != spec_part(current) {
            let g = meta(current)
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        if let Some(p) = owner {
            record_ownership(def, Some(current), &mut new, p);
        }
        if comparable(&new) == comparable(current) {
            return Ok(UpdatePlan::NoChange);
        }
        meta_mut(&mut new).remove("resourceVersion");
        if meta(&new).get("deletionTimestamp").is_some()
            && finalizers(&new).is_empty()
            && !namespace_finalizers_pending(&new)
        {
            let graceful_pod_pending = def.kind == "Pod"
                && meta(&new)
                    .get("deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    > 0;
            if !graceful_pod_pending {
                return Ok(UpdatePlan::Delete(new));
            }
        }
        Ok(UpdatePlan::Write(new))
    }

    async fn patch(
        &self,
        t: &Target,
        p: &Params,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult<Response> {
        let def = t.def;
        let ct = content_type(headers);
        let kind = crate::patching::PatchKind::from_content_type(&ct)?;
        let patch: Value = crate::patching::parse_patch(kind, body)?;
        let is_apply = kind == crate::patching::PatchKind::Apply;
        if is_apply && p.field_manager.as_deref().unwrap_or("").is_empty() {
            return Err(ApiError::bad_request(
                "PATCH, application/apply-patch+yaml requests require fieldManager to be set",
            ));
        }
        let warnings = if patch.is_object() {
            self.check_fields(def, &patch, p)?
        } else {
            Vec::new()
        };
        let t2 = t.clone();
        let (status, resp) = self
            .guaranteed_update_as(t, p, is_apply && t.sub.is_none(), !is_apply, |current| match current {
                None => {
                    let mut obj = patch.clone();
                    check_type(&mut obj, &def.api_version(), def.kind)?;
                    match meta_str(&obj, "name") {
                        Some(n) if n != t2.name() => {
                            return Err(ApiError::bad_request(format!(
                                "the name of the object ({n}) does not match the name on the URL ({})",
                                t2.name()
                            )));
                        }
                        _ => {}
                    }
                    meta_mut(&mut obj).insert("name".into(), json!(t2.name()));
                    apply_ownership(def, None, &patch, &mut obj, p)?;
                    Ok(Some(obj))
                }
                Some(cur) => {
                    let mut new = crate::patching::apply(kind, def, cur, &patch)?;
                    if is_apply {
                        apply_ownership(def, Some(cur), &patch, &mut new, p)?;
                    }
                    Ok(Some(new))
                }
            })
            .await?;
        Ok(with_warnings(value_response(status, &resp), &warnings))
    }

    async fn delete(&self, t: &Target, p: &Params, body: &[u8]) -> ApiResult<Response> {
        let opts = delete_options(p, body)?;
        let (status, v, gone) = self.delete_object(t, p, &opts).await?;
        // kube-apiserver returns the deleted object only for kinds whose
        // registry sets ReturnDeletedObject (pods, services); the others
        // answer a Status once the object is gone.
        if gone && !matches!(t.def.kind, "Pod" | "Service") {
            let mut details = json!({
                "name": t.name(),
                "kind": t.def.plural,
                "uid": meta_str(&v, "uid"),
            });
            if !t.def.group.is_empty() {
                details["group"] = json!(t.def.group);
            }
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details});
            return Ok(value_response(StatusCode::OK, &status));
        }
        Ok(value_response(status, &v))
    }

    /// Deletes (or starts the graceful deletion of) one object.
    pub async fn delete_object(
        &self,
        t: &Target,
        p: &Params,
        opts: &DeleteOptions,
    ) -> ApiResult<(StatusCode, Value, bool)> {
        let def = t.def;
        let key = t.key();
        let mut fresh = false;
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let kv = match self.objects.get(&key, Revision::ZERO).await? {
                Some(kv) => kv,
                None => {
                    self.objects.prepare(ReadMode::Consistent).await?;
                    match self.objects.get(&key, Revision::ZERO).await? {
                        Some(kv) => kv,
                        None => return Err(ApiError::not_found(def.group, def.plural, t.name())),
                    }
                }
            };
            let current = objects::decode(&kv)?;
            let preconditions = check_precondition(t, &current, "uid", opts.uid.as_deref())
                .and_then(|()| {
                    check_precondition(
                        t,
                        &current,
                        "resourceVersion",
                        opts.resource_version.as_deref(),
                    )
                });
            match preconditions {
                // This member may lag: re-check against the latest state.
                Err(_) if !fresh => {
                    self.objects.prepare(ReadMode::Consistent).await?;
                    fresh = true;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            let mut new = current.clone();
            let mut fins = finalizers(&new);
            let policy_fin = match opts.propagation_policy.as_deref() {
                Some("Orphan") => Some("orphan"),
                Some("Foreground") => Some("foregroundDeletion"),
                _ => None,
            };
            if let Some(f) = policy_fin
                && !fins.iter().any(|x| x == f)
            {
                fins.push(f.to_string());
                meta_mut(&mut new).insert("finalizers".into(), json!(fins));
            }
            let already = meta(&current).get("deletionTimestamp").is_some();
            // Graceful deletion of pods bound to a node.
            let grace = if def.kind == "Pod" {
                let bound = current
                    .pointer("/spec/nodeName")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty());
                let finished = matches!(
                    current.pointer("/status/phase").and_then(Value::as_str),
                    Some("Succeeded") | Some("Failed")
                );
                let requested = opts.grace_period_seconds.unwrap_or_else(|| {
                    current
                        .pointer("/spec/terminationGracePeriodSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(DEFAULT_POD_GRACE_SECS)
                });
                if !bound || finished {
                    0
                } else {
                    requested.max(0)
                }
            } else {
                0
            };
            let grace = match meta(&current)
                .get("deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
            {
                // The grace period of a deletion in progress may only shrink.
                Some(g) if already => grace.min(g),
                _ => grace,
            };
            let delete_now =
                fins.is_empty() && grace == 0 && !namespace_finalizers_pending(&current);
            let txn = if delete_now {
                let mut txn = Txn {
                    compares: vec![Compare::ModRevisionEquals(
                        Bytes::from(key.clone()),
                        kv.mod_revision,
                    )],
                    success: vec![Op::Delete {
                        key: Bytes::from(key.clone()),
                    }],
                    failure: vec![],
                };
                crate::actions::release_allocations(def, &current, &mut txn);
                txn
            } else {
                let m = meta_mut(&mut new);
                if !already
                    || grace
                        < m.get("deletionGracePeriodSeconds")
                            .and_then(Value::as_i64)
                            .unwrap_or(0)
                {
                    let at = jiff::Timestamp::now()
                        .checked_add(jiff::SignedDuration::from_secs(grace))
                        .unwrap_or_else(|_| jiff::Timestamp::now());
                    m.insert(
                        "deletionTimestamp".into(),
                        json!(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
                    );
                    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                }
                if def.kind == "Namespace" {
                    new["status"]["phase"] = json!("Terminating");
                }
                if comparable(&new) == comparable(&current) {
                    return Ok((StatusCode::ACCEPTED, current, false));
                }
                Txn {
                    compares: vec![Compare::ModRevisionEquals(
                        Bytes::from(key.clone()),
                        kv.mod_revision,
                    )],
                    success: vec![Op::Put {
                        key: Bytes::from(key.clone()),
                        value: Bytes::from(objects::encode(&new)?),
                    }],
                    failure: vec![],
                }
            };
            if p.dry_run || opts.dry_run {
                return Ok(if delete_now {
                    (StatusCode::OK, current, true)
                } else {
                    (StatusCode::OK, new, false)
                });
            }
            let r = self.objects.txn(txn).await?;
            if !r.succeeded {
                self.objects.prepare(ReadMode::Consistent).await?;
                fresh = true;
                continue;
            }
            if delete_now {
                return Ok((StatusCode::OK, current, true));
            }
            meta_mut(&mut new).insert("resourceVersion".into(), json!(r.revision.0.to_string()));
            if def.kind == "Namespace" {
                crate::actions::spawn_namespace_cleanup(self.clone(), t.name().to_string());
            }
            return Ok((StatusCode::OK, new, false));
        }
        Err(ApiError::modified(def.group, def.plural, t.name()))
    }

    async fn delete_collection(
        &self,
        t: &Target,
        p: &Params,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult<Response> {
        let opts = delete_options(p, body)?;
        let sel = Selection::parse(p, t.def)?;
        self.objects.prepare(ReadMode::Consistent).await?;
        let r = self
            .objects
            .list(
                &t.def.list_prefix(t.namespace.as_deref()),
                None,
                0,
                Revision::ZERO,
            )
            .await?;
        let mut deleted = Vec::new();
        for kv in &r.kvs {
            if !sel.matches_stored(&kv.value) {
                continue;
            }
            let obj = objects::decode(kv)?;
            let mut one = t.clone();
            one.name = meta_str(&obj, "name").map(String::from);
            match self.delete_object(&one, p, &opts).await {
                Ok((_, v, _)) => deleted.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let list = json!({
            "kind": t.def.list_kind(),
            "apiVersion": t.def.api_version(),
            "metadata": {"resourceVersion": self.objects.revision().0.to_string()},
            "items": deleted,
        });
        Ok(value_response(StatusCode::OK, &list))
    }

    async fn get_scale(&self, t: &Target, p: &Params) -> ApiResult<Response> {
        let kv = self
            .read(t, get_mode(p)?)
            .await?
            .ok_or_else(|| ApiError::not_found(t.def.group, t.def.plural, t.name()))?;
        let obj = objects::decode(&kv)?;
        Ok(value_response(StatusCode::OK, &scale_of(&obj)))
    }

    async fn write_scale(
        &self,
        t: &Target,
        p: &Params,
        headers: &HeaderMap,
        is_patch: bool,
        body: &[u8],
    ) -> ApiResult<Response> {
        let def = t.def;
        let ct = content_type(headers);
        let input: Value = if is_patch {
            let kind = crate::patching::PatchKind::from_content_type(&ct)?;
            crate::patching::parse_patch(kind, body)?
        } else {
            decode_body(&ct, body)?
        };
        let kind = if is_patch {
            Some(crate::patching::PatchKind::from_content_type(&ct)?)
        } else {
            None
        };
        let mut main = t.clone();
        main.sub = None;
        let (_, obj) = self
            .guaranteed_update(&main, p, false, |current| {
                let cur =
                    current.ok_or_else(|| ApiError::not_found(def.group, def.plural, t.name()))?;
                let scale = scale_of(cur);
                let new_scale = match kind {
                    Some(k) => crate::patching::apply_scale(k, &scale, &input)?,
                    None => input.clone(),
                };
                if let Some(rv) = meta_str(&new_scale, "resourceVersion")
                    && !rv.is_empty()
                    && Some(rv) != meta_str(cur, "resourceVersion")
                {
                    return Err(ApiError::modified(def.group, def.plural, t.name()));
                }
                let replicas = new_scale
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if replicas < 0 {
                    return Err(ApiError::invalid(
                        "autoscaling",
                        "Scale",
                        t.name(),
                        &[hooks::Cause {
                            reason: "FieldValueInvalid",
                            field: "spec.replicas".into(),
                            message: format!(
                                "Invalid value: {replicas}: must be greater than or equal to 0"
                            ),
                        }],
                    ));
                }
                let mut n = cur.clone();
                n["spec"]["replicas"] = json!(replicas);
                Ok(Some(n))
            })
            .await?;
        Ok(value_response(StatusCode::OK, &scale_of(&obj)))
    }
}

/// A uid or resourceVersion precondition (409 as kube-apiserver words it);
/// an absent one holds.
fn check_precondition(
    t: &Target,
    current: &Value,
    field: &str,
    want: Option<&str>,
) -> ApiResult<()> {
    let Some(want) = want else {
        return Ok(());
    };
    let have = meta_str(current, field).unwrap_or("");
    if want == have {
        return Ok(());
    }
    let label = if field == "uid" {
        "UID"
    } else {
        "ResourceVersion"
    };
    Err(ApiError::conflict(
        t.def.group,
        t.def.plural,
        t.name(),
        &format!(
            "Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}"
        ),
    ))
}

/// Field-ownership metadata from the generated patch table.
fn ownership_meta(definition: &str, field: &str) -> Option<crate::managed_fields::ListMeta> {
    let f = crate::patch::field_info(definition, field)?;
    let merge_key = f.merge_key.or(f.list_map_keys.first().copied());
    Some(crate::managed_fields::ListMeta {
        merge_key,
        set: f.is_list
            && merge_key.is_none()
            && (f.strategy.is_some_and(|s| s.contains("merge")) || f.list_type == Some("set")),
        child_definition: f.target,
    })
}

fn definition_of(def: &ResourceDef) -> &'static str {
    crate::patch::definition_for(def.group, def.version, def.kind).unwrap_or("")
}

/// The field manager of a request: fieldManager, else the User-Agent's
/// product token (kube-apiserver's default).
fn manager_of(p: &Params) -> String {
    match p.field_manager.as_deref() {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => {
            let ua = p.user_agent.split('/').next().unwrap_or("").trim();
            let ua: String = ua.chars().take(128).collect();
            if ua.is_empty() { "unknown".into() } else { ua }
        }
    }
}

/// Records a non-apply write's field ownership in `new`.
fn record_ownership(def: &ResourceDef, old: Option<&Value>, new: &mut Value, p: &Params) {
    crate::managed_fields::record_update(
        old,
        new,
        &manager_of(p),
        &def.api_version(),
        &now_rfc3339(),
        &ownership_meta,
        definition_of(def),
    );
}

/// Server-side apply ownership; conflicts answer 409 as kube-apiserver.
fn apply_ownership(
    def: &ResourceDef,
    current: Option<&Value>,
    applied: &Value,
    merged: &mut Value,
    p: &Params,
) -> ApiResult<()> {
    crate::managed_fields::apply(
        current,
        applied,
        merged,
        &manager_of(p),
        p.force,
        &def.api_version(),
        &now_rfc3339(),
        &ownership_meta,
        definition_of(def),
    )
    .map_err(|conflicts| {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|c| json!({"reason": "FieldManagerConflict", "message": c.cause_message(), "field": c.field}))
            .collect();
        ApiError {
            details: Some(json!({"causes": causes})),
            ..ApiError::new(409, "Conflict", crate::managed_fields::conflict_message(&conflicts))
        }
    })
}

/// Strict: 400 naming the unknown fields; Warn: their warnings.
fn field_verdict(unknown: &[String], p: &Params) -> ApiResult<Vec<String>> {
    let list: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if !list.is_empty() && p.field_validation == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            list.join(", ")
        )));
    }
    Ok(list)
}

/// A namespace keeps existing (Terminating) while spec.finalizers lists
/// "kubernetes": its content is deleted first.
fn namespace_finalizers_pending(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Namespace")
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

enum UpdatePlan {
    NoChange,
    Write(Value),
    Delete(Value),
}

/// A DELETE body as JSON bytes (client-go sends DeleteOptions as protobuf
/// when it speaks protobuf).
fn delete_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Vec<u8>> {
    if body.is_empty() || content_type(headers) != crate::protobuf::CONTENT_TYPE {
        return Ok(body.to_vec());
    }
    let v = decode_body(crate::protobuf::CONTENT_TYPE, body)?;
    serde_json::to_vec(&v).map_err(|e| ApiError::internal(e.to_string()))
}

/// DeleteOptions from the body and query.
#[derive(Default, Debug, Clone)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

fn delete_options(p: &Params, body: &[u8]) -> ApiResult<DeleteOptions> {
    let mut o = DeleteOptions {
        dry_run: p.dry_run,
        grace_period_seconds: p.grace_period_seconds,
        propagation_policy: p.propagation_policy.clone(),
        ..Default::default()
    };
    if p.orphan_dependents == Some(true) {
        o.propagation_policy = Some("Orphan".into());
    }
    if !body.is_empty() {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?;
        if let Some(g) = v.get("gracePeriodSeconds").and_then(Value::as_i64) {
            o.grace_period_seconds = Some(g);
        }
        if let Some(pp) = v.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation_policy = Some(pp.to_string());
        }
        if v.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
            o.propagation_policy = Some("Orphan".into());
        }
        if let Some(dr) = v.get("dryRun").and_then(Value::as_array) {
            if dr.iter().any(|x| x != "All") {
                return Err(ApiError::bad_request(format!(
                    "Invalid dryRun value: {dr:?}; supported values: \"All\""
                )));
            }
            o.dry_run = !dr.is_empty();
        }
        o.uid = v
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from);
        o.resource_version = v
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from);
    }
    if let Some(pp) = &o.propagation_policy
        && !matches!(pp.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            &[hooks::Cause {
                reason: "FieldValueNotSupported",
                field: "propagationPolicy".into(),
                message: format!(
                    "Unsupported value: \"{pp}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            }],
        ));
    }
    Ok(o)
}

/// autoscaling/v1 Scale of a scalable object.
fn scale_of(obj: &Value) -> Value {
    let m = meta(obj);
    let selector = obj
        .pointer("/spec/selector")
        .map(|s| {
            if s.get("matchLabels").is_some() || s.get("matchExpressions").is_some() {
                LabelSelector::from_object(s)
                    .map(|l| l.render())
                    .unwrap_or_default()
            } else if let Some(map) = s.as_object() {
                // ReplicationController: a plain map selector.
                let mut parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect();
                parts.sort();
                parts.join(",")
            } else {
                String::new()
            }
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.get("name"),
            "namespace": m.get("namespace"),
            "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"),
            "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

/// A pod's QoS class (pkg/apis/core/helper/qos).
fn pod_qos(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/spec/{f}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        if req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = lim.and_then(|l| l.get(res));
            let r = req.and_then(|r| r.get(res)).or(l);
            if l.is_none() || r != l {
                guaranteed = false;
            }
        }
    }
    if guaranteed {
        "Guaranteed"
    } else if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let v = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(h) = HeaderValue::from_str(&v) {
            r.headers_mut().append("warning", h);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_reads_leading_metadata_of_both_layouts() {
        let obj = json!({
            "metadata": {"annotations": {"a": "b"}, "labels": {"app": "web"}, "name": "p", "namespace": "ns",
                          "managedFields": [{"manager": "x"}], "uid": "u"},
            "spec": {"x": 1},
        });
        let stored = objects::encode(&obj).unwrap();
        assert!(
            stored.starts_with(b"{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":")
        );
        let m = stored_meta(&stored).unwrap();
        assert_eq!(m.name.as_deref(), Some("p"));
        assert_eq!(m.namespace.as_deref(), Some("ns"));
        assert_eq!(m.labels.unwrap()["app"], "web");
        // The sorted layout of earlier versions is read whole.
        let old = br#"{"metadata":{"annotations":{},"labels":{"app":"db"},"name":"q","namespace":"ns"},"spec":{}}"#;
        let m = stored_meta(old).unwrap();
        assert_eq!(m.labels.unwrap()["app"], "db");
        assert_eq!(m.name.as_deref(), Some("q"));
        // No labels: none found, reading still stops early.
        let stored = objects::encode(&json!({"metadata": {"name": "n", "uid": "u"}})).unwrap();
        let m = stored_meta(&stored).unwrap();
        assert!(m.labels.is_none());
        let sel = LabelSelector::parse("app").unwrap();
        assert!(!sel.matches(m.labels.as_ref()));
    }
}
