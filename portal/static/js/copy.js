// A "Copy" button for text shown once (a tip link, a tip code). Hidden where the browser cannot copy.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copyTarget);
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.dataset.copiedText || "Copied";
      });
    });
  });
})();
