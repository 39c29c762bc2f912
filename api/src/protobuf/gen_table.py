#!/usr/bin/env python3
"""Generates table.rs: the protobuf message table used by mod.rs.

Sources (read with `git show <tag>:<path>` from local clones):
  * kubernetes/api and kubernetes/apimachinery generated.proto files give the
    wire layout (field numbers, scalar types, message/map types);
  * the Go type definitions (types.go etc.) next to them give what the proto
    files do not: the JSON name, `omitempty`, pointer-ness and `,inline`.

Usage:
  python3 gen_table.py [API_GIT_DIR] [APIMACHINERY_GIT_DIR] [TAG] > table.rs
Defaults: /work/.mirror/kubernetes+api/repo /work/.mirror/kubernetes+apimachinery/repo v0.36.3
"""

import re
import subprocess
import sys

API = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/kubernetes+api/repo"
MACH = sys.argv[2] if len(sys.argv) > 2 else "/work/.mirror/kubernetes+apimachinery/repo"
TAG = sys.argv[3] if len(sys.argv) > 3 else "v0.36.3"

# Root group versions: (proto package dir, apiVersion, kinds or None for every kind).
# A kind is a type registered in register.go whose field 1 is `metadata` ObjectMeta.
ROOTS = [
    ("core/v1", "v1", None),
    ("apps/v1", "apps/v1", None),
    ("batch/v1", "batch/v1", None),
    ("coordination/v1", "coordination.k8s.io/v1", None),
    ("discovery/v1", "discovery.k8s.io/v1", None),
    ("events/v1", "events.k8s.io/v1", None),
    ("certificates/v1", "certificates.k8s.io/v1", None),
    ("rbac/v1", "rbac.authorization.k8s.io/v1", None),
    ("policy/v1", "policy/v1", None),
    ("scheduling/v1", "scheduling.k8s.io/v1", None),
    ("networking/v1", "networking.k8s.io/v1", None),
    ("storage/v1", "storage.k8s.io/v1", None),
    ("autoscaling/v1", "autoscaling/v1", None),
    ("authentication/v1", "authentication.k8s.io/v1", None),
    ("authorization/v1", "authorization.k8s.io/v1", None),
]
META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# Messages with a hand-written JSON form (see `Special` in mod.rs).
SPECIAL = {
    META + "Time": "Time",
    META + "MicroTime": "MicroTime",
    META + "Duration": "Duration",
    META + "FieldsV1": "RawJson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "RawJson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    META + "Verbs": "StringList",
    "k8s.io.api.authentication.v1.ExtraValue": "StringList",
    "k8s.io.api.authorization.v1.ExtraValue": "StringList",
    "k8s.io.api.certificates.v1.ExtraValue": "StringList",
}
SCALARS = {"string": "S", "bytes": "B", "bool": "Z", "int32": "I", "int64": "L"}


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True,
                          capture_output=True, text=True).stdout


def list_files(repo):
    return git(repo, "ls-tree", "-r", "--name-only", TAG).split("\n")


protos = {}  # full message name -> (package, [fields])
go_pkg_dir = {}  # proto package -> (repo, dir)


def parse_proto(repo, path):
    text = git(repo, "show", f"{TAG}:{path}")
    text = re.sub(r"//[^\n]*", "", text)
    pkg = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    go_pkg_dir[pkg] = (repo, path.rsplit("/", 1)[0])
    for m in re.finditer(r"message (\w+) \{(.*?)\n\}", text, re.S):
        fields = []
        for line in m.group(2).split(";"):
            line = " ".join(line.split())
            if not line:
                continue
            mm = re.fullmatch(r"map<([\w.]+), ?([\w.]+)> (\w+) = (\d+)", line)
            if mm:
                fields.append(dict(label="map", key=mm.group(1), type=mm.group(2),
                                   name=mm.group(3), num=int(mm.group(4))))
                continue
            mm = re.fullmatch(r"(optional|repeated) ([\w.]+) (\w+) = (\d+)", line)
            if not mm:
                sys.exit(f"unparsed proto line in {path}: {line!r}")
            fields.append(dict(label=mm.group(1), type=mm.group(2), name=mm.group(3),
                               num=int(mm.group(4))))
        protos[pkg + "." + m.group(1)] = (pkg, fields)


for repo in (API, MACH):
    for f in list_files(repo):
        if f.endswith("generated.proto"):
            parse_proto(repo, f)


def resolve(pkg, t):
    if t in SCALARS:
        return t
    full = t[1:] if t.startswith(".") else pkg + "." + t
    if full not in protos:
        sys.exit(f"unknown type {t} in {pkg}")
    return full


# Go struct tags: (proto package, struct, field number) -> (json name, omitempty, pointer, inline)
go_info = {}
go_loaded = set()
FIELD_RE = re.compile(r"^\t(?:(\w+)\s+)?(\*?[\w.\[\]*]+)\s+`([^`]*)`")


