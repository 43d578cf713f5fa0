/* Quick exit (GOV.UK's "Exit this page" pattern): the button, or Shift pressed 3 times within 5 seconds, hides the
   page at once and replaces it with the neutral site in the button's href. location.replace() takes this page out
   of the history, so Back does not bring it back, and a signed-in person is signed out on the way. Without
   JavaScript the button is a plain link (no Referer). */
(function () {
  "use strict";
  var SHIFTS = 3;
  var WINDOW_MS = 5000;

  function button() {
    return document.querySelector("a[data-quick-exit]");
  }

  function signOut() {
    // A signed-in family member is signed out too (the header's own Sign out form, sent as a beacon so it survives
    // the page going away): Back, or the portal opened again on a shared phone, shows the sign-in page, not the case.
    var form = document.querySelector("form[action$='/logout']");
    if (form && navigator.sendBeacon) {
      try {
        navigator.sendBeacon(form.action, new FormData(form));
      } catch (error) {
        // leaving matters more than signing out
      }
    }
  }

  function leave(url) {
    document.documentElement.classList.add("quick-exit-leaving");
    document.title = "";
    signOut();
    window.location.replace(url);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-quick-exit]") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    leave(link.href);
  });

  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") {
      presses = [];
      return;
    }
    if (event.repeat) {
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (at) { return now - at < WINDOW_MS; });
    presses.push(now);
    var link = button();
    if (presses.length >= SHIFTS && link) {
      presses = [];
      leave(link.href);
    }
  });

  var hint = document.querySelector("[data-quick-exit-hint]");
  if (hint) {
    hint.hidden = false;  // the shortcut works only with JavaScript: say so only then
  }
})();
