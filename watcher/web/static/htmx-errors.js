// A refused change (400) comes with the message to show beside its form: let htmx swap
// that answer in instead of dropping it, as it does with every 4xx. Loaded on every page.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
