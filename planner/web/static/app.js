// The planning board's only script (no inline script: the Content-Security-Policy forbids it).
// Everything works without it; it adds drag and drop, live solve progress and
// notices of new versions through server-sent events.
(function () {
  "use strict";

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function number(x) {
    return (x === null || x === undefined) ? "none yet" : Math.round(x).toLocaleString("en-GB");
  }

  // --- server-sent events: progress and new revisions ---------------------------------
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var url = main && main.getAttribute("data-events");
  if (url && window.EventSource) {
    var revision = main.getAttribute("data-revision");
    var progress = document.getElementById("progress");
    var source = new EventSource(url);
    source.addEventListener("revision", function (event) {
      var data = JSON.parse(event.data);
      if (revision && String(data.revision) !== String(revision) && !progress) {
        live.hidden = false;
        live.textContent = "This visit has changed since this page was loaded (now revision " + data.revision +
          (data.current ? ", latest version " + data.current : "") + "). Reload the page to see it.";
      }
    });
    source.addEventListener("progress", function (event) {
      if (!progress) { return; }
      var run = JSON.parse(event.data);
      text("p-said", run.said);
      text("p-state", run.state + (run.state === "running" ? " (" + run.phase_label + ")" : ""));
      text("p-stage", run.stage);
      text("p-elapsed", run.elapsed.toFixed(1));
      text("p-objective", number(run.objective));
      text("p-bound", number(run.bound));
      text("p-improvements", String(run.improvements));
      if (run.state !== "running" && progress.getAttribute("data-state") === "running") {
        progress.setAttribute("data-state", run.state);
        source.close();
        window.location.reload();
      }
    });
  }

  // --- drag and drop on the board: fills the "Move to…" form -----------------------------
  // A card (of the grid or of the left-out list) dropped on any cell of the grid asks the move
  // page for that time: an empty cell's slot, or, over a card, the slot under the pointer (so a
  // card can be dropped a slot later in its own room). While it is dragged, the times its
  // people and rooms cannot have are shaded, from the card's data-busy (computed on the server).
  var grid = document.querySelector("table.grid");
  if (grid) {
    var slug = grid.getAttribute("data-slug");
    var version = grid.getAttribute("data-version");
    var slot = parseInt(grid.getAttribute("data-slot"), 10) || 15;
    var first = minutes(grid.getAttribute("data-first") || "00:00");
    var unit = parseInt(grid.getAttribute("data-unit"), 10) || slot;
    var dragged = null;
    var draggedCard = null;

    function minutes(hm) {
      var parts = String(hm).split(":");
      return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
    }

    function clock(m) {
      var h = Math.floor(m / 60), r = m % 60;
      return (h < 10 ? "0" : "") + h + ":" + (r < 10 ? "0" : "") + r;
    }

    function shadeFor(card) {
      var busy = (card.getAttribute("data-busy") || "").split(";").filter(Boolean).map(function (entry) {
        var at = entry.lastIndexOf("@"), times = entry.slice(at + 1).split("-");
        var key = entry.slice(0, at), unfit = key.charAt(0) === "!";
        return {key: unfit ? key.slice(1) : key, unfit: unfit, start: minutes(times[0]), end: minutes(times[1])};
      });
      grid.querySelectorAll("td.slot[data-at]").forEach(function (cell) {
        var at = minutes(cell.getAttribute("data-at"));
        var key = cell.getAttribute("data-room") || cell.getAttribute("data-peer");
        busy.forEach(function (b) {
          if ((b.key === "*" || b.key === key) && b.start < at + unit && at < b.end) {
            var mark = b.unfit ? "unfit" : "unavail";
            if (!cell.classList.contains(mark)) { cell.classList.add(mark, "drag-shade"); }
          }
        });
      });
    }

    function unshade() {
      grid.querySelectorAll("td.drag-shade").forEach(function (cell) {
        cell.classList.remove("unavail", "unfit", "drag-shade");
      });
    }

    function target(event) {
      return event.target.closest ? event.target.closest("td.slot[data-start], td.filled[data-top]") : null;
    }

    function startOf(cell, event) {
      if (cell.classList.contains("slot")) { return cell.getAttribute("data-start"); }
      var box = cell.getBoundingClientRect();
      var span = parseInt(cell.getAttribute("data-minutes"), 10) || slot;
      var at = minutes(cell.getAttribute("data-top")) +
        Math.floor(Math.max(0, event.clientY - box.top) / Math.max(1, box.height) * span);
      return clock(first + Math.floor((at - first) / slot) * slot);
    }

    document.addEventListener("dragstart", function (event) {
      var card = event.target.closest ? event.target.closest(".card[data-session]") : null;
      if (!card) { return; }
      dragged = card.getAttribute("data-session");
      draggedCard = card;
      card.classList.add("dragging");
      event.dataTransfer.setData("text/plain", dragged);
      event.dataTransfer.effectAllowed = "move";
      shadeFor(card);
    });
    document.addEventListener("dragend", function (event) {
      var card = event.target.closest ? event.target.closest(".card") : null;
      if (card) { card.classList.remove("dragging"); }
      unshade();
    });
    grid.addEventListener("dragover", function (event) {
      var cell = target(event);
      if (cell && dragged) { event.preventDefault(); cell.classList.add("drop-over"); }
    });
    grid.addEventListener("dragleave", function (event) {
      var cell = target(event);
      if (cell) { cell.classList.remove("drop-over"); }
    });
    grid.addEventListener("drop", function (event) {
      var cell = target(event);
      if (!cell || !dragged) { return; }
      event.preventDefault();
      var room = cell.getAttribute("data-room") || draggedCard.getAttribute("data-room");
      var query = "day=" + encodeURIComponent(cell.getAttribute("data-day")) +
        "&start=" + encodeURIComponent(startOf(cell, event)) +
        (room ? "&room=" + encodeURIComponent(room) : "");
      var peer = cell.getAttribute("data-peer");
      if (peer) {  // the peers view: the peer of the target column replaces the one the card came from
        var from = draggedCard.getAttribute("data-from");
        var peers = draggedCard.getAttribute("data-peers").split(";").filter(function (p) {
          return p && p !== from && p !== peer;
        });
        peers.push(peer);
        query += "&peers_shown=1" + peers.map(function (p) { return "&peers=" + encodeURIComponent(p); }).join("");
      }
      var rev = main && main.getAttribute("data-revision");  // the board's: a colleague's move since is refused
      if (rev) { query += "&rev=" + encodeURIComponent(rev); }
      window.location.href = "/v/" + encodeURIComponent(slug) + "/board/" + encodeURIComponent(version) +
        "/move/" + encodeURIComponent(dragged) + "?" + query + "#verdict";
    });
  }

  // --- focus the error summary or the verdict when a page shows one -----------------------
  // (a refusal's summary first: it is at the top, where the eye is, and says what was not saved)
  var focus = document.querySelector(".error-summary") || document.getElementById("verdict");
  if (focus && focus.focus) { focus.focus(); }
})();

// --- a background job (publishing, sending…): its progress from server-sent events -------------
(function () {
  var job = document.getElementById("job");
  if (!job || job.getAttribute("data-state") !== "running" || !window.EventSource) { return; }
  var source = new EventSource(job.getAttribute("data-events"));
  source.addEventListener("progress", function (event) {
    var data = JSON.parse(event.data);
    var line = document.getElementById("j-progress");
    var bar = document.getElementById("j-bar");
    if (line) { line.textContent = data.progress + " · " + data.elapsed.toFixed(1) + " s"; }
    if (bar && data.total) { bar.max = data.total; bar.value = Math.min(data.done, data.total); }
    if (data.state !== "running") {
      source.close();
      if (data.kind === "publish" && data.state === "done" && data.result_url) {
        window.location.assign(data.result_url);  // published: on to its invites, as without a wait
      } else {
        window.location.reload();  // the summary (sent, refused, not sent) is on the page
      }
    }
  });
})();
