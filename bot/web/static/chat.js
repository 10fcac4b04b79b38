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
  var photoInput = document.getElementById("linli-photo");
  var photoButton = document.getElementById("linli-photo-button");
  var params = new URLSearchParams(location.search);
  if (params.get("embed")) document.body.classList.add("embed");

  var TEXT = {
    zh: { title: "邻里小助手", send: "发送", placeholder: "请输入您的问题，例如：厨房水管漏水",
          online: "在线", offline: "连接中断，正在重连…", connecting: "连接中…", other: "EN",
          hello: "您好！我是邻里小助手，可以帮您报修、查询工单、投诉建议或解答物业问题。", typing: "正在输入…",
          photo: "发送照片", photo_failed: "照片没有发送成功，请稍后再试。",
          too_large: "照片太大了，请换一张小一些的照片。",
          unsupported_type: "只能发送 JPG、PNG、GIF 或 WebP 格式的照片。", empty: "没有收到照片，请重新选择。",
          too_many: "照片发送太频繁，请稍后再试。" },
    en: { title: "Linli assistant", send: "Send", placeholder: "Type your question, e.g. the kitchen pipe is leaking",
          online: "online", offline: "connection lost, reconnecting…", connecting: "connecting…", other: "中文",
          hello: "Hello! I'm Linli. I can file repair requests, check tickets, take complaints and answer questions.",
          typing: "typing…", photo: "Send a photo", photo_failed: "The photo could not be sent; please try again later.",
          too_large: "The photo is too large; please choose a smaller one.",
          unsupported_type: "Please send a JPG, PNG, GIF or WebP photo.", empty: "No photo was received; please choose it again.",
          too_many: "Too many photos at once; please try again later." }
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
    photoButton.title = t("photo");
    photoButton.setAttribute("aria-label", t("photo"));
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
  // A photo the resident sent: shown from the server once stored (the signed /chat/media URL).
  function addPhoto(src, pending) {
    removeTyping();
    var li = document.createElement("li");
    li.className = "msg user photo" + (pending ? " pending" : "");
    var img = document.createElement("img");
    img.src = src; img.alt = t("photo");
    li.appendChild(img);
    list.appendChild(li);
    img.addEventListener("load", scroll);
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

  function authorised(path) {
    return fetch(path, { cache: "no-store", credentials: "omit", headers: { "Authorization": "Bearer " + sessionToken } });
  }
  function loadHistory() {
    if (!sessionToken) { list.innerHTML = ""; showHello(); return Promise.resolve(); }
    var photos = authorised("/chat/photos")
      .then(function (r) { return r.ok ? r.json() : { photos: [] }; })
      .catch(function () { return { photos: [] }; });
    return Promise.all([authorised("/chat/history").then(function (r) { return r.ok ? r.json() : { messages: null }; }), photos])
      .then(function (answers) {
        var data = answers[0];
        if (!data.messages) return;  // keep what is on screen if the server cannot answer
        list.innerHTML = "";
        showHello();
        // Photos are not conversation events: merged in by time.
        var items = data.messages.map(function (m) { return { ts: m.ts || 0, message: m }; })
          .concat((answers[1].photos || []).map(function (p) { return { ts: p.ts || 0, photo: p }; }));
        items.sort(function (a, b) { return a.ts - b.ts; });
        items.forEach(function (item) {
          if (item.photo) { addPhoto(item.photo.url, false).dataset.media = item.photo.id; return; }
          var m = item.message;
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
  // ---------------------------------------------------------------- photos
  // Uploaded to /chat/photo (the session token proves who sends it); the server attaches it to the
  // open repair ticket, or keeps it and starts a repair report whose questions arrive on the socket.
  function sendPhoto(file) {
    var preview = URL.createObjectURL(file);
    var li = addPhoto(preview, true);
    photoButton.disabled = true;
    function failed(code) {
      li.remove();
      addMessage("bot", t(TEXT[lang][code] ? code : "photo_failed"), {}).classList.add("error");
    }
    fetch("/chat/photo?lang=" + lang, {
      method: "POST", body: file, cache: "no-store", credentials: "omit",
      headers: { "Authorization": "Bearer " + sessionToken, "Content-Type": file.type || "application/octet-stream" }
    })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (answer) {
        if (!answer.ok || !answer.data.media) { failed(answer.data.error); return; }
        li.classList.remove("pending");
        li.dataset.media = answer.data.media.id;
        li.querySelector("img").src = answer.data.media.url;  // the stored copy, as after a reload
        if (answer.data.text) addMessage("bot", answer.data.text);
        if (answer.data.pending) showTyping();  // the repair report's first question follows
      })
      .catch(function () { failed("photo_failed"); })
      .then(function () { photoButton.disabled = false; setTimeout(function () { URL.revokeObjectURL(preview); }, 1000); });
  }
  photoButton.addEventListener("click", function () { photoInput.click(); });
  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    if (!file) return;
    if (!sessionToken || !ready) { addMessage("bot", t("photo_failed")).classList.add("error"); photoInput.value = ""; return; }
    sendPhoto(file);
    photoInput.value = "";  // the same photo can be chosen again
  });

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
