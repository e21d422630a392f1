"""Redirect targets that stay on this site."""


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: never an absolute or
    protocol-relative URL (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
