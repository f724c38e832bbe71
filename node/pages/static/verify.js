// The verifier page's one script: read a chosen or dropped .json file into the text box, and
// refuse one larger than the node accepts before it is sent. The page works without it (the
// form uploads the file itself); texts come from data attributes set by the server.
"use strict";
(function () {
  var form = document.getElementById("verify-form");
  if (!form) {
    return;
  }
  var max = Number(form.getAttribute("data-max-bytes")) || 0;
  var box = document.getElementById("document");
  var input = document.getElementById("file");
  var zone = document.getElementById("drop-zone");
  var message = document.getElementById("file-message");
  var dropText = zone.querySelector(".drop-text");

  function say(text) {
    message.textContent = text;
  }

  function take(file) {
    if (!file) {
      return;
    }
    if (max && file.size > max) {
      input.value = "";
      say(form.getAttribute("data-too-large"));
      return;
    }
    file.text().then(function (content) {
      box.value = content;
      input.value = "";
      say(form.getAttribute("data-loaded").replace("{name}", file.name));
    }, function () {
      say(form.getAttribute("data-unreadable"));
    });
  }

  input.addEventListener("change", function () {
    take(input.files && input.files[0]);
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
