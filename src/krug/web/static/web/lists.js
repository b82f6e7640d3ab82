// Row selection for bulk actions on the client lists: a "select all on the page" box, the count, and the
// action's own value field. Rows loaded later by "show more" join the selection logic automatically.
(function () {
  const bar = document.querySelector("[data-bulk]");
  if (!bar) return;
  const count = bar.querySelector("[data-bulk-count]");
  const action = bar.querySelector("[data-bulk-action]");
  const boxes = () => document.querySelectorAll("input[name=ids][form=bulk]");
  const all = document.querySelector("[data-select-all]");

  function refresh() {
    const picked = [...boxes()].filter((b) => b.checked).length;
    count.textContent = picked;
    bar.hidden = picked === 0;
    if (all) all.checked = picked > 0 && picked === boxes().length;
  }
  function showValueField() {
    bar.querySelectorAll("[data-for]").forEach((field) => {
      const on = field.dataset.for.split(" ").includes(action.value);
      field.hidden = !on;
      field.disabled = !on;
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("input[name=ids][form=bulk]")) refresh();
    if (event.target === all) { boxes().forEach((b) => { b.checked = all.checked; }); refresh(); }
  });
  action.addEventListener("change", showValueField);
  bar.querySelector("[data-bulk-clear]").addEventListener("click", () => {
    boxes().forEach((b) => { b.checked = false; });
    refresh();
  });
  showValueField();
  refresh();
})();
