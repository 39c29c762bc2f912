//! Server-side `meta.k8s.io/v1` Table output (what `kubectl get` renders).
//!
//! Mirrors kube-apiserver behaviour:
//! - per-kind printers follow `pkg/printers/internalversion/printers.go`; the
//!   server always generates the "wide" variant, so every column definition
//!   (priority 0 and 1) is present and every row carries a cell for each;
//! - kinds without a printer get the generic `Name` / `Created At` table of
//!   `k8s.io/apiserver/pkg/registry/rest/table.go`;
//! - `includeObject` (None | Metadata | Object) decides what `rows[].object`
//!   holds, as in the apiserver's `asTable` response transform.
//!
//! Objects are plain JSON as stored (external versions). Where kube's printers
//! see defaulted internal objects, the relevant API defaults are applied while
//! reading, so partially-populated objects print as kube would print them.
//! Nothing in here panics on missing or oddly-typed fields.

use serde_json::{Map, Value, json};

/// The `includeObject` table option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// Builds a meta.k8s.io/v1 Table for `objects` (each a full object as JSON,
/// kind/apiVersion set) of resource kind `kind` in API group `group` ("" for
/// core). `list_metadata` is copied into the Table's metadata (resourceVersion,
/// continue, remainingItemCount). `now_secs`: unix time for AGE.
pub fn to_table(
    group: &str,
    kind: &str,
    objects: &[Value],
    list_metadata: Value,
    include: IncludeObject,
    now_secs: i64,
) -> Value {
    let (columns, rows) = match printer_for(group, kind) {
        Some((cols, printer)) => {
            let rows: Vec<Value> = objects
                .iter()
                .map(|obj| {
                    let (cells, conditions) = match printer {
                        Printer::Plain(f) => (f(obj, now_secs), None),
                        Printer::WithConditions(f) => f(obj, now_secs),
                    };
                    make_row(cells, conditions, obj, include)
                })
                .collect();
            (column_definitions(cols), Value::Array(rows))
        }
        None => {
            // rest.defaultTableConvertor appends to a nil slice: an empty
            // result serializes as `null`.
            let rows = if objects.is_empty() {
                Value::Null
            } else {
                Value::Array(
                    objects
                        .iter()
                        .map(|obj| {
                            let created = parse_time(get(obj, &["metadata", "creationTimestamp"]))
                                .unwrap_or(ZERO_TIME);
                            let cells = vec![
                                Value::from(meta_name(obj)),
                                Value::from(format_rfc3339(created)),
                            ];
                            make_row(cells, None, obj, include)
                        })
                        .collect(),
                )
            };
            (column_definitions(DEFAULT_COLUMNS), rows)
        }
    };

    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": table_list_meta(&list_metadata),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn table_list_meta(list_metadata: &Value) -> Value {
    let mut out = Map::new();
    for key in ["resourceVersion", "continue"] {
        if let Some(s) = list_metadata.get(key).and_then(Value::as_str)
            && !s.is_empty()
        {
            out.insert(key.to_string(), Value::from(s));
        }
    }
    if let Some(n) = list_metadata.get("remainingItemCount")
        && n.is_number()
    {
        out.insert("remainingItemCount".to_string(), n.clone());
    }
    Value::Object(out)
}

fn make_row(
    cells: Vec<Value>,
    conditions: Option<Value>,
    obj: &Value,
    include: IncludeObject,
) -> Value {
    let object = match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => {
            let metadata = match obj.get("metadata") {
                Some(m @ Value::Object(_)) => m.clone(),
                _ => Value::Object(Map::new()),
            };
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            })
        }
    };
    let mut row = Map::new();
    row.insert("cells".to_string(), Value::Array(cells));
    if let Some(c) = conditions {
        row.insert("conditions".to_string(), c);
    }
    row.insert("object".to_string(), object);
    Value::Object(row)
}

// ---------------------------------------------------------------------------
// Column definitions
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    desc: &'static str,
    priority: u8,
}

const fn col(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 0,
    }
}

const fn wide(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 1,
    }
}

const D_NAME: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const D_CREATED: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const D_CONTAINERS: &str = "Names of each container in the template.";
const D_IMAGES: &str = "Images referenced by each container in the template.";
const D_SELECTOR: &str = "A label query over pods that should match the replica count.";

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    desc: D_NAME,
    priority: 0,
};
const AGE: Col = col("Age", "string", D_CREATED);

fn column_definitions(cols: &[Col]) -> Value {
    Value::Array(
        cols.iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "type": c.ty,
                    "format": c.format,
                    "description": c.desc,
                    "priority": c.priority,
                })
            })
            .collect(),
    )
}

const DEFAULT_COLUMNS: &[Col] = &[NAME, col("Created At", "date", D_CREATED)];

const POD_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

const NODE_COLUMNS: &[Col] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

const NAMESPACE_COLUMNS: &[Col] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

const SERVICE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed.",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

const ENDPOINTS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];

const ENDPOINT_SLICE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];

const CONFIGMAP_COLUMNS: &[Col] = &[
    NAME,
    col("Data", "string", "Data contains the configuration data."),
    AGE,
];

const SECRET_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", "Data contains the secret data."),
    AGE,
];

const SERVICE_ACCOUNT_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];

const EVENT_COLUMNS: &[Col] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Col {
        name: "Name",
        ty: "string",
        format: "name",
        desc: D_NAME,
        priority: 1,
    },
];

const RESOURCE_QUOTA_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

const PV_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];

