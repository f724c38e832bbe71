// The verifier page's one script: read a chosen or dropped .json file into the text box, and
// refuse, before anything is sent, what the node would refuse for its size or encoding. The page
// works without it (the form uploads the file itself); texts come from data attributes set by
// the server, so the script says what the server would.
"use strict";
(function () {
  var form = document.getElementById("verify-form");
  if (!form) {
    return;
  }
  var max = Number(form.getAttribute("data-max-bytes")) || 0;
  // The form is multipart: boundaries, field names and the two options travel with the text.
  var OVERHEAD = 1024;
  var box = document.getElementById("document");
  var input = document.getElementById("file");
  var zone = document.getElementById("drop-zone");
  var message = document.getElementById("file-message");
  var dropText = zone.querySelector(".drop-text");
  var refusal = "";  // why the last file was refused; kept until the box is used again

  function say(text) {
    message.textContent = text;
  }

  function refuse(text) {
    refusal = text;
    say(text);
  }

  function human(n) {
    if (n >= 1024 * 1024) {
      return (n / (1024 * 1024)).toFixed(2) + " MiB";
    }
    return n >= 1024 ? Math.ceil(n / 1024) + " KiB" : n + " bytes";
  }

  // What the form will send of ``text``: a textarea's line breaks go as CRLF (HTML's form
  // submission normalises them), so a file with LF line breaks grows by one byte a line.
  function sentBytes(text) {
    return new TextEncoder().encode(text.replace(/\r\n|\r|\n/g, "\r\n")).length;
  }

  function tooLarge(name, size) {
    return form.getAttribute("data-file-too-large").replace("{name}", name).replace("{size}", human(size));
  }

  function take(file) {
    if (!file) {
      return;
    }
    input.value = "";
    if (max && file.size > max + 3) {  // + 3: a UTF-8 byte order mark is dropped
      refuse(tooLarge(file.name, file.size));
      return;
    }
    file.arrayBuffer().then(function (buffer) {
      var content;
      try {
        content = new TextDecoder("utf-8", { fatal: true }).decode(buffer);  // drops a BOM, as the node does
      } catch (e) {
        refuse(form.getAttribute("data-not-utf8"));
        return;
      }
      var size = sentBytes(content);
      if (max && size + OVERHEAD > max) {
        refuse(tooLarge(file.name, size));
        return;
      }
      refusal = "";
      box.value = content;
      say(form.getAttribute("data-loaded").replace("{name}", file.name));
    }, function () {
      refuse(form.getAttribute("data-unreadable"));
    });
  }

  input.addEventListener("change", function () {
    take(input.files && input.files[0]);
  });
  box.addEventListener("input", function () {
    refusal = "";
  });
  form.addEventListener("submit", function (event) {
    // A refused file left the box empty: Verify would only say "Nothing to verify".
    if (refusal && !box.value.trim()) {
      event.preventDefault();
      say("");
      window.setTimeout(function () { say(refusal); }, 50);  // announced again
      return;
    }
    var size = sentBytes(box.value);
    if (max && !(input.files && input.files.length) && size + OVERHEAD > max) {
      event.preventDefault();
      say(tooLarge(form.getAttribute("data-box-name"), size));
    }
  });
  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("drop--active");
  });
  zone.addEventListener("dragleave", function () {
    zone.classList.remove("drop--active");
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("drop--active");
    take(event.dataTransfer && event.dataTransfer.files[0]);
  });
  if (dropText) {
    dropText.hidden = false;
  }
  // After a check, bring the result into view and give it the keyboard focus.
  var result = document.getElementById("result");
  if (result && window.location.hash === "#result") {
    result.focus();
  }
})();
