#!/usr/bin/env python3
"""Generate berth's typed AWS shapes from botocore's service models.

    python3 tools/gen_shapes.py            # regenerate every service listed in tools/shapes/

Each `tools/shapes/<service>.txt` lists the operations berth serves for that service
(one per line, `#` comments). The generator walks every shape reachable from those
operations' inputs and outputs and writes `crates/model/src/generated/<module>.rs`:
one Rust struct per structure shape, one enum per string enum, with the model's member
names as serde names, so that field names and types follow botocore exactly. Members the
model marks required are plain fields (absent -> a deserialization error the API maps to
InvalidParameterException); every other member is an Option and is omitted when None.

Query-protocol services (elbv2, iam, ec2, autoscaling) send every scalar as form text,
while berth stores and serves real numbers: their numeric and boolean members decode
through `crate::lenient` (text or the value itself), and their timestamps are ISO 8601
text through `crate::timestamp::iso8601`, as the query protocol writes them.

Only the model's facts (names, types, enum values, required members) are used; the Rust
code is ours. Re-run after adding an operation to a list, and commit the output.
"""
import glob
import gzip
import json
import keyword
import os
import re
import subprocess
import sys

import botocore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTS = os.path.join(ROOT, "tools", "shapes")
OUT = os.path.join(ROOT, "crates", "model", "src", "generated")

RUST_KEYWORDS = {
    "type", "match", "ref", "self", "super", "crate", "mod", "move", "loop", "where",
    "impl", "trait", "struct", "enum", "fn", "let", "static", "const", "use", "pub",
    "return", "in", "for", "if", "else", "while", "break", "continue", "async", "await",
    "dyn", "box", "override", "final", "abstract", "priv", "unsized", "virtual", "yield",
    "macro", "try", "do", "gen",
}


def load_model(service):
    data = os.path.join(os.path.dirname(botocore.__file__), "data", service)
    versions = sorted(glob.glob(os.path.join(data, "*", "service-2.json*")))
    if not versions:
        sys.exit(f"no botocore model for {service}")
    path = versions[-1]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f), os.path.basename(os.path.dirname(path))


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.replace("-", "_").replace(".", "_").lower()
    if s in RUST_KEYWORDS or keyword.iskeyword(s):
        s = "r#" + s
    return s


def variant_name(value):
    parts = re.split(r"[^A-Za-z0-9]+", value)
    name = "".join(p[:1].upper() + p[1:].lower() if p.isupper() else p[:1].upper() + p[1:] for p in parts if p)
    if not name or name[0].isdigit():
        name = "V" + name
    return name


def reachable(model, operations):
    shapes = model["shapes"]
    seen, order = set(), []

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        shape = shapes[name]
        t = shape["type"]
        if t == "structure":
            for m in shape.get("members", {}).values():
                visit(m["shape"])
        elif t == "list":
            visit(shape["member"]["shape"])
        elif t == "map":
            visit(shape["key"]["shape"])
            visit(shape["value"]["shape"])
        order.append(name)

    for op in operations:
        spec = model["operations"].get(op)
        if spec is None:
            sys.exit(f"unknown operation {op}")
        for io in ("input", "output"):
            if io in spec:
                visit(spec[io]["shape"])
    return order


def rust_type(model, name):
    shape = model["shapes"][name]
    t = shape["type"]
    if t == "structure":
        return name
    if t == "string":
        return name if "enum" in shape else "String"
    if t == "integer":
        return "i32"
    if t == "long":
        return "i64"
    if t == "boolean":
        return "bool"
    if t in ("double", "float"):
        return "f64"
    if t == "timestamp":
        return "crate::Timestamp"
    if t == "blob":
        return "String"
    if t == "list":
        return f"Vec<{rust_type(model, shape['member']['shape'])}>"
    if t == "map":
        k = rust_type(model, shape["key"]["shape"])
        v = rust_type(model, shape["value"]["shape"])
        return f"std::collections::BTreeMap<{k}, {v}>"
    if t == "document":
        return "serde_json::Value"
    sys.exit(f"unsupported shape type {t} ({name})")


QUERY_PROTOCOLS = ("query", "ec2")
SCALARS = ("integer", "long", "boolean", "double", "float")


def served_as_query(model):
    """Query-protocol services, and those served on the query wire too (CloudWatch's
    `protocols` lists `query` beside JSON: the aws CLI v1 sends form text)."""
    meta = model["metadata"]
    return meta["protocol"] in QUERY_PROTOCOLS or "query" in meta.get("protocols", [])


