// The deal board: drag a card to another stage (or pick one in its "move to" list); the server decides.
// A refused move puts the card back and says why; a lost stage asks for the reason first.
(function () {
  "use strict";
  const board = document.querySelector(".board");
  if (!board) return;
  const message = document.getElementById("board-message");
  const dialog = document.getElementById("loss-dialog");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  function say(text, ok) {
    message.textContent = text;
    message.className = "toast " + (ok ? "toast-ok" : "toast-error");
    message.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { message.hidden = true; }, 6000);
  }

  function askLossReason() {
    return new Promise((resolve) => {
      const input = dialog.querySelector("input[name=loss_reason]");
      input.value = "";
      dialog.returnValue = "";
      dialog.showModal();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok" && input.value.trim() ? input.value.trim() : null);
      });
    });
  }

  function retotal(list) {
    const column = list.closest(".column");
    const cards = list.querySelectorAll(".deal-card");
    let sum = 0;
    cards.forEach((c) => { sum += Number(c.dataset.amount || 0); });
    column.querySelector("[data-count]").textContent = cards.length;
    column.querySelector("[data-amount]").textContent = sum.toLocaleString(document.documentElement.lang);
  }

  async function move(card, toList, fromList, oldIndex) {
    const stage = toList.dataset.stage;
    const body = new URLSearchParams({stage_id: stage, version: card.dataset.version});
    if (toList.dataset.kind === "lost") {
      const reason = await askLossReason();
      if (reason === null) { putBack(card, fromList, oldIndex); return; }
      body.set("loss_reason", reason);
    }
    const response = await fetch(`/deals/${card.dataset.deal}/move/`, {
      method: "POST", body, headers: {"X-CSRFToken": csrf, "Accept": "application/json"}, credentials: "same-origin"});
    const result = await response.json().catch(() => ({ok: false, reason: response.statusText}));
    if (!result.ok) {
      putBack(card, fromList, oldIndex);
      say(result.reason, false);
      return;
    }
    card.dataset.version = result.version;
    retotal(toList); retotal(fromList);
    say(board.dataset.moved || "✓", true);
  }

  function putBack(card, list, index) {
    list.insertBefore(card, list.children[index] || null);
    card.focus();
  }

  board.querySelectorAll(".cards").forEach((list) => {
    new Sortable(list, {
      group: "deals", animation: 120, filter: "select, a", preventOnFilter: false,
      onEnd: (event) => {
        if (event.from === event.to) return;
        move(event.item, event.to, event.from, event.oldIndex);
      },
    });
  });

  board.addEventListener("change", (event) => {
    const select = event.target.closest(".move-select");
    if (!select || !select.value) return;
    const card = select.closest(".deal-card");
    const fromList = card.parentElement;
    const toList = board.querySelector(`.cards[data-stage="${select.value}"]`);
    const oldIndex = Array.prototype.indexOf.call(fromList.children, card);
    toList.prepend(card);
    select.value = "";
    move(card, toList, fromList, oldIndex);
  });
})();
