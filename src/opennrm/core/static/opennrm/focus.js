// Keep the keyboard in a panel that HTMX swaps in.
//
// When a button replaces its own panel (show or hide the identity), the focused button is gone
// with the old panel; the new panel's control marked data-autofocus takes the focus, so the
// next Tab does not start again from the top of the page (WCAG 2.4.3). The browser's own
// autofocus attribute is not used: Chromium focuses such a control as soon as it is inserted,
// before HTMX has wired up its form, and an Enter pressed at that moment submitted the form
// as a whole page load.
(function () {
  "use strict";
  // htmx:load fires on new content once HTMX has processed it.
  document.body.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root.querySelector) { return; }
    var control = root.matches("[data-autofocus]") ? root : root.querySelector("[data-autofocus]");
    if (control) { control.focus(); }
  });
})();
