// Tables that fit a phone: each cell learns the name of its column (data-label), so that the
// CSS can show a narrow screen's rows as cards (opennrm.css, "Tables on a phone") without
// hiding a column. Rows and cells get their table roles back explicitly: a table laid out as
// blocks loses them in some browsers. Without JavaScript a wide table scrolls in its frame.
// Cross tables (statistics) keep their shape: a card would lose the rows' meaning.
(function () {
  "use strict";

  var SELECTOR = ".table-scroll > table:not(.statistical):not(.cards)";

  // A header's visible words: a column named only for screen readers (the "Open" links)
  // gets no label on its cards, which would repeat what the link says.
  function shownText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll(".visually-hidden").forEach(function (hidden) { hidden.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function label(table) {
    var headers = [];
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) { return; }
    Array.prototype.forEach.call(head.cells, function (cell) {
      for (var span = 0; span < (cell.colSpan || 1); span += 1) {
        headers.push(shownText(cell));
      }
    });
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"),
      function (group) { group.setAttribute("role", "rowgroup"); });
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (cell.tagName === "TH") {
          cell.setAttribute("role", row.parentNode === table.tHead ? "columnheader" : "rowheader");
        } else {
          cell.setAttribute("role", "cell");
        }
        if (row.parentNode !== table.tHead && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", headers[column] || "");
        }
        column += cell.colSpan || 1;
      });
    });
    table.classList.add("cards");
  }

  function start(root) {
    if (!root.querySelectorAll) { return; }
    root.querySelectorAll(SELECTOR).forEach(label);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }
  // Lists and sections that HTMX swaps in (filters, pages of the case list).
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
