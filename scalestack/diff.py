"""``scalestack diff BASE.json HEAD.json``: what a change does to the stack, from two
plan documents: resources added/removed/changed property by property, the cost delta
(Infracost-style headline), capacity verdict changes, and blocking findings: the
replacement or deletion of stateful resources."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from scalestack import markdown as md

FORMAT = "scalestack-diff/1"
STACK_TYPE = "pulumi:pulumi:Stack"

# Properties whose change makes the provider replace the resource (create new, delete
# old), per stateful type: a replacement loses the data. Small and explicit on purpose.
REPLACE_FORCING: dict[str, frozenset[str]] = {
    # ForceNew in pulumi-aws 7.x (bridged terraform-provider-aws v6). Not here because they
    # update in place: rds identifier/identifierPrefix (rename), dbSubnetGroupName; a cache's
    # transitEncryptionEnabled, and engine redis -> valkey from engine version 7.0.5.
    "aws:rds/instance:Instance": frozenset(
        {
            "engine",
            "dbName",
            "username",
            "storageEncrypted",
            "kmsKeyId",
            "characterSetName",
            "ncharCharacterSetName",
            "timezone",
            "availabilityZone",
            "customIamInstanceProfile",
            "snapshotIdentifier",
            "restoreToPointInTime",
            "s3Import",
            "backupTarget",
        }
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {
            "replicationGroupId",
            "atRestEncryptionEnabled",
            "kmsKeyId",
            "subnetGroupName",
            "snapshotArns",
            "snapshotName",
            "dataTieringEnabled",
            "port",
            "globalReplicationGroupId",
        }
    ),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:sqs/queue:Queue": frozenset({"name", "namePrefix", "fifoQueue"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "logGroupClass"}),
    "aws:kms/key:Key": frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"}),
}
STATEFUL_TYPES = frozenset(REPLACE_FORCING)


def resource_key(urn: str) -> str:
    """The URN without the stack and project: the same resource in dev and prod matches
    (the root stack's name holds the stack name, so it keys by type alone)."""
    key = "::".join(urn.split("::")[2:])
    return STACK_TYPE if key.startswith(STACK_TYPE + "::") else key


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def property_changes(type_: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = flatten(before), flatten(after)
    forcing = REPLACE_FORCING.get(type_, frozenset())
    changes = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            top = path.split(".")[0].split("[")[0]
            changes.append({"path": path, "before": a.get(path), "after": b.get(path), "forces_replacement": top in forcing})
    return changes


def headline(before: float, after: float) -> str:
    delta = after - before
    if abs(delta) < 0.005:
        return f"monthly cost will not change ({md.usd(after)})"
    direction = "increase" if delta > 0 else "decrease"
    pct = f"{delta / before * 100:+.0f}%" if before else "new"
    return f"monthly cost will {direction} by {md.usd(abs(delta))} ({pct})"


def _cost(doc: dict[str, Any]) -> dict[str, Any]:
    cost: dict[str, Any] = doc.get("cost") or {"monthly_usd": 0.0, "by_tier": {}}
    return cost


def diff_documents(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    old = {resource_key(r["urn"]): r for r in base["resources"]}
    new = {resource_key(r["urn"]): r for r in head["resources"]}
    added = [{"key": k, "type": new[k]["type"], "monthly_usd": new[k].get("monthly_usd", 0.0)} for k in sorted(set(new) - set(old))]
    removed = [{"key": k, "type": old[k]["type"], "monthly_usd": old[k].get("monthly_usd", 0.0)} for k in sorted(set(old) - set(new))]
    changed, blocking = [], []
    for k in sorted(set(old) & set(new)):
        props = property_changes(new[k]["type"], old[k].get("inputs", {}), new[k].get("inputs", {}))
        cost_delta = round(new[k].get("monthly_usd", 0.0) - old[k].get("monthly_usd", 0.0), 2)
        if not props and not cost_delta:
            continue
        replaced = [p["path"] for p in props if p["forces_replacement"]]
        changed.append({"key": k, "type": new[k]["type"], "replace": bool(replaced), "changes": props, "monthly_usd_delta": cost_delta})
        if replaced and new[k]["type"] in STATEFUL_TYPES:
            detail = ", ".join(f"{p['path']}: {p['before']} -> {p['after']}" for p in props if p["forces_replacement"])
            blocking.append(f"replaces stateful {new[k]['type']} {new[k]['name']} ({detail}): its data would be lost")
    for r in removed:
        if r["type"] in STATEFUL_TYPES:
            blocking.append(f"deletes stateful {r['type']} {r['key'].rsplit('::', 1)[-1]}: its data would be lost")
    bc, hc = _cost(base), _cost(head)
    tiers = sorted(set(bc["by_tier"]) | set(hc["by_tier"]))
    by_tier = {t: {"before": bc["by_tier"].get(t, 0.0), "after": hc["by_tier"].get(t, 0.0)} for t in tiers}
    for v in by_tier.values():
        v["delta"] = round(v["after"] - v["before"], 2)
    before_v = {(v["tier"], v["measure"]): v for v in (base.get("capacity") or {}).get("verdicts", [])}
    after_v = {(v["tier"], v["measure"]): v for v in (head.get("capacity") or {}).get("verdicts", [])}
    capacity_changes = [
        {"tier": t, "measure": m, "before": before_v.get((t, m), {}).get("verdict"), "after": after_v.get((t, m), {}).get("verdict")}
        for t, m in sorted(set(before_v) | set(after_v))
        if before_v.get((t, m), {}).get("verdict") != after_v.get((t, m), {}).get("verdict")
    ]
    return {
        "format": FORMAT,
        "project": head.get("project"),
        "base": base.get("stack"),
        "head": head.get("stack"),
        "headline": headline(bc["monthly_usd"], hc["monthly_usd"]),
        "cost": {
            "before": bc["monthly_usd"],
            "after": hc["monthly_usd"],
            "delta": round(hc["monthly_usd"] - bc["monthly_usd"], 2),
            "by_tier": {t: v for t, v in by_tier.items() if v["before"] or v["after"]},
        },
        "added": added,
        "removed": removed,
        "changed": changed,
        "capacity_changes": capacity_changes,
        "blocking": blocking + list(head.get("blocking", [])),
    }


def _fmt(v: Any) -> str:
    return "(none)" if v is None else f"`{v}`"


def diff_markdown(d: dict[str, Any]) -> str:
    n = len(d["blocking"])
    parts = [
        md.marker(str(d["project"]), str(d["head"])),
        f"## `{d['head']}`: {d['headline']}",
        f"{len(d['added'])} to add, {len(d['changed'])} to change, {len(d['removed'])} to delete; "
        + (f":no_entry: **{n} blocking finding{'s' if n != 1 else ''}**" if n else "no blocking findings"),
    ]
    if d["blocking"]:
        parts.append("### Blocking\n\n" + "\n".join(f"- :no_entry: {md.cell(b)}" for b in d["blocking"]))
    c = d["cost"]
    rows = [[t, md.usd(v["before"]), md.usd(v["after"]), f"{v['delta']:+,.2f}"] for t, v in c["by_tier"].items()]
    rows.append(["**total**", md.usd(c["before"]), md.usd(c["after"]), f"**{c['delta']:+,.2f}**"])
    parts.append("### Monthly cost\n\n" + md.table(["tier", "previous", "new", "diff"], rows))
    if d["capacity_changes"]:
        parts.append(
            "### Capacity verdicts\n\n"
            + md.table(["tier", "measure", "before", "after"], [[v["tier"], v["measure"], v["before"], v["after"]] for v in d["capacity_changes"]])
        )
    res_rows = [["+", f"`{a['key']}`", md.usd(a["monthly_usd"])] for a in d["added"]]
    res_rows += [["-", f"`{r['key']}`", md.usd(-r["monthly_usd"])] for r in d["removed"]]
    res_rows += [["-/+" if ch["replace"] else "~", f"`{ch['key']}`", f"{ch['monthly_usd_delta']:+,.2f}"] for ch in d["changed"]]
    parts.append(md.folded(f"Resources ({len(res_rows)})", md.table(["op", "resource", "monthly diff"], res_rows)))
    prop_rows = [
        [f"`{ch['key'].rsplit('::', 1)[-1]}`", p["path"], _fmt(p["before"]), _fmt(p["after"]), "replace" if p["forces_replacement"] else ""]
        for ch in d["changed"]
        for p in ch["changes"]
    ]
    parts.append(md.folded(f"Property changes ({len(prop_rows)})", md.table(["resource", "property", "before", "after", ""], prop_rows)))
    return md.cap("\n\n".join(parts) + "\n")


def render_diff(d: dict[str, Any], console: Console) -> None:
    style = "red" if d["cost"]["delta"] > 0 else "green"
    console.print(f"[bold]{d['base']} -> {d['head']}[/]: [{style}]{d['headline']}[/{style}]")
    table = Table(title="Resources")
    for col in ("op", "resource", "type", "monthly diff"):
        table.add_column(col)
    for a in d["added"]:
        table.add_row("[green]+[/]", a["key"].rsplit("::", 1)[-1], a["type"], f"{a['monthly_usd']:+,.2f}")
    for r in d["removed"]:
        table.add_row("[red]-[/]", r["key"].rsplit("::", 1)[-1], r["type"], f"{-r['monthly_usd']:+,.2f}")
    for ch in d["changed"]:
        op = "[red]-/+[/]" if ch["replace"] else "[yellow]~[/]"
        table.add_row(op, ch["key"].rsplit("::", 1)[-1], ch["type"], f"{ch['monthly_usd_delta']:+,.2f}")
        for p in ch["changes"][:20]:
            flag = " [red](forces replacement)[/]" if p["forces_replacement"] else ""
            table.add_row("", f"  [dim]{p['path']}[/]", f"{p['before']} -> {p['after']}{flag}", "")
    console.print(table)
    for v in d["capacity_changes"]:
        console.print(f"capacity {v['tier']} {v['measure']}: {v['before']} -> {v['after']}")
    for b in d["blocking"]:
        console.print(f"[bold red]blocking:[/] {b}")
