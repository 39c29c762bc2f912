//! Dependency-free tests with hand-encoded protobuf. Round trips through the
//! real generated types (k8s-pb) are in k8s_pb_tests.rs (needs dev-deps).
use super::*;
use serde_json::json;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn ld(tag: u32, data: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(tag) << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

fn vi(tag: u32, v: u64, out: &mut Vec<u8>) {
    varint(u64::from(tag) << 3, out);
    varint(v, out);
}

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut tm = Vec::new();
    ld(1, api_version.as_bytes(), &mut tm);
    ld(2, kind.as_bytes(), &mut tm);
    let mut out = MAGIC.to_vec();
    ld(1, &tm, &mut out);
    ld(2, raw, &mut out);
    out
}

#[test]
fn table_is_sorted() {
    assert!(
        KINDS
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
    );
    for m in MESSAGES {
        assert!(
            m.fields.windows(2).all(|w| w[0].tag < w[1].tag),
            "{}",
            m.name
        );
        for f in m.fields {
            if let Kind::M(i) | Kind::P(i) = f.kind {
                assert!(usize::from(i) < MESSAGES.len());
            }
        }
    }
}

#[test]
fn namespace_go_style_zero_values() {
    // ObjectMeta as Go writes it: non-pointer fields always present.
    let mut meta = Vec::new();
    ld(1, b"ns1", &mut meta);
    ld(2, b"", &mut meta); // generateName
    ld(6, b"", &mut meta); // resourceVersion
    vi(7, 0, &mut meta); // generation
    ld(8, b"", &mut meta); // creationTimestamp (zero time)
    vi(10, 0, &mut meta); // deletionGracePeriodSeconds is a pointer: kept
    let mut entry = Vec::new();
    ld(1, b"a", &mut entry);
    ld(2, b"b", &mut entry);
    ld(11, &entry, &mut meta);
    let mut ns = Vec::new();
    ld(1, &meta, &mut ns);
    ld(2, b"", &mut ns); // spec
    ld(3, b"", &mut ns); // status
    ld(99, b"unknown", &mut ns);
    let v = decode(&envelope("v1", "Namespace", &ns)).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "ns1", "creationTimestamp": null,
                "deletionGracePeriodSeconds": 0, "labels": {"a": "b"}},
            "spec": {}, "status": {}})
    );
}

#[test]
fn delete_options_any_group_version() {
    let mut d = Vec::new();
    vi(1, 0, &mut d);
    ld(4, b"Foreground", &mut d);
    let v = decode(&envelope("apps/v1", "DeleteOptions", &d)).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "apps/v1", "kind": "DeleteOptions",
            "gracePeriodSeconds": 0, "propagationPolicy": "Foreground"})
    );
}

#[test]
fn merges_repeated_singular_message() {
    let mut a = Vec::new();
    ld(1, b"x", &mut a);
    let mut b = Vec::new();
    ld(3, b"ns", &mut b);
    let mut cm = Vec::new();
    ld(1, &a, &mut cm);
    ld(1, &b, &mut cm);
    let v = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
    assert_eq!(v["metadata"], json!({"name": "x", "namespace": "ns"}));
}

#[test]
fn errors() {
    assert!(decode(b"").unwrap_err().contains("magic"));
    assert!(decode(b"k8s\x01\x0a\x00").unwrap_err().contains("magic"));
    let e = decode(&envelope("v1", "Frobnicator", b"")).unwrap_err();
    assert!(e.contains("\"v1\"") && e.contains("Frobnicator"), "{e}");
    assert!(decode(&envelope("", "", b"")).is_err());
    // truncated envelope and object
    let full = envelope("v1", "ConfigMap", b"\x0a\x03\x0a\x01x");
    for n in 4..full.len() {
        let _ = decode(&full[..n]);
    }
    let e = decode(&envelope("v1", "ConfigMap", b"\x0a\x05\x0a\x01x")).unwrap_err();
    assert!(e.contains("truncated"), "{e}");
    // wrong wire type
    assert!(decode(&envelope("v1", "ConfigMap", b"\x08\x01")).is_err());
    // bad varint, group wire type
    assert!(decode(&envelope("v1", "ConfigMap", &[0x80; 12])).is_err());
    assert!(decode(&envelope("v1", "ConfigMap", b"\xfb\x01")).is_err());
    // invalid RawExtension JSON: ControllerRevision.data
    let mut raw = Vec::new();
    ld(1, b"{not json", &mut raw);
    let mut cr = Vec::new();
    ld(2, &raw, &mut cr);
    let e = decode(&envelope("apps/v1", "ControllerRevision", &cr)).unwrap_err();
    assert!(e.contains("at data"), "{e}");
}

#[test]
fn deep_nesting_is_an_error() {
    // Kubernetes types are not recursive, so a deep chain on the wire is
    // either unknown fields (skipped without recursion) or embedded JSON.
    let mut inner = Vec::new();
    for _ in 0..10_000 {
        let mut next = Vec::new();
        ld(1, &inner, &mut next);
        inner = next;
    }
    assert!(decode(&envelope("v1", "ConfigMap", &inner)).is_ok());
    let mut raw = Vec::new();
    ld(1, &b"[".repeat(100_000), &mut raw);
    let mut cr = Vec::new();
    ld(2, &raw, &mut cr);
    assert!(decode(&envelope("apps/v1", "ControllerRevision", &cr)).is_err());
    // the recursion guard itself
    let mut out = Map::new();
    let e = decode_msg(0, b"", &mut out, MAX_DEPTH + 1).err().unwrap();
    assert!(e.msg.contains("too deep"));
    // absurd length
    let mut big = Vec::new();
    varint(1 << 3 | 2, &mut big);
    varint(u64::MAX, &mut big);
    assert!(decode(&envelope("v1", "ConfigMap", &big)).is_err());
}

#[test]
fn specials() {
    assert_eq!(go_duration(0), "0s");
    assert_eq!(go_duration(1_500_000_000), "1.5s");
    assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
    assert_eq!(go_duration(90_000_000_000), "1m30s");
    assert_eq!(go_duration(1_500), "1.5µs");
    assert_eq!(go_duration(-2_000_000), "-2ms");
    assert_eq!(go_duration(61_001_000_000), "1m1.001s");
    assert_eq!(
        format_time(1_700_000_000, 0, false).unwrap(),
        json!("2023-11-14T22:13:20Z")
    );
    assert_eq!(
        format_time(0, 123_456_000, true).unwrap(),
        json!("1970-01-01T00:00:00.123456Z")
    );
    assert_eq!(
        format_time(-86_400, 0, false).unwrap(),
        json!("1969-12-31T00:00:00Z")
    );
    assert_eq!(
        format_time(GO_ZERO_TIME_SECS, 0, false).unwrap(),
        Value::Null
    );
    assert!(format_time(i64::MAX, 0, false).is_err());
    assert!(format_time(i64::MIN, 0, false).is_err());
}