const PVC_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

const RC_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replication controller.",
    ),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the Replicas count.",
    ),
];

const RS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide("Selector", "string", D_SELECTOR),
];

const DAEMONSET_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    col(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    col(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set.",
    ),
];

const STATEFULSET_COLUMNS: &[Col] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
];

const DEPLOYMENT_COLUMNS: &[Col] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide(
        "Selector",
        "string",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
];

const CONTROLLER_REVISION_COLUMNS: &[Col] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

const JOB_COLUMNS: &[Col] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

const CRONJOB_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Schedule",
        "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    col(
        "Timezone",
        "string",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    col(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
    ),
    col(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    col(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

const LEASE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

const CSR_COLUMNS: &[Col] = &[
    NAME,
    AGE,
    col("SignerName", "string", "Requested signer for the request."),
    col("Requestor", "string", "Base64-encoded PKCS#10 CSR data"),
    col(
        "RequestedDuration",
        "string",
        "expirationSeconds is the requested duration of validity of the issued certificate.",
    ),
    col(
        "Condition",
        "string",
        "Conditions applied to the request, such as approval or denial.",
    ),
];

const ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Role",
        "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

const CLUSTER_ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Role",
        "string",
        "RoleRef can only reference a ClusterRole in the global namespace.",
    ),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

const PDB_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

const PRIORITY_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Value",
        "integer",
        "value represents the integer value of this priority class.",
    ),
    col(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];

const INGRESS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

const INGRESS_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

const NETWORK_POLICY_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];

const STORAGE_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        "provisioner indicates the type of the provisioner.",
    ),
    col(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    col(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

const POD_TEMPLATE_COLUMNS: &[Col] = &[
    NAME,
    col("Containers", "string", D_CONTAINERS),
    col("Images", "string", D_IMAGES),
    col("Pod Labels", "string", "The labels for the pod template."),
];

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

type CellsFn = fn(&Value, i64) -> Vec<Value>;
type CellsCondFn = fn(&Value, i64) -> (Vec<Value>, Option<Value>);

#[derive(Clone, Copy)]
enum Printer {
    Plain(CellsFn),
    WithConditions(CellsCondFn),
}

fn printer_for(group: &str, kind: &str) -> Option<(&'static [Col], Printer)> {
    use Printer::{Plain, WithConditions};
    let p = match (group, kind) {
        ("", "Pod") => (POD_COLUMNS, WithConditions(print_pod as CellsCondFn)),
        ("", "PodTemplate") => (POD_TEMPLATE_COLUMNS, Plain(print_pod_template as CellsFn)),
        ("", "Node") => (NODE_COLUMNS, Plain(print_node)),
        ("", "Namespace") => (NAMESPACE_COLUMNS, Plain(print_namespace)),
        ("", "Service") => (SERVICE_COLUMNS, Plain(print_service)),
        ("", "Endpoints") => (ENDPOINTS_COLUMNS, Plain(print_endpoints)),
        ("", "ConfigMap") => (CONFIGMAP_COLUMNS, Plain(print_configmap)),
        ("", "Secret") => (SECRET_COLUMNS, Plain(print_secret)),
        ("", "ServiceAccount") => (SERVICE_ACCOUNT_COLUMNS, Plain(print_service_account)),
        ("", "Event") => (EVENT_COLUMNS, Plain(print_core_event)),
        ("events.k8s.io", "Event") => (EVENT_COLUMNS, Plain(print_events_event)),
        ("", "ResourceQuota") => (RESOURCE_QUOTA_COLUMNS, Plain(print_resource_quota)),
        ("", "PersistentVolume") => (PV_COLUMNS, Plain(print_pv)),
        ("", "PersistentVolumeClaim") => (PVC_COLUMNS, Plain(print_pvc)),
        ("", "ReplicationController") => (RC_COLUMNS, Plain(print_rc)),
        ("discovery.k8s.io", "EndpointSlice") => {
            (ENDPOINT_SLICE_COLUMNS, Plain(print_endpoint_slice))
        }
        ("apps" | "extensions", "Deployment") => (DEPLOYMENT_COLUMNS, Plain(print_deployment)),
        ("apps" | "extensions", "ReplicaSet") => (RS_COLUMNS, Plain(print_replica_set)),
        ("apps" | "extensions", "DaemonSet") => (DAEMONSET_COLUMNS, Plain(print_daemon_set)),
        ("apps", "StatefulSet") => (STATEFULSET_COLUMNS, Plain(print_stateful_set)),
        ("apps", "ControllerRevision") => (
            CONTROLLER_REVISION_COLUMNS,
            Plain(print_controller_revision),
        ),
        ("batch", "Job") => (JOB_COLUMNS, Plain(print_job)),
        ("batch", "CronJob") => (CRONJOB_COLUMNS, Plain(print_cron_job)),
        ("coordination.k8s.io", "Lease") => (LEASE_COLUMNS, Plain(print_lease)),
        ("certificates.k8s.io", "CertificateSigningRequest") => (CSR_COLUMNS, Plain(print_csr)),
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            (ROLE_BINDING_COLUMNS, Plain(print_role_binding))
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            (CLUSTER_ROLE_BINDING_COLUMNS, Plain(print_role_binding))
        }
        ("policy", "PodDisruptionBudget") => (PDB_COLUMNS, Plain(print_pdb)),
        ("scheduling.k8s.io", "PriorityClass") => {
            (PRIORITY_CLASS_COLUMNS, Plain(print_priority_class))
        }
        ("networking.k8s.io" | "extensions", "Ingress") => (INGRESS_COLUMNS, Plain(print_ingress)),
        ("networking.k8s.io", "IngressClass") => {
            (INGRESS_CLASS_COLUMNS, Plain(print_ingress_class))
        }
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => {
            (NETWORK_POLICY_COLUMNS, Plain(print_network_policy))
        }
        ("storage.k8s.io", "StorageClass") => (STORAGE_CLASS_COLUMNS, Plain(print_storage_class)),
        _ => return None,
    };
    Some(p)
}

// ---------------------------------------------------------------------------
// JSON access helpers (never panic)
// ---------------------------------------------------------------------------

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

fn gs<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get(v, path).and_then(Value::as_str).unwrap_or("")
}

