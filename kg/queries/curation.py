"""Curators' submissions: evidence submitted, then accepted or rejected by a moderator.

A submission is an ``Evidence {id: "curated:<uuid>", source: "curated", status: "SUBMITTED"}``
linked like loaded evidence (ABOUT a Variant or MolecularProfile, FOR_DISEASE, FOR_DRUG) and
ASSERTED_BY the always-active ``Source {key: "curated@live"}``. Answers show only evidence whose
status is absent or ACCEPTED (kg.queries.visibility.VISIBLE_EVIDENCE), so a submission stays
invisible until a moderator accepts it; the moderator, time and comment are kept on the node. A
moderator never decides their own submission (issue 9: four eyes); submitter and moderator are the
callers' token subjects, never typed by them (api/curation.py).
The variant, disease and drug a curator names resolve as everywhere else (kg.queries.resolve); a
submission naming an obsolete disease is recorded against its replacement, with the obsolete id
kept as ``diseaseReplacedFrom``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kg.db import Graph
from kg.queries.knowledge import EVIDENCE_PROJECTION, EvidencePage, EvidenceView, evidence_view
from kg.queries.resolve import Match, Unresolved, resolve_disease, resolve_drug, resolve_variant
from kg.queries.visibility import active, state_params

Row = dict[str, Any]

SOURCE_KEY = "curated@live"
SOURCE_NAME = "curated"
SOURCE_LICENCE = "CC0 1.0 (curator submissions)"

SUBMITTED, ACCEPTED, REJECTED = "SUBMITTED", "ACCEPTED", "REJECTED"
STATUSES = (SUBMITTED, ACCEPTED, REJECTED)
DECISIONS = (ACCEPTED, REJECTED)

EVIDENCE_TYPES = (
    "predictive",
    "prognostic",
    "diagnostic",
    "predisposing",
    "functional",
    "oncogenic",
    "pathogenicity",
    "pgx",
)
DIRECTIONS = ("supports", "does not support")
_PMID = re.compile(r"^(?:PMID:)?(\d{1,9})$", re.IGNORECASE)
MAX_TEXT = 5000


class InvalidSubmission(ValueError):
    """What is wrong with a submission, every problem at once (a curator fixes them in one go)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Submission:
    target: str  # a Variant id (any spelling parse_variant_id reads) or a MolecularProfile id
    disease: str  # a disease id or name
    type: str
    significance: str
    direction: str
    statement: str
    submitter: str
    drug: str | None = None
    level: str | None = None
    origin: str | None = None
    pmids: list[str] = field(default_factory=list)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def check(sub: Submission) -> list[str]:
    """Problems that need no database: vocabulary, required text, PubMed ids."""
    problems = []
    if _clean(sub.type).lower() not in EVIDENCE_TYPES:
        problems.append(f"type {sub.type!r} is not one of {', '.join(EVIDENCE_TYPES)}")
    if _clean(sub.direction).lower() not in DIRECTIONS:
        problems.append(f"direction {sub.direction!r} is not one of {', '.join(DIRECTIONS)}")
    for name in ("target", "disease", "significance", "statement", "submitter"):
        if not _clean(getattr(sub, name)):
            problems.append(f"{'variant' if name == 'target' else name} must not be empty")
    if len(sub.statement) > MAX_TEXT:
        problems.append(f"statement is longer than {MAX_TEXT} characters")
    bad = [p for p in sub.pmids if not _PMID.match(p.strip())]
    if bad:
        problems.append(f"pmids must be PubMed ids (digits): {', '.join(map(repr, bad))}")
    if _clean(sub.type).lower() == "predictive" and not _clean(sub.drug):
        problems.append("predictive evidence needs a drug")
    return problems


PROFILE = f"MATCH (mp:MolecularProfile {{id: $id}}) WHERE {active('mp')} RETURN mp.id AS id"


@dataclass(frozen=True)
class Resolved:
    target: str
    target_label: str
    disease: Match
    drug: Match | None


def resolve(graph: Graph, sub: Submission) -> Resolved:
    """The entities behind the submission's references; InvalidSubmission naming each that fails.

    The target is a MolecularProfile id, else a variant in any form kg.queries.resolve reads.
    """
    problems: list[str] = []
    target: tuple[str, str] | None = None
    disease = drug = None
    text = _clean(sub.target)
    profile = graph.read(PROFILE, id=text, **state_params(None))
    try:
        target = (profile[0]["id"], "MolecularProfile") if profile else (resolve_variant(graph, text).id, "Variant")
    except Unresolved as err:
        problems.append(f"{err} (or a MolecularProfile id)")
    try:
        disease = resolve_disease(graph, _clean(sub.disease))
    except Unresolved as err:
        problems.append(str(err))
    if _clean(sub.drug):
        try:
            drug = resolve_drug(graph, _clean(sub.drug))
        except Unresolved as err:
            problems.append(str(err))
    if problems or target is None or disease is None:
        raise InvalidSubmission(problems)
    return Resolved(target=target[0], target_label=target[1], disease=disease, drug=drug)


