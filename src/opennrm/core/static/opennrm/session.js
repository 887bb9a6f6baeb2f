// Inactivity sign-out for shared screens.
//
// The server ends a session after SESSION_COOKIE_AGE seconds without a request; this script
// mirrors that clock in the browser. Shortly before the end it asks "Are you still there?";
// without an answer it clears the page and signs the user out, so the next person at the
// computer does not see a case. Any page load or HTMX request restarts the clock.
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.dataset.sessionTimeout || "0", 10);
  if (!timeout) { return; }
  var warning = parseInt(body.dataset.sessionWarning || "0", 10);
  var dialog = document.getElementById("session-warning");
  var countdown = document.getElementById("session-countdown");
  var deadline = 0;
  var ticker = null;

  function csrfToken() {
    var field = document.querySelector("#logout-form input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function restart() {
    deadline = Date.now() + timeout * 1000;
    if (dialog && dialog.open) { dialog.close(); }
  }

  function signOut() {
    window.clearInterval(ticker);
    // Clear the screen first: the request may take a moment on a slow connection.
    var main = document.getElementById("main");
    if (main) { main.replaceChildren(); }
    if (dialog && dialog.open) { dialog.close(); }
    var form = document.getElementById("logout-form");
    if (form) {
      var reason = document.createElement("input");
      reason.type = "hidden";
      reason.name = "reason";
      reason.value = "inactivity";
      form.appendChild(reason);
      form.submit();
    }
  }

  function stay() {
    var request = new XMLHttpRequest();
    request.open("POST", body.dataset.keepAliveUrl);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.onload = function () {
      if (request.status === 204) { restart(); } else { signOut(); }
    };
    request.onerror = function () { restart(); };
    request.send();
  }

  function tick() {
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) { signOut(); return; }
    if (left <= warning && dialog && !dialog.open) {
      dialog.showModal();
      document.getElementById("session-stay").focus();
    }
    if (countdown) { countdown.textContent = String(Math.max(left, 0)); }
  }

  if (dialog) {
    document.getElementById("session-stay").addEventListener("click", stay);
    document.getElementById("session-leave").addEventListener("click", signOut);
    // Escape would close the dialog without renewing the session: treat it as "stay".
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); stay(); });
  }
  document.body.addEventListener("htmx:afterRequest", restart);
  restart();
  ticker = window.setInterval(tick, 1000);
})();