fn opt_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| v.as_f64().map(|f| f as i64))
}

fn gi(v: &Value, path: &[&str]) -> i64 {
    opt_int(v, path).unwrap_or(0)
}

fn opt_int(v: &Value, path: &[&str]) -> Option<i64> {
    get(v, path).and_then(as_int)
}

fn ga<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn gm<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(v, path).and_then(Value::as_object)
}

fn map_len(v: &Value, path: &[&str]) -> i64 {
    gm(v, path).map_or(0, |m| m.len() as i64)
}

fn gb(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path).and_then(Value::as_bool)
}

fn present(v: &Value, path: &[&str]) -> bool {
    get(v, path).is_some()
}

fn meta_name(obj: &Value) -> &str {
    gs(obj, &["metadata", "name"])
}

fn is_deleting(obj: &Value) -> bool {
    present(obj, &["metadata", "deletionTimestamp"])
}

/// resource.Quantity as text. Quantities are stored in canonical form, so the
/// stored string is what `Quantity.String()` prints; a missing one is zero.
fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// intstr.IntOrString.String().
fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn age(obj: &Value, now: i64) -> String {
    translate_timestamp_since(get(obj, &["metadata", "creationTimestamp"]), now)
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

/// Unix seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z).
const ZERO_TIME: i64 = -62_135_596_800;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses an RFC 3339 timestamp (metav1.Time / MicroTime) to unix seconds.
/// Returns `None` when absent, unparsable, or Go's zero time.
fn parse_time(v: Option<&Value>) -> Option<i64> {
    let s = v?.as_str()?.trim();
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    if secs == ZERO_TIME { None } else { Some(secs) }
}

fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// k8s.io/apimachinery/pkg/util/duration.HumanDuration for whole seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// printers.go translateTimestampSince / translateMicroTimestampSince.
fn translate_timestamp_since(ts: Option<&Value>, now: i64) -> String {
    match parse_time(ts) {
        Some(t) => human_duration(now - t),
        None => "<unknown>".to_string(),
    }
}

// ---------------------------------------------------------------------------
// Shared formatting helpers
// ---------------------------------------------------------------------------

/// labels.FormatLabels: sorted `k=v` pairs, `<none>` when empty.
fn format_labels(m: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<(&str, &str)> = m
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// metav1.LabelSelectorAsSelector(sel).String(); `Err` when the selector is
/// invalid. A nil or empty selector renders as "".
fn label_selector_string(sel: Option<&Value>) -> Result<String, ()> {
    let Some(sel) = sel else {
        return Ok(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            let v = v.as_str().ok_or(())?;
            reqs.push((k.clone(), format!("{k}={v}")));
        }
    }
    for expr in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = gs(expr, &["key"]);
        if key.is_empty() {
            return Err(());
        }
        let mut values: Vec<&str> = ga(expr, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let text = match gs(expr, &["operator"]) {
            "In" | "NotIn" if values.is_empty() => return Err(()),
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" | "DoesNotExist" if !values.is_empty() => return Err(()),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return Err(()),
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs
        .into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(","))
}

/// metav1.FormatLabelSelector: `<error>` when invalid, `<none>` when empty.
fn format_label_selector(sel: Option<&Value>) -> String {
    match label_selector_string(sel) {
        Err(()) => "<error>".to_string(),
        Ok(s) if s.is_empty() => "<none>".to_string(),
        Ok(s) => s,
    }
}

/// layoutContainerCells: comma-joined container names and images.
fn layout_containers(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| gs(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| gs(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - max);
    }
    if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Sorted, de-duplicated IPs (or hostnames) of a load balancer status.
fn load_balancer_ingress(status: Option<&Value>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for ing in status.map(|s| ga(s, &["ingress"])).unwrap_or(&[]) {
        let ip = gs(ing, &["ip"]);
        let host = gs(ing, &["hostname"]);
        if !ip.is_empty() {
            out.push(ip);
        } else if !host.is_empty() {
            out.push(host);
        }
    }
    out.sort_unstable();
    out.dedup();
    out.join(",")
}

/// helper.GetAccessModesAsString.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    let mut out = Vec::new();
    for (mode, short) in [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ] {
        if has(mode) {
            out.push(short);
        }
    }
    out.join(",")
}

const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

fn has_condition(conditions: &[Value], ty: &str) -> bool {
    conditions
        .iter()
        .find(|c| gs(c, &["type"]) == ty)
        .is_some_and(|c| gs(c, &["status"]) == "True")
}

// ---------------------------------------------------------------------------
// Printers
// ---------------------------------------------------------------------------

fn latest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn print_pod(pod: &Value, now: i64) -> (Vec<Value>, Option<Value>) {
    let containers = ga(pod, &["spec", "containers"]);
    let init_containers = ga(pod, &["spec", "initContainers"]);
    let status = get(pod, &["status"]).unwrap_or(&Value::Null);
    let phase = gs(status, &["phase"]);
    let conditions = ga(status, &["conditions"]);

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total = containers.len() as i64;
    let mut ready: i64 = 0;
    let mut last_restart: Option<i64> = None;
    let mut last_restartable_init_restart: Option<i64> = None;

    let mut reason = match gs(status, &["reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    for c in conditions {
        if gs(c, &["type"]) == "PodScheduled" && gs(c, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }

    let row_conditions = match phase {
        "Succeeded" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }])),
        "Failed" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed.",
        }])),
        _ => None,
    };

    let is_restartable = |name: &str| {
        init_containers
            .iter()
            .any(|c| gs(c, &["name"]) == name && gs(c, &["restartPolicy"]) == "Always")
    };
    total += init_containers
        .iter()
        .filter(|c| gs(c, &["restartPolicy"]) == "Always")
        .count() as i64;

    let mut initializing = false;
    for (i, cs) in ga(status, &["initContainerStatuses"]).iter().enumerate() {
        let rc = gi(cs, &["restartCount"]);
        restarts += rc;
        let finished = parse_time(get(cs, &["lastState", "terminated", "finishedAt"]));
        last_restart = latest(last_restart, finished);
        let restartable = is_restartable(gs(cs, &["name"]));
        if restartable {
            restartable_init_restarts += rc;
            last_restartable_init_restart = latest(last_restartable_init_restart, finished);
        }
        let terminated = get(cs, &["state", "terminated"]);
        let waiting_reason = gs(cs, &["state", "waiting", "reason"]);
        if let Some(t) = terminated
            && gi(t, &["exitCode"]) == 0
        {
            continue;
        }
        if restartable && gb(cs, &["started"]) == Some(true) {
            if gb(cs, &["ready"]) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match gs(t, &["reason"]) {
                "" if gi(t, &["signal"]) != 0 => format!("Init:Signal:{}", gi(t, &["signal"])),
                "" => format!("Init:ExitCode:{}", gi(t, &["exitCode"])),
                r => format!("Init:{r}"),
            };
        } else if present(cs, &["state", "waiting"])
            && !waiting_reason.is_empty()
            && waiting_reason != "PodInitializing"
        {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(conditions, "Initialized") {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for cs in ga(status, &["containerStatuses"]).iter().rev() {
            restarts += gi(cs, &["restartCount"]);
            last_restart = latest(
                last_restart,
                parse_time(get(cs, &["lastState", "terminated", "finishedAt"])),
            );
            let waiting_reason = gs(cs, &["state", "waiting", "reason"]);
            let terminated = get(cs, &["state", "terminated"]);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = match gs(t, &["reason"]) {
                    "" if gi(t, &["signal"]) != 0 => format!("Signal:{}", gi(t, &["signal"])),
                    "" => format!("ExitCode:{}", gi(t, &["exitCode"])),
                    r => r.to_string(),
                };
            } else if gb(cs, &["ready"]) == Some(true) && present(cs, &["state", "running"]) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(conditions, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    if is_deleting(pod) && gs(status, &["reason"]) == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".to_string();
    }

    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", human_duration(now - t)),
        _ => restarts.to_string(),
    };

    let mut pod_ip = ga(status, &["podIPs"])
        .first()
        .map_or("", |ip| gs(ip, &["ip"]));
    if pod_ip.is_empty() {
        pod_ip = gs(status, &["podIP"]);
    }
    let or_none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };

    let gates = ga(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                let ct = gs(g, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| gs(c, &["type"]) == ct)
                    .is_some_and(|c| gs(c, &["status"]) == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    let cells = vec![
        Value::from(meta_name(pod)),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts_str),
        Value::from(age(pod, now)),
        Value::from(or_none(pod_ip)),
        Value::from(or_none(gs(pod, &["spec", "nodeName"]))),
        Value::from(or_none(gs(status, &["nominatedNodeName"]))),
        Value::from(readiness_gates),
    ];
    (cells, row_conditions)
}

fn print_pod_template(obj: &Value, _now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(obj, &["template", "spec", "containers"]));
    vec![
        Value::from(meta_name(obj)),
        Value::from(names),
        Value::from(images),
        Value::from(format_labels(gm(obj, &["template", "metadata", "labels"]))),
    ]
}

