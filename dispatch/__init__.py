"""The domain: manifests, fleet, consolidation, plans and exports."""
