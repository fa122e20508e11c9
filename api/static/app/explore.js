// The graph explorer (/explore): search an entity, draw its neighbourhood with cytoscape.js, expand
// nodes, filter, find shortest paths, read evidence. It talks only to /graphql, with the caller's
// token (localStorage "kg.token") as "Authorization: Bearer": the API decides what the caller sees.
(function () {
  "use strict";

  const TOKEN_KEY = "kg.token";
  const NEIGHBOUR_LIMIT = 40;
  // Hidden (and not followed) until checked: provenance and look-up edges, and the patients' links
  // (exploration is about knowledge; the API applies the caller's role either way).
  const HIDDEN_BY_DEFAULT = new Set(["HAS_VARIANT", "HAS_DIPLOTYPE", "HAS_CONDITION"]);
  const NO_RELEASE = "(none)";
  const NO_LEVEL = "(no level)";
  const COLOURS = {
    Gene: "#2a9d8f", Variant: "#e76f51", MolecularProfile: "#f4a261", Evidence: "#457b9d",
    Drug: "#8e44ad", Disease: "#c0392b", Phenotype: "#6a994e", Haplotype: "#bc6c25",
    Recommendation: "#3d5a80", Source: "#7f8c8d", Patient: "#222222",
  };

  const $ = (id) => document.getElementById(id);
  const state = { types: [], hiddenTypes: new Set(), hiddenReleases: new Set(), hiddenLevels: new Set() };

  // --- GraphQL ---------------------------------------------------------------------------------

  async function gql(query, variables) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    const token = window.localStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch("/graphql", {
      method: "POST", headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }),
    });
    let body;
    try {
      body = await response.json();
    } catch (err) {
      throw new Error("HTTP " + response.status + " from /graphql");
    }
    if (!response.ok && !body.errors) throw new Error("HTTP " + response.status + " from /graphql");
    return body;
  }

  function firstError(body) {
    return body.errors && body.errors.length ? body.errors[0] : null;
  }

  async function gqlData(query, variables) {
    const body = await gql(query, variables);
    const error = firstError(body);
    if (error) throw new Error(error.message);
    return body.data;
  }

  const NODE_FIELDS = "id label labels name properties";
  const EDGE_FIELDS = "type start startLabel end endLabel properties";
  const NEIGHBORS = `query Neighbors($id: String!, $label: String, $types: [String!], $limit: Int!) {
    neighbors(id: $id, label: $label, relationshipTypes: $types, limit: $limit) {
      root { ${NODE_FIELDS} } nodes { ${NODE_FIELDS} } edges { ${EDGE_FIELDS} } truncated } }`;
  const PATHS = `query Paths($from: String!, $to: String!, $fromLabel: String, $toLabel: String,
      $types: [String!], $maxHops: Int!) {
    paths(from: $from, to: $to, fromLabel: $fromLabel, toLabel: $toLabel, relationshipTypes: $types,
          maxHops: $maxHops) { length nodes { ${NODE_FIELDS} } edges { ${EDGE_FIELDS} } } }`;
  const EVIDENCE = `query Evidence($id: String!) {
    evidence(filter: {id: $id}, first: 1) { edges { node {
      id source type level direction significance statement pmids origin therapies isAssertion
      diseases { id name } drugs { id name } molecularProfile { id name }
      about { id label name } sources { key name version licence loadedAt } } } } }`;
  const SEARCHES = [
    { label: "Gene", query: "query($q: String!) { gene(symbol: $q) { symbol name } }",
      items: (d) => (d.gene ? [{ key: d.gene.symbol, name: d.gene.name }] : []) },
    { label: "Variant", query: "query($q: String!) { variants(query: $q) { id name } }",
      items: (d) => d.variants.map((v) => ({ key: v.id, name: v.name })) },
    { label: "Drug", query: "query($q: String!) { drug(name: $q) { id name } }",
      items: (d) => (d.drug ? [{ key: d.drug.id, name: d.drug.name }] : []) },
    { label: "Disease", query: "query($q: String!) { diseases(query: $q) { id name } }",
      items: (d) => d.diseases.map((x) => ({ key: x.id, name: x.name })) },
    { label: "Evidence", query: "query($q: String!) { evidence(filter: {id: $q}, first: 1) { edges { node { id type level } } } }",
      items: (d) => d.evidence.edges.map((e) => ({ key: e.node.id, name: [e.node.id, e.node.type, e.node.level].filter(Boolean).join(" · ") })) },
  ];

  // --- the drawing -----------------------------------------------------------------------------

  const cy = cytoscape({
    container: $("cy"),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
          "background-color": (n) => COLOURS[n.data("label")] || "#95a5a6",
          label: "data(display)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 110,
          "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22 } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1d3557" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#ffb703" } },
      { selector: "edge", style: {
          width: 1.5, "line-color": "#9aa5b8", "target-arrow-color": "#9aa5b8", "target-arrow-shape": "triangle",
          "curve-style": "bezier", "arrow-scale": 0.8 } },
      { selector: "edge:selected", style: { "line-color": "#ffb703", "target-arrow-color": "#ffb703", width: 3 } },
      { selector: ".faded", style: { opacity: 0.2 } },
      { selector: "node.path", style: { "border-width": 4, "border-color": "#ff006e", opacity: 1 } },
      { selector: "edge.path", style: {
          "line-color": "#ff006e", "target-arrow-color": "#ff006e", width: 4, opacity: 1,
          label: "data(type)", "font-size": 8, "text-rotation": "autorotate" } },
    ],
  });

  const nodeId = (label, key) => label + "|" + key;
  const edgeId = (e) => [e.type, e.startLabel, e.start, e.endLabel, e.end].join("|");

  function display(n) {
    const p = n.properties || {};
    if (n.label === "Evidence") return [n.id, p.level ? "level " + p.level : null].filter(Boolean).join(" · ");
    if (n.label === "Gene") return n.id;
    return n.name && n.name !== n.id ? n.name : n.id;
  }

  function addNode(n) {
    const id = nodeId(n.label, n.id);
    const existing = cy.getElementById(id);
    if (existing.nonempty()) return existing;
    return cy.add({ group: "nodes", data: {
      id: id, key: n.id, label: n.label, labels: n.labels, name: n.name, props: n.properties || {},
      display: display(n), level: n.label === "Evidence" ? String((n.properties || {}).level || NO_LEVEL) : null } });
  }

  function addEdge(e) {
    const id = edgeId(e);
    const existing = cy.getElementById(id);
    if (existing.nonempty()) return existing;
    const props = e.properties || {};
    // a fact edge lists every release asserting it (r.releases, docs/GRAPH_MODEL.md); patient edges have none
    const asserted = Array.isArray(props.releases) ? props.releases.join(", ") : props.release;
    return cy.add({ group: "edges", data: {
      id: id, source: nodeId(e.startLabel, e.start), target: nodeId(e.endLabel, e.end), type: e.type,
      startKey: e.start, endKey: e.end, release: asserted ? String(asserted) : NO_RELEASE, props: props } });
  }

  function addSubgraph(nodes, edges) {
    const added = cy.collection();
    nodes.forEach((n) => { added.merge(addNode(n)); });
    edges.forEach((e) => { added.merge(addEdge(e)); });
    return added;
  }

  function layout(fit) {
    cy.elements(":visible").layout({ name: "cose", animate: false, randomize: false, fit: fit !== false, padding: 40,
      nodeRepulsion: () => 9000, idealEdgeLength: () => 70 }).run();
  }

  // --- status ----------------------------------------------------------------------------------

  function status(text, isError) {
    const el = $("status");
    el.textContent = text;
    el.className = isError ? "error" : "";
  }

  async function guarded(what, fn) {
    status(what + "…");
    try {
      const out = await fn();
      return out;
    } catch (err) {
      status(what + " failed: " + err.message, true);
      return undefined;
    }
  }

  // --- filters ---------------------------------------------------------------------------------

  function followedTypes() {
    return state.types.filter((t) => !state.hiddenTypes.has(t));
  }

  function checkbox(container, value, hidden, onToggle) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !hidden.has(value);
    box.dataset.value = value;
    box.addEventListener("change", () => {
      if (box.checked) hidden.delete(value); else hidden.add(value);
      onToggle();
    });
    label.append(box, " " + value);
    container.append(label);
  }

  function renderFilters() {
    const releases = [...new Set(cy.edges().map((e) => e.data("release")))].sort();
    const levels = [...new Set(cy.nodes('[label = "Evidence"]').map((n) => n.data("level")))].sort();
    const releaseBox = $("filter-releases");
    const levelBox = $("filter-levels");
    releaseBox.replaceChildren();
    levelBox.replaceChildren();
    releases.forEach((r) => checkbox(releaseBox, r, state.hiddenReleases, applyFilters));
    levels.forEach((l) => checkbox(levelBox, l, state.hiddenLevels, applyFilters));
  }

  function applyFilters() {
    cy.batch(() => {
      cy.elements().style("display", "element");
      const hiddenNodes = cy.nodes().filter((n) => n.data("label") === "Evidence" && state.hiddenLevels.has(n.data("level")));
      hiddenNodes.style("display", "none");
      cy.edges().filter((e) => state.hiddenTypes.has(e.data("type")) || state.hiddenReleases.has(e.data("release")))
        .style("display", "none");
      // a node left without a visible relationship goes too, unless it was asked for or expanded
      cy.nodes().filter((n) => !n.hasClass("expanded") && !n.hasClass("path") && !n.hasClass("root") &&
        n.connectedEdges().filter((e) => e.style("display") !== "none" &&
          e.connectedNodes().every((x) => !hiddenNodes.contains(x))).empty()).style("display", "none");
    });
    status(cy.nodes(":visible").length + " nodes, " + cy.edges(":visible").length + " relationships shown");
  }

  async function loadTypes() {
    const data = await gqlData("{ relationshipTypes { name lookup } }");
    state.types = data.relationshipTypes.map((t) => t.name);
    data.relationshipTypes.forEach((t) => { if (t.lookup || HIDDEN_BY_DEFAULT.has(t.name)) state.hiddenTypes.add(t.name); });
    const box = $("filter-types");
    box.replaceChildren();
    state.types.forEach((t) => checkbox(box, t, state.hiddenTypes, applyFilters));
  }

  // --- search and expansion --------------------------------------------------------------------

  async function search(text) {
    const q = text.trim();
    const list = $("results");
    list.replaceChildren();
    if (!q) return [];
    status("searching " + q + "…");
    const found = [];
    const answers = await Promise.all(SEARCHES.map((s) => gql(s.query, { q: q }).then(
      (body) => ({ s: s, body: body }), (err) => ({ s: s, body: { errors: [{ message: err.message }] } }))));
    answers.forEach(({ s, body }) => {
      const error = firstError(body);
      if (error) {
        const candidates = (error.extensions && error.extensions.candidates) || [];
        candidates.forEach((c) => found.push({ label: s.label, key: c.id, name: c.name }));
        if (!candidates.length && !/must not be empty/.test(error.message)) {
          const li = document.createElement("li");
          li.className = "error";
          li.textContent = s.label + ": " + error.message;
          list.append(li);
        }
        return;
      }
      if (body.data) s.items(body.data).forEach((item) => found.push({ label: s.label, key: item.key, name: item.name }));
    });
    found.forEach((r) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "result";
      button.dataset.label = r.label;
      button.dataset.key = r.key;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = r.label;
      button.append(kind, r.name && r.name !== r.key ? r.name + " (" + r.key + ")" : r.key);
      button.addEventListener("click", () => open(r.label, r.key));
      li.append(button);
      list.append(li);
    });
    status(found.length ? found.length + " match(es) for " + q : "nothing matches " + q, !found.length);
    if (found.length === 1) await open(found[0].label, found[0].key);
    return found;
  }

  // Each open() starts a new drawing; an older one still waiting for its answer is dropped.
  let drawing = 0;

  async function open(label, key) {
    const mine = ++drawing;
    cy.elements().remove();
    clearPath();
    const root = await expand(label, key, mine);
    if (root && mine === drawing) {
      root.addClass("root");
      cy.$(":selected").unselect();
      root.select();
      if (label === "Evidence") await openEvidence(key); else showNode(root);
    }
    return root;
  }

  async function expand(label, key, forDrawing) {
    const mine = forDrawing === undefined ? drawing : forDrawing;
    return guarded("expanding " + key, async () => {
      const data = await gqlData(NEIGHBORS, { id: key, label: label, types: followedTypes(), limit: NEIGHBOUR_LIMIT });
      if (mine !== drawing) return null;  // the user has opened something else meanwhile
      const sub = data.neighbors;
      const before = cy.nodes().length;
      addSubgraph(sub.nodes, sub.edges);
      const root = cy.getElementById(nodeId(sub.root.label, sub.root.id));
      root.addClass("expanded");
      renderFilters();
      applyFilters();
      layout(true);
      status("expanded " + sub.root.name + ": " + (cy.nodes().length - before) + " new node(s)" +
        (sub.truncated ? " (truncated at " + NEIGHBOUR_LIMIT + ")" : ""));
      return root;
    });
  }

  // --- side panel ------------------------------------------------------------------------------

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function propertiesTable(props) {
    const table = el("table");
    Object.keys(props).sort().forEach((k) => {
      const v = props[k];
      const tr = el("tr");
      const text = Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      tr.append(el("th", k), el("td", text, text.length > 400 ? "long" : null));
      table.append(tr);
    });
    return table;
  }

  function showNode(node) {
    const panel = $("panel");
    panel.replaceChildren();
    panel.dataset.showing = "node";
    panel.append(el("h2", node.data("label")), el("h3", node.data("name")), el("p", node.data("key"), "hint"));
    const actions = el("div", null, "actions");
    const button = (text, fn) => { const b = el("button", text); b.type = "button"; b.addEventListener("click", fn); actions.append(b); return b; };
    button("Expand", () => expand(node.data("label"), node.data("key")));
    button("Path from here", () => setPathEnd("path-from", node));
    button("Path to here", () => setPathEnd("path-to", node));
    panel.append(actions);
    const releases = node.connectedEdges().map((e) => e.data("release")).filter((r) => r !== NO_RELEASE);
    if (releases.length) {
      panel.append(el("h2", "Releases of its relationships"));
      const ul = el("ul", null, "releases");
      [...new Set(releases)].sort().forEach((r) => ul.append(el("li", r)));
      panel.append(ul);
    }
    panel.append(el("h2", "Properties"), propertiesTable(node.data("props")));
  }

  function showEdge(edge) {
    const panel = $("panel");
    panel.replaceChildren();
    panel.dataset.showing = "edge";
    const source = edge.source();
    const target = edge.target();
    panel.append(el("h2", "Relationship"), el("h3", source.data("display") + " —" + edge.data("type") + "→ " + target.data("display")));
    panel.append(el("h2", "Asserted by release"));
    const ul = el("ul", null, "releases edge-releases");
    ul.append(el("li", edge.data("release")));
    panel.append(ul);
    panel.append(el("h2", "Properties"), propertiesTable(edge.data("props")));
  }

  async function openEvidence(id) {
    return guarded("reading evidence " + id, async () => {
      const data = await gqlData(EVIDENCE, { id: id });
      const item = data.evidence.edges.length ? data.evidence.edges[0].node : null;
      const panel = $("panel");
      panel.replaceChildren();
      panel.dataset.showing = "evidence";
      if (!item) {
        panel.append(el("p", "evidence " + id + " is not visible to answers (not accepted, or no active release)"));
        return null;
      }
      panel.append(el("h2", item.isAssertion ? "Assertion" : "Evidence"), el("h3", item.id, "evidence-id"));
      const facts = {
        type: item.type, level: item.level, direction: item.direction, significance: item.significance,
        origin: item.origin, therapies: item.therapies.join(" + "),
        "molecular profile": item.molecularProfile ? item.molecularProfile.name : null,
        diseases: item.diseases.map((d) => d.name + " (" + d.id + ")").join("; "),
        about: item.about.map((a) => a.label + " " + (a.name || a.id)).join("; "),
      };
      Object.keys(facts).forEach((k) => { if (facts[k] === null || facts[k] === "") delete facts[k]; });
      panel.append(el("h2", "Statement"), el("p", item.statement || "(no statement)", "statement"));
      panel.append(el("h2", "Citations"));
      const cites = el("ol", null, "citations");
      item.pmids.forEach((pmid) => {
        const li = el("li");
        const a = el("a", "PMID " + pmid);
        a.href = "https://pubmed.ncbi.nlm.nih.gov/" + encodeURIComponent(pmid) + "/";
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(a);
        cites.append(li);
      });
      if (!item.pmids.length) cites.append(el("li", "(none)"));
      panel.append(cites, el("h2", "Details"), propertiesTable(facts));
      panel.append(el("h2", "Releases"));
      const rel = el("ul", null, "releases");
      item.sources.forEach((s) => rel.append(el("li", s.key + (s.licence ? " — " + s.licence : ""))));
      panel.append(rel);
      status("evidence " + item.id);
      return item;
    });
  }

  // --- paths -----------------------------------------------------------------------------------

  function setPathEnd(inputId, node) {
    const input = $(inputId);
    input.value = node.data("key");
    input.dataset.label = node.data("label");
  }

  function clearPath() {
    cy.elements().removeClass("path faded");
    $("path-status").replaceChildren();
  }

  async function findPaths() {
    const from = $("path-from");
    const to = $("path-to");
    if (!from.value.trim() || !to.value.trim()) {
      status("give both ends of the path", true);
      return [];
    }
    return (await guarded("finding paths", async () => {
      const data = await gqlData(PATHS, {
        from: from.value.trim(), to: to.value.trim(), fromLabel: from.dataset.label || null,
        toLabel: to.dataset.label || null, types: followedTypes(), maxHops: Number($("path-hops").value),
      });
      clearPath();
      const box = $("path-status");
      if (!data.paths.length) {
        box.textContent = "no path of at most " + $("path-hops").value + " relationships";
        status("no path");
        return [];
      }
      const onPath = cy.collection();
      data.paths.forEach((p) => { onPath.merge(addSubgraph(p.nodes, p.edges)); });
      renderFilters();
      applyFilters();
      layout(true);
      cy.elements().addClass("faded");
      onPath.removeClass("faded").addClass("path");
      onPath.style("display", "element");
      box.append(el("p", data.paths.length + " shortest path(s) of " + data.paths[0].length + " relationship(s)", "path-summary"));
      const ol = el("ol");
      data.paths.forEach((p) => {
        const steps = p.nodes.map((n) => n.name);
        ol.append(el("li", steps.join(" → ")));
      });
      box.append(ol);
      status("paths highlighted");
      return data.paths;
    })) || [];
  }

  // --- events ----------------------------------------------------------------------------------

  cy.on("tap", "node", (evt) => {
    const node = evt.target;
    if (node.data("label") === "Evidence") {
      openEvidence(node.data("key"));
    } else {
      showNode(node);
    }
    if (!node.hasClass("expanded")) expand(node.data("label"), node.data("key"));
  });
  cy.on("tap", "edge", (evt) => showEdge(evt.target));
  cy.on("mouseover", "edge", (evt) => {
    const tip = $("edge-tip");
    const e = evt.target;
    tip.textContent = e.data("type") + " · release " + e.data("release");
    const pos = evt.renderedPosition || e.renderedMidpoint();
    tip.style.left = pos.x + 12 + "px";
    tip.style.top = pos.y + 12 + "px";
    tip.hidden = false;
  });
  cy.on("mouseout", "edge", () => { $("edge-tip").hidden = true; });

  $("search-form").addEventListener("submit", (evt) => { evt.preventDefault(); search($("search").value); });
  $("path-go").addEventListener("click", findPaths);
  $("path-clear").addEventListener("click", clearPath);
  ["path-from", "path-to"].forEach((id) => $(id).addEventListener("input", () => { delete $(id).dataset.label; }));
  const tokenInput = $("token");
  tokenInput.value = window.localStorage.getItem(TOKEN_KEY) || "";
  tokenInput.addEventListener("change", () => {
    const value = tokenInput.value.trim();
    if (value) window.localStorage.setItem(TOKEN_KEY, value); else window.localStorage.removeItem(TOKEN_KEY);
    loadTypes().catch((err) => status("relationship types: " + err.message, true));
  });

  const ready = loadTypes().then(() => { status("ready"); }, (err) => { status("relationship types: " + err.message, true); });
  window.kgExplorer = { cy: cy, ready: ready, search: search, open: open, expand: expand, findPaths: findPaths,
    openEvidence: openEvidence };
})();
