//! The resource registry: every built-in type described once.
//!
//! Discovery, OpenAPI, routing, storage keys, field selectors, status and
//! scale subresources, create/update strategies all read this table; nothing
//! else in the crate hard-codes a resource's group, plural or scope.

/// How a kind's status is treated when the main resource is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusOnCreate {
    /// Kinds without a status subresource: whatever the client sent is kept.
    Keep,
    /// Reset to `{}` (kube-apiserver's PrepareForCreate for most kinds).
    Clear,
    /// Reset to `{"phase": <value>}` (pods: Pending, namespaces: Active).
    Phase(&'static str),
}

/// A subresource other than status/scale that accepts POST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// pods/binding (core/v1 Binding)
    Binding,
    /// pods/eviction (policy/v1 Eviction)
    Eviction,
    /// serviceaccounts/token (authentication.k8s.io/v1 TokenRequest)
    Token,
}

#[derive(Debug)]
pub struct ResourceDef {
    /// API group; "" is the legacy core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub namespaced: bool,
    /// Has a /status subresource: main-resource writes keep the stored
    /// status, status writes keep everything but status (and metadata
    /// labels/annotations as kube-apiserver allows).
    pub status: bool,
    pub status_on_create: StatusOnCreate,
    /// Has a /scale subresource (autoscaling/v1 Scale over spec.replicas).
    pub scale: bool,
    pub actions: &'static [Action],
    /// metadata.generation is set to 1 on create and bumped when anything
    /// outside metadata and status changes.
    pub generation: bool,
    /// Field selectors beyond metadata.name and metadata.namespace.
    pub fields: &'static [&'static str],
    /// A review (SubjectAccessReview, SelfSubjectReview...): POST only,
    /// answered from the request, never stored.
    pub create_only: bool,
}

impl ResourceDef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The storage prefix of every object of this resource, with trailing
    /// slash: `/registry/pods/` (core) or `/registry/apps/deployments/`.
    pub fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/registry/{}/", self.plural)
        } else {
            format!("/registry/{}/{}/", self.group, self.plural)
        }
    }

    /// Prefix of one namespace's objects (namespaced kinds), or of all.
    pub fn list_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}{}/", self.prefix(), ns),
            _ => self.prefix(),
        }
    }

    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}{}/{}", self.prefix(), ns, name),
            _ => format!("{}{}", self.prefix(), name),
        }
    }

    /// The fields a field selector may name for this resource.
    pub fn supports_field(&self, field: &str) -> bool {
        field == "metadata.name"
            || (field == "metadata.namespace" && self.namespaced)
            || self.fields.contains(&field)
    }
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];

const fn def(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        kind,
        plural,
        singular,
        short_names: NONE,
        categories: NONE,
        namespaced,
        status: false,
        status_on_create: StatusOnCreate::Keep,
        scale: false,
        actions: &[],
        generation: false,
        fields: NONE,
        create_only: false,
    }
}

const fn review(mut d: ResourceDef) -> ResourceDef {
    d.create_only = true;
    d
}

const fn short(mut d: ResourceDef, short_names: &'static [&'static str]) -> ResourceDef {
    d.short_names = short_names;
    d
}

const fn in_all(mut d: ResourceDef) -> ResourceDef {
    d.categories = ALL;
    d
}

const fn with_status(mut d: ResourceDef, on_create: StatusOnCreate) -> ResourceDef {
    d.status = true;
    d.status_on_create = on_create;
    d
}

const fn workload(mut d: ResourceDef) -> ResourceDef {
    d.generation = true;
    d
}

const fn scalable(mut d: ResourceDef) -> ResourceDef {
    d.scale = true;
    d
}

const fn fields(mut d: ResourceDef, fields: &'static [&'static str]) -> ResourceDef {
    d.fields = fields;
    d
}

const fn actions(mut d: ResourceDef, actions: &'static [Action]) -> ResourceDef {
    d.actions = actions;
    d
}

use StatusOnCreate::Clear;
use StatusOnCreate::Keep;
use StatusOnCreate::Phase;

