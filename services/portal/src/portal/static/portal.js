// After htmx swaps new content in, move keyboard focus to a heading the response marks
// with data-focus, so keyboard and screen-reader users land on what changed.
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.elt.querySelector("[data-focus]");
  if (target) { target.focus(); }
});

// Upload progress of the assessment import form (htmx sends it with XMLHttpRequest).
document.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});
