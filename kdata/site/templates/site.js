/* Filtering and sorting of the table pages.
 *
 * Written by hand rather than taken from a library: the site must work from file://
 * with no network, so a table library would have to be bundled into every site, and
 * the two features need only the few lines below. Without JavaScript the pages still
 * show every row. Only text is read and written here (textContent), never HTML.
 */
(function () {
  "use strict";

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  // A text box with data-filter="TABLE-ID" hides the rows that lack any of its words.
  each(document.querySelectorAll("input[data-filter]"), function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) {
      return;
    }
    var count = document.querySelector('[data-count-for="' + table.id + '"]');
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var texts = rows.map(function (row) {
      return row.textContent.toLocaleLowerCase();
    });
    function apply() {
      var words = input.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = words.every(function (word) {
          return texts[i].indexOf(word) !== -1;
        });
        row.hidden = !match;
        shown += match ? 1 : 0;
      });
      if (count) {
        count.textContent = shown.toLocaleString("en") + " of " + rows.length.toLocaleString("en") + " rows";
      }
    }
    input.addEventListener("input", apply);
    apply(); // the browser may restore a typed value on going back
  });

  // In a table.sortable, a header's button sorts by its column; a second click reverses.
  each(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.tHead.rows[0].cells;
    each(headers, function (th, column) {
      var button = th.querySelector("button");
      if (!button) {
        return;
      }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        each(headers, function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          // a formatted number (1,000) sorts by its data-sort value (1000)
          var x = a.cells[column].getAttribute("data-sort") || a.cells[column].textContent;
          var y = b.cells[column].getAttribute("data-sort") || b.cells[column].textContent;
          if (x === "" || y === "") {
            return x === y ? 0 : x === "" ? 1 : -1; // empty cells last, either way
          }
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) {
          body.appendChild(row);
        });
      });
    });
  });
})();

/* The kind filter of the disagreements page: a fieldset of checkboxes, one per kind, hidden
 * until this script shows it (without JavaScript every disagreement stays shown). Unticking a
 * kind hides the disagreements of that kind (article[data-kind]).
 */
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-kind-filter]"), function (fieldset) {
    var list = document.getElementById(fieldset.getAttribute("data-kind-filter"));
    if (!list) {
      return;
    }
    var boxes = fieldset.querySelectorAll("input[type=checkbox]");
    var items = list.querySelectorAll("article[data-kind]");
    var count = document.querySelector('[data-count-for="' + list.id + '"]');
    function apply() {
      var shown = {};
      Array.prototype.forEach.call(boxes, function (box) {
        shown[box.value] = box.checked;
      });
      var n = 0;
      var topics = {};
      var t = 0;
      Array.prototype.forEach.call(items, function (item) {
        item.hidden = shown[item.getAttribute("data-kind")] === false;
        n += item.hidden ? 0 : 1;
        var topic = item.getAttribute("data-topic");
        if (!item.hidden && !Object.prototype.hasOwnProperty.call(topics, topic)) {
          topics[topic] = true; // the topics counted are those of the disagreements shown
          t += 1;
        }
      });
      if (count) {
        count.textContent =
          n.toLocaleString("en") + " of " + items.length.toLocaleString("en") + " disagreements on " +
          t.toLocaleString("en") + " topic" + (t === 1 ? "" : "s");
      }
    }
    Array.prototype.forEach.call(boxes, function (box) {
      box.addEventListener("change", apply);
    });
    fieldset.hidden = false;
    apply(); // the browser may restore ticks on going back
  });
})();

/* === Front page: timeline and search (issue 19) ===========================================
 * The timeline's rows are laid out by kdata/site/timeline.py for the whole axis; this block
 * redraws them for a period (buttons per decade, two range sliders), groups them by kind or
 * place, moves between events with the arrow keys (one tab stop, roving tabindex) and announces
 * how many events are shown. The tick rule (data-steps, data-max-labels) is timeline.py's.
 */
