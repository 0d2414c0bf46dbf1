// guarantor's map: draws the embedded Natural Earth base map, the
// incidents of /v1/incidents.geojson (grouped on a grid at low zoom), and
// the zones and lines of the logged agreements. Everything it loads comes
// from the same server. Without it the page still lists every incident.
(function () {
  'use strict';

  var el = document.getElementById('map');
  if (!el || !window.L || !window.topojson || !window.fetch) {
    return;
  }
  var wrap = document.getElementById('map-wrap');
  if (wrap) {
    wrap.hidden = false;
  }
  var status = document.getElementById('map-status');
  var T = {};
  try {
    T = JSON.parse(el.dataset.i18n || '{}');
  } catch (e) {
    T = {};
  }
  var LEVELS = ['reported', 'corroborated', 'verified'];

  function t(key, n) {
    var s = T[key] || key;
    return n === undefined ? s : s.replace(/%[ds]/, String(n));
  }
  function say(msg) {
    if (status) {
      status.textContent = msg;
    }
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) {
        throw new Error(url + ': ' + r.status);
      }
      return r.json();
    });
  }
  function level(l) {
    return LEVELS.indexOf(l) >= 0 ? l : 'reported';
  }
  function text(tag, s, cls) {
    var n = document.createElement(tag);
    n.textContent = s;
    if (cls) {
      n.className = cls;
    }
    return n;
  }

  var map = L.map(el, { minZoom: 2, maxZoom: 15, worldCopyJump: true, zoomSnap: 1 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution('Natural Earth · Leaflet');
  map.setView([48.5, 35.5], 6);

  // The base map: country shapes, drawn once, not interactive, in a pane
  // under the zones and lines (Leaflet's overlay pane is at z-index 400).
  map.createPane('basemap').style.zIndex = 200;
  getJSON(el.dataset.atlas).then(function (topo) {
    var land = topojson.feature(topo, topo.objects.countries);
    L.geoJSON(land, {
      pane: 'basemap', interactive: false,
      style: { color: '#8a8a80', weight: 0.8, fillColor: '#ecebe4', fillOpacity: 1 }
    }).addTo(map);
    el.dataset.basemap = String(land.features.length);
  }).catch(function () { say(t('js.load.error', el.dataset.atlas)); });

  if (el.dataset.points) {
    drawIncident(JSON.parse(el.dataset.points));
    return;
  }

  // Incidents, grouped on a grid of CELL pixels below GROUP_BELOW zoom.
  var CELL = 56;
  var GROUP_BELOW = 12;
  var incidents = L.layerGroup().addTo(map);
  var zones = L.featureGroup().addTo(map);
  var lines = L.featureGroup().addTo(map);
  var points = [];

  function incidentMarker(p) {
    var title = t('js.incident', p.id) + ': ' + t('level.' + p.level) + ', ' + t('category.' + p.category);
    var m = L.marker(p.ll, {
      icon: L.divIcon({ className: 'inc level-' + p.level, iconSize: [16, 16] }),
      title: title, alt: title, keyboard: true, riseOnHover: true
    });
    var box = document.createElement('div');
    box.appendChild(text('strong', t('js.incident', p.id)));
    box.appendChild(document.createElement('br'));
    box.appendChild(text('span', t('level.' + p.level) + ' · ' + t('category.' + p.category)));
    box.appendChild(document.createElement('br'));
    box.appendChild(text('span', p.from.slice(0, 16).replace('T', ' ') + ' – ' + p.to.slice(0, 16).replace('T', ' ') + ' UTC'));
    box.appendChild(document.createElement('br'));
    var a = text('a', t('js.details'));
    a.href = '/incidents/' + encodeURIComponent(p.id);
    box.appendChild(a);
    m.bindPopup(box);
    return m;
  }

  function clusterMarker(ps) {
    var top = 0;
    var lat = 0;
    var lon = 0;
    ps.forEach(function (p) {
      top = Math.max(top, LEVELS.indexOf(p.level));
      lat += p.ll.lat;
      lon += p.ll.lng;
    });
    var size = ps.length < 10 ? 28 : ps.length < 100 ? 36 : 44;
    var icon = L.divIcon({ className: 'cluster level-' + LEVELS[top], iconSize: [size, size], html: String(ps.length) });
    var label = t('js.cluster', ps.length);
    var m = L.marker([lat / ps.length, lon / ps.length], { icon: icon, title: label, alt: label, keyboard: true });
    m.on('click', function () {
      var b = L.latLngBounds(ps.map(function (p) { return p.ll; }));
      if (b.getNorthEast().equals(b.getSouthWest())) {
        map.setView(b.getCenter(), Math.min(map.getZoom() + 3, map.getMaxZoom()));
      } else {
        map.fitBounds(b, { padding: [40, 40], maxZoom: map.getMaxZoom() });
      }
    });
    return m;
  }

  function render() {
    incidents.clearLayers();
    var z = map.getZoom();
    if (z >= GROUP_BELOW) {
      points.forEach(function (p) { incidentMarker(p).addTo(incidents); });
      return;
    }
    var cells = {};
    var order = [];
    points.forEach(function (p) {
      var px = map.project(p.ll, z);
      var key = Math.floor(px.x / CELL) + ':' + Math.floor(px.y / CELL);
      if (!cells[key]) {
        cells[key] = [];
        order.push(key);
      }
      cells[key].push(p);
    });
    order.forEach(function (key) {
      var ps = cells[key];
      (ps.length === 1 ? incidentMarker(ps[0]) : clusterMarker(ps)).addTo(incidents);
    });
  }
  map.on('zoomend', render);

  var loaded = getJSON(el.dataset.incidents).then(function (fc) {
    points = (fc.features || []).filter(function (f) {
      return f.geometry && f.geometry.type === 'Point';
    }).map(function (f) {
      var c = f.geometry.coordinates;
      var pr = f.properties || {};
      return { ll: L.latLng(c[1], c[0]), id: pr.id, level: level(pr.level), category: String(pr.category), from: String(pr.from), to: String(pr.to) };
    });
    el.dataset.loaded = String(points.length);
    say(t('js.incidents', points.length));
    if (points.length) {
      map.fitBounds(L.latLngBounds(points.map(function (p) { return p.ll; })), { padding: [30, 30], maxZoom: 10 });
    }
    render();
  }).catch(function () { say(t('js.load.error', el.dataset.incidents)); });

  // The zones and lines of each agreement's latest version.
  function tooltip(s) {
    return text('span', s);
  }
  getJSON(el.dataset.agreements).then(function (list) {
    var ids = [];
    (list.agreements || []).forEach(function (a) {
      if (ids.indexOf(a.id) < 0) {
        ids.push(a.id);
      }
    });
    return Promise.all(ids.map(function (id) {
      return getJSON('/v1/agreements/' + encodeURIComponent(id));
    }));
  }).then(function (details) {
    details.forEach(function (d) {
      var v = d.versions && d.versions[d.versions.length - 1];
      if (!v) {
        return;
      }
      var a = v.agreement;
      (a.zones || []).forEach(function (z) {
        L.geoJSON(z.geometry, {
          style: { color: '#1f5fbf', weight: 2, dashArray: '6 4', fillColor: '#1f5fbf', fillOpacity: 0.08 }
        }).bindTooltip(tooltip(a.id + ': ' + (z.title || z.id)), { sticky: true }).addTo(zones);
      });
      (a.lines || []).forEach(function (ln) {
        L.geoJSON(ln.geometry, { style: { color: '#1b1b1b', weight: 3 } })
          .bindTooltip(tooltip(a.id + ': ' + (ln.title || ln.id)), { sticky: true }).addTo(lines);
      });
    });
    el.dataset.zones = String(zones.getLayers().length);
    el.dataset.lines = String(lines.getLayers().length);
    loaded.then(function () {
      if (!points.length && zones.getLayers().length) {
        map.fitBounds(zones.getBounds(), { padding: [20, 20] });
      }
    });
  }).catch(function () { say(t('js.load.error', el.dataset.agreements)); });

  var overlays = {};
  overlays[t('js.layer.incidents')] = incidents;
  overlays[t('js.layer.zones')] = zones;
  overlays[t('js.layer.lines')] = lines;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  // An incident's page: its centroid, radius and member observations.
  function drawIncident(d) {
    var group = L.featureGroup().addTo(map);
    var c = L.latLng(d.centroid.lat, d.centroid.lon);
    if (d.centroid.radius_m > 0) {
      L.circle(c, { radius: d.centroid.radius_m, color: '#1b1b1b', weight: 1, fillOpacity: 0.05 }).addTo(group);
    }
    (d.members || []).forEach(function (m) {
      var label = t('js.members', m.index);
      L.marker([m.lat, m.lon], {
        icon: L.divIcon({ className: 'inc member', iconSize: [12, 12] }), title: label, alt: label, keyboard: true
      }).bindPopup(text('span', label)).addTo(group);
    });
    var label = t('js.centroid');
    L.marker(c, {
      icon: L.divIcon({ className: 'inc level-' + level(d.centroid.level), iconSize: [18, 18] }), title: label, alt: label, keyboard: true
    }).bindPopup(text('span', label)).addTo(group);
    map.fitBounds(group.getBounds(), { padding: [40, 40], maxZoom: 12 });
    el.dataset.loaded = String((d.members || []).length);
  }
}());
