"""One router per resource: manifests, plans, sheets, fleet, network, KPIs, VROOM."""
