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
        count.textContent = shown + " of " + rows.length + " rows";
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
          // h-pages: a formatted number (1,000) sorts by its data-sort value (1000)
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
      Array.prototype.forEach.call(items, function (item) {
        item.hidden = shown[item.getAttribute("data-kind")] === false;
        n += item.hidden ? 0 : 1;
      });
      if (count) {
        count.textContent = n + " of " + items.length + " disagreements";
      }
    }
    Array.prototype.forEach.call(boxes, function (box) {
      box.addEventListener("change", apply);
    });
    fieldset.hidden = false;
    apply(); // the browser may restore ticks on going back
  });
})();
