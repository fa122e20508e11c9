"""A cohort's star alleles, called in a child process while the parent reads the file (issue 12).

:func:`kg.matcher.match.match_cohort` reads every record of a cohort once (tens of seconds for
thousands of samples, one core) and then called the star alleles of each gene once per group of
samples with the same calls at its positions (11-12 s of a 2,500-sample run's 74-89 s on one core,
bench/README.md "bench_cohort.py"). The calling needs
only the records at the PharmCAT definition positions, about a thousand, so a forked child reads
those itself (:func:`kg.matcher.positions.fetch` on the PGx positions alone) and calls them on the
second core while the parent's pass goes on; the parent takes the child's result after its pass.

Same answer by construction: the child builds a :class:`kg.matcher.cohort.CohortCalls` of the same
records by the same code and calls them with :func:`call_star_alleles`, the one function the parent
would otherwise run on its own pass's records. When the child cannot give a result (no ``fork`` on
this system, the child killed or failing), the parent calls them itself from its own pass: slower,
never different.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from kg.matcher.cohort import CohortCalls, GeneGroups
from kg.matcher.pgx.caller import OUTSIDE_CALL_GENES
from kg.matcher.pharmacogenomics import GeneResult, PgxData, vcf_results
from kg.matcher.positions import PositionIndex
from kg.matcher.vcf import open_cohort

log = logging.getLogger(__name__)


@dataclass
class StarAlleles:
    """Per gene: the samples' groups and each group's result (None: the group's calls are unusable)."""

    groups: dict[str, GeneGroups]
    results: dict[str, list[GeneResult | None]]
    seconds: float = 0.0  # the calling's own time; the child's includes reading its records
    beside: bool = False  # called by the child, beside the parent's pass


def call_star_alleles(pgx: PgxData, calls: CohortCalls) -> StarAlleles:
    """Per gene, once per group of samples with the same calls at its positions (CYP2D6, never called
    from a VCF, once for everyone), as :func:`kg.matcher.pharmacogenomics.vcf_results` calls one sample."""
    t0 = time.perf_counter()
    groups: dict[str, GeneGroups] = {}
    results: dict[str, list[GeneResult | None]] = {}
    for gene in sorted(pgx.definitions):
        outside = gene in OUTSIDE_CALL_GENES
        g = groups[gene] = calls.gene_groups(() if outside else pgx.gene_intervals(gene))
        others = frozenset(pgx.definitions) - {gene}
        results[gene] = [
            None if genotypes is None else vcf_results(pgx, genotypes, skip=others)[1][0] for genotypes in g.genotypes
        ]
        g.genotypes = []  # called: the groups' genotypes are not needed any more
    return StarAlleles(groups, results, time.perf_counter() - t0)


class StarAlleleJob:
    """The child process calling a cohort's star alleles beside the parent's pass (see the module)."""

    def __init__(
        self, path: str | os.PathLike[str], columns: Sequence[str], pgx: PgxData, pgx_index: PositionIndex
    ) -> None:
        self.pgx = pgx
        self._process: Any = None
        self._conn: Connection | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")  # the child inherits pgx and the index: nothing is pickled to it
        receive, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_child,
            args=(send, os.fspath(path), tuple(columns), pgx, pgx_index),
            name="kg-cohort-pgx",
            daemon=True,
        )
        self._process.start()
        send.close()
        self._conn = receive

    def result(self, calls: CohortCalls) -> StarAlleles:
        """The child's star alleles; when it has none to give, the same calls made here from ``calls``
        (the parent's pass)."""
        got: StarAlleles | None = None
        if self._conn is not None:
            try:
                kind, value = self._conn.recv()
                if kind == "ok":
                    got = value
                else:
                    log.warning("star alleles not called beside the read (%s); calling them here", value)
            except (EOFError, OSError) as err:
                log.warning("star alleles not called beside the read (child ended: %s); calling them here", err)
            finally:
                self.close(wait=True)
        return got if got is not None else call_star_alleles(self.pgx, calls)

    def close(self, wait: bool = False) -> None:
        """Reap the child: after its result (``wait``), or stopped at once (the parent's run failed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if not wait:
                self._process.terminate()
            self._process.join()
            self._process = None


def _child(send: Connection, path: str, columns: tuple[str, ...], pgx: PgxData, pgx_index: PositionIndex) -> None:
    """In the forked child: read the records at the PGx positions and call them; send the result or
    the error's text (the parent then calls them from its own pass)."""
    t0 = time.perf_counter()
    try:
        vcf = open_cohort(path, list(columns), check_build=False)
        calls = CohortCalls(str(vcf.path), vcf.columns, pgx_index, index=pgx_index)
        for site in vcf.sites(pgx_index):
            calls.add(site)
        star = call_star_alleles(pgx, calls)
        star.seconds, star.beside = time.perf_counter() - t0, True
        message: tuple[str, Any] = ("ok", star)
    except Exception as err:  # the parent decides: it calls them itself
        message = ("error", f"{type(err).__name__}: {err}")
    try:
        send.send(message)
    finally:
        send.close()