(function () {
  "use strict";

  var root = document.getElementById("timeline");
  if (!root) {
    return;
  }
  var DAY = 86400000;
  var steps = root.getAttribute("data-steps").split(",").map(Number);
  var maxLabels = Number(root.getAttribute("data-max-labels"));
  var minorYears = Number(root.getAttribute("data-minor-years"));
  var controls = root.querySelector(".tl-controls");
  var buttons = Array.prototype.slice.call(root.querySelectorAll(".tl-periods button"));
  var from = root.querySelector(".tl-from");
  var to = root.querySelector(".tl-to");
  var fromOut = root.querySelector(".tl-from-out");
  var toOut = root.querySelector(".tl-to-out");
  var grouping = root.querySelector(".tl-group");
  var count = root.querySelector(".tl-count");
  var scale = root.querySelector(".tl-scale");
  var body = root.querySelector(".tl-body");
  var list = root.querySelector(".tl-rows");
  var rows = Array.prototype.slice.call(list.children);
  var total = rows.length;

  function dayOf(year) {
    var day = new Date(0);
    day.setUTCFullYear(year, 0, 1); // Date.UTC would read the years 0 to 99 as 1900 to 1999
    return Math.round(day.getTime() / DAY);
  }

  function drawTicks(first, last) {
    var years = last - first + 1;
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) {
      if (Math.ceil(years / steps[i]) <= maxLabels) {
        step = steps[i];
        break;
      }
    }
    var start = dayOf(first);
    var span = dayOf(last + 1) - start;
    while (scale.firstChild) {
      scale.removeChild(scale.firstChild);
    }
    for (var year = first; year <= last; year++) {
      var tick = null;
      var labelled = (year - first) % step === 0;
      if (!labelled && years > minorYears) {
        continue;
      }
      tick = document.createElement("span");
      tick.className = "tl-tick" + (labelled ? " labelled" : "");
      tick.style.left = ((dayOf(year) - start) / span) * 100 + "%";
      tick.textContent = labelled ? String(year) : "";
      scale.appendChild(tick);
    }
  }

  function visibleLinks() {
    return rows
      .filter(function (row) {
        return !row.hidden;
      })
      .map(function (row) {
        return row.querySelector("a");
      });
  }

  function rove(target) {
    rows.forEach(function (row) {
      row.querySelector("a").tabIndex = -1;
    });
    if (target) {
      target.tabIndex = 0;
    }
  }

  function groupLists() {
    var key = grouping.value;
    body.textContent = "";
    if (!key) {
      rows.forEach(function (row) {
        list.appendChild(row);
      });
      body.appendChild(list);
      return;
    }
    var groups = {};
    var order = [];
    rows.forEach(function (row) {
      var value = row.getAttribute("data-" + key);
      if (!(value in groups)) {
        var section = document.createElement("section");
        section.className = "tl-group-section";
        var heading = document.createElement("h3");
        heading.textContent = row.getAttribute("data-" + key + "-label");
        var ol = document.createElement("ol");
        ol.className = "tl-rows";
        ol.setAttribute("aria-label", heading.textContent);
        section.appendChild(heading);
        section.appendChild(ol);
        groups[value] = { section: section, list: ol, heading: heading };
        order.push(value);
      }
      groups[value].list.appendChild(row);
    });
    order.forEach(function (value) {
      body.appendChild(groups[value].section);
    });
  }

  function apply() {
    var first = Number(from.value);
    var last = Number(to.value);
    if (first > last) {
      var swap = first;
      first = last;
      last = swap;
    }
    fromOut.textContent = String(first);
    toOut.textContent = String(last);
    buttons.forEach(function (button) {
      var match = Number(button.getAttribute("data-first")) === first && Number(button.getAttribute("data-last")) === last;
      button.setAttribute("aria-pressed", match ? "true" : "false");
    });
    var start = dayOf(first);
    var end = dayOf(last + 1);
    var span = end - start;
    var shown = 0;
    rows.forEach(function (row) {
      var a = Number(row.getAttribute("data-first"));
      var b = Number(row.getAttribute("data-last"));
      var point = row.getAttribute("data-shape") === "point";
      var inside = point ? a >= start && a < end : b > start && a < end;
      row.hidden = !inside;
      if (inside) {
        shown += 1;
        var mark = row.querySelector(".tl-mark");
        var left = Math.max(a, start);
        mark.style.left = ((left - start) / span) * 100 + "%";
        mark.style.width = point ? "0%" : ((Math.min(b, end) - left) / span) * 100 + "%";
        mark.classList.toggle("cut-start", !point && a < start); // runs on before the period shown
        mark.classList.toggle("cut-end", !point && b > end);
      }
    });
    drawTicks(first, last);
    groupLists();
    Array.prototype.forEach.call(body.querySelectorAll(".tl-group-section"), function (section) {
      var n = section.querySelectorAll(".tl-row:not([hidden])").length;
      section.hidden = n === 0;
      section.querySelector("h3").setAttribute("data-count", String(n));
    });
    var period = first === last ? String(first) : first + " to " + last;
    count.textContent = shown.toLocaleString("en") + " of " + total.toLocaleString("en") + " events shown, " + period + ".";
    var links = visibleLinks();
    var current = links.filter(function (link) {
      return link.tabIndex === 0;
    })[0];
    rove(current || links[0]);
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      from.value = button.getAttribute("data-first");
      to.value = button.getAttribute("data-last");
      apply();
    });
  });
  from.addEventListener("input", apply);
  to.addEventListener("input", apply);
  grouping.addEventListener("change", apply);

  var KEYS = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, Home: "first", End: "last" };
  body.addEventListener("keydown", function (event) {
    var move = KEYS[event.key];
    if (!move || !event.target.classList.contains("tl-link")) {
      return;
    }
    var links = visibleLinks().sort(function (x, y) {
      // in the order the rows stand on the page (grouping changes it)
      return x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    var index = links.indexOf(event.target);
    var next = move === "first" ? 0 : move === "last" ? links.length - 1 : index + move;
    if (next >= 0 && next < links.length) {
      event.preventDefault();
      rove(links[next]);
      links[next].focus();
    }
  });
  body.addEventListener("focusin", function (event) {
    if (event.target.classList.contains("tl-link")) {
      rove(event.target);
    }
  });

  controls.hidden = false;
  apply(); // the browser may restore the controls' values on going back
})();

