// guarantor's map: draws the embedded Natural Earth base map, the
// incidents of /v1/incidents.geojson (grouped on a grid at low zoom), the
// zones and lines of the logged agreements, and the mission's patrols of
// /v1/patrols.geojson (planned routes, cameras' fields of view, tracks by
// outcome, restrictions of movement). Everything it loads comes
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

  // The patrols of the filter's dates, from /v1/patrols.geojson: planned
  // routes and areas (dashed, under the rest), cameras' fields of view,
  // tracks by outcome (each with its own dash as well as its colour, as
  // the legend shows), and a square marker where a patrol was stopped.
  var TRACK = {
    completed: { color: '#1d6b32', weight: 4 },
    partial: { color: '#7a4e00', weight: 4, dashArray: '10 6' },
    restricted: { color: '#b3261e', weight: 5, dashArray: '1 8', lineCap: 'round' },
    cancelled: { color: '#4a4a4a', weight: 3, dashArray: '8 4 2 4' }
  };
  var plans = L.featureGroup().addTo(map);
  var cameras = L.featureGroup().addTo(map);
  var tracks = L.featureGroup().addTo(map);
  var restrictions = L.layerGroup().addTo(map);

  function when(s) {
    return String(s || '').slice(0, 16).replace('T', ' ') + ' UTC';
  }
  function restrictionMarker(f) {
    var pr = f.properties || {};
    var c = f.geometry.coordinates;
    var by = T['restriction.by.' + pr.by] || String(pr.by);
    var title = t('js.restriction', String(pr.team)) + ': ' + by + (pr.party ? ' (' + pr.party + ')' : '') +
      ', ' + t('js.minutes', Number(pr.duration_min) || 0) + ', ' + when(pr.at);
    var m = L.marker([c[1], c[0]], {
      icon: L.divIcon({ className: 'restriction', iconSize: [18, 18] }),
      title: title, alt: title, keyboard: true, riseOnHover: true, zIndexOffset: 1000
    });
    var box = document.createElement('div');
    box.appendChild(text('strong', t('js.restriction', String(pr.team))));
    box.appendChild(document.createElement('br'));
    box.appendChild(text('span', by + ' · ' + t('js.minutes', Number(pr.duration_min) || 0)));
    if (pr.party) {
      box.appendChild(document.createElement('br'));
      box.appendChild(text('span', t('js.party', String(pr.party))));
    }
    box.appendChild(document.createElement('br'));
    box.appendChild(text('span', when(pr.at)));
    box.appendChild(document.createElement('br'));
    var a = text('a', t('js.report'));
    a.href = '/explorer/entries/' + encodeURIComponent(pr.index);
    box.appendChild(a);
    m.bindPopup(box);
    return m;
  }
  if (el.dataset.patrols) {
    getJSON(el.dataset.patrols).then(function (fc) {
      (fc.features || []).forEach(function (f) {
        var pr = f.properties || {};
        if (!f.geometry) {
          return;
        }
        if (pr.kind === 'restriction' && f.geometry.type === 'Point') {
          restrictionMarker(f).addTo(restrictions);
        } else if (pr.kind === 'track') {
          var st = TRACK[pr.outcome] || TRACK.completed;
          L.geoJSON(f.geometry, {
            style: { color: st.color, weight: st.weight, dashArray: st.dashArray || null, lineCap: st.lineCap || 'butt', opacity: 0.95, className: 'track track-' + (TRACK[pr.outcome] ? pr.outcome : 'other') }
          }).bindTooltip(tooltip(t('js.track', String(pr.team)) + ': ' + (T['outcome.' + pr.outcome] || String(pr.outcome)) + ', ' + when(pr.start)), { sticky: true }).addTo(tracks);
        } else if (pr.kind === 'plan' && pr.means === 'camera') {
          L.geoJSON(f.geometry, {
            style: { color: '#5b1a8c', weight: 2, fillColor: '#5b1a8c', fillOpacity: 0.15, className: 'camera' }
          }).bindTooltip(tooltip(t('js.camera', String(pr.team)) + ', ' + when(pr.from) + ' – ' + when(pr.to)), { sticky: true }).addTo(cameras);
        } else if (pr.kind === 'plan') {
          L.geoJSON(f.geometry, {
            style: { color: '#6b6b6b', weight: 2, dashArray: '4 6', fillOpacity: 0.04, className: 'plan' }
          }).bindTooltip(tooltip(t('js.plan', String(pr.team)) + ', ' + when(pr.from) + ' – ' + when(pr.to)), { sticky: true }).addTo(plans);
        }
      });
      plans.bringToBack();
      el.dataset.tracks = String(tracks.getLayers().length);
      el.dataset.plans = String(plans.getLayers().length);
      el.dataset.cameras = String(cameras.getLayers().length);
      el.dataset.restrictions = String(restrictions.getLayers().length);
    }).catch(function () { say(t('js.load.error', el.dataset.patrols)); });
  }

  var overlays = {};
  overlays[t('js.layer.incidents')] = incidents;
  overlays[t('js.layer.zones')] = zones;
  overlays[t('js.layer.lines')] = lines;
  overlays[t('js.layer.tracks')] = tracks;
  overlays[t('js.layer.plans')] = plans;
  overlays[t('js.layer.cameras')] = cameras;
  overlays[t('js.layer.restrictions')] = restrictions;
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