def load_go(pkg):
    if pkg in go_loaded:
        return
    go_loaded.add(pkg)
    repo, d = go_pkg_dir[pkg]
    for f in list_files(repo):
        if not (f.startswith(d + "/") and f.endswith(".go") and "/" not in f[len(d) + 1:]):
            continue
        base = f.rsplit("/", 1)[1]
        if base.endswith("_test.go") or base.startswith("zz_") or base == "generated.pb.go":
            continue
        struct = None
        for line in git(repo, "show", f"{TAG}:{f}").split("\n"):
            m = re.match(r"^type (\w+) struct \{", line)
            if m:
                struct = m.group(1)
                continue
            if line.startswith("}"):
                struct = None
                continue
            if struct is None:
                continue
            m = FIELD_RE.match(line)
            if not m:
                continue
            tags = dict(re.findall(r'(\w+):"([^"]*)"', m.group(3)))
            if "protobuf" not in tags or tags["protobuf"] == "-":
                continue
            num = int(tags["protobuf"].split(",")[1])
            jparts = tags.get("json", "").split(",")
            go_info[(pkg, struct, num)] = (jparts[0], "omitempty" in jparts[1:],
                                           m.group(2).startswith("*"), "inline" in jparts[1:])


# Reachability from the root kinds.
kinds = []  # (apiVersion, kind, full message name)
order = []
seen = set()


def visit(full):
    if full in seen or full in SCALARS:
        return
    seen.add(full)
    order.append(full)
    if full in SPECIAL:
        return
    pkg, fields = protos[full]
    for f in fields:
        visit(resolve(pkg, f["type"]))
        if f["label"] == "map":
            resolve(pkg, f["key"])


for d, api_version, only in ROOTS:
    pkg = "k8s.io.api." + d.replace("/", ".")
    registered = set(re.findall(r"&(\w+)\{\}", git(API, "show", f"{TAG}:{d}/register.go")))
    for full, (p, fields) in protos.items():
        if p != pkg:
            continue
        kind = full.rsplit(".", 1)[1]
        if kind not in registered or (only is not None and kind not in only):
            continue
        meta = [f for f in fields if f["name"] == "metadata" and f["num"] == 1]
        if not meta or resolve(p, meta[0]["type"]) != META + "ObjectMeta":
            continue
        kinds.append((api_version, kind, full))
        visit(full)
visit(META + "DeleteOptions")
kinds.append(("meta.k8s.io/v1", "DeleteOptions", META + "DeleteOptions"))

order.sort()
index = {n: i for i, n in enumerate(order)}

# Synthetic map-entry messages, appended after the real ones.
entries = {}


def entry_for(key, val):
    k = (key, val)
    if k not in entries:
        entries[k] = len(order) + len(entries)
    return entries[k]


def kind_expr(t, pkg_fields_kind=None):
    if t in SCALARS:
        return SCALARS[t]
    return f"M({index[t]})"


warnings = []
rows = []
for full in order:
    if full in SPECIAL:
        rows.append((full, SPECIAL[full], []))
        continue
    pkg, fields = protos[full]
    load_go(pkg)
    struct = full.rsplit(".", 1)[1]
    out = []
    for f in sorted(fields, key=lambda f: f["num"]):
        info = go_info.get((pkg, struct, f["num"]))
        if info is None:
            warnings.append(f"{full}.{f['name']}: no Go field, using proto name")
            info = (f["name"], False, True, False)
        jname, omitempty, pointer, inline = info
        if not inline and jname != f["name"]:
            warnings.append(f"{full}: proto name {f['name']} != json name {jname}")
        flags = []
        if f["label"] == "repeated":
            flags.append("REP")
        if inline:
            flags.append("INLINE")
            jname = ""
        if omitempty and not pointer and f["label"] == "optional" and f["type"] in SCALARS:
            flags.append("OMIT_ZERO")
        t = resolve(pkg, f["type"])
        if f["label"] == "map":
            key = resolve(pkg, f["key"])
            if key != "string":
                sys.exit(f"{full}.{f['name']}: non-string map key")
            kind = f"P({entry_for('string', t)})"
        else:
            kind = kind_expr(t)
        out.append((f["num"], jname, kind, "|".join(flags) or "0"))
    rows.append((full, "None", out))

for (key, val), idx in sorted(entries.items(), key=lambda e: e[1]):
    name = f"map<{key},{val.rsplit('.', 1)[-1]}>"
    rows.append((name, "None", [(1, "", kind_expr(key), "0"), (2, "", kind_expr(val), "0")]))

kinds.sort()
for w in warnings:
    print("warning:", w, file=sys.stderr)

p = print
p(f"// @generated by gen_table.py from kubernetes/api and kubernetes/apimachinery {TAG}")
p("// (generated.proto for the wire layout, Go struct tags for JSON names/omitempty/inline).")
p("// Do not edit by hand; rerun: python3 gen_table.py > table.rs")
p("#![allow(clippy::all)]")
p("use super::{Field, Kind::{B, I, L, M, P, S, Z}, Msg, Special, INLINE, OMIT_ZERO, REP};")
p("")
p("const fn f(tag: u32, json: &'static str, kind: super::Kind, flags: u8) -> Field {")
p("    Field { tag, json, kind, flags }")
p("}")
p("")
p(f"/// {len(rows)} messages ({len(entries)} synthetic map entries), sorted by name")
p("/// (map entries last); fields sorted by tag.")
p("pub(super) static MESSAGES: &[Msg] = &[")
for name, special, fields in rows:
    fs = ", ".join(f'f({n}, "{j}", {k}, {fl})' for n, j, k, fl in fields)
    p(f'    Msg {{ name: "{name}", special: Special::{special}, fields: &[{fs}] }},')
p("];")
p("")
p("/// (apiVersion, kind) -> index into MESSAGES, sorted.")
p("pub(super) static KINDS: &[(&str, &str, u16)] = &[")
for av, k, full in kinds:
    p(f'    ("{av}", "{k}", {index[full]}),')
p("];")
print(f"{len(rows)} messages, {len(kinds)} kinds, {len(warnings)} warnings", file=sys.stderr)
