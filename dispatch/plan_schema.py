"""The JSON Schema of plan.json, generated from the typed model (dispatch.plan.Plan).

`python -m dispatch.plan_schema` rewrites docs/plan.schema.json; `--check` only compares and
exits 1 when the committed file is out of date (a test runs the check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dispatch.plan import Plan

#: Where the committed schema lives, relative to the repository root.
SCHEMA_PATH = Path("docs") / "plan.schema.json"


def plan_schema() -> dict[str, Any]:
    """The plan's JSON Schema (draft 2020-12), as committed."""
    schema = Plan.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema as the committed file's text."""
    return json.dumps(plan_schema(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the schema file under the current directory."""
    path = Path.cwd() / SCHEMA_PATH
    text = schema_text()
    if "--check" in argv:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is out of date: run python -m dispatch.plan_schema", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
