/* The admin panel's live parts. One event stream per page (GET /admin/events, server-sent events):
   an element with data-live="topic …" is re-fetched by htmx (its hx-get, hx-trigger="xp-refresh")
   when one of its topics moves, at most once per data-live-every seconds, the last change never
   dropped. The topics are the ones the stream's first event names. An audit entry is told in #news. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  var news = document.getElementById("news");
  var known = {};
  window.xpLive = { events: 0, refreshes: 0 };

  function state(on) {
    if (!live) { return; }
    live.dataset.state = on ? "on" : "off";
    live.textContent = on ? live.dataset.on : live.dataset.off;
  }

  function refresh(el) {
    el.xpLast = Date.now();
    window.xpLive.refreshes += 1;
    htmx.trigger(el, "xp-refresh");
  }

  function schedule(el) {
    if (el.xpTimer) { return; }
    var every = parseFloat(el.getAttribute("data-live-every") || "0") * 1000;
    var wait = (el.xpLast || 0) + every - Date.now();
    if (wait <= 0) { refresh(el); return; }
    el.xpTimer = setTimeout(function () { el.xpTimer = null; refresh(el); }, wait);
  }

  function moved(topic) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (el.getAttribute("data-live").split(/\s+/).indexOf(topic) >= 0) { schedule(el); }
    });
  }

  function tell(entries) {
    (entries || []).forEach(function (e) {
      var line = document.createElement("p");
      line.textContent = e.actor + " · " + e.action + (e.target ? " · " + e.target : "");
      news.prepend(line);
      while (news.children.length > 3) { news.lastChild.remove(); }
      setTimeout(function () { line.remove(); }, 8000);
    });
  }

  var source = new EventSource("/admin/events");
  function listen(topic) {
    if (known[topic]) { return; }
    known[topic] = true;
    source.addEventListener(topic, function (event) {
      window.xpLive.events += 1;
      moved(topic);
      if (topic === "audit" && news) { tell(JSON.parse(event.data).entries); }
    });
  }
  source.addEventListener("hello", function (event) { Object.keys(JSON.parse(event.data)).forEach(listen); });
  source.onopen = function () { state(true); };
  source.onerror = function () { state(false); };
})();
