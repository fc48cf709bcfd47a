"""What the community map needs from the store: the outlines of the communities in scope."""
from __future__ import annotations

from sqlalchemy import Engine

from data.ingest.boundaries import load_boundaries
from metrics.context import Query


def outlines(engine: Engine, q: Query) -> dict[str, dict]:
    """GeoJSON geometry per community with an outline, limited to the query's scope."""
    shapes = load_boundaries(engine)
    return {name: g for name, g in shapes.items() if not q.scope or name in q.scope}
