// Staff reply box: a click on "Insert link" in the kb lookup fragment puts the
// article's Markdown link into the reply text at the cursor. The textarea is
// named by data-kb-target on an ancestor (a CSS selector), or is #id_body.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-kb-insert]");
  if (!button || button.disabled) return;
  var holder = button.closest("[data-kb-target]");
  var field = document.querySelector(holder ? holder.dataset.kbTarget : "#id_body");
  if (!field) return;
  var text = button.dataset.kbInsert;
  var start = field.selectionStart ?? field.value.length;
  var end = field.selectionEnd ?? start;
  field.value = field.value.slice(0, start) + text + field.value.slice(end);
  field.focus();
  field.selectionStart = field.selectionEnd = start + text.length;
  field.dispatchEvent(new Event("input", { bubbles: true }));
});
