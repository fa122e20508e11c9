"""The hostile-input corpus (issue 9): VCF uploads, GraphQL arguments and documents, HTTP bodies and
release files that a careless or hostile client could send. Each case must get a clear coded error
(never a 500, never the masked INTERNAL), and nothing may be partly written: the graph's node and
relationship counts are the same before and after every case.

The GraphQL injection cases are enumerated from the schema by introspection: every String argument
(and every String field of an input argument) of every query and mutation gets each payload, so an
argument added later is covered without touching this file. The VCFs and release files are made
here from the seeds; nothing hostile is committed.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.loaders import clinvar, doid, hgnc
from kg.loaders.errors import SourceFormatError
from kg.loaders.seeds import default_seed_dir
from tests.api_graph import admin_client, api_graph  # noqa: F401 (fixture)

DEMO_VCF = default_seed_dir() / "patients" / "demo.vcf"
PATIENT = "test-api-hostile"
HEADERS = {"X-KG-Request": "1"}
CLEAR_CODES = {"BAD_INPUT", "NOT_FOUND", "QUERY_TOO_BROAD", "TOO_LARGE", "TIMEOUT", "OUT_OF_MEMORY"}

# --- the graph must not change --------------------------------------------------------------


def totals(graph: Graph) -> tuple[int, int]:
    row = graph.read(
        "CALL () { MATCH (n) RETURN count(n) AS n } CALL () { MATCH ()-[r]->() RETURN count(r) AS r } RETURN n, r"
    )
    return row[0]["n"], row[0]["r"]


@pytest.fixture(scope="module")
def hostile(api_graph: Graph, auth_settings: AuthSettings) -> Iterator[tuple[TestClient, Graph]]:
    """A client with small upload limits (so a zip bomb or a long line is cheap to make) and a rate
    limit no corpus reaches."""
    settings = dataclasses.replace(
        api_graph.settings,
        rate_limit="100000/minute",
        max_vcf_bytes=4 * 1024 * 1024,
        max_vcf_line=64 * 1024,
        max_upload_bytes=2 * 1024 * 1024,
    )
    with admin_client(settings, auth_settings, raise_server_exceptions=False) as client:
        yield client, api_graph


@pytest.fixture
def unchanged(hostile: tuple[TestClient, Graph]) -> Iterator[TestClient]:
    """The client; afterwards the graph holds exactly the nodes and relationships it held before."""
    client, graph = hostile
    before = totals(graph)
    yield client
    assert totals(graph) == before, "a hostile input changed the graph"


def assert_clear_graphql_error(response: Any, codes: set[str] = CLEAR_CODES) -> dict[str, Any]:
    """HTTP 200, errors only (or data), each error coded with one of ``codes``; no INTERNAL, no trace."""
    assert response.status_code == 200, response.text
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in codes, error
    assert "Traceback" not in response.text and "/tmp/" not in response.text
    return body


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


# --- VCF uploads -------------------------------------------------------------------------------


def _demo() -> str:
    return DEMO_VCF.read_text(encoding="utf-8")


def _header() -> str:
    return _demo().split("#CHROM")[0]


COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tDEMO\n"
RECORD = "chr7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n"


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _zip_bomb() -> bytes:
    """A gzip stream of a valid header and then 16 MiB of one repeated record line (~40 KB compressed)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress((_header() + COLUMNS).encode())]
    block = RECORD.encode() * 40000
    for _ in range(16 * 1024 * 1024 // len(block) + 1):
        out.append(z.compress(block))
    out.append(z.flush())
    return b"".join(out)


def _vcf_cases() -> dict[str, tuple[str, bytes]]:
    header, demo = _header(), _demo().encode()
    grch37 = header.replace("GRCh38", "GRCh37").replace("248956422", "249250621").replace("159345973", "159138663")
    return {
        "empty": ("e.vcf", b""),
        "binary": ("b.vcf", bytes(range(256)) * 64),
        "binary-gz-name": ("b.vcf.gz", os.urandom(4096)),
        "truncated-gzip": ("t.vcf.gz", _gzip(demo)[: len(_gzip(demo)) // 2]),
        "gzip-then-garbage": ("g.vcf.gz", _gzip(demo) + b"not gzip at all" * 10),
        "zip-bomb": ("z.vcf.gz", _zip_bomb()),
        "huge-line": (
            "h.vcf",
            (header + COLUMNS + "chr7\t140753336\t.\tA\tT\t.\tPASS\t" + "X" * 200_000 + "\tGT\t0/1\n").encode(),
        ),
        "wrong-build": ("w.vcf", (grch37 + COLUMNS + RECORD).encode()),
        "bad-gt": ("gt.vcf", (header + COLUMNS + RECORD.replace("0/1", "A/B")).encode()),
        "gt-index-out-of-range": ("gi.vcf", (header + COLUMNS + RECORD.replace("0/1", "0/7")).encode()),
        "non-utf8": (
            "u.vcf",
            (header + COLUMNS).encode() + b"chr7\t140753336\t.\tA\tT\t.\tPASS\tNOTE=\xff\xfe\xc3\tGT\t0/1\n",
        ),
        "header-only": ("ho.vcf", (header + COLUMNS).encode()),
        "missing-columns": ("mc.vcf", (header + COLUMNS + "chr7\t140753336\t.\tA\n").encode()),
        "no-chrom-line": ("nc.vcf", (header + RECORD).encode()),
        "no-header": ("nh.vcf", RECORD.encode()),
        "position-not-a-number": ("p.vcf", (header + COLUMNS + RECORD.replace("140753336", "abc")).encode()),
        "sites-only": (
            "s.vcf",
            (header + COLUMNS.replace("\tFORMAT\tDEMO", "") + RECORD.rsplit("\tGT", 1)[0] + "\n").encode(),
        ),
        "html-page": ("x.vcf", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"),
        "bcf-magic-garbage": ("x.bcf", b"BCF\x02\x02" + os.urandom(2000)),
        "over-upload-limit": ("big.vcf", b"#" * (2 * 1024 * 1024 + 10)),
    }


VCF_CASES = _vcf_cases()


def upload(client: TestClient, filename: str, content: bytes, patient: str = PATIENT) -> Any:
    operations = json.dumps(
        {
            "query": "mutation($file: Upload!, $patient: String!) {"
            " submitPatientVcf(patientId: $patient, file: $file) { patientId variantsMatched } }",
            "variables": {"file": None, "patient": patient},
        }
    )
    return client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "application/octet-stream")},
        headers=HEADERS,
    )


@pytest.mark.parametrize("case", sorted(VCF_CASES))
def test_hostile_vcf_upload(case: str, unchanged: TestClient, hostile: tuple[TestClient, Graph]) -> None:
    filename, content = VCF_CASES[case]
    response = upload(unchanged, filename, content)
    if case == "over-upload-limit":  # refused while it streams, before GraphQL
        assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
        return
    body = assert_clear_graphql_error(response)
    assert body.get("errors"), f"{case}: accepted: {body}"
    message = body["errors"][0]["message"]
    assert "kg-upload-" not in message  # the user's file name, not the server's temporary path
    assert hostile[1].read("MATCH (p:Patient {id: $id}) RETURN p", id=PATIENT) == []


def test_vcf_worker_time_and_memory_limits(hostile: tuple[TestClient, Graph], auth_settings: AuthSettings) -> None:
    """A worker past its time or memory limit is stopped and answered with its code; nothing stored."""
    _, graph = hostile
    demo = DEMO_VCF.read_bytes()
    for change, code in (({"match_timeout": 0.05}, "TIMEOUT"), ({"match_memory": 64 * 1024 * 1024}, "OUT_OF_MEMORY")):
        settings = dataclasses.replace(graph.settings, rate_limit="1000/minute", **change)
        with admin_client(settings, auth_settings, raise_server_exceptions=False) as client:
            body = assert_clear_graphql_error(upload(client, "demo.vcf", demo))
            assert body["errors"][0]["extensions"]["code"] == code, body
    assert graph.read("MATCH (p:Patient {id: $id}) RETURN p", id=PATIENT) == []


def test_the_demo_vcf_still_matches_in_the_worker(hostile: tuple[TestClient, Graph]) -> None:
    client, graph = hostile
    body = assert_clear_graphql_error(upload(client, "demo.vcf", DEMO_VCF.read_bytes(), patient=PATIENT + "-ok"))
    assert "errors" not in body and body["data"]["submitPatientVcf"]["variantsMatched"] > 0
    graph.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=PATIENT + "-ok")


