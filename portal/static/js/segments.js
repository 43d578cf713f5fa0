// Under the staff message box: how many SMS segments the words take as a text (GSM-7: 160, or 153 each when
// split; anything outside GSM-7: 70, or 67 each), as portal/providers/sms/segments.py counts them.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿" +
    "abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";
  function count(text) {
    var units = 0, gsm = true, i, ch;
    for (i = 0; i < text.length; i += 1) {
      ch = text.charAt(i);
      if (BASIC.indexOf(ch) >= 0) { units += 1; } else if (EXTENDED.indexOf(ch) >= 0) { units += 2; } else { gsm = false; }
    }
    if (!gsm) { units = text.length; }
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    return { chars: units, segments: units <= single ? 1 : Math.ceil(units / multi) };
  }
  document.querySelectorAll("[data-segments-for]").forEach(function (output) {
    var box = document.getElementById(output.dataset.segmentsFor);
    if (!box) { return; }
    function show() {
      var c = count(box.value.trim());
      output.textContent = box.value.trim() ? output.dataset.label.replace("{chars}", c.chars)
        .replace("{segments}", c.segments) : "";
    }
    box.addEventListener("input", show);
    show();
  });
})();