def query_serde(model, member_shape, required):
    """The serde attributes a member of a query-protocol service needs beyond its name."""
    t = model["shapes"][member_shape]["type"]
    if t in SCALARS:
        return ['deserialize_with = "crate::lenient::scalar"' if required else 'deserialize_with = "crate::lenient::opt_scalar"']
    if t == "timestamp":
        return ['with = "crate::timestamp::iso8601"' if required else 'with = "crate::timestamp::opt_iso8601"']
    if t in ("list", "map"):
        inner = [model["shapes"][member_shape]["member"]["shape"]] if t == "list" else [
            model["shapes"][member_shape]["key"]["shape"], model["shapes"][member_shape]["value"]["shape"]]
        types = [model["shapes"][i]["type"] for i in inner]
        if t == "list" and not required and types[0] in SCALARS:
            return ['deserialize_with = "crate::lenient::opt_scalars"']
        if t == "list" and not required and types[0] == "timestamp":
            return ['with = "crate::timestamp::opt_iso8601_list"']
        if t == "map" and types[1] in SCALARS:
            return []  # only in outputs (CloudWatch's ExtendedStatistics), never decoded from form text
        if any(ty in SCALARS + ("timestamp",) for ty in types):
            sys.exit(f"query protocol: a {t} of numbers, booleans or timestamps ({member_shape}) is not supported yet")
    return []


def emit_struct(model, name, out):
    shape = model["shapes"][name]
    required = set(shape.get("required", []))
    members = shape.get("members", {})
    query = served_as_query(model)
    derives = "Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize"
    if not required:
        derives += ", Default"
    out.append(f"#[derive({derives})]")
    if shape.get("exception"):
        out.append("#[allow(dead_code)]")
    out.append(f"pub struct {name} {{")
    for member, spec in members.items():
        ty = rust_type(model, spec["shape"])
        field = snake(member)
        extra = query_serde(model, spec["shape"], member in required) if query else []
        if member in required:
            attrs = [f'rename = "{member}"'] + extra
            out.append(f"    #[serde({', '.join(attrs)})]")
            out.append(f"    pub {field}: {ty},")
        else:
            attrs = [f'rename = "{member}"', "default"] + extra + ['skip_serializing_if = "Option::is_none"']
            out.append(f"    #[serde({', '.join(attrs)})]")
            out.append(f"    pub {field}: Option<{ty}>,")
    out.append("}")
    out.append("")


def emit_enum(model, name, out):
    values = model["shapes"][name]["enum"]
    out.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]")
    out.append(f"pub enum {name} {{")
    used = set()
    variants = []
    for v in values:
        vn = variant_name(v)
        while vn in used:
            vn += "_"
        used.add(vn)
        variants.append((vn, v))
        out.append(f'    #[serde(rename = "{v}")]')
        out.append(f"    {vn},")
    out.append("}")
    out.append("")
    out.append(f"impl {name} {{")
    out.append("    /// Every value the model allows, in the model's order.")
    out.append(f"    pub const ALL: &'static [{name}] = &[")
    for vn, _ in variants:
        out.append(f"        {name}::{vn},")
    out.append("    ];")
    out.append("")
    out.append("    /// The wire value.")
    out.append("    pub fn as_str(&self) -> &'static str {")
    out.append("        match self {")
    for vn, v in variants:
        out.append(f'            {name}::{vn} => "{v}",')
    out.append("        }")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl std::fmt::Display for {name} {{")
    out.append("    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {")
    out.append("        f.write_str(self.as_str())")
    out.append("    }")
    out.append("}")
    out.append("")


def generate(service, operations):
    model, version = load_model(service)
    order = reachable(model, operations)
    out = [
        f"// @generated by tools/gen_shapes.py from botocore's {service} {version} model",
        f"// (botocore {botocore.__version__}); the operations are listed in tools/shapes/{service}.txt.",
        "// Do not edit by hand: add the operation to the list and re-run the generator.",
        "",
        "/// The operations of this service that berth serves, by their wire names.",
        "pub const OPERATIONS: &[&str] = &[",
    ]
    for op in operations:
        out.append(f'    "{op}",')
    out.append("];")
    out.append("")
    for name in order:
        shape = model["shapes"][name]
        if shape["type"] == "structure":
            emit_struct(model, name, out)
        elif shape["type"] == "string" and "enum" in shape:
            emit_enum(model, name, out)
    return "\n".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    modules = []
    for path in sorted(glob.glob(os.path.join(LISTS, "*.txt"))):
        service = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            ops = [l.split("#")[0].strip() for l in f]
        ops = [o for o in ops if o]
        module = service.replace("-", "_")
        with open(os.path.join(OUT, f"{module}.rs"), "w") as f:
            f.write(generate(service, ops))
        modules.append(module)
        subprocess.run(["rustfmt", "--edition", "2024", os.path.join(OUT, f"{module}.rs")], check=True)
    with open(os.path.join(OUT, "mod.rs"), "w") as f:
        f.write("// @generated by tools/gen_shapes.py: one module per AWS service.\n")
        for m in modules:
            f.write(f"pub mod {m};\n")


if __name__ == "__main__":
    main()