# --- GraphQL: every string argument of every field, from the schema ---------------------------

INTROSPECTION = """{ __schema {
  queryType { name } mutationType { name }
  types { name kind
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""

PAYLOADS = {
    "cypher-injection": '"}) MATCH (n) DETACH DELETE n //',
    "quote-injection": "' OR 1=1 WITH 1 AS x MATCH (n) DETACH DELETE n //",
    "label-injection": "Gene`) DETACH DELETE (n",
    "nul-byte": "BRAF\x00",
    "too-long": "A" * 25000,  # past the free-text limit too
}


def _unwrap(t: dict[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """(named type, required, list)"""
    required = t["kind"] == "NON_NULL"
    if required:
        t = t["ofType"]
    is_list = t["kind"] == "LIST"
    while t.get("ofType"):
        t = t["ofType"]
    return t, required, is_list


def _schema(client: TestClient) -> dict[str, Any]:
    body = client.post("/graphql", json={"query": INTROSPECTION}).json()
    return {t["name"]: t for t in body["data"]["__schema"]["types"]} | {"__roots": body["data"]["__schema"]}


def _filler(types: dict[str, Any], t: dict[str, Any], target: str | None, payload: str, path: str) -> Any:
    """A value for a type: the payload at ``target``, harmless values (that name nothing) elsewhere."""
    named, _, is_list = _unwrap(t)
    if named["kind"] == "SCALAR":
        value: Any = {
            "String": payload if path == target else "test-hostile-nothing",
            "ID": "test-hostile-id",
            "Int": 1,
            "Float": 1.0,
            "Boolean": False,
        }.get(named["name"], {} if named["name"] == "JSON" else None)
    elif named["kind"] == "ENUM":
        value = types[named["name"]]["enumValues"][0]["name"]
    else:  # INPUT_OBJECT: every field filled
        value = {
            f["name"]: _filler(types, f["type"], target, payload, f"{path}.{f['name']}")
            for f in types[named["name"]]["inputFields"]
            if _unwrap(f["type"])[1]
            or f"{path}.{f['name']}" == target
            or (target or "").startswith(f"{path}.{f['name']}")
        }
    return [value] if is_list and value is not None else value


def _string_targets(types: dict[str, Any], t: dict[str, Any], path: str) -> Iterator[str]:
    named, _, _ = _unwrap(t)
    if named["kind"] == "SCALAR" and named["name"] in ("String", "ID"):
        yield path
    elif named["kind"] == "INPUT_OBJECT":
        for f in types[named["name"]]["inputFields"]:
            yield from _string_targets(types, f["type"], f"{path}.{f['name']}")


def _type_text(t: dict[str, Any]) -> str:
    if t["kind"] == "NON_NULL":
        return _type_text(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return f"[{_type_text(t['ofType'])}]"
    return str(t["name"])


def injection_cases(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, document, variables) for every payload in every String argument of every root field
    (file uploads left out: they are the VCF cases above)."""
    types = _schema(client)
    roots = types["__roots"]
    out = []
    for op, root in (("query", roots["queryType"]), ("mutation", roots["mutationType"])):
        if not root:
            continue
        for field in types[root["name"]]["fields"]:
            if field["name"].startswith("__") or any(_unwrap(a["type"])[0]["name"] == "Upload" for a in field["args"]):
                continue
            targets = [t for a in field["args"] for t in _string_targets(types, a["type"], a["name"])]
            for target in targets:
                for pname, payload in PAYLOADS.items():
                    args = [a for a in field["args"] if _unwrap(a["type"])[1] or target.split(".")[0] == a["name"]]
                    variables = {a["name"]: _filler(types, a["type"], target, payload, a["name"]) for a in args}
                    decl = ", ".join(f"${a['name']}: {_type_text(a['type'])}" for a in args)
                    call = ", ".join(f"{a['name']}: ${a['name']}" for a in args)
                    named = _unwrap(field["type"])[0]
                    selection = " { __typename }" if named["kind"] in ("OBJECT", "INTERFACE", "UNION") else ""
                    document = f"{op}{f'({decl})' if decl else ''} {{ {field['name']}{f'({call})' if call else ''}{selection} }}"
                    out.append((f"{field['name']}:{target}:{pname}", document, variables))
    return out


