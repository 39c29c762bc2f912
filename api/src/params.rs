//! Query parameters of the REST verbs, parsed once; malformed values are
//! 400 BadRequest.

use crate::error::ApiError;
use crate::error::ApiResult;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// kube-apiserver's default when the client names none.
    #[default]
    Warn,
    Strict,
}

#[derive(Clone, Debug, Default)]
pub struct Params {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
    pub force: bool,
    pub limit: Option<u64>,
    pub continue_token: Option<String>,
    pub label_selector: String,
    pub field_selector: String,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub allow_watch_bookmarks: bool,
    pub timeout_seconds: Option<u64>,
    pub send_initial_events: Option<bool>,
    pub watch: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub orphan_dependents: Option<bool>,
    pub include_object: Option<String>,
    /// The request's User-Agent (the default field manager).
    pub user_agent: String,
}

fn parse_bool(name: &str, v: &str) -> ApiResult<bool> {
    match v {
        "true" | "1" | "True" | "TRUE" | "t" => Ok(true),
        "false" | "0" | "False" | "FALSE" | "f" | "" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "invalid value for {name}: {v:?} is not a boolean"
        ))),
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, v: &str) -> ApiResult<T> {
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid value for {name}: {v:?}")))
}

impl Params {
    pub fn parse(query: Option<&str>) -> ApiResult<Params> {
        let mut p = Params::default();
        let Some(q) = query else {
            return Ok(p);
        };
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            let v = v.as_ref();
            match k.as_ref() {
                "dryRun" => {
                    if v != "All" {
                        return Err(ApiError::bad_request(format!(
                            "Invalid dryRun value: {v:?}; supported values: \"All\""
                        )));
                    }
                    p.dry_run = true;
                }
                "fieldManager" => p.field_manager = Some(v.to_string()),
                "fieldValidation" => {
                    p.field_validation = match v {
                        "Ignore" => FieldValidation::Ignore,
                        "Warn" | "" => FieldValidation::Warn,
                        "Strict" => FieldValidation::Strict,
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "fieldValidation parameter unsupported: {v:?}; supported values: Ignore, Warn, Strict"
                            )));
                        }
                    }
                }
                "force" => p.force = parse_bool("force", v)?,
                "limit" => p.limit = Some(parse_num("limit", v)?),
                "continue" if !v.is_empty() => p.continue_token = Some(v.to_string()),
                "labelSelector" => p.label_selector = v.to_string(),
                "fieldSelector" => p.field_selector = v.to_string(),
                "resourceVersion" if !v.is_empty() => p.resource_version = Some(v.to_string()),
                "resourceVersionMatch" if !v.is_empty() => {
                    if v != "Exact" && v != "NotOlderThan" {
                        return Err(ApiError::bad_request(format!(
                            "resourceVersionMatch: Unsupported value: {v:?}: supported values: \"Exact\", \"NotOlderThan\""
                        )));
                    }
                    p.resource_version_match = Some(v.to_string())
                }
                "allowWatchBookmarks" => p.allow_watch_bookmarks = parse_bool(&k, v)?,
                "timeoutSeconds" => p.timeout_seconds = Some(parse_num("timeoutSeconds", v)?),
                "sendInitialEvents" => p.send_initial_events = Some(parse_bool(&k, v)?),
                "watch" => p.watch = parse_bool("watch", v)?,
                "gracePeriodSeconds" => {
                    p.grace_period_seconds = Some(parse_num("gracePeriodSeconds", v)?)
                }
                "propagationPolicy" => p.propagation_policy = Some(v.to_string()),
                "orphanDependents" => p.orphan_dependents = Some(parse_bool(&k, v)?),
                "includeObject" => p.include_object = Some(v.to_string()),
                // timeout, pretty and unknown parameters are accepted and ignored,
                // as kube-apiserver does.
                _ => {}
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let p = Params::parse(Some(
            "limit=2&continue=abc&labelSelector=app%3Dweb&watch=1&fieldValidation=Strict&dryRun=All&pretty=true",
        ))
        .unwrap();
        assert_eq!(p.limit, Some(2));
        assert_eq!(p.label_selector, "app=web");
        assert!(p.watch && p.dry_run);
        assert_eq!(p.field_validation, FieldValidation::Strict);
        assert_eq!(Params::parse(Some("limit=x")).unwrap_err().code, 400);
        assert_eq!(Params::parse(Some("dryRun=Some")).unwrap_err().code, 400);
    }
}
