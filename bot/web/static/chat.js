/* Linli web chat over Rasa's socket.io channel (session_persistence: true).
 *
 * The server-signed session token lives in localStorage, so a reload or a
 * reconnect joins the same conversation; after every (re)connect the page reloads
 * the history from /chat/history (Authorization: Bearer <token>) and then sends what was typed while offline (kept in
 * a localStorage outbox), so nothing is lost across a network drop. */
(function () {
  "use strict";
  var STORE = "linli.chat.";
  var root = document.getElementById("linli-chat");
  var list = document.getElementById("linli-messages");
  var form = document.getElementById("linli-form");
  var input = document.getElementById("linli-input");
  var params = new URLSearchParams(location.search);
  if (params.get("embed")) document.body.classList.add("embed");

  var TEXT = {
    zh: { title: "邻里小助手", send: "发送", placeholder: "请输入您的问题，例如：厨房水管漏水",
          online: "在线", offline: "连接中断，正在重连…", connecting: "连接中…", other: "EN",
          hello: "您好！我是邻里小助手，可以帮您报修、查询工单、投诉建议或解答物业问题。", typing: "正在输入…" },
    en: { title: "Linli assistant", send: "Send", placeholder: "Type your question, e.g. the kitchen pipe is leaking",
          online: "online", offline: "connection lost, reconnecting…", connecting: "connecting…", other: "中文",
          hello: "Hello! I'm Linli. I can file repair requests, check tickets, take complaints and answer questions.",
          typing: "typing…" }
  };
  function pickLang() {
    var asked = params.get("lang");
    if (asked === "zh" || asked === "en") return asked;
    var saved = localStorage.getItem(STORE + "lang");
    if (saved) return saved;
    return (navigator.language || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }
  var lang = pickLang();
  var state = "connecting";

  function t(key) { return TEXT[lang][key]; }
  function applyLang() {
    document.documentElement.lang = lang;
    document.getElementById("linli-title").textContent = t("title");
    document.getElementById("linli-send").textContent = t("send");
    document.getElementById("linli-lang").textContent = t("other");
    input.placeholder = t("placeholder");
    setState(state);
    var hello = document.getElementById("linli-hello");
    if (hello) hello.textContent = t("hello");
  }
  function setState(value) {
    state = value;
    var el = document.getElementById("linli-status");
    el.dataset.state = value;
    el.textContent = t(value);
  }
  document.getElementById("linli-lang").addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem(STORE + "lang", lang);
    applyLang();
  });

  // ---------------------------------------------------------------- rendering
  function scroll() { list.scrollTop = list.scrollHeight; }
  function addMessage(from, text, extra) {
    extra = extra || {};
    removeTyping();
    var li = document.createElement("li");
    li.className = "msg " + from + (extra.pending ? " pending" : "");
    li.textContent = text || "";
    if (extra.image) {
      var img = document.createElement("img");
      img.src = extra.image; img.alt = "";
      li.appendChild(img);
    }
    if (extra.buttons && extra.buttons.length) {
      var box = document.createElement("div");
      box.className = "buttons";
      extra.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () {
          box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          send(b.payload, b.title);
        });
        box.appendChild(button);
      });
      li.appendChild(box);
    }
    list.appendChild(li);
    scroll();
    return li;
  }
  function showHello() {
    var li = addMessage("bot", t("hello"));
    li.id = "linli-hello";
  }
  function showTyping() {
    removeTyping();
    var li = document.createElement("li");
    li.className = "msg bot typing";
    li.id = "linli-typing";
    li.textContent = t("typing");
    list.appendChild(li);
    scroll();
  }
  function removeTyping() {
    var el = document.getElementById("linli-typing");
    if (el) el.remove();
  }

  // ---------------------------------------------------------------- state
  // The server issues and signs the session; the token is what proves it (never the bare id).
  var sessionToken = localStorage.getItem(STORE + "token");
  var sessionId = null;
  localStorage.removeItem(STORE + "session");  // unsigned ids of older versions are not accepted
  function outbox() { return JSON.parse(localStorage.getItem(STORE + "outbox") || "[]"); }
  function saveOutbox(items) { localStorage.setItem(STORE + "outbox", JSON.stringify(items)); }

  var socket = io(location.origin, {
    path: root.dataset.socketPath || "/socket.io",
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000
  });
  var ready = false;
  var connects = 0;

  socket.on("connect", function () {
    ready = false;
    connects += 1;
    socket.emit("session_request", { session_token: sessionToken });
  });
  socket.on("session_token", function (data) {
    if (data && data.session_token) {
      sessionToken = data.session_token;
      localStorage.setItem(STORE + "token", sessionToken);
    }
  });
  socket.on("session_confirm", function (data) {
    var id = typeof data === "string" ? data : (data && data.session_id);
    if (id) sessionId = id;
    loadHistory().then(function () {
      ready = true;
      setState("online");
      flushOutbox();
    });
  });
  socket.on("disconnect", function () { ready = false; setState("offline"); });
  socket.io.on("reconnect_attempt", function () { setState("offline"); });
  socket.on("bot_uttered", function (message) {
    addMessage("bot", message.text, { buttons: message.quick_replies || message.buttons, image: message.attachment && message.attachment.payload && message.attachment.payload.src });
  });

  function loadHistory() {
    if (!sessionToken) { list.innerHTML = ""; showHello(); return Promise.resolve(); }
    return fetch("/chat/history", { cache: "no-store", credentials: "omit",
                                    headers: { "Authorization": "Bearer " + sessionToken } })
      .then(function (r) { return r.ok ? r.json() : { messages: null }; })
      .then(function (data) {
        if (!data.messages) return;  // keep what is on screen if the server cannot answer
        list.innerHTML = "";
        showHello();
        data.messages.forEach(function (m) {
          addMessage(m.from, m.text, { buttons: m.from === "bot" ? m.buttons : null, image: m.image });
        });
        outbox().forEach(function (m) { addMessage("user", m.title || m.text, { pending: true }); });
      })
      .catch(function () { /* offline: the next reconnect retries */ });
  }

  function emit(item) {
    socket.emit("user_uttered", {
      message: item.text,
      metadata: { language: lang, button_title: item.title || null }
    });
  }
  function flushOutbox() {
    var items = outbox();
    saveOutbox([]);
    list.querySelectorAll(".msg.pending").forEach(function (el) { el.classList.remove("pending"); });
    items.forEach(emit);
    if (items.length) showTyping();
  }
  function send(text, title) {
    var item = { text: text, title: title || null };
    if (ready && socket.connected) {
      addMessage("user", title || text);
      emit(item);
      showTyping();
    } else {
      saveOutbox(outbox().concat([item]));  // sent after the next reconnect
      addMessage("user", title || text, { pending: true });
    }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  applyLang();
  window.linliChat = { socket: socket, session: function () { return sessionId; }, ready: function () { return ready; },
                      connects: function () { return connects; } };
})();