def test_injection_in_every_string_argument(unchanged: TestClient) -> None:
    """Every payload in every String argument (the schema's, enumerated by introspection): a clear
    coded error or an ordinary answer, never INTERNAL, and the graph unchanged (``unchanged``)."""
    cases = injection_cases(unchanged)
    fields = {name.split(":")[0] for name, _, _ in cases}
    assert {"paths", "neighbors", "gene", "submitEvidence", "moderateEvidence", "cohortActionable"} <= fields
    refused = 0
    for name, document, variables in cases:
        body = assert_clear_graphql_error(unchanged.post("/graphql", json={"query": document, "variables": variables}))
        if name.endswith((":nul-byte", ":too-long")):
            assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT", (name, body)
            refused += 1
    assert refused == 2 * len(cases) // len(PAYLOADS)


# --- GraphQL documents: nesting, alias and list bombs ------------------------------------------

DEEP = '{ disease(query: "DOID:4") { ' + "children { " * 30 + "id" + " }" * 30 + " } }"
ALIASES = "{ " + " ".join(f'a{i}: gene(symbol: "BRAF") {{ symbol }}' for i in range(200)) + " }"
TOKENS = '{ gene(symbol: "BRAF") { ' + "symbol " * 5000 + "} }"
FRAGMENT_CYCLE = '{ gene(symbol: "BRAF") { ...A } } fragment A on Gene { ...B } fragment B on Gene { ...A }'

