/* Linli desk: alerts for new handoffs, the desk's one alert module.
 *
 * On every queue poll (LinliDesk.on("queue")) it finds the handoffs that arrived since the last
 * poll (those already waiting when the page loaded are the baseline, not news) and
 *  - plays a short chime (WebAudio, no sound file),
 *  - prefixes the tab title "(N) 新的人工服务 · …" until the queue is looked at (a click or key
 *    press on the queue view, opening a conversation, or coming back to the tab on it),
 *  - raises a browser Notification (permission asked from the top bar's "开启提醒 / Enable alerts"
 *    button: browsers only allow the request after a click).
 * Emergencies (priority "urgent", waiting for a taker) stand out: the red banner on every view,
 * a flashing title, a different tone repeated every 15 s until someone takes it, a notification
 * that stays until dismissed (requireInteraction), and the item first in the queue.
 * The mute toggle (remembered in localStorage) silences the chime of ordinary handoffs; an
 * emergency still rings, because missing one is worse than a noisy desk.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { $, $$, t } = D;
  const MUTE_KEY = "linli_alerts_muted";
  const URGENT_REPEAT_MS = 15000;
  // [frequency Hz, start s, duration s]: a rising two-note chime; emergencies a harsh falling pair, three times.
  const TONES = {
    normal: { type: "sine", volume: 0.18, notes: [[660, 0, 0.16], [880, 0.18, 0.24]] },
    urgent: { type: "square", volume: 0.12, notes: [0, 0.5, 1.0].flatMap((s) => [[988, s, 0.2], [740, s + 0.22, 0.2]]) },
  };

  D.strings({
    zh: {
      alerts_enable: "开启提醒", alerts_enable_hint: "允许浏览器通知：新的人工服务和紧急情况会弹出提醒",
      alerts_sound_on: "提示音：开", alerts_sound_off: "提示音：关",
      alerts_mute_hint: "新对话提示音开关（紧急情况始终响铃）", new_handoffs: "新的人工服务",
      notify_new: "新的人工服务请求", notify_urgent: "⚠ 紧急情况：请立即接入", banner_open: "点击查看",
    },
    en: {
      alerts_enable: "Enable alerts", alerts_enable_hint: "Allow browser notifications for new handoffs and emergencies",
      alerts_sound_on: "Sound on", alerts_sound_off: "Sound off",
      alerts_mute_hint: "Sound for new handoffs on/off (emergencies always ring)", new_handoffs: "new handoffs",
      notify_new: "New handoff", notify_urgent: "⚠ Emergency: take it now", banner_open: "click to open",
    },
  });

  const known = new Set();          // every handoff id seen in a poll
  const unseen = new Set();         // waiting handoffs that arrived since the queue was last looked at
  const urgentAlerted = new Set();  // emergencies already announced
  let baseline = false;             // the first poll after login is what was already there
  let urgentWaiting = [];
  let flashOn = false, flashTimer = null, repeatTimer = null;
  let muted = localStorage.getItem(MUTE_KEY) === "1";
  let audio = null;

  const enableButton = $("#alerts-enable");
  const muteButton = $("#alerts-mute");
  const banner = $("#urgent-banner");
  const residentOf = (h) => (h.sender_id && h.sender_id.startsWith(h.channel + ":") ? h.sender_id.slice(h.channel.length + 1) : h.sender_id);
  const queueVisible = () => !!D.me() && !$("#view-queue").hidden;

  // ------------------------------------------------------------ sound
  function audioContext() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    return audio;
  }
  function tone(kind) {
    try {
      const ctx = audioContext();
      if (!ctx) return;
      const spec = TONES[kind];
      const now = ctx.currentTime + 0.02;
      spec.notes.forEach(([freq, start, duration]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = spec.type;
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + start);
        gain.gain.exponentialRampToValueAtTime(spec.volume, now + start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + start + duration);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(now + start);
        osc.stop(now + start + duration + 0.02);
      });
    } catch (e) { /* no audio device: the title, banner and notification still show it */ }
  }
  // Browsers start audio only after a user gesture: the first click (the login button) unlocks it.
  document.addEventListener("pointerdown", () => { if (!audio) audioContext(); }, { capture: true, once: true });

  // ------------------------------------------------------------ notifications
  function notify(h, urgent) {
    const N = window.Notification;
    if (!N || N.permission !== "granted") return;
    const reason = t("rs_" + h.reason);
    try {
      const note = new N(urgent ? t("notify_urgent") : t("notify_new"), {
        body: `${residentOf(h)} · ${h.channel} · ${reason}${h.last_message ? "\n" + h.last_message : ""}`,
        tag: "linli-handoff-" + h.id, requireInteraction: urgent, lang: D.lang() === "zh" ? "zh-CN" : "en",
      });
      note.onclick = () => { window.focus(); openHandoff(h.id); note.close(); };
    } catch (e) { /* notifications unavailable here (e.g. an insecure origin): the title and sound remain */ }
  }
  function openHandoff(id) {
    D.show("queue");
    const item = $(`#queue-list .queue-item[data-id="${Number(id)}"]`);
    if (item) item.click();
  }

  // ------------------------------------------------------------ title, banner, list
  function renderTitle() {
    const base = unseen.size ? `(${unseen.size}) ${t("new_handoffs")} · ${t("title")}` : t("title");
    document.title = (urgentWaiting.length && flashOn ? `⚠ ${t("urgent_tag")} · ` : "") + base;
  }
  function renderBanner() {
    banner.hidden = urgentWaiting.length === 0;
    banner.textContent = urgentWaiting.length ? `${t("urgent_banner")} (${urgentWaiting.length}) · ${t("banner_open")}` : "";
  }
  function renderList() {
    const list = $("#queue-list");
    // Emergencies first, whatever order the list came in (the server sorts them first too).
    $$(".queue-item.urgent", list).reverse().forEach((n) => list.prepend(n));
    $$(".queue-item", list).forEach((n) => n.classList.toggle("unseen", unseen.has(Number(n.dataset.id))));
  }
  function renderButtons() {
    const N = window.Notification;
    enableButton.hidden = !D.me() || !N || N.permission !== "default";
    enableButton.title = t("alerts_enable_hint");
    muteButton.hidden = !D.me();
    muteButton.textContent = muted ? t("alerts_sound_off") : t("alerts_sound_on");
    muteButton.title = t("alerts_mute_hint");
    muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
  }
  function seen() {
    if (!unseen.size) return;
    unseen.clear();
    renderList();
    renderTitle();
  }

  function onQueue(items) {
    const fresh = baseline ? items.filter((h) => !known.has(h.id) && h.status === "queued") : [];
    items.forEach((h) => known.add(h.id));
    fresh.forEach((h) => unseen.add(h.id));
    const waiting = new Set(items.filter((h) => h.status === "queued").map((h) => h.id));
    [...unseen].forEach((id) => { if (!waiting.has(id)) unseen.delete(id); }); // taken or ended meanwhile
    urgentWaiting = items.filter((h) => h.priority === "urgent" && h.status === "queued");
    // An emergency is news when it arrives, and also when a waiting handoff is raised to urgent.
    const freshUrgent = urgentWaiting.filter((h) => !urgentAlerted.has(h.id));
    urgentWaiting.forEach((h) => urgentAlerted.add(h.id));
    if (baseline) freshUrgent.forEach((h) => unseen.add(h.id));
    const freshNormal = fresh.filter((h) => h.priority !== "urgent");
    if (baseline && freshUrgent.length) tone("urgent");
    else if (freshNormal.length && !muted) tone("normal");
    if (baseline) freshUrgent.forEach((h) => notify(h, true));
    freshNormal.forEach((h) => notify(h, false));
    baseline = true;

    clearInterval(flashTimer);
    flashTimer = urgentWaiting.length ? setInterval(() => { flashOn = !flashOn; renderTitle(); }, 1000) : null;
    if (!urgentWaiting.length) flashOn = false;
    if (urgentWaiting.length && !repeatTimer) {
      repeatTimer = setInterval(() => { if (urgentWaiting.length) tone("urgent"); }, URGENT_REPEAT_MS);
    } else if (!urgentWaiting.length) { clearInterval(repeatTimer); repeatTimer = null; }
    renderBanner();
    renderList();
    renderTitle();
    renderButtons();
  }

  // ------------------------------------------------------------ wiring
  enableButton.addEventListener("click", async () => {
    audioContext(); // the click also unlocks sound
    try { if (window.Notification) await window.Notification.requestPermission(); } catch (e) { /* refused */ }
    if (muted) { muted = false; localStorage.setItem(MUTE_KEY, "0"); }
    tone("normal"); // what a new handoff sounds like
    renderButtons();
  });
  muteButton.addEventListener("click", () => {
    muted = !muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    if (!muted) tone("normal");
    renderButtons();
  });
  banner.tabIndex = 0;
  banner.addEventListener("click", () => { if (urgentWaiting.length) openHandoff(urgentWaiting[0].id); });
  banner.addEventListener("keydown", (ev) => { if ((ev.key === "Enter" || ev.key === " ") && urgentWaiting.length) { ev.preventDefault(); openHandoff(urgentWaiting[0].id); } });
  // "Looked at": an interaction on the queue view, opening a conversation, or returning to the tab on it.
  document.addEventListener("click", () => { if (queueVisible()) seen(); });
  document.addEventListener("keydown", () => { if (queueVisible()) seen(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && queueVisible() && document.hasFocus()) seen(); });
  window.addEventListener("focus", () => { if (queueVisible()) seen(); });
  // Logging out ends every alert of this desk (the next login starts from what is waiting then).
  $("#logout").addEventListener("click", () => {
    enableButton.hidden = true; muteButton.hidden = true;
    unseen.clear(); urgentWaiting = []; baseline = false;
    clearInterval(flashTimer); clearInterval(repeatTimer); repeatTimer = null; flashOn = false;
    renderBanner(); renderTitle();
  });

  D.on("queue", onQueue);
  D.on("conversation", seen);
  D.on("start", renderButtons);
  D.on("lang", () => { renderButtons(); renderBanner(); renderTitle(); });
  D.alerts = { ready: () => baseline, unseen: () => unseen.size, muted: () => muted };
})();
