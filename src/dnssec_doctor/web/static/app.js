// Progressive enhancement: stream the check's progress, then open its result page.
// Without JavaScript the form's plain GET /check renders the same result.
"use strict";

(function () {
  function item(listId, text) {
    var list = document.getElementById("progress-" + listId);
    if (!list) return;
    var li = document.createElement("li");
    li.textContent = text; // text, never markup: names come from DNS
    list.appendChild(li);
  }

  function start(name, type) {
    var query = "name=" + encodeURIComponent(name) + "&type=" + encodeURIComponent(type);
    var fallback = "/check?" + query;
    if (!window.EventSource) { window.location.assign(fallback); return; }
    var panel = document.getElementById("progress");
    ["zone", "server", "resolver"].forEach(function (kind) {
      document.getElementById("progress-" + kind).textContent = "";
    });
    document.getElementById("progress-title").textContent = "Checking " + name + " " + type + "…";
    document.getElementById("progress-sent").textContent = "0";
    panel.hidden = false;
    var main = document.getElementById("main");
    if (main) main.setAttribute("aria-busy", "true");
    panel.scrollIntoView({ block: "start" });
    var source = new EventSource("/api/check/stream?" + query);
    var started = false;
    source.addEventListener("start", function () { started = true; });
    source.addEventListener("progress", function (event) {
      var data = JSON.parse(event.data);
      document.getElementById("progress-sent").textContent = String(data.sent);
      item(data.kind, data.subject);
    });
    source.addEventListener("result", function (event) {
      source.close();
      var data = JSON.parse(event.data);
      document.getElementById("progress-title").textContent = "Done: " + data.verdict + ". Opening the result…";
      window.location.assign(data.url);
    });
    source.addEventListener("failure", function () {
      source.close();
      window.location.assign(fallback);
    });
    source.onerror = function () {
      source.close();
      // A refused request (bad name, rate limit) has no stream: let the server's page say why.
      if (!started) window.location.assign(fallback);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-stream]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var name = form.elements.namedItem("name").value.trim();
        if (!name) return;
        event.preventDefault();
        start(name, form.elements.namedItem("type").value);
      });
    });
    document.querySelectorAll("a[data-stream-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        var params = new URL(link.href).searchParams;
        event.preventDefault();
        start(params.get("name") || "", params.get("type") || "A");
      });
    });
    var permalink = document.getElementById("permalink");
    if (permalink) permalink.addEventListener("focus", function () { permalink.select(); });
  });
})();
