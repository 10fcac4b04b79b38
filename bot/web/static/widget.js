/* Linli embeddable chat: <script src="https://YOUR-LINLI-HOST/chat/widget.js" data-lang="zh" async></script>
 * Adds a floating button that opens the Linli chat page in an iframe. The chat
 * keeps its conversation in the Linli origin's storage, so it survives reloads
 * of the host page. Optional attributes: data-lang="zh|en", data-position="left|right". */
(function () {
  "use strict";
  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) if (/\/chat\/widget\.js/.test(all[i].src)) return all[i];
  })();
  if (!script || window.__linliWidget) return;
  window.__linliWidget = true;
  var base = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || "";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";
  var zh = (lang || navigator.language || "zh").toLowerCase().indexOf("zh") === 0;

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = zh ? "💬 物业助手" : "💬 Ask Linli";
  button.setAttribute("aria-label", zh ? "打开物业助手" : "Open the Linli chat");
  button.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;border:0;border-radius:24px;" +
    "padding:12px 18px;background:#1f7a5c;color:#fff;font:15px sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.2);cursor:pointer";

  var frame = document.createElement("iframe");
  frame.title = "Linli chat";
  frame.src = base + "/chat?embed=1" + (lang ? "&lang=" + encodeURIComponent(lang) : "");
  frame.style.cssText = "position:fixed;bottom:80px;" + side + ":20px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);" +
    "height:560px;max-height:calc(100vh - 100px);border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:none;background:#fff";

  button.addEventListener("click", function () {
    frame.style.display = frame.style.display === "none" ? "block" : "none";
  });
  function mount() { document.body.appendChild(frame); document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