DOCUMENT_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "deep-nesting": (DEEP, {}),
    "alias-bomb": (ALIASES, {}),
    "token-bomb": (TOKENS, {}),
    "fragment-cycle": (FRAGMENT_CYCLE, {}),
    "list-bomb-variable": (
        'query($t: [String!]) { neighbors(id: "BRAF", relationshipTypes: $t) { truncated } }',
        {"t": ["IN_GENE"] * 5000},
    ),
    "list-bomb-literal": (
        '{ neighbors(id: "BRAF", relationshipTypes: [' + ", ".join(['"IN_GENE"'] * 300) + "]) { truncated } }",
        {},
    ),
    "huge-int": ('{ neighbors(id: "BRAF", limit: 99999999999) { truncated } }', {}),
    "negative-limit": ('{ neighbors(id: "BRAF", limit: -1) { truncated } }', {}),
    "unknown-field": ("{ nothingHere }", {}),
    "syntax-error": ("{ gene(symbol: ", {}),
    "control-char-in-variable-name-value": ("query($s: String!) { gene(symbol: $s) { symbol } }", {"s": "BR\u0007AF"}),
    "lone-surrogate": ("query($s: String!) { gene(symbol: $s) { symbol } }", {"s": "BRAF\ud800"}),
    "mutation-via-get-is-refused": ("", {}),
}


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_hostile_graphql_documents(case: str, unchanged: TestClient) -> None:
    document, variables = DOCUMENT_CASES[case]
    if case == "mutation-via-get-is-refused":
        response = unchanged.get(
            "/graphql",
            params={
                "query": 'mutation { moderateEvidence(id: "x", decision: ACCEPTED, comment: "c", moderator: "m") { id } }'
            },
        )
        assert_refused(response, 400, "BAD_REQUEST")
        return
    content = json.dumps({"query": document, "variables": variables}).encode()  # ASCII: \ud800 escaped
    response = unchanged.post("/graphql", content=content, headers={"content-type": "application/json"})
    body = assert_clear_graphql_error(response, CLEAR_CODES | {None})  # type: ignore[arg-type]  # validation: no code
    assert body.get("errors") and not body.get("data"), body


# --- HTTP bodies --------------------------------------------------------------------------------

Q = '{ gene(symbol: "BRAF") { symbol } }'