CREATE = f"""
OPTIONAL MATCH (v:Variant {{id: $target}})
OPTIONAL MATCH (mp:MolecularProfile {{id: $target}})
WITH coalesce(mp, v) AS t
MATCH (dis:Disease {{id: $disease}})
OPTIONAL MATCH (dr:Drug {{id: $drug}})
WITH t, dis, dr WHERE t IS NOT NULL AND ($drug IS NULL OR dr IS NOT NULL)
MERGE (s:Source {{key: $sourceKey}})
ON CREATE SET s.name = $sourceName, s.version = 'live', s.status = 'active', s.licence = $licence,
              s.loadedAt = $now
CREATE (e:Evidence {{id: $id}})
SET e += $props
CREATE (e)-[:ASSERTED_BY]->(s)
CREATE (e)-[:ABOUT {{releases: [$sourceKey]}}]->(t)
CREATE (e)-[:FOR_DISEASE {{releases: [$sourceKey]}}]->(dis)
FOREACH (_ IN CASE WHEN dr IS NULL THEN [] ELSE [1] END | CREATE (e)-[:FOR_DRUG {{releases: [$sourceKey]}}]->(dr))
RETURN {EVIDENCE_PROJECTION} AS evidence
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def submit_evidence(graph: Graph, sub: Submission) -> EvidenceView:
    """Validate, resolve and write one submission (status SUBMITTED); returns the evidence."""
    problems = check(sub)
    if problems:
        raise InvalidSubmission(problems)
    found = resolve(graph, sub)
    pmids = [_PMID.match(p.strip())[1] for p in sub.pmids]  # type: ignore[index]
    props = {
        "source": SOURCE_NAME,
        "status": SUBMITTED,
        "submittedBy": _clean(sub.submitter),
        "submittedAt": _now(),
        "type": _clean(sub.type).lower(),
        "direction": _clean(sub.direction).lower(),
        "significance": _clean(sub.significance).lower(),
        "level": _clean(sub.level).upper() or None,
        "statement": sub.statement.strip(),
        "pmids": pmids,
        "citations": [f"PMID:{p}" for p in pmids],
        "origin": _clean(sub.origin).lower() or None,
        "therapies": [found.drug.name or found.drug.id] if found.drug else [],
        "diseaseReplacedFrom": found.disease.replaced_from["id"] if found.disease.replaced_from else None,
    }
    rows = graph.write(
        CREATE,
        id=f"curated:{uuid.uuid4()}",
        props=props,
        target=found.target,
        disease=found.disease.id,
        drug=found.drug.id if found.drug else None,
        sourceKey=SOURCE_KEY,
        sourceName=SOURCE_NAME,
        licence=SOURCE_LICENCE,
        now=props["submittedAt"],
    )
    if not rows:  # a referenced node vanished between resolving and writing (a release was replaced)
        raise InvalidSubmission(["a referenced node changed while submitting; submit again"])
    return evidence_view(rows[0]["evidence"])


class NotModeratable(ValueError):
    """Only SUBMITTED evidence can be moderated."""


class UnknownEvidence(LookupError):
    pass


class OwnSubmission(PermissionError):
    """A moderator may not decide evidence they submitted themselves."""


# The lock property makes check-and-set atomic: two moderators cannot both decide one item.
MODERATE = f"""
MATCH (e:Evidence {{id: $id}})
SET e.moderationLock = true
WITH e, e.status AS before, e.submittedBy AS submitter
FOREACH (_ IN CASE WHEN before = $submitted AND coalesce(submitter, '') <> $moderator THEN [1] ELSE [] END |
  SET e.status = $decision, e.moderatedBy = $moderator, e.moderatedAt = $now, e.moderationComment = $comment)
REMOVE e.moderationLock
RETURN before, submitter, {EVIDENCE_PROJECTION} AS evidence
"""


def moderate_evidence(graph: Graph, evidence_id: str, decision: str, comment: str, moderator: str) -> EvidenceView:
    """Accept or reject a SUBMITTED item someone else submitted, recording who, when and why; returns
    the evidence. OwnSubmission when ``moderator`` submitted it."""
    if decision not in DECISIONS:
        raise NotModeratable(f"decision must be one of {', '.join(DECISIONS)}")
    problems = [f"{n} must not be empty" for n, v in (("comment", comment), ("moderator", moderator)) if not _clean(v)]
    if problems:
        raise NotModeratable("; ".join(problems))
    rows = graph.write(
        MODERATE,
        id=evidence_id.strip(),
        decision=decision,
        comment=comment.strip(),
        moderator=_clean(moderator),
        now=_now(),
        submitted=SUBMITTED,
    )
    if not rows:
        raise UnknownEvidence(f"no evidence {evidence_id!r}")
    before = rows[0]["before"]
    if before != SUBMITTED:
        state = before or "loaded from a source release"
        raise NotModeratable(f"evidence {evidence_id!r} is {state}; only {SUBMITTED} items can be moderated")
    if rows[0]["submitter"] == _clean(moderator):
        raise OwnSubmission(f"evidence {evidence_id!r} was submitted by {moderator}; another moderator must decide it")
    return evidence_view(rows[0]["evidence"])


CURATED_PAGE = f"""
CALL () {{
  MATCH (e:Evidence {{source: $sourceName}}) WHERE e.status = $status
  RETURN count(e) AS total
}}
CALL () {{
  MATCH (e:Evidence {{source: $sourceName}}) WHERE e.status = $status AND e.id > $after
  WITH e ORDER BY e.id LIMIT $limit
  RETURN collect(e) AS page
}}
RETURN total, [e IN page | {EVIDENCE_PROJECTION}] AS rows
"""


def curated_page(graph: Graph, status: str, first: int, after: str | None = None) -> EvidencePage:
    """Curated evidence with ``status`` (the moderation queue: SUBMITTED) in id order."""
    if status not in STATUSES:
        raise ValueError(status)
    row = graph.read(CURATED_PAGE, sourceName=SOURCE_NAME, status=status, after=after or "", limit=first + 1)[0]
    return EvidencePage.of(row, first)
