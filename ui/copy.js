// The chat's copy button copies a message as stored, HTML included. Each answer carries its
// plain-text form (answer and sources) in a comment; the clipboard receives that instead.
(() => {
  const plain = (text) => {
    const found = /<!--nd-copy:([A-Za-z0-9+\/=]+)-->/.exec(text || "");
    if (!found) return null;
    const bytes = Uint8Array.from(atob(found[1]), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  };
  const clipboard = navigator.clipboard;
  if (clipboard && !clipboard.ndPlain) {
    const write = clipboard.writeText.bind(clipboard);
    clipboard.writeText = (text) => write(plain(text) ?? text);
    clipboard.ndPlain = true;
  }
  // Without the Clipboard API (plain http beyond loopback) Gradio copies from a textarea.
  document.addEventListener("copy", (event) => {
    const box = document.activeElement;
    const text = box && box.tagName === "TEXTAREA" ? plain(box.value) : null;
    if (text !== null) { event.clipboardData.setData("text/plain", text); event.preventDefault(); }
  }, true);
})();
