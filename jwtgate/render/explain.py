"""Text and JSON for ``jwtgate explain``: model reach, role access, the access matrix (traces: render.decision)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jwtgate.model import Decision, Location
from jwtgate.policy.reports import GrantTrial, MatrixRow, ModelAccess, RoleAccess
from jwtgate.render.decision import location_to_json, reason_to_json


def line_of(loc: Location | None) -> str:
    """``file:line`` (the column is noise for a person reading a config)."""
    return f"{loc.file}:{loc.line}" if loc is not None else "(default)"


# --- --model -----------------------------------------------------------------------------------------


def _trial_line(p: GrantTrial) -> str:
    scopes = "".join(f" and scope contains {s!r}" for s in p.scopes)
    role = p.decision.role or "no role"
    shadow = ""
    if p.grant.role != p.decision.role:
        shadow = f" (this grant is shadowed: decide() resolves it to {role})"
    return f"  {role}: {p.grant.condition}{scopes}{shadow}"


def model_text(ma: ModelAccess) -> str:
    lines = [f"model '{ma.model}' on {ma.route}"]
    if not ma.in_model_list:
        lines.append(f"  '{ma.model}' is not in model_list: the gateway cannot route it, nobody can use it")
        return "\n".join(lines) + "\n"
    lines.append(f"  defined at {line_of(ma.model_location)}")
    if ma.requirements:
        lines.append("  every token must also carry: " + "; ".join(ma.requirements))
    if ma.everyone:
        lines.append("  everyone: any verified token may use it (RBAC not enforced: enforce_rbac is off)")
    elif not ma.allowed:
        lines.append("  nobody: no role, scope or claim reaches it")
    for p in ma.allowed:
        lines.append(_trial_line(p))
        lines.append("    config: " + ", ".join(line_of(loc) for loc in p.config_lines()))
    if ma.denied:
        lines.append("denied:")
        for p in ma.denied:
            code = p.decision.reason.code if p.decision.reason else "denied"
            lines.append(f"{_trial_line(p)}: {code}")
    return "\n".join(lines) + "\n"


def _trial_json(p: GrantTrial) -> dict[str, Any]:
    return {"role": p.decision.role, "grant_role": p.grant.role, "kind": p.grant.kind,
            "condition": p.grant.condition, "value": p.grant.value, "scopes": list(p.scopes),
            "claims": p.claims, "config_lines": [location_to_json(loc) for loc in p.config_lines()],
            "reason": reason_to_json(p.decision.reason), "notes": list(p.decision.notes)}


def model_json(ma: ModelAccess) -> dict[str, Any]:
    who = "not_in_model_list" if not ma.in_model_list else "everyone" if ma.everyone else \
        "some" if ma.allowed else "nobody"
    return {"model": ma.model, "route": ma.route, "in_model_list": ma.in_model_list,
            "requirements": list(ma.requirements),
            "location": location_to_json(ma.model_location), "who": who,
            "allowed": [_trial_json(p) for p in ma.allowed] if ma.in_model_list else [],
            "denied": [_trial_json(p) for p in ma.denied]}


# --- --role ------------------------------------------------------------------------------------------


def _routes_line(d: Decision) -> str:
    if d.routes is None:
        return "non-admin defaults (LLM API and info routes)"
    return ", ".join(d.routes) or "(none)"


def role_text(role: str, items: Sequence[RoleAccess]) -> str:
    if not items:
        return f"role '{role}': no config condition grants it (not a gateway role or JWT role value here)\n"
    lines = [f"role '{role}'"]
    for ra in items:
        p = ra.trial
        lines.append(f"- {p.grant.condition} -> {p.decision.role or 'no role'}")
        lines.append(f"    models: {', '.join(ra.models) or '(none)'}")
        lines.append(f"    routes: {_routes_line(p.decision)}")
        if ra.permission_routes is not None:
            lines.append(f"    and role_permissions routes: {', '.join(ra.permission_routes) or '(none)'}  "
                         f"[{line_of(ra.permission_location)}]")
        lines.append("    config: " + ", ".join(line_of(loc) for loc in p.config_lines()))
        if p.decision.reason is not None:
            lines.append(f"    denied: {p.decision.reason.message}")
    return "\n".join(lines) + "\n"


def role_json(role: str, items: Sequence[RoleAccess]) -> dict[str, Any]:
    return {"role": role, "grants": [
        {**_trial_json(ra.trial), "models": list(ra.models),
         "routes": None if ra.trial.decision.routes is None else list(ra.trial.decision.routes),
         "permission_routes": None if ra.permission_routes is None else list(ra.permission_routes)}
        for ra in items]}


# --- matrix ------------------------------------------------------------------------------------------


def matrix_text(models: Sequence[str], rows: Sequence[MatrixRow], route: str) -> str:
    head = ["role (JWT condition)", *models]
    body = [[_row_label(r), *(_cell(r, m) for m in models)] for r in rows]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [f"access matrix on {route}", fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines.extend(fmt.format(*row).rstrip() for row in body)
    if any(r.with_scope for r in rows):
        lines.append("scope:S = allowed only when the token's scope claim also contains S (scope_mappings)")
    return "\n".join(lines) + "\n"


def _cell(r: MatrixRow, model: str) -> str:
    if model in r.allowed:
        return "yes"
    return f"scope:{r.with_scope[model]}" if model in r.with_scope else "-"


def _row_label(r: MatrixRow) -> str:
    label = r.grant.label
    if r.role != r.grant.role:
        label += f" (resolves to {r.role or 'no role'})"
    return label


def matrix_json(models: Sequence[str], rows: Sequence[MatrixRow], route: str) -> dict[str, Any]:
    return {"route": route, "models": list(models), "rows": [
        {"role": r.role, "grant_role": r.grant.role, "kind": r.grant.kind, "value": r.grant.value,
         "condition": r.grant.condition, "location": location_to_json(r.grant.location), "issuer": r.grant.issuer,
         "allowed": list(r.allowed), "allowed_with_scope": r.with_scope, "denied": r.reasons} for r in rows]}
