"""GPX 1.1 of one route for a driver's phone: a waypoint per stop and a track along the roads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from dispatch.plan import Plan
from dispatch.route_sheet import hhmm
from geodata.points import ServicePoint

GPX_NS = "http://www.topografix.com/GPX/1/1"


def route_gpx(
    plan: Plan,
    route_id: str,
    points: Mapping[str, ServicePoint],
    road: Sequence[tuple[float, float]],
) -> str:
    """GPX 1.1 text: waypoints named "<seq> <Chinese point name>" with ETA and parcel counts in
    `desc`, and one track segment along `road`, the route's road polyline (WGS-84 lon, lat)."""
    route = plan.route(route_id)
    ET.register_namespace("", GPX_NS)
    root = ET.Element(_q("gpx"), {"version": "1.1", "creator": "ruraldispatch"})
    meta = ET.SubElement(root, _q("metadata"))
    ET.SubElement(meta, _q("name")).text = f"{plan.date} {route_id} {route.vehicle_id}"
    for stop in route.stops:
        point = points[stop.point_id]
        wpt = ET.SubElement(root, _q("wpt"), _latlon(point.lon, point.lat))
        ET.SubElement(wpt, _q("name")).text = f"{stop.seq} {point.name}"
        ET.SubElement(wpt, _q("desc")).text = (
            f"到达 {hhmm(stop.arrival_s)} 离开 {hhmm(stop.departure_s)}；"
            f"卸 {len(stop.drop)} 件，装 {len(stop.load)} 件"
        )
    trk = ET.SubElement(root, _q("trk"))
    ET.SubElement(trk, _q("name")).text = f"{route_id} {route.vehicle_id}"
    seg = ET.SubElement(trk, _q("trkseg"))
    for lon, lat in road:
        ET.SubElement(seg, _q("trkpt"), _latlon(lon, lat))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _q(tag: str) -> str:
    """Tag in the GPX namespace."""
    return f"{{{GPX_NS}}}{tag}"


def _latlon(lon: float, lat: float) -> dict[str, str]:
    """GPX lat/lon attributes, 7 decimals."""
    return {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}