/// Every served resource. Order is discovery order within a group version.
pub static RESOURCES: &[ResourceDef] = &[
    // core/v1
    with_status(
        short(
            def("", "v1", "Namespace", "namespaces", "namespace", false),
            &["ns"],
        ),
        Phase("Active"),
    ),
    actions(
        fields(
            workload(in_all(with_status(
                short(def("", "v1", "Pod", "pods", "pod", true), &["po"]),
                Phase("Pending"),
            ))),
            &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
        ),
        &[Action::Binding, Action::Eviction],
    ),
    fields(
        with_status(
            short(def("", "v1", "Node", "nodes", "node", false), &["no"]),
            Keep,
        ),
        &["spec.unschedulable"],
    ),
    in_all(with_status(
        short(
            def("", "v1", "Service", "services", "service", true),
            &["svc"],
        ),
        Keep,
    )),
    short(
        def("", "v1", "Endpoints", "endpoints", "endpoints", true),
        &["ep"],
    ),
    short(
        def("", "v1", "ConfigMap", "configmaps", "configmap", true),
        &["cm"],
    ),
    fields(
        def("", "v1", "Secret", "secrets", "secret", true),
        &["type"],
    ),
    actions(
        short(
            def(
                "",
                "v1",
                "ServiceAccount",
                "serviceaccounts",
                "serviceaccount",
                true,
            ),
            &["sa"],
        ),
        &[Action::Token],
    ),
    fields(
        short(def("", "v1", "Event", "events", "event", true), &["ev"]),
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
    ),
    short(
        def("", "v1", "LimitRange", "limitranges", "limitrange", true),
        &["limits"],
    ),
    with_status(
        short(
            def(
                "",
                "v1",
                "ResourceQuota",
                "resourcequotas",
                "resourcequota",
                true,
            ),
            &["quota"],
        ),
        Clear,
    ),
    with_status(
        short(
            def(
                "",
                "v1",
                "PersistentVolume",
                "persistentvolumes",
                "persistentvolume",
                false,
            ),
            &["pv"],
        ),
        Phase("Pending"),
    ),
    with_status(
        short(
            def(
                "",
                "v1",
                "PersistentVolumeClaim",
                "persistentvolumeclaims",
                "persistentvolumeclaim",
                true,
            ),
            &["pvc"],
        ),
        Phase("Pending"),
    ),
    scalable(workload(in_all(with_status(
        short(
            def(
                "",
                "v1",
                "ReplicationController",
                "replicationcontrollers",
                "replicationcontroller",
                true,
            ),
            &["rc"],
        ),
        Clear,
    )))),
    // apps/v1
    scalable(workload(in_all(with_status(
        short(
            def(
                "apps",
                "v1",
                "Deployment",
                "deployments",
                "deployment",
                true,
            ),
            &["deploy"],
        ),
        Clear,
    )))),
    scalable(workload(in_all(with_status(
        short(
            def(
                "apps",
                "v1",
                "ReplicaSet",
                "replicasets",
                "replicaset",
                true,
            ),
            &["rs"],
        ),
        Clear,
    )))),
    workload(in_all(with_status(
        short(
            def("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true),
            &["ds"],
        ),
        Clear,
    ))),
    scalable(workload(in_all(with_status(
        short(
            def(
                "apps",
                "v1",
                "StatefulSet",
                "statefulsets",
                "statefulset",
                true,
            ),
            &["sts"],
        ),
        Clear,
    )))),
    def(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        true,
    ),
    // batch/v1
    fields(
        workload(in_all(with_status(
            def("batch", "v1", "Job", "jobs", "job", true),
            Clear,
        ))),
        &["status.successful"],
    ),
    workload(in_all(with_status(
        short(
            def("batch", "v1", "CronJob", "cronjobs", "cronjob", true),
            &["cj"],
        ),
        Clear,
    ))),
    // coordination.k8s.io/v1
    def(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        true,
    ),
    // discovery.k8s.io/v1
    fields(
        def(
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            "endpointslice",
            true,
        ),
        &["addressType"],
    ),
    // events.k8s.io/v1
    fields(
        short(
            def("events.k8s.io", "v1", "Event", "events", "event", true),
            &["ev"],
        ),
        &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "reason",
            "reportingController",
            "type",
        ],
    ),
    // certificates.k8s.io/v1
    fields(
        with_status(
            short(
                def(
                    "certificates.k8s.io",
                    "v1",
                    "CertificateSigningRequest",
                    "certificatesigningrequests",
                    "certificatesigningrequest",
                    false,
                ),
                &["csr"],
            ),
            Clear,
        ),
        &["spec.signerName"],
    ),
    // rbac.authorization.k8s.io/v1
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
    ),
    // policy/v1
    workload(with_status(
        short(
            def(
                "policy",
                "v1",
                "PodDisruptionBudget",
                "poddisruptionbudgets",
                "poddisruptionbudget",
                true,
            ),
            &["pdb"],
        ),
        Clear,
    )),
    // scheduling.k8s.io/v1
    short(
        def(
            "scheduling.k8s.io",
            "v1",
            "PriorityClass",
            "priorityclasses",
            "priorityclass",
            false,
        ),
        &["pc"],
    ),
    // networking.k8s.io/v1
    workload(with_status(
        short(
            def(
                "networking.k8s.io",
                "v1",
                "Ingress",
                "ingresses",
                "ingress",
                true,
            ),
            &["ing"],
        ),
        Clear,
    )),
    workload(short(
        def(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            "networkpolicy",
            true,
        ),
        &["netpol"],
    )),
    // authorization.k8s.io/v1 and authentication.k8s.io/v1 reviews
    review(def(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "",
        false,
    )),
    review(def(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "",
        false,
    )),
    review(def(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "",
        false,
    )),
    review(def(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "",
        false,
    )),
    // storage.k8s.io/v1
    short(
        def(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            "storageclass",
            false,
        ),
        &["sc"],
    ),
];

/// The resource served at /api/v1/<plural> (group "") or /apis/<g>/<v>/<plural>.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|d| d.group == group && d.version == version && d.plural == plural)
}

/// The resource of a kind in a group (any served version).
pub fn by_kind(group: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|d| d.group == group && d.kind == kind)
}

/// Served group versions in discovery order: ("", "v1") first, then groups
/// in the order they first appear in RESOURCES.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for d in RESOURCES {
        if !out.contains(&(d.group, d.version)) {
            out.push((d.group, d.version));
        }
    }
    out
}

/// Resources of one group version.
pub fn resources_of(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceDef> {
    let (g, v) = (group.to_string(), version.to_string());
    RESOURCES
        .iter()
        .filter(move |d| d.group == g && d.version == v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_are_unique_per_group_version() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{} twice",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn storage_keys_follow_kube_apiserver_layout() {
        let pods = lookup("", "v1", "pods").unwrap();
        assert_eq!(
            pods.key(Some("default"), "web"),
            "/registry/pods/default/web"
        );
        let deploy = lookup("apps", "v1", "deployments").unwrap();
        assert_eq!(
            deploy.list_prefix(Some("ns1")),
            "/registry/apps/deployments/ns1/"
        );
        let nodes = lookup("", "v1", "nodes").unwrap();
        assert_eq!(nodes.key(Some("ignored"), "n1"), "/registry/nodes/n1");
        assert!(nodes.supports_field("spec.unschedulable"));
        assert!(!nodes.supports_field("metadata.namespace"));
    }
}
