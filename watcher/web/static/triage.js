// Triage forms answer a refused change (400) with the message to show beside them: let
// htmx swap that answer in instead of dropping it, as it does with every 4xx.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