HTTP_CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "null": ({"content": b"null"}, 400, "BAD_REQUEST"),
    "number": ({"content": b"1"}, 400, "BAD_REQUEST"),
    "string": ({"content": b'"x"'}, 400, "BAD_REQUEST"),
    "array-batch": ({"content": json.dumps([{"query": Q}]).encode()}, 400, "BAD_REQUEST"),
    "empty-object": ({"content": b"{}"}, 400, "BAD_REQUEST"),
    "empty-body": ({"content": b""}, 400, "BAD_REQUEST"),
    "query-not-string": ({"content": b'{"query": 1}'}, 400, "BAD_REQUEST"),
    "variables-string": ({"content": json.dumps({"query": Q, "variables": "x"}).encode()}, 400, "BAD_REQUEST"),
    "variables-list": ({"content": json.dumps({"query": Q, "variables": [1]}).encode()}, 400, "BAD_REQUEST"),
    "operation-name-number": ({"content": json.dumps({"query": Q, "operationName": 5}).encode()}, 400, "BAD_REQUEST"),
    "deep-json": (
        {"content": b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100000 + b"]" * 100000 + b"}}"},
        400,
        "BAD_REQUEST",
    ),
    "moderately-deep-json": (
        {"content": b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 200 + b"]" * 200 + b"}}"},
        400,
        "BAD_REQUEST",
    ),
    "invalid-utf8": ({"content": b'{"query": "{ gene(symbol: \\"\xff\xfe\\") { symbol } }"}'}, 400, "BAD_REQUEST"),
    "truncated-json": ({"content": b'{"query": "{ gene'}, 400, "BAD_REQUEST"),
    "too-large": (
        {"content": json.dumps({"query": Q, "variables": {"x": "A" * (1024 * 1024 + 1)}}).encode()},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "lying-content-length": (
        {"content": b"{}", "headers": {"content-length": str(50 * 1024 * 1024)}},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "text-plain": (
        {"content": json.dumps({"query": Q}).encode(), "headers": {"content-type": "text/plain"}},
        400,
        "BAD_REQUEST",
    ),
    "form-urlencoded": (
        {"content": b"query=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        400,
        "BAD_REQUEST",
    ),
    "no-content-type": (
        {"content": json.dumps({"query": Q}).encode(), "headers": {"content-type": ""}},
        400,
        "BAD_REQUEST",
    ),
    "multipart-without-preflight-header": ({"multipart": True, "preflight": False}, 400, "PREFLIGHT_REQUIRED"),
    "multipart-upload-as-string": ({"multipart": True, "operations": {"file": "x"}, "map": {}}, 200, "BAD_INPUT"),
    "multipart-operations-null": ({"multipart": True, "raw_operations": "null"}, 400, "BAD_REQUEST"),
    "multipart-operations-number": ({"multipart": True, "raw_operations": "1"}, 400, "BAD_REQUEST"),
    "multipart-operations-not-json": ({"multipart": True, "raw_operations": "{"}, 400, "BAD_REQUEST"),
    "multipart-map-names-missing-file": (
        {"multipart": True, "map": {"9": ["variables.file"]}, "nofile": True},
        400,
        "BAD_REQUEST",
    ),
    "multipart-garbage": (
        {"content": b"--x\r\ngarbage", "headers": {"content-type": "multipart/form-data; boundary=x", **HEADERS}},
        400,
        "BAD_REQUEST",
    ),
    "foreign-host": ({"content": json.dumps({"query": Q}).encode(), "headers": {"host": "evil.example"}}, 400, ""),
}

UPLOAD_DOC = 'mutation($file: Upload!) { submitPatientVcf(patientId: "test-api-hostile", file: $file) { patientId } }'


@pytest.mark.parametrize("case", sorted(HTTP_CASES))
def test_hostile_http_bodies(case: str, unchanged: TestClient) -> None:
    spec, status, code = HTTP_CASES[case]
    if spec.get("multipart"):
        operations = spec.get("raw_operations") or json.dumps(
            {"query": UPLOAD_DOC, "variables": spec.get("operations", {"file": None})}
        )
        files = None if spec.get("nofile") else {"0": ("a.vcf", DEMO_VCF.read_bytes(), "text/plain")}
        response = unchanged.post(
            "/graphql",
            data={"operations": operations, "map": json.dumps(spec.get("map", {"0": ["variables.file"]}))},
            files=files or {"unrelated": ("u.txt", b"x", "text/plain")},
            headers=HEADERS if spec.get("preflight", True) else {},
        )
    else:
        headers = {"content-type": "application/json", **spec.get("headers", {})}
        response = unchanged.post("/graphql", content=spec["content"], headers=headers)
    assert response.status_code != 500, response.text
    if case == "foreign-host":
        assert response.status_code == 400
        return
    if status == 200:
        assert_clear_graphql_error(response)
        assert response.json()["errors"][0]["extensions"]["code"] == code
        return
    assert_refused(response, status, code)


def test_health_and_answers_carry_no_server_paths(unchanged: TestClient, hostile: tuple[TestClient, Graph]) -> None:
    health = unchanged.get("/health")
    assert health.status_code == 200 and set(health.json()) == {"status", "neo4j"}
    assert "bolt" not in health.text and str(hostile[1].settings.bolt_port) not in health.text
    sources = unchanged.post(
        "/graphql", json={"query": '{ neighbors(id: "clinvar@seed-2026.11-2", limit: 5) { nodes { properties } } }'}
    )
    assert sources.status_code == 200
    assert str(Path.cwd()) not in sources.text and "/work/" not in sources.text


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"id": '"}) MATCH (n) DETACH DELETE n //'}, 404, "NOT_FOUND"),
        ({"id": "BRAF", "label": "Gene) DETACH DELETE (n"}, 400, "BAD_INPUT"),
        ({"id": "A" * 5000}, 400, "BAD_INPUT"),
        ({"id": "BRAF\x00"}, 400, "BAD_INPUT"),
        ({"id": "BRAF", "depth": "x"}, 400, "BAD_INPUT"),
    ],
)
def test_hostile_export_parameters(params: dict[str, str], status: int, code: str, unchanged: TestClient) -> None:
    assert_refused(unchanged.get("/export", params=params), status, code)