fn print_node(node: &Value, now: i64) -> Vec<Value> {
    // The last condition of a given type wins, as with kube's condition map.
    let ready = ga(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| gs(c, &["type"]) == "Ready");
    let mut status: Vec<&str> = vec![match ready {
        Some(c) if gs(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if gb(node, &["spec", "unschedulable"]) == Some(true) {
        status.push("SchedulingDisabled");
    }

    let mut roles: Vec<&str> = Vec::new();
    if let Some(labels) = gm(node, &["metadata", "labels"]) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role);
                }
            } else if k == "kubernetes.io/role"
                && let Some(v) = v.as_str().filter(|v| !v.is_empty())
            {
                roles.push(v);
            }
        }
    }
    roles.sort_unstable();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };

    let address = |ty: &str| {
        ga(node, &["status", "addresses"])
            .iter()
            .find(|a| gs(a, &["type"]) == ty)
            .map_or_else(|| "<none>".to_string(), |a| gs(a, &["address"]).to_string())
    };
    let info = |field: &str| match gs(node, &["status", "nodeInfo", field]) {
        "" => "<unknown>".to_string(),
        s => s.to_string(),
    };
    vec![
        Value::from(meta_name(node)),
        Value::from(status.join(",")),
        Value::from(roles),
        Value::from(age(node, now)),
        Value::from(gs(node, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(info("osImage")),
        Value::from(info("kernelVersion")),
        Value::from(info("containerRuntimeVersion")),
    ]
}

fn print_namespace(ns: &Value, now: i64) -> Vec<Value> {
    let phase = match gs(ns, &["status", "phase"]) {
        "" => "Active",
        p => p,
    };
    vec![
        Value::from(meta_name(ns)),
        Value::from(phase),
        Value::from(age(ns, now)),
    ]
}

fn service_external_ip(svc: &Value, svc_type: &str) -> String {
    let external_ips: Vec<&str> = ga(svc, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match svc_type {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            // The server always prints wide, so the list is never clipped.
            let lb = load_balancer_ingress(get(svc, &["status", "loadBalancer"]));
            if !external_ips.is_empty() {
                let mut results: Vec<&str> = Vec::new();
                if !lb.is_empty() {
                    results.extend(lb.split(','));
                }
                results.extend(external_ips.iter().copied());
                return results.join(",");
            }
            if lb.is_empty() {
                "<pending>".to_string()
            } else {
                lb
            }
        }
        "ExternalName" => gs(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

fn print_service(svc: &Value, now: i64) -> Vec<Value> {
    let svc_type = match gs(svc, &["spec", "type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let mut cluster_ip = ga(svc, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or("");
    if cluster_ip.is_empty() {
        cluster_ip = gs(svc, &["spec", "clusterIP"]);
    }
    let cluster_ip = if cluster_ip.is_empty() {
        "<none>"
    } else {
        cluster_ip
    };
    let ports: Vec<String> = ga(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = gi(p, &["port"]);
            let proto = match gs(p, &["protocol"]) {
                "" => "TCP",
                pr => pr,
            };
            match gi(p, &["nodePort"]) {
                np if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        Value::from(meta_name(svc)),
        Value::from(svc_type),
        Value::from(cluster_ip),
        Value::from(service_external_ip(svc, svc_type)),
        Value::from(ports),
        Value::from(age(svc, now)),
        Value::from(format_labels(gm(svc, &["spec", "selector"]))),
    ]
}

fn format_endpoints(ep: &Value) -> String {
    let subsets = ga(ep, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = ga(ss, &["addresses"]);
        let ports = ga(ss, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(gs(a, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(gs(a, &["ip"]), gi(port, &["port"])));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

fn print_endpoints(ep: &Value, now: i64) -> Vec<Value> {
    vec![
        Value::from(meta_name(ep)),
        Value::from(format_endpoints(ep)),
        Value::from(age(ep, now)),
    ]
}

fn print_endpoint_slice(es: &Value, now: i64) -> Vec<Value> {
    const MAX: usize = 3;
    let (mut ports, mut more, mut count) = (Vec::new(), false, 0usize);
    for p in ga(es, &["ports"]) {
        if ports.len() < MAX {
            ports.push(match (opt_int(p, &["port"]), opt_str(p, &["name"])) {
                (Some(n), _) => n.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            });
        } else if ports.len() == MAX {
            more = true;
        }
        count += 1;
    }
    let ports = list_with_more(&ports, more, count, MAX);

    let (mut eps, mut more, mut count) = (Vec::new(), false, 0usize);
    for ep in ga(es, &["endpoints"]) {
        for addr in ga(ep, &["addresses"]) {
            if eps.len() < MAX {
                eps.push(addr.as_str().unwrap_or("").to_string());
            } else if eps.len() == MAX {
                more = true;
            }
            count += 1;
        }
    }
    let eps = list_with_more(&eps, more, count, MAX);
    vec![
        Value::from(meta_name(es)),
        Value::from(gs(es, &["addressType"])),
        Value::from(ports),
        Value::from(eps),
        Value::from(age(es, now)),
    ]
}

fn print_configmap(cm: &Value, now: i64) -> Vec<Value> {
    let n = map_len(cm, &["data"]) + map_len(cm, &["binaryData"]);
    vec![
        Value::from(meta_name(cm)),
        Value::from(n),
        Value::from(age(cm, now)),
    ]
}

fn print_secret(s: &Value, now: i64) -> Vec<Value> {
    let ty = match gs(s, &["type"]) {
        "" => "Opaque",
        t => t,
    };
    vec![
        Value::from(meta_name(s)),
        Value::from(ty),
        Value::from(map_len(s, &["data"])),
        Value::from(age(s, now)),
    ]
}

fn print_service_account(sa: &Value, now: i64) -> Vec<Value> {
    vec![
        Value::from(meta_name(sa)),
        Value::from(ga(sa, &["secrets"]).len() as i64),
        Value::from(age(sa, now)),
    ]
}

/// Field paths of an event in core/v1 vs events.k8s.io/v1 shape.
struct EventFields {
    involved: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
}

const CORE_EVENT: EventFields = EventFields {
    involved: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
};

const EVENTS_V1_EVENT: EventFields = EventFields {
    involved: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
};

fn print_core_event(ev: &Value, now: i64) -> Vec<Value> {
    print_event(ev, now, &CORE_EVENT)
}

fn print_events_event(ev: &Value, now: i64) -> Vec<Value> {
    print_event(ev, now, &EVENTS_V1_EVENT)
}

fn print_event(ev: &Value, now: i64, f: &EventFields) -> Vec<Value> {
    let first_seen = match parse_time(get(ev, &[f.first])) {
        Some(_) => translate_timestamp_since(get(ev, &[f.first]), now),
        None => translate_timestamp_since(get(ev, &["eventTime"]), now),
    };
    let mut last_seen = match parse_time(get(ev, &[f.last])) {
        Some(_) => translate_timestamp_since(get(ev, &[f.last]), now),
        None => first_seen.clone(),
    };
    let mut count = gi(ev, &[f.count]);
    if let Some(series) = get(ev, &["series"]).filter(|s| s.is_object()) {
        last_seen = translate_timestamp_since(get(series, &["lastObservedTime"]), now);
        count = gi(series, &["count"]);
    } else if count == 0 {
        count = 1;
    }

    let kind = gs(ev, &[f.involved, "kind"]).to_lowercase();
    let obj_name = gs(ev, &[f.involved, "name"]);
    let target = if obj_name.is_empty() {
        kind
    } else {
        format!("{kind}/{obj_name}")
    };

    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let component = first_non_empty(
        gs(ev, &[f.source, "component"]),
        gs(ev, &["reportingController"]),
    );
    let instance = first_non_empty(gs(ev, &[f.source, "host"]), gs(ev, &["reportingInstance"]));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };

    vec![
        Value::from(last_seen),
        Value::from(gs(ev, &["type"])),
        Value::from(gs(ev, &["reason"])),
        Value::from(target),
        Value::from(gs(ev, &[f.involved, "fieldPath"])),
        Value::from(source),
        Value::from(gs(ev, &[f.message]).trim()),
        Value::from(first_seen),
        Value::from(count),
        Value::from(meta_name(ev)),
    ]
}

fn print_resource_quota(rq: &Value, now: i64) -> Vec<Value> {
    let hard = gm(rq, &["status", "hard"]);
    let mut resources: Vec<&String> = hard.map(|h| h.keys().collect()).unwrap_or_default();
    resources.sort_unstable();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    for r in resources {
        let used = quantity(get(rq, &["status", "used", r]));
        let hard_q = quantity(hard.and_then(|h| h.get(r)));
        let entry = format!("{r}: {used}/{hard_q}");
        let mut pieces = r.split('.');
        let is_limit = pieces.next() == Some("limits") && pieces.next().is_some();
        if is_limit {
            limits.push(entry)
        } else {
            requests.push(entry)
        }
    }
    vec![
        Value::from(meta_name(rq)),
        Value::from(requests.join(", ")),
        Value::from(limits.join(", ")),
        Value::from(age(rq, now)),
    ]
}

fn print_pv(pv: &Value, now: i64) -> Vec<Value> {
    let claim = match get(pv, &["spec", "claimRef"]) {
        Some(c) => format!("{}/{}", gs(c, &["namespace"]), gs(c, &["name"])),
        None => String::new(),
    };
    let reclaim = match gs(pv, &["spec", "persistentVolumeReclaimPolicy"]) {
        "" => "Retain",
        r => r,
    };
    let phase = if is_deleting(pv) {
        "Terminating"
    } else {
        match gs(pv, &["status", "phase"]) {
            "" => "Pending",
            p => p,
        }
    };
    let class = opt_str(
        pv,
        &["metadata", "annotations", BETA_STORAGE_CLASS_ANNOTATION],
    )
    .unwrap_or_else(|| gs(pv, &["spec", "storageClassName"]));
    let vac = opt_str(pv, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>");
    let volume_mode = opt_str(pv, &["spec", "volumeMode"]).unwrap_or("Filesystem");
    vec![
        Value::from(meta_name(pv)),
        Value::from(quantity(get(pv, &["spec", "capacity", "storage"]))),
        Value::from(access_modes(ga(pv, &["spec", "accessModes"]))),
        Value::from(reclaim),
        Value::from(phase),
        Value::from(claim),
        Value::from(class),
        Value::from(vac),
        Value::from(gs(pv, &["status", "reason"])),
        Value::from(age(pv, now)),
        Value::from(volume_mode),
    ]
}

fn print_pvc(pvc: &Value, now: i64) -> Vec<Value> {
    let phase = if is_deleting(pvc) {
        "Terminating"
    } else {
        match gs(pvc, &["status", "phase"]) {
            "" => "Pending",
            p => p,
        }
    };
    let volume_name = gs(pvc, &["spec", "volumeName"]);
    let (capacity, modes) = if volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(get(pvc, &["status", "capacity", "storage"])),
            access_modes(ga(pvc, &["status", "accessModes"])),
        )
    };
    let class = opt_str(
        pvc,
        &["metadata", "annotations", BETA_STORAGE_CLASS_ANNOTATION],
    )
    .or_else(|| opt_str(pvc, &["spec", "storageClassName"]))
    .unwrap_or("");
    let vac = opt_str(pvc, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>");
    let volume_mode = opt_str(pvc, &["spec", "volumeMode"]).unwrap_or("Filesystem");
    vec![
        Value::from(meta_name(pvc)),
        Value::from(phase),
        Value::from(volume_name),
        Value::from(capacity),
        Value::from(modes),
        Value::from(class),
        Value::from(vac),
        Value::from(age(pvc, now)),
        Value::from(volume_mode),
    ]
}

/// spec.replicas with the API default of 1.
fn desired_replicas(obj: &Value) -> i64 {
    opt_int(obj, &["spec", "replicas"]).unwrap_or(1)
}

fn print_rc(rc: &Value, now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(rc, &["spec", "template", "spec", "containers"]));
    vec![
        Value::from(meta_name(rc)),
        Value::from(desired_replicas(rc)),
        Value::from(gi(rc, &["status", "replicas"])),
        Value::from(gi(rc, &["status", "readyReplicas"])),
        Value::from(age(rc, now)),
        Value::from(names),
        Value::from(images),
        Value::from(format_labels(gm(rc, &["spec", "selector"]))),
    ]
}

fn print_replica_set(rs: &Value, now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(rs, &["spec", "template", "spec", "containers"]));
    vec![
        Value::from(meta_name(rs)),
        Value::from(desired_replicas(rs)),
        Value::from(gi(rs, &["status", "replicas"])),
        Value::from(gi(rs, &["status", "readyReplicas"])),
        Value::from(age(rs, now)),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(get(rs, &["spec", "selector"]))),
    ]
}

fn print_daemon_set(ds: &Value, now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(ds, &["spec", "template", "spec", "containers"]));
    vec![
        Value::from(meta_name(ds)),
        Value::from(gi(ds, &["status", "desiredNumberScheduled"])),
        Value::from(gi(ds, &["status", "currentNumberScheduled"])),
        Value::from(gi(ds, &["status", "numberReady"])),
        Value::from(gi(ds, &["status", "updatedNumberScheduled"])),
        Value::from(gi(ds, &["status", "numberAvailable"])),
        Value::from(format_labels(gm(
            ds,
            &["spec", "template", "spec", "nodeSelector"],
        ))),
        Value::from(age(ds, now)),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(get(ds, &["spec", "selector"]))),
    ]
}

fn print_stateful_set(ss: &Value, now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(ss, &["spec", "template", "spec", "containers"]));
    vec![
        Value::from(meta_name(ss)),
        Value::from(format!(
            "{}/{}",
            gi(ss, &["status", "readyReplicas"]),
            desired_replicas(ss)
        )),
        Value::from(age(ss, now)),
        Value::from(names),
        Value::from(images),
    ]
}

fn print_deployment(d: &Value, now: i64) -> Vec<Value> {
    let (names, images) = layout_containers(ga(d, &["spec", "template", "spec", "containers"]));
    let selector = label_selector_string(get(d, &["spec", "selector"]))
        .unwrap_or_else(|()| "<invalid>".to_string());
    vec![
        Value::from(meta_name(d)),
        Value::from(format!(
            "{}/{}",
            gi(d, &["status", "readyReplicas"]),
            desired_replicas(d)
        )),
        Value::from(gi(d, &["status", "updatedReplicas"])),
        Value::from(gi(d, &["status", "availableReplicas"])),
        Value::from(age(d, now)),
        Value::from(names),
        Value::from(images),
        Value::from(selector),
    ]
}

fn print_controller_revision(cr: &Value, now: i64) -> Vec<Value> {
    let controller = ga(cr, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| gb(r, &["controller"]) == Some(true))
        .map_or_else(
            || "<none>".to_string(),
            |r| {
                let name = gs(r, &["name"]);
                let kind = gs(r, &["kind"]);
                let api_version = gs(r, &["apiVersion"]);
                let group = match api_version.split_once('/') {
                    Some((g, _)) => g,
                    None => "",
                };
                if group.is_empty() && kind.is_empty() {
                    name.to_string()
                } else if group.is_empty() {
                    format!("{}/{name}", kind.to_lowercase())
                } else {
                    format!("{}.{}/{name}", kind.to_lowercase(), group.to_lowercase())
                }
            },
        );
    vec![
        Value::from(meta_name(cr)),
        Value::from(controller),
        Value::from(gi(cr, &["revision"])),
        Value::from(age(cr, now)),
    ]
}

fn print_job(job: &Value, now: i64) -> Vec<Value> {
    let succeeded = gi(job, &["status", "succeeded"]);
    let completions = match opt_int(job, &["spec", "completions"]) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = opt_int(job, &["spec", "parallelism"]).unwrap_or(1);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = parse_time(get(job, &["status", "startTime"]));
    let completion = parse_time(get(job, &["status", "completionTime"]));
    let duration = match (start, completion) {
        (None, _) => String::new(),
        (Some(s), None) => human_duration(now - s),
        (Some(s), Some(c)) => human_duration(c - s),
    };
    let conditions = ga(job, &["status", "conditions"]);
    let status = if has_condition(conditions, "Complete") {
        "Complete"
    } else if has_condition(conditions, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = layout_containers(ga(job, &["spec", "template", "spec", "containers"]));
    vec![
        Value::from(meta_name(job)),
        Value::from(status),
        Value::from(completions),
        Value::from(duration),
        Value::from(age(job, now)),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(get(job, &["spec", "selector"]))),
    ]
}

fn print_cron_job(cj: &Value, now: i64) -> Vec<Value> {
    let last_schedule = match get(cj, &["status", "lastScheduleTime"]) {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => "<none>".to_string(),
    };
    let suspend = match gb(cj, &["spec", "suspend"]) {
        Some(true) => "True",
        _ => "False",
    };
    let tmpl = get(cj, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let (names, images) = layout_containers(ga(tmpl, &["template", "spec", "containers"]));
    vec![
        Value::from(meta_name(cj)),
        Value::from(gs(cj, &["spec", "schedule"])),
        Value::from(opt_str(cj, &["spec", "timeZone"]).unwrap_or("<none>")),
        Value::from(suspend),
        Value::from(ga(cj, &["status", "active"]).len() as i64),
        Value::from(last_schedule),
        Value::from(age(cj, now)),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(get(tmpl, &["selector"]))),
    ]
}

fn print_lease(lease: &Value, now: i64) -> Vec<Value> {
    vec![
        Value::from(meta_name(lease)),
        Value::from(gs(lease, &["spec", "holderIdentity"])),
        Value::from(age(lease, now)),
    ]
}

fn print_csr(csr: &Value, now: i64) -> Vec<Value> {
    let (mut approved, mut denied, mut failed) = (false, false, false);
    for c in ga(csr, &["status", "conditions"]) {
        match gs(c, &["type"]) {
            "Approved" => approved = true,
            "Denied" => denied = true,
            "Failed" => failed = true,
            _ => {}
        }
    }
    let mut status = if denied {
        "Denied"
    } else if approved {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if failed {
        status.push_str(",Failed");
    }
    if !gs(csr, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    let signer = match gs(csr, &["spec", "signerName"]) {
        "" => "<none>",
        s => s,
    };
    let requested = opt_int(csr, &["spec", "expirationSeconds"])
        .map_or_else(|| "<none>".to_string(), human_duration);
    vec![
        Value::from(meta_name(csr)),
        Value::from(age(csr, now)),
        Value::from(signer),
        Value::from(gs(csr, &["spec", "username"])),
        Value::from(requested),
        Value::from(status),
    ]
}

fn print_role_binding(rb: &Value, now: i64) -> Vec<Value> {
    let role_ref = format!(
        "{}/{}",
        gs(rb, &["roleRef", "kind"]),
        gs(rb, &["roleRef", "name"])
    );
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in ga(rb, &["subjects"]) {
        let name = gs(s, &["name"]);
        match gs(s, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{name}", gs(s, &["namespace"]))),
            "User" => users.push(name.to_string()),
            "Group" => groups.push(name.to_string()),
            _ => {}
        }
    }
    vec![
        Value::from(meta_name(rb)),
        Value::from(role_ref),
        Value::from(age(rb, now)),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(sas.join(", ")),
    ]
}

fn print_pdb(pdb: &Value, now: i64) -> Vec<Value> {
    let field = |f: &str| get(pdb, &["spec", f]).map_or_else(|| "N/A".to_string(), int_or_string);
    vec![
        Value::from(meta_name(pdb)),
        Value::from(field("minAvailable")),
        Value::from(field("maxUnavailable")),
        Value::from(gi(pdb, &["status", "disruptionsAllowed"])),
        Value::from(age(pdb, now)),
    ]
}

fn print_priority_class(pc: &Value, now: i64) -> Vec<Value> {
    vec![
        Value::from(meta_name(pc)),
        Value::from(gi(pc, &["value"])),
        Value::from(gb(pc, &["globalDefault"]).unwrap_or(false)),
        Value::from(age(pc, now)),
        Value::from(opt_str(pc, &["preemptionPolicy"]).unwrap_or("PreemptLowerPriority")),
    ]
}

fn print_ingress(ing: &Value, now: i64) -> Vec<Value> {
    const MAX: usize = 3;
    let rules = ga(ing, &["spec", "rules"]);
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = gs(rule, &["host"]);
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let ports = if ga(ing, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        Value::from(meta_name(ing)),
        Value::from(opt_str(ing, &["spec", "ingressClassName"]).unwrap_or("<none>")),
        Value::from(hosts),
        Value::from(load_balancer_ingress(get(ing, &["status", "loadBalancer"]))),
        Value::from(ports),
        Value::from(age(ing, now)),
    ]
}

fn print_ingress_class(ic: &Value, now: i64) -> Vec<Value> {
    let parameters = match get(ic, &["spec", "parameters"]) {
        Some(p) => {
            let mut s = gs(p, &["kind"]).to_string();
            if let Some(g) = opt_str(p, &["apiGroup"]) {
                s = format!("{s}.{g}");
            }
            format!("{s}/{}", gs(p, &["name"]))
        }
        None => "<none>".to_string(),
    };
    vec![
        Value::from(meta_name(ic)),
        Value::from(gs(ic, &["spec", "controller"])),
        Value::from(parameters),
        Value::from(age(ic, now)),
    ]
}

fn print_network_policy(np: &Value, now: i64) -> Vec<Value> {
    // podSelector is a non-pointer field: absent means the empty selector.
    let empty = Value::Object(Map::new());
    let sel = get(np, &["spec", "podSelector"]).unwrap_or(&empty);
    vec![
        Value::from(meta_name(np)),
        Value::from(format_label_selector(Some(sel))),
        Value::from(age(np, now)),
    ]
}

fn print_storage_class(sc: &Value, now: i64) -> Vec<Value> {
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|a| gs(sc, &["metadata", "annotations", a]) == "true");
    let mut name = meta_name(sc).to_string();
    if is_default {
        name.push_str(" (default)");
    }
    vec![
        Value::from(name),
        Value::from(gs(sc, &["provisioner"])),
        Value::from(opt_str(sc, &["reclaimPolicy"]).unwrap_or("Delete")),
        Value::from(opt_str(sc, &["volumeBindingMode"]).unwrap_or("Immediate")),
        Value::from(gb(sc, &["allowVolumeExpansion"]).unwrap_or(false)),
        Value::from(age(sc, now)),
    ]
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests;
