// Runs as the reader panel's js_on_load (Gradio gives `element`, `trigger`, `watch`): a citation
// link anywhere on the page (answers, passages) opens its article here, the passage in view.
window.ndOpenCitation = (place) => trigger("click", place);
if (!window.ndCitationListener) {
  window.ndCitationListener = (event) => {
    const link = event.target.closest ? event.target.closest("a.nd-cite") : null;
    const found = link && /^#nd-cite\/(\d+)\/(\d+)\/([0-9a-f]+)\/(.+)$/.exec(link.getAttribute("href") || "");
    if (!found) return;
    event.preventDefault();
    event.stopPropagation();
    window.ndOpenCitation({
      start: Number(found[1]), end: Number(found[2]), digest: found[3],
      source: decodeURIComponent(found[4]),
    });
  };
  document.addEventListener("click", window.ndCitationListener, true);
}
watch("value", () => {
  const mark = element.querySelector("#nd-mark");
  const article = element.querySelector(".nd-article");
  if (!mark || !article) return;
  // The passage a third of the way down its box; the page itself scrolls only if it must.
  const offset = mark.getBoundingClientRect().top - article.getBoundingClientRect().top;
  article.scrollTop += offset - article.clientHeight / 3;
  mark.scrollIntoView({ block: "nearest", inline: "nearest" });
  article.focus({ preventScroll: true });
});