def test_refusals_are_counted_by_code(unchanged: TestClient) -> None:
    unchanged.post("/graphql", content=b"null", headers={"content-type": "application/json"})
    metrics = unchanged.get("/metrics").text
    assert 'kg_http_errors_total{code="BAD_REQUEST"}' in metrics


# --- release files ------------------------------------------------------------------------------


def _seed(name: str) -> Path:
    return default_seed_dir() / name


def _gz_lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as fh:
        return fh.read().splitlines(keepends=True)


def _loader_cases(tmp: Path) -> dict[str, tuple[Any, Path]]:
    hgnc_lines = _gz_lines(_seed("genes/hgnc_complete_set_2024-10.txt.gz"))
    doid_lines = _gz_lines(_seed("ontology/doid_2024-01-31.obo.gz"))
    clinvar_lines = _gz_lines(clinvar.find_vcf(_seed("clinvar")))
    cases: dict[str, tuple[Any, bytes, str]] = {
        "hgnc-binary": (hgnc, os.urandom(5000), "hgnc_complete_set_2024-10.txt"),
        "hgnc-empty": (hgnc, b"", "hgnc_complete_set_2024-10.txt"),
        "hgnc-non-utf8-row": (
            hgnc,
            b"".join(hgnc_lines[:10]) + b"\xff\xfe" + hgnc_lines[10] + b"".join(hgnc_lines[11:30]),
            "hgnc_complete_set_2024-10.txt",
        ),
        "doid-binary": (doid, os.urandom(5000), "doid_2024-01-31.obo"),
        "doid-html": (doid, b"<html><body>Not Found</body></html>\n", "doid_2024-01-31.obo"),
        "doid-truncated-gzip": (doid, _gzip(b"".join(doid_lines))[:3000], "doid_2024-01-31.obo.gz"),
        "clinvar-binary-gz": (
            clinvar,
            _gzip(os.urandom(5000)),
            "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz",
        ),
        "clinvar-bad-record": (
            clinvar,
            _gzip(b"".join(ln for ln in clinvar_lines if ln.startswith(b"#")) + b"chr7\tnot-a-pos\t1\tA\n"),
            "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz",
        ),
    }
    out = {}
    for name, (module, content, filename) in cases.items():
        folder = tmp / name
        folder.mkdir()
        (folder / filename).write_bytes(content)
        out[name] = (module, folder / filename)
    return out


LOADER_CASES = [
    "clinvar-bad-record",
    "clinvar-binary-gz",
    "doid-binary",
    "doid-html",
    "doid-truncated-gzip",
    "hgnc-binary",
    "hgnc-empty",
    "hgnc-non-utf8-row",
]


@pytest.mark.parametrize("case", LOADER_CASES)
def test_hostile_release_files(case: str, api_graph: Graph, tmp_path: Path) -> None:
    module, path = _loader_cases(tmp_path)[case]
    before = totals(api_graph)
    with pytest.raises(SourceFormatError) as err:
        module.load(api_graph, path, progress=False, version="hostile-test")
    assert str(err.value).startswith(str(err.value.path)) and "expected" in str(err.value)
    assert api_graph.read("MATCH (s:Source) WHERE s.version = 'hostile-test' RETURN s") == []
    assert totals(api_graph) == before


def test_corpus_size() -> None:
    """The corpus holds at least 60 cases (issue 9); the injection cases are counted from the schema."""
    fixed = len(VCF_CASES) + len(DOCUMENT_CASES) + len(HTTP_CASES) + len(LOADER_CASES) + 5  # + /export
    assert fixed >= 60
