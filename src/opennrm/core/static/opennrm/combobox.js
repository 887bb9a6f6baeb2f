// Type-ahead multiple choice: a <select multiple data-combobox> becomes a combobox.
//
// The WAI-ARIA combobox pattern (list autocomplete, https://www.w3.org/WAI/ARIA/apg/patterns/
// combobox/): type part of a name, move with the arrow keys, Enter chooses or unchooses the
// entry, Escape closes the list. The chosen entries are listed above, each with a button that
// removes it. No Ctrl-click. The <select> stays in the form, hidden, and holds the choice: the
// form posts what it always did, and without JavaScript the plain list box works as before.
// The texts come translated from the select's data-combobox-* attributes.
(function () {
  "use strict";

  var MAX_SHOWN = 60;  // matches listed at once; typing narrows them

  function fold(text) {
    // "Ștefan", "stefan" and "ŞTEFAN" match one another; so do "Åland" and "aland".
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function fill(template, name) {
    return (template || "").replace("%(name)s", name);
  }

  function enhance(select) {
    var id = select.id;
    var label = document.querySelector('label[for="' + id + '"]');
    var texts = select.dataset;
    var root = document.createElement("div");
    root.className = "combobox";

    var chosen = document.createElement("ul");
    chosen.className = "combobox-chosen";
    if (label) {
      label.id = label.id || id + "-label";
      chosen.setAttribute("aria-label", fill(texts.comboboxChosen, label.textContent.trim()));
    }

    var input = document.createElement("input");
    input.type = "text";
    input.id = id + "-input";
    input.className = "combobox-input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-listbox");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (select.hasAttribute(name)) { input.setAttribute(name, select.getAttribute(name)); }
    });
    if (texts.comboboxPlaceholder) { input.placeholder = texts.comboboxPlaceholder; }

    var listbox = document.createElement("ul");
    listbox.id = id + "-listbox";
    listbox.className = "combobox-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-multiselectable", "true");
    if (label) { listbox.setAttribute("aria-labelledby", label.id); }
    listbox.hidden = true;

    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");

    var items = Array.prototype.map.call(select.options, function (option, index) {
      var item = document.createElement("li");
      item.id = id + "-option-" + index;
      item.setAttribute("role", "option");
      item.textContent = option.textContent;
      item.hidden = true;
      listbox.appendChild(item);
      return {option: option, item: item, folded: fold(option.textContent)};
    });
    var shown = [];
    var active = -1;

    function announce(message) {
      status.textContent = "";
      // A new text node is read even when the message repeats.
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function renderChosen() {
      chosen.textContent = "";
      items.forEach(function (entry) {
        entry.item.setAttribute("aria-selected", entry.option.selected ? "true" : "false");
        if (!entry.option.selected) { return; }
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = entry.option.textContent;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "combobox-remove";
        remove.setAttribute("aria-label", fill(texts.comboboxRemove, entry.option.textContent));
        remove.textContent = "×";
        remove.addEventListener("click", function () {
          var position = Array.prototype.indexOf.call(chosen.querySelectorAll("button"), remove);
          choose(entry, false);
          // Keep the keyboard where it was: on the next entry's button, else in the input.
          var buttons = chosen.querySelectorAll("button");
          (buttons[position] || buttons[position - 1] || input).focus();
        });
        li.appendChild(name);
        li.appendChild(remove);
        chosen.appendChild(li);
      });
      chosen.hidden = !chosen.firstChild;
    }

    function choose(entry, selected) {
      entry.option.selected = selected;
      select.dispatchEvent(new Event("change", {bubbles: true}));
      renderChosen();
      announce(fill(selected ? texts.comboboxAdded : texts.comboboxRemoved,
                    entry.option.textContent));
    }

    function setActive(index) {
      if (active >= 0 && shown[active]) { shown[active].item.classList.remove("is-active"); }
      active = index;
      if (active >= 0 && shown[active]) {
        shown[active].item.classList.add("is-active");
        input.setAttribute("aria-activedescendant", shown[active].item.id);
        shown[active].item.scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      var typed = fold(input.value.trim());
      var starts = [], contains = [];
      items.forEach(function (entry) {
        entry.item.hidden = true;
        if (!typed) { starts.push(entry); return; }
        var at = entry.folded.indexOf(typed);
        if (at === 0 || (at > 0 && /[\s(,-]/.test(entry.folded.charAt(at - 1)))) {
          starts.push(entry);
        } else if (at > 0) {
          contains.push(entry);
        }
      });
      // Names that start with what was typed come first, then the others that contain it.
      shown = starts.concat(contains).slice(0, MAX_SHOWN);
      shown.forEach(function (entry) { listbox.appendChild(entry.item); entry.item.hidden = false; });
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      setActive(shown.length ? 0 : -1);
      if (typed) {
        announce(shown.length ? fill(texts.comboboxCount, String(shown.length))
                              : texts.comboboxEmpty || "");
      }
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    input.addEventListener("input", open);
    input.addEventListener("keydown", function (event) {
      var isOpen = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!isOpen) { open(); } else if (shown.length) { setActive((active + 1) % shown.length); }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen) { open(); }
        if (shown.length) { setActive(active <= 0 ? shown.length - 1 : active - 1); }
      } else if (event.key === "Enter") {
        // Enter chooses in the list; it never submits the form from here.
        event.preventDefault();
        if (isOpen && active >= 0) {
          var entry = shown[active];
          choose(entry, !entry.option.selected);
          input.value = "";
          close();
        } else if (!isOpen) {
          open();
        }
      } else if (event.key === "Escape") {
        if (isOpen) { event.preventDefault(); close(); } else { input.value = ""; }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
    input.addEventListener("click", function () { if (listbox.hidden) { open(); } });
    // A pointer chooses too; mousedown would take the focus from the input first.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (!item) { return; }
      var entry = items.filter(function (candidate) { return candidate.item === item; })[0];
      choose(entry, !entry.option.selected);
      input.focus();
    });

    if (label) { label.htmlFor = input.id; }
    select.hidden = true;
    select.removeAttribute("id");
    select.id = id + "-select";
    var field = document.createElement("div");
    field.className = "combobox-field";
    field.appendChild(input);
    field.appendChild(listbox);
    root.appendChild(chosen);
    root.appendChild(field);
    root.appendChild(status);
    select.parentNode.insertBefore(root, select);
    root.appendChild(select);
    renderChosen();
  }

  function start() {
    document.querySelectorAll("select[multiple][data-combobox]").forEach(enhance);
    document.querySelectorAll("[data-combobox-hint]").forEach(function (hint) {
      hint.hidden = true;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
