"""The catalogue of domains declared to the engine: where the CLI, the report and the
pages find a domain by its key. A new domain adds one line here."""
from __future__ import annotations

from metrics import appraisal, attendance, benefits, cases, incidents, petitions, worklogs
from metrics.engine import Composite, Domain, Union

DOMAINS: dict[str, Domain | Composite | Union] = {d.name: d for d in (
    cases.DOMAIN, petitions.DOMAIN, incidents.DOMAIN, attendance.DOMAIN, worklogs.DOMAIN,
    appraisal.DOMAIN, benefits.DOMAIN)}
