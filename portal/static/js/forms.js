// Forms: stop a second click from sending twice; on lead and tip forms, say at once when files are too many or too big.
(function () {
  "use strict";
  var MB = 1024 * 1024;
  // Any form marked "once": a second click while the first is on its way does nothing.
  document.querySelectorAll("form.once").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector('button[type="submit"]');
      if (button) { button.setAttribute("aria-busy", "true"); }
    });
  });
  document.querySelectorAll("form.lead-form").forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var note = input ? document.getElementById(input.id + "-check") : null;
    var maxFiles = parseInt(form.dataset.maxFiles, 10);
    var maxFile = parseInt(form.dataset.maxFileMb, 10) * MB;
    var maxTotal = parseInt(form.dataset.maxTotalMb, 10) * MB;
    var messages = {
      many: form.dataset.msgMany || "Too many files. Choose fewer files.",
      big: form.dataset.msgBig || "A file is bigger than 25 MB: ",
      total: form.dataset.msgTotal || "The files are bigger than 100 MB together."
    };
    function problem() {
      if (!input || !input.files) { return ""; }
      var files = Array.prototype.slice.call(input.files);
      if (files.length > maxFiles) { return messages.many; }
      var total = 0;
      for (var i = 0; i < files.length; i++) {
        if (files[i].size > maxFile) { return messages.big + files[i].name; }
        total += files[i].size;
      }
      return total > maxTotal ? messages.total : "";
    }
    if (input && note) {
      input.addEventListener("change", function () {
        var text = problem();
        note.textContent = text;
        note.hidden = !text;
      });
    }
    form.addEventListener("submit", function (event) {
      var text = problem();
      if (text && note) {
        event.preventDefault();
        note.textContent = text;
        note.hidden = false;
        input.focus();
        return;
      }
      var button = form.querySelector('button[type="submit"]');
      if (button) {
        if (button.dataset.sent) { event.preventDefault(); return; }
        button.dataset.sent = "1";
        button.setAttribute("aria-busy", "true");
        if (button.dataset.busyText) { button.textContent = button.dataset.busyText; }
      }
    });
  });
})();
