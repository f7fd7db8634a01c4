"""Limits of the HTTP service: what a request or a plan job may cost before it is refused.

Two kinds. *Contract bounds* (list lengths, number ranges, id lengths) are part of the
published OpenAPI document and live as constants here; changing one changes the contract.
*Runtime limits* (body sizes, rows, fleet size, a job's memory and hard stop, failed
authentications) are fields of `Limits`, set per server with `serve --limit NAME=VALUE`.
The README's "Limits" section lists both with their defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

#: Seconds in a day: event times are seconds since local midnight in [0, DAY_S].
DAY_S = 86_400
#: Longest id in a path or body (plan, route, manifest, vehicle, point ids).
MAX_ID_CHARS = 64
#: Longest manifest file name (X-Filename header or ?filename=).
MAX_FILENAME_CHARS = 255
#: Longest free text in a request (a closed point's reason).
MAX_TEXT_CHARS = 200
#: Most manifests one plan may use.
MAX_MANIFEST_IDS = 1000
#: Most events in one re-plan request.
MAX_EVENTS = 100
#: Vehicles a plan request may list as off today.
MAX_VEHICLES_OFF = 1000
#: Plan solver time limit bounds (s).
MIN_TIME_LIMIT_S = 1.0
MAX_TIME_LIMIT_S = 3600.0
#: Most days one KPI request spans.
MAX_KPI_DAYS = 366
#: Most events in one scan batch (POST /v1/scans).
MAX_SCAN_BATCH = 500
#: VROOM: solver time limit (s), tasks (jobs plus shipment steps), vehicles, matrix side.
MAX_VROOM_TIME_LIMIT_S = 300.0
MAX_VROOM_TASKS = 2000
MAX_VROOM_VEHICLES = 200
MAX_VROOM_LOCATIONS = 2500
#: VROOM integers (amounts, capacities, times, costs) stay below this, so that sums over a
#: problem's tasks stay far inside the solver's int64. The optimizer's VROOM reader holds the
#: command line to the same bound (optimizer.vroom.reader.MAX_INT; a test keeps them equal).
MAX_VROOM_INT = 2**40

MB = 1024 * 1024
KB = 1024


def size_text(n_bytes: int) -> str:
    """A byte count as "20 MB", "256 KB" or "1500 bytes"."""
    if n_bytes >= MB and n_bytes % MB == 0:
        return f"{n_bytes // MB} MB"
    if n_bytes >= KB and n_bytes % KB == 0:
        return f"{n_bytes // KB} KB"
    return f"{n_bytes} bytes"


@dataclass(frozen=True)
class Limits:
    """Runtime limits of one server (bytes, counts, s, MB)."""

    #: Largest manifest upload (MB) and most rows per manifest.
    upload_mb: float = 20.0
    upload_rows: int = 200_000
    #: Largest JSON request body (KB): plans, re-plans.
    json_kb: int = 256
    #: Largest fleet TOML (KB) and most vehicles a fleet may have.
    fleet_kb: int = 1024
    fleet_vehicles: int = 500
    #: Largest VROOM problem body (MB).
    vroom_mb: float = 5.0
    #: Plan jobs solved at once (one process tree each).
    solvers: int = 1
    #: Resident memory (MB) a plan job's whole process tree may use.
    job_memory_mb: int = 4096
    #: A plan job is stopped after job_overhead_s + job_time_factor x time_limit_s (s).
    job_overhead_s: float = 120.0
    job_time_factor: float = 4.0
    #: Failed authentications: a key that failed is refused (429) after this many failures
    #: within auth_window_s; one address may try this many distinct unknown keys per window.
    auth_key_failures: int = 5
    auth_address_keys: int = 30
    auth_window_s: float = 60.0

    def body_cap(self, method: str, path: str) -> tuple[int, str]:
        """The body cap of a request: (bytes, name of the limit)."""
        route = (method, path.rstrip("/"))
        if route == ("POST", "/v1/manifests"):
            return int(self.upload_mb * MB), "upload_mb"
        if route == ("PUT", "/v1/fleet"):
            return self.fleet_kb * KB, "fleet_kb"
        if route == ("POST", "/v1/vroom"):
            return int(self.vroom_mb * MB), "vroom_mb"
        return self.json_kb * KB, "json_kb"

    def job_hard_stop_s(self, time_limit_s: float) -> float:
        """Wall-clock seconds after which a plan job is stopped, from its time limit.

        It covers every solve the job makes: in auto mode the station plan and the
        all-direct comparison, each leg's waves and first-solution fallbacks, loading the
        county, travel matrices and the validation.
        """
        return self.job_overhead_s + self.job_time_factor * time_limit_s

    @classmethod
    def names(cls) -> list[str]:
        """Names accepted by `serve --limit NAME=VALUE`."""
        return [f.name for f in dataclasses.fields(cls)]

    def with_settings(self, settings: list[str]) -> Limits:
        """These limits with `NAME=VALUE` settings applied; ValueError naming a bad one."""
        types = {f.name: f.type for f in dataclasses.fields(self)}
        changes: dict[str, float | int] = {}
        for setting in settings:
            name, sep, value = setting.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in types:
                raise ValueError(
                    f"--limit {setting!r}: expected NAME=VALUE with NAME one of "
                    f"{', '.join(self.names())}"
                )
            try:
                number = int(value) if types[name] in ("int", int) else float(value)
            except ValueError:
                raise ValueError(f"--limit {name}: {value!r} is not a number") from None
            if not number > 0 or number == float("inf"):
                raise ValueError(f"--limit {name}: must be a positive finite number")
            changes[name] = number
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
