// The map page: Leaflet over the bundled country shapes, the stories' points clustered,
// and the list beside the map narrowed to the stories in the map's view.
// Feed text (titles, places) is only ever set as textContent, never as HTML.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var map = L.map(element, { minZoom: 2, maxZoom: 13, worldCopyJump: false })
    .setView([35.5, 39.5], 6);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Boundaries: Natural Earth · GeoNames");
  var clusters = L.markerClusterGroup({ showCoverageOnHover: false });
  var points = [];
  var list = document.getElementById("map-stories");
  var count = document.getElementById("map-count");
  document.getElementById("map-hint").hidden = false;

  fetch(element.dataset.shapes).then(function (answer) { return answer.json(); })
    .then(function (shapes) {
      L.geoJSON(shapes, { interactive: false,
        style: { color: "#8a8a8a", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 } })
        .addTo(map);
      clusters.addTo(map);  // above the shapes
    });

  fetch(element.dataset.points, { credentials: "same-origin" })
    .then(function (answer) { return answer.json(); })
    .then(function (collection) {
      collection.features.forEach(function (feature) {
        var xy = feature.geometry.coordinates;
        var marker = L.marker([xy[1], xy[0]], { title: feature.properties.title,
          alt: feature.properties.place + ": " + feature.properties.title });
        marker.bindPopup(popup(feature.properties));
        marker.story = feature.properties;
        points.push(marker);
        clusters.addLayer(marker);
      });
      if (points.length) {
        map.fitBounds(L.featureGroup(points).getBounds().pad(0.2), { maxZoom: 9 });
      }
      element.dataset.ready = String(points.length);
      showVisible();
    });

  map.on("moveend", showVisible);

  function popup(story) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = story.url;
    link.textContent = story.title;
    var where = document.createElement("div");
    where.textContent = story.place + " · " + story.severity + " · " + story.status;
    box.appendChild(link);
    box.appendChild(where);
    return box;
  }

  function showVisible() {
    if (!points.length) { return; }
    var bounds = map.getBounds();
    var seen = {};
    var shown = [];
    points.forEach(function (marker) {
      var story = marker.story;
      if (!seen[story.story_id] && bounds.contains(marker.getLatLng())) {
        seen[story.story_id] = true;
        shown.push(story);
      }
    });
    list.replaceChildren.apply(list, shown.map(item));
    count.textContent = "(" + shown.length + " in view)";
  }

  function item(story) {
    var li = document.createElement("li");
    li.dataset.story = story.story_id;
    var link = document.createElement("a");
    link.href = story.url;
    link.textContent = story.title;
    var severity = document.createElement("span");
    severity.className = "severity-" + story.severity;
    severity.textContent = " " + story.severity + " ";
    var small = document.createElement("small");
    small.textContent = story.place + " · " + story.status;
    li.append(link, severity, small);
    return li;
  }
})();