/* The front page's search. The index (static/search-index.js, written by kdata/site/search.py)
 * holds each record's folded text, the fold table and the digit group pattern; the query is folded
 * by the same rules, and a record matches when its text holds every word of the query. Results are
 * ranked: a match in a record's name or title before one in its details (the name itself, then a
 * name starting so, then a name holding every word, then some), and for equal match an actor or a
 * place before an event or a claim. The first LIMIT are shown, and a button shows all. Results are
 * links; the arrow keys move between the box and the results; the count is announced (role=status).
 */
(function () {
  "use strict";

  var section = document.querySelector("[data-search]");
  var index = window.kdataSearch;
  if (!section || !index) {
    return;
  }
  var input = section.querySelector("input[type=search]");
  var status = section.querySelector(".search-status");
  var results = section.querySelector(".search-results");
  var more = section.querySelector(".search-more");
  var LIMIT = 50;
  var ECHO = 80; // characters of the query repeated in "No results for ..."
  var TEXT = index.fields.indexOf("text");
  var ORDER = { actor: 0, place: 1, event: 2, claim: 3, figure: 4, source: 5 };
  var GROUP = new RegExp(index.digitGroup, "g");
  var found = [];

  function fold(text) {
    var bare = text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
    var out = "";
    for (var i = 0; i < bare.length; i++) {
      var c = bare.charAt(i);
      out += Object.prototype.hasOwnProperty.call(index.fold, c) ? index.fold[c] : c;
    }
    out = out.replace(GROUP, "").replace(/[^\p{L}\p{N}]/gu, " ");
    return out.replace(/\s+/g, " ").trim();
  }

  function rank(entry, query, words) {
    var title = fold(entry[1]);
    if (title === query) {
      return 0;
    }
    if (title.indexOf(query) === 0) {
      return 1;
    }
    var inTitle = words.filter(function (w) { return title.indexOf(w) !== -1; }).length;
    return inTitle === words.length ? 2 : inTitle > 0 ? 3 : 4;
  }

  function show(count) {
    results.textContent = "";
    found.slice(0, count).forEach(function (entry) {
      var li = document.createElement("li");
      li.className = "result result-" + entry[0];
      var kind = document.createElement("span");
      kind.className = "result-kind";
      kind.textContent = entry[0];
      var a = document.createElement("a");
      a.href = entry[3];
      a.textContent = entry[1];
      var detail = document.createElement("span");
      detail.className = "result-detail";
      detail.textContent = entry[2];
      li.appendChild(kind);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(detail);
      results.appendChild(li);
    });
    var all = count >= found.length;
    more.hidden = all;
    more.textContent = all ? "" : "Show all " + found.length.toLocaleString("en") + " results";
    if (found.length > 0) {
      status.textContent =
        found.length.toLocaleString("en") + " result" + (found.length === 1 ? "" : "s") +
        (all ? "" : ", the first " + count + " shown") + ".";
    }
  }

  function search() {
    var query = fold(input.value);
    found = [];
    if (!query) {
      results.textContent = "";
      more.hidden = true;
      status.textContent = "";
      return;
    }
    var words = query.split(" ");
    var hits = index.entries.filter(function (entry) {
      return words.every(function (word) {
        return entry[TEXT].indexOf(word) !== -1;
      });
    });
    var ranks = hits.map(function (entry) { return rank(entry, query, words); });
    var order = hits.map(function (_, i) { return i; });
    order.sort(function (i, j) {
      var x = hits[i];
      var y = hits[j];
      return ranks[i] - ranks[j] || ORDER[x[0]] - ORDER[y[0]] || x[1].localeCompare(y[1]);
    });
    found = order.map(function (i) { return hits[i]; });
    show(LIMIT);
    if (found.length === 0) {
      var typed = input.value.trim();
      var echo = typed.length > ECHO ? typed.slice(0, ECHO - 1) + "\u2026" : typed;
      status.textContent = "No results for \u201c" + echo + "\u201d.";
    }
  }

  function links() {
    return Array.prototype.slice.call(results.querySelectorAll("a"));
  }

  input.addEventListener("input", search);
  more.addEventListener("click", function () {
    var next = links().length;
    show(found.length);
    var first = links()[next];
    if (first) {
      first.focus(); // the first result that was not shown before
    }
  });
  section.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var first = links()[0];
    if (first) {
      first.focus();
    }
  });
  section.addEventListener("keydown", function (event) {
    var all = links();
    var at = all.indexOf(document.activeElement);
    var next = null;
    if (event.key === "ArrowDown") {
      next = document.activeElement === input ? all[0] : at === all.length - 1 && !more.hidden ? more : all[at + 1];
    } else if (event.key === "ArrowUp" && document.activeElement === more) {
      next = all[all.length - 1];
    } else if (event.key === "ArrowUp" && at !== -1) {
      next = at === 0 ? input : all[at - 1];
    } else if (event.key === "Escape" && document.activeElement === input) {
      input.value = "";
      search();
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
  section.hidden = false;
  search(); // the browser may restore a typed query on going back
})();
/* === end of the front page block ============================================================ */
