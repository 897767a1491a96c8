// graph.js draws one system's dependency graph with cytoscape.js and shows a
// component's blast radius and findings when it is clicked.
//
// The page (templates/graph.html lays it out) has
//
//   <div id="graph" data-graph-url="URL" data-component-url="PREFIX"></div>
//   <aside id="details"></aside>
//
// and loads /static/vendor/cytoscape.min.js, /static/vendor/cytoscape-dagre.js
// (which bundles dagre) and this script. #graph may carry data-layout="dagre",
// "preset" or "layered" to force a layout (benchmarks use it).
//
// GET URL answers
//   {"system": "shop", "zones": [{"name": "us-east-1a", "region": "us-east-1"}],
//    "nodes": [{"id": "app", "kind": "service", "replicas": 3,
//               "zones": ["us-east-1a"], "state": "spof"|"degradation"|"ok",
//               "findings": 2, "x": 120.5, "y": 40}],
//    "edges": [{"from": "app", "to": "db", "type": "hard"|"fallback"|"async"|
//               "startup"|"deploy"|"recovery"|"breaker"}]}
// where x and y are optional (positions the server computed for big graphs).
// A click on a component GETs PREFIX + encodeURIComponent(id), which answers
//   {"component": "db", "kind": "database",
//    "blast_radius": {"down": [flows], "degraded": [flows], "components": [ids]},
//    "findings": [{"id", "category", "severity", "event", "flows", "chain", "fix"}]}
//
// For tests and benchmarks: window.spofGraph is {ready: false} until the
// graph is drawn and interactive, then {ready: true, layout ("dagre",
// "preset" or "layered"), layoutMs (from the JSON's arrival to the layout's
// end), readyMs (since navigation start), nodes, edges (drawn), cy}, and
// #graph gets data-ready="true" (on failure {ready: false, error} and
// data-ready="error"). #details gets data-state ("loading", "loaded",
// "error") and data-component.
//
// Data reaches the page only through textContent and DOM attributes, never
// parsed as HTML; there is no eval and no inline handler, so the page runs
// under Content-Security-Policy: script-src 'self'.
(function () {
  'use strict';

  // Dagre lays out graphs of up to this many components and edges together.
  // Its time grows faster than the graph (it minimises edge crossings and
  // adds a node wherever an edge spans ranks). BenchmarkGraphDagre, generated
  // estates boxed in zones, headless Chromium on 2 cores: 0.4 s for 30
  // components and 99 edges, 0.6 s for 50 and 200, 0.9 s for 75 and 311,
  // 1.5 s for 100 and 399. Bigger graphs take the server's positions
  // (preset) or layered() below, which is linear.
  const DAGRE_MAX_ELEMENTS = 400;
  // Above this many components, a graph is big and drawn in a cheaper way.
  // Cytoscape takes about 0.1 s per thousand edges to add them (20,000 for
  // 5,000 generated components) and they are a tangle at that scale anyway,
  // so only the edges of the component clicked are drawn. Compound nodes
  // cost more than their children (each style change walks the whole
  // compound), so the zone and region boxes are plain nodes drawn behind
  // the components, sized from their positions.
  const BIG_GRAPH = 1000;
  // At most this many edges are drawn for a click on a big graph: the
  // component's own first, then those within its blast radius.
  const MAX_CLICK_EDGES = 2000;

  // Sizes in graph units: a component's height, the padding of a box
  // around its contents and the room above a box for its label.
  const NODE_HEIGHT = 26;
  const BOX_PAD = 12;
  const BOX_LABEL = 22;

  const STATES = new Set(['spof', 'degradation', 'ok']);
  const EDGE_TYPES = new Set(['hard', 'fallback', 'async', 'startup', 'deploy', 'recovery', 'breaker']);

  const container = document.getElementById('graph');
  const details = document.getElementById('details');
  let clicks = 0; // counts clicks, so that only the last one's answer shows
  window.spofGraph = {ready: false};
  if (!container) {
    return;
  }
  if (typeof window.cytoscape !== 'function') {
    fail(new Error('cytoscape.js did not load'));
    return;
  }
  const componentURL = container.getAttribute('data-component-url') || '';

  // cytoscape injects a <style> element for its container unless an element
  // with this id exists; style.css already styles the container, so claim
  // the id and keep a strict style-src policy free of violations.
  if (!document.getElementById('__________cytoscape_stylesheet')) {
    const marker = document.createElement('meta');
    marker.id = '__________cytoscape_stylesheet';
    document.head.appendChild(marker);
  }

  load(container.getAttribute('data-graph-url') || '').catch(fail);

  async function load(url) {
    const g = await getJSON(url);
    const start = performance.now();
    const model = elements(g);
    if (model.leaves.length === 0) {
      container.replaceChildren(el('p', {class: 'empty'}, 'No components.'));
      ready({layout: 'none', layoutMs: 0, nodes: 0});
      return;
    }
    const layout = chooseLayout(model, container.getAttribute('data-layout'));
    let positions = null;
    if (layout === 'preset') {
      positions = model.positions;
    } else if (layout === 'layered') {
      positions = layered(model);
    }
    // (A big graph forced to dagre is drawn the ordinary way: dagre needs
    // compound nodes for the boxes.)
    const big = positions !== null && model.leaves.length > BIG_GRAPH;
    const options = {
      container: container,
      style: style(big),
      minZoom: 0.01,
      maxZoom: 4,
      boxSelectionEnabled: false,
      autoungrabify: big,
      textureOnViewport: big,
      hideEdgesOnViewport: big,
      pixelRatio: big ? 1 : 'auto',
    };
    if (big) {
      // Positions are known: draw the boxes around them and fit the
      // viewport by arithmetic, not by measuring every element.
      const boxes = boxesAround(model, positions);
      options.elements = bigElements(model, positions, boxes);
      options.layout = Object.assign({name: 'preset', fit: false}, viewport(boxes, positions, model.leaves));
    } else {
      options.elements = toCytoscape(model, positions);
      options.layout = positions ? {name: 'preset', fit: true, padding: 20} : {name: 'null'};
    }
    const cy = window.cytoscape(options);
    if (!positions) {
      cy.layout({
        name: 'dagre', rankDir: 'LR', nodeSep: 16, rankSep: 70, edgeSep: 8,
        fit: true, padding: 20, animate: false,
      }).run();
    }
    const layoutMs = performance.now() - start;
    const graph = {cy, model, big};
    cy.on('tap', 'node', (ev) => {
      if (ev.target.hasClass('component')) {
        showComponent(graph, ev.target).catch((err) => console.error(err));
      }
    });
    cy.on('tap', (ev) => {
      if (ev.target === cy) {
        clearSelection(graph);
      }
    });
    if (big) {
      hint(graph);
    }
    // Ready once the first frame with the laid-out graph is drawn.
    cy.one('render', () => ready({layout, layoutMs, nodes: model.leaves.length, edges: cy.edges().length, cy}));
  }

  function ready(info) {
    Object.assign(window.spofGraph, info, {ready: true, readyMs: performance.now()});
    container.setAttribute('data-ready', 'true');
  }

  function fail(err) {
    const msg = String(err && err.message || err);
    container.replaceChildren(el('p', {class: 'error'}, 'Could not draw the graph: ' + msg));
    window.spofGraph = {ready: false, error: msg};
    container.setAttribute('data-ready', 'error');
  }

  // elements turns the graph JSON into components (leaves), the zone and
  // region boxes around them (compounds) and edges. A component sits in its
  // zone's box; one whose replicas span zones of one region sits in the
  // region's box, one spanning regions (or in no zone) outside every box.
  function elements(g) {
    const regionOf = new Map();
    for (const z of arr(g.zones)) {
      regionOf.set(str(z.name), str(z.region));
    }
    const compounds = new Map(); // id → {id, parent, label, kind}
    const region = (name) => {
      if (!name) {
        return undefined;
      }
      const id = 'r:' + name;
      if (!compounds.has(id)) {
        compounds.set(id, {id, label: name, kind: 'region'});
      }
      return id;
    };
    const zone = (name) => {
      const id = 'z:' + name;
      if (!compounds.has(id)) {
        compounds.set(id, {id, label: name, kind: 'zone', parent: region(regionOf.get(name))});
      }
      return id;
    };
    const leaves = [];
    const seen = new Set();
    let positions = {};
    for (const n of arr(g.nodes)) {
      const name = str(n.id);
      if (seen.has(name)) {
        console.warn('spof graph: duplicate component', name);
        continue;
      }
      seen.add(name);
      const zones = [...new Set(arr(n.zones).map(str).filter(Boolean))];
      let parent;
      if (zones.length === 1) {
        parent = zone(zones[0]);
      } else if (zones.length > 1) {
        const regions = new Set(zones.map((z) => regionOf.get(z) || ''));
        if (regions.size === 1 && !regions.has('')) {
          parent = region(regions.values().next().value);
        }
      }
      const replicas = Number(n.replicas) > 1 ? Math.floor(Number(n.replicas)) : 1;
      const label = replicas > 1 ? name + ' ×' + replicas : name;
      leaves.push({
        id: 'c:' + name, name, parent, label,
        state: STATES.has(n.state) ? n.state : 'ok',
        width: Math.min(260, Math.max(50, 7 * label.length + 16)),
      });
      if (positions && Number.isFinite(n.x) && Number.isFinite(n.y)) {
        positions['c:' + name] = {x: n.x, y: n.y};
      } else {
        positions = null; // preset needs every position
      }
    }
    const edges = [];
    arr(g.edges).forEach((e, i) => {
      const source = 'c:' + str(e.from);
      const target = 'c:' + str(e.to);
      if (!seen.has(str(e.from)) || !seen.has(str(e.to))) {
        console.warn('spof graph: edge to an unknown component', e.from, e.to);
        return;
      }
      edges.push({id: 'e' + i, source, target, type: EDGE_TYPES.has(e.type) ? e.type : 'hard'});
    });
    return {leaves, compounds: [...compounds.values()], edges, positions};
  }

  function chooseLayout(model, forced) {
    if (forced === 'dagre') {
      return 'dagre';
    }
    if (forced === 'preset' || forced === 'layered') {
      return forced === 'preset' && model.positions ? 'preset' : 'layered';
    }
    if (model.leaves.length + model.edges.length <= DAGRE_MAX_ELEMENTS) {
      return 'dagre';
    }
    return model.positions ? 'preset' : 'layered';
  }

  function toCytoscape(model, positions) {
    const out = [];
    for (const c of model.compounds) {
      out.push({group: 'nodes', data: {id: c.id, parent: c.parent, label: c.label}, classes: c.kind});
    }
    for (const l of model.leaves) {
      const node = {
        group: 'nodes',
        data: {id: l.id, name: l.name, parent: l.parent, label: l.label, width: l.width},
        classes: ['component', l.state],
      };
      if (positions) {
        node.position = positions[l.id];
      }
      out.push(node);
    }
    out.push(...model.edges.map(edge));
    return out;
  }

  // bigElements is toCytoscape for a big graph: no edges, and the boxes
  // as plain nodes (behind the components) rather than compound parents.
  function bigElements(model, positions, boxes) {
    const out = [];
    for (const c of model.compounds) {
      const b = boxes.get(c.id);
      if (b) {
        out.push({
          group: 'nodes', data: {id: c.id, box: c.parent, label: c.label, w: b.x2 - b.x1, h: b.y2 - b.y1},
          position: {x: (b.x1 + b.x2) / 2, y: (b.y1 + b.y2) / 2}, classes: ['box', c.kind],
        });
      }
    }
    for (const l of model.leaves) {
      out.push({
        group: 'nodes', data: {id: l.id, name: l.name, box: l.parent, label: l.label, width: l.width},
        position: positions[l.id], classes: ['component', l.state],
      });
    }
    return out;
  }

  // boxesAround gives each zone and region the rectangle around its
  // components (and a region's around its zones), padded as cytoscape pads
  // a compound node.
  function boxesAround(model, positions) {
    const boxes = new Map();
    const grow = (id, x1, y1, x2, y2) => {
      const b = boxes.get(id);
      if (!b) {
        boxes.set(id, {x1, y1, x2, y2});
      } else {
        b.x1 = Math.min(b.x1, x1);
        b.y1 = Math.min(b.y1, y1);
        b.x2 = Math.max(b.x2, x2);
        b.y2 = Math.max(b.y2, y2);
      }
    };
    for (const l of model.leaves) {
      const p = positions[l.id];
      if (l.parent) {
        grow(l.parent, p.x - l.width / 2 - BOX_PAD, p.y - NODE_HEIGHT / 2 - BOX_PAD,
          p.x + l.width / 2 + BOX_PAD, p.y + NODE_HEIGHT / 2 + BOX_PAD);
      }
    }
    // Zones first: a region's box also holds its zones' boxes (and their labels).
    const zonesFirst = model.compounds.filter((c) => c.kind === 'zone').concat(model.compounds.filter((c) => c.kind !== 'zone'));
    for (const c of zonesFirst) {
      const b = boxes.get(c.id);
      if (b && c.parent) {
        grow(c.parent, b.x1 - BOX_PAD, b.y1 - BOX_PAD - BOX_LABEL, b.x2 + BOX_PAD, b.y2 + BOX_PAD);
      }
    }
    return boxes;
  }

  // viewport fits the boxes and components in the container, leaving 20px.
  function viewport(boxes, positions, leaves) {
    let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
    for (const b of boxes.values()) {
      x1 = Math.min(x1, b.x1);
      y1 = Math.min(y1, b.y1 - BOX_LABEL);
      x2 = Math.max(x2, b.x2);
      y2 = Math.max(y2, b.y2);
    }
    for (const l of leaves) {
      const p = positions[l.id];
      x1 = Math.min(x1, p.x - l.width / 2);
      y1 = Math.min(y1, p.y - NODE_HEIGHT / 2);
      x2 = Math.max(x2, p.x + l.width / 2);
      y2 = Math.max(y2, p.y + NODE_HEIGHT / 2);
    }
    const w = container.clientWidth || 800;
    const h = container.clientHeight || 600;
    const zoom = Math.max(0.01, Math.min(4, (w - 40) / (x2 - x1 || 1), (h - 40) / (y2 - y1 || 1)));
    return {zoom, pan: {x: (w - zoom * (x1 + x2)) / 2, y: (h - zoom * (y1 + y2)) / 2}};
  }

  function edge(e) {
    return {group: 'edges', data: {id: e.id, source: e.source, target: e.target}, classes: e.type};
  }

  // layered places the components of a big graph in linear time: within
  // each box (zone, region, or the page for components outside every box)
  // a component's column is its depth, the longest chain of dependers above
  // it, so dependencies sit right of what needs them; boxes are packed in
  // rows inside their parent's box. What it gives up against dagre is edge
  // crossing minimisation.
  function layered(model) {
    const leaves = model.leaves;
    const index = new Map(leaves.map((l, i) => [l.id, i]));
    const out = leaves.map(() => []);
    const indegree = new Int32Array(leaves.length);
    for (const e of model.edges) {
      const a = index.get(e.source);
      const b = index.get(e.target);
      if (a !== b) {
        out[a].push(b);
        indegree[b]++;
      }
    }
    // Kahn's algorithm; components on a cycle keep the depth reached so far.
    const depth = new Int32Array(leaves.length);
    const queue = [];
    indegree.forEach((d, i) => d === 0 && queue.push(i));
    for (let q = 0; q < queue.length; q++) {
      const a = queue[q];
      for (const b of out[a]) {
        depth[b] = Math.max(depth[b], depth[a] + 1);
        if (--indegree[b] === 0) {
          queue.push(b);
        }
      }
    }

    const DX = leaves.reduce((m, l) => Math.max(m, l.width), 0) + 40;
    const DY = 44;
    const PAD = BOX_PAD + 2; // inside a box, around its contents
    const LABEL = BOX_LABEL; // above a box, for its label
    const GAP = 40; // between boxes

    const groups = new Map([['', {leaves: [], children: []}]]);
    const group = (id) => {
      if (!groups.has(id)) {
        groups.set(id, {leaves: [], children: []});
      }
      return groups.get(id);
    };
    for (const c of model.compounds) {
      group(c.id);
      group(c.parent || '').children.push(c.id);
    }
    leaves.forEach((l, i) => group(l.parent || '').leaves.push(i));

    const positions = {};
    // A block is something to place: its size and how to place it at x, y.
    const columns = (ix) => {
      ix.sort((a, b) => depth[a] - depth[b] || a - b);
      const maxRows = Math.max(8, Math.ceil(Math.sqrt(ix.length * 3)));
      const cols = [];
      let col = null;
      for (const i of ix) {
        if (!col || depth[i] !== depth[col[0]] || col.length >= maxRows) {
          col = [];
          cols.push(col);
        }
        col.push(i);
      }
      // Long chains make many short columns: wrap them in bands, one under
      // the other, so the block is about twice as wide as high.
      const rows = cols.reduce((m, c) => Math.max(m, c.length), 0);
      const bands = Math.max(1, Math.round(Math.sqrt(cols.length * DX / (2 * rows * DY))));
      const perBand = Math.ceil(cols.length / bands);
      const bandH = rows * DY + GAP;
      return {
        w: Math.min(cols.length, perBand) * DX,
        h: Math.ceil(cols.length / perBand) * bandH - GAP,
        place(x, y) {
          cols.forEach((c, ci) => c.forEach((i, ri) => {
            const band = Math.floor(ci / perBand);
            positions[leaves[i].id] = {
              x: x + (ci % perBand) * DX + DX / 2,
              y: y + band * bandH + ri * DY + DY / 2,
            };
          }));
        },
      };
    };
    const pack = (parts) => {
      const area = parts.reduce((s, p) => s + p.w * p.h, 0);
      const width = Math.max(Math.sqrt(area) * 1.6, ...parts.map((p) => p.w));
      const at = [];
      let x = 0, y = 0, rowH = 0, w = 0;
      for (const p of parts) {
        if (x > 0 && x + p.w > width) {
          y += rowH + GAP;
          x = 0;
          rowH = 0;
        }
        at.push({x, y});
        x += p.w + GAP;
        rowH = Math.max(rowH, p.h);
        w = Math.max(w, x - GAP);
      }
      return {w, h: y + rowH, place: (x0, y0) => parts.forEach((p, i) => p.place(x0 + at[i].x, y0 + at[i].y))};
    };
    const block = (id) => {
      const g = groups.get(id);
      const parts = [];
      if (g.leaves.length) {
        parts.push(columns(g.leaves));
      }
      for (const c of g.children) {
        parts.push(block(c));
      }
      const inner = pack(parts);
      if (id === '') {
        return inner;
      }
      return {
        w: inner.w + 2 * PAD, h: inner.h + 2 * PAD + LABEL,
        place: (x, y) => inner.place(x + PAD, y + LABEL + PAD),
      };
    };
    block('').place(0, 0);
    return positions;
  }

  // style is the graph's stylesheet. A big graph's components do without
  // borders and (but for SPOFs) a text colour: every property costs at every
  // node.
  function style(big) {
    const component = {
      'label': 'data(label)', 'font-size': 11, 'text-valign': 'center', 'text-halign': 'center',
      'min-zoomed-font-size': 7, 'shape': 'round-rectangle', 'width': 'data(width)',
      'height': NODE_HEIGHT, 'background-color': '#eceff1',
    };
    if (!big) {
      Object.assign(component, {'color': '#263238', 'border-width': 1, 'border-color': '#90a4ae'});
    }
    return [
      {selector: 'node.component', style: component},
      {selector: 'node.spof', style: {'background-color': '#c62828', 'border-color': '#7f0000', 'color': '#fff'}},
      {selector: 'node.degradation', style: {'background-color': '#ffb300', 'border-color': '#a66f00'}},
      {selector: 'node.zone, node.region', style: {
        'label': 'data(label)', 'color': '#263238', 'min-zoomed-font-size': 7,
        'shape': 'round-rectangle', 'text-valign': 'top', 'text-halign': 'center',
        'font-size': 12, 'font-weight': 'bold', 'padding': BOX_PAD, 'border-width': 1,
      }},
      // A big graph's boxes are plain nodes, sized by graph.js and deaf to
      // clicks; they come before the components, so they are drawn behind.
      {selector: 'node.box', style: {'width': 'data(w)', 'height': 'data(h)', 'events': 'no'}},
      {selector: 'node.region', style: {'background-color': '#e3f2fd', 'background-opacity': 0.5, 'border-color': '#64b5f6'}},
      {selector: 'node.zone', style: {'background-color': '#fafafa', 'background-opacity': 0.8, 'border-color': '#9e9e9e', 'border-style': 'dashed'}},
      {selector: 'edge', style: {
        'width': 1.2, 'line-color': '#78909c', 'target-arrow-color': '#78909c',
        'target-arrow-shape': 'triangle', 'arrow-scale': 0.8,
        'curve-style': big ? 'straight' : 'bezier',
      }},
      {selector: 'edge.fallback', style: {'line-style': 'dashed'}},
      {selector: 'edge.async', style: {'line-style': 'dotted'}},
      {selector: 'edge.breaker', style: {'line-color': '#6a1b9a', 'target-arrow-color': '#6a1b9a'}},
      {selector: 'edge.startup, edge.deploy, edge.recovery', style: {
        'line-style': 'dashed', 'line-color': '#cfd8dc', 'target-arrow-color': '#cfd8dc', 'width': 1,
      }},
      {selector: '.faded', style: {'opacity': 0.3}},
      {selector: 'node.blast', style: {'border-width': 3, 'border-color': '#1565c0'}},
      {selector: 'node.focus', style: {'border-width': 5, 'border-color': '#0d47a1'}},
      {selector: 'edge.blast', style: {'width': 2.5, 'line-color': '#1565c0', 'target-arrow-color': '#1565c0'}},
    ];
  }

  // showComponent fetches a component's blast radius and findings, shows
  // them in #details and highlights the blast radius. A later click wins
  // over an earlier answer still on its way.
  async function showComponent(graph, node) {
    const cy = graph.cy;
    const name = node.data('name');
    const click = ++clicks;
    setDetails('loading', name, el('p', {class: 'hint'}, 'Loading ' + name + '…'));
    let d;
    try {
      d = await getJSON(componentURL + encodeURIComponent(name));
    } catch (err) {
      if (click === clicks) {
        clearHighlight(graph);
        setDetails('error', name, el('p', {class: 'error'}, 'Could not load ' + name + ': ' + err.message));
      }
      return;
    }
    if (click !== clicks) {
      return;
    }
    const blast = d.blast_radius || {};
    highlight(graph, node, arr(blast.components).map(str));
    const findings = arr(d.findings);
    setDetails('loaded', name,
      el('h2', {}, str(d.component) || name),
      d.kind ? el('p', {class: 'kind'}, str(d.kind)) : null,
      el('h3', {}, 'Blast radius'),
      list('Flows down', blast.down, 'down'),
      list('Flows degraded', blast.degraded, 'degraded'),
      list('Components', blast.components, 'components'),
      el('h3', {}, 'Findings (' + findings.length + ')'),
      findings.length ? el('ol', {class: 'findings'}, ...findings.map(finding)) : el('p', {class: 'none'}, 'None.'));
  }

  function finding(f) {
    return el('li', {'data-severity': str(f.severity), 'data-category': str(f.category)},
      el('p', {class: 'finding-head'},
        el('span', {class: 'severity'}, str(f.severity)), ' ',
        el('span', {class: 'category'}, str(f.category)), ' ',
        el('code', {}, str(f.event))),
      arr(f.flows).length ? el('p', {}, 'Flows: ' + arr(f.flows).map(str).join(', ')) : null,
      arr(f.chain).length ? el('ol', {class: 'chain'}, ...arr(f.chain).map((s) => el('li', {}, str(s)))) : null,
      f.fix ? el('p', {class: 'fix'}, 'Fix: ' + str(f.fix)) : null);
  }

  function list(title, items, key) {
    items = arr(items).map(str);
    return el('section', {'data-list': key},
      el('h4', {}, title + ' (' + items.length + ')'),
      items.length ? el('ul', {}, ...items.map((s) => el('li', {}, s))) : el('p', {class: 'none'}, 'None.'));
  }

  function setDetails(state, name, ...children) {
    if (!details) {
      return;
    }
    details.setAttribute('data-state', state);
    details.setAttribute('data-component', name);
    details.replaceChildren(...children.filter(Boolean));
  }

  // highlight marks the component clicked (focus) and its blast radius,
  // fading the rest. On a big graph it first draws the edges that matter.
  function highlight(graph, node, names) {
    const cy = graph.cy;
    const ids = new Set(names.map((n) => 'c:' + n));
    ids.add(node.id());
    cy.batch(() => {
      if (graph.big) {
        cy.remove(cy.edges());
        const own = graph.model.edges.filter((e) => e.source === node.id() || e.target === node.id());
        const within = graph.model.edges.filter((e) => e.source !== node.id() && e.target !== node.id() &&
          ids.has(e.source) && ids.has(e.target));
        cy.add(own.concat(within).slice(0, MAX_CLICK_EDGES).map(edge));
      }
      cy.elements().removeClass('blast focus').addClass('faded');
      const blast = cy.collection([...ids].map((id) => cy.getElementById(id)).filter((n) => n.nonempty()));
      blast.addClass('blast').removeClass('faded');
      blast.ancestors().removeClass('faded');
      blast.edgesWith(blast).addClass('blast').removeClass('faded');
      node.connectedEdges().removeClass('faded');
      cy.nodes('.box').removeClass('faded');
      node.addClass('focus');
    });
  }

  function clearHighlight(graph) {
    graph.cy.batch(() => {
      graph.cy.elements().removeClass('blast focus faded');
      if (graph.big) {
        graph.cy.remove(graph.cy.edges());
      }
    });
  }

  function clearSelection(graph) {
    clicks++; // drop any answer on its way
    clearHighlight(graph);
    hint(graph);
  }

  function hint(graph) {
    let text = 'Click a component for its blast radius and findings.';
    if (graph.big) {
      text += ' This graph has ' + graph.model.leaves.length + ' components, so only the dependencies of the one clicked are drawn.';
    }
    setDetails('', '', el('p', {class: 'hint'}, text));
  }

  async function getJSON(url) {
    const res = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
    if (!res.ok) {
      let msg = res.status + ' ' + res.statusText;
      try {
        const body = await res.json();
        if (body && typeof body.error === 'string') {
          msg += ': ' + body.error;
        }
      } catch (_) {
        // not JSON: the status says enough
      }
      throw new Error(msg);
    }
    return res.json();
  }

  // el builds an element; attrs are set as attributes (class included) and
  // children are elements or strings, which become text nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined) {
        e.append(typeof c === 'string' ? document.createTextNode(c) : c);
      }
    }
    return e;
  }

  function arr(x) {
    return Array.isArray(x) ? x : [];
  }

  function str(x) {
    return x === null || x === undefined ? '' : String(x);
  }
})();
