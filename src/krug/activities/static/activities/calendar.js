// The week calendar: drag a meeting to another day (or change its date-time field) to reschedule it.
// The server keeps its length and asks for confirmation when it moves more than 14 days away.
(function () {
  "use strict";
  const week = document.querySelector(".week");
  if (!week) return;
  const message = document.getElementById("calendar-message");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  function say(text, ok) {
    message.textContent = text;
    message.className = "toast " + (ok ? "toast-ok" : "toast-error");
    message.hidden = false;
    setTimeout(() => { message.hidden = true; }, 6000);
  }

  async function move(item, fields, confirmed) {
    const body = new URLSearchParams({...fields, version: item.dataset.version, confirm: confirmed ? "1" : ""});
    const response = await fetch(`/calendar/meetings/${item.dataset.meeting}/move/`, {
      method: "POST", body, headers: {"X-CSRFToken": csrf}, credentials: "same-origin"});
    const result = await response.json().catch(() => ({ok: false, reason: response.statusText}));
    if (result.confirm && !confirmed) {
      if (window.confirm(result.confirm)) return move(item, fields, true);
      window.location.reload();
      return;
    }
    if (!result.ok) { say(result.reason, false); window.setTimeout(() => window.location.reload(), 1500); return; }
    window.location.reload();
  }

  let dragged = null;
  week.addEventListener("dragstart", (e) => { dragged = e.target.closest("[data-meeting]"); });
  week.querySelectorAll(".day").forEach((day) => {
    day.addEventListener("dragover", (e) => { e.preventDefault(); day.classList.add("day-drop"); });
    day.addEventListener("dragleave", () => day.classList.remove("day-drop"));
    day.addEventListener("drop", (e) => {
      e.preventDefault();
      day.classList.remove("day-drop");
      if (dragged) move(dragged, {day: day.dataset.day}, false);
    });
  });
  week.addEventListener("change", (e) => {
    const input = e.target.closest(".move-date");
    if (input && input.value) move(input.closest("[data-meeting]"), {starts_at: input.value}, false);
  });
})();
