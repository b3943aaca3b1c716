// SPDX-License-Identifier: Apache-2.0
#include "chat_page.h"

namespace kefu::webchat {
namespace {

std::string escapeHtml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Messages are added with textContent, never innerHTML: what the bot, an agent or the
// customer wrote cannot become markup.
const char* kPage = R"HTML(<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
  body { margin: 0; font-family: sans-serif; background: #f3f5f8; }
  main { max-width: 640px; margin: 0 auto; height: 100vh; display: flex;
         flex-direction: column; background: #fff; }
  h1 { font-size: 18px; margin: 0; padding: 12px 16px; background: #1f5fa8; color: #fff; }
  #log { flex: 1; overflow-y: auto; padding: 12px 16px; }
  .m { margin: 6px 0; padding: 8px 12px; border-radius: 8px; max-width: 80%;
       white-space: pre-wrap; word-break: break-word; }
  .customer { background: #d7e8ff; margin-left: auto; }
  .bot, .agent { background: #eef0f3; }
  .agent { border-left: 3px solid #1f5fa8; }
  .system { color: #777; font-size: 13px; text-align: center; max-width: none; }
  form { display: flex; border-top: 1px solid #ddd; }
  input { flex: 1; font-size: 16px; padding: 12px; border: 0; }
  button { font-size: 16px; padding: 0 20px; border: 0; background: #1f5fa8; color: #fff; }
</style>
</head>
<body>
<main>
  <h1>@TITLE@</h1>
  <div id="log" aria-live="polite"></div>
  <form id="f"><input id="text" autocomplete="off" maxlength="500" placeholder="请输入您的问题"
    aria-label="message"><button id="send" type="submit">发送</button></form>
</main>
<script>
(function () {
  var log = document.getElementById('log');
  var input = document.getElementById('text');
  var ws = null;
  function add(kind, text) {
    var d = document.createElement('div');
    d.className = 'm ' + kind;
    d.setAttribute('data-kind', kind);
    d.textContent = text;
    log.appendChild(d);
    log.scrollTop = log.scrollHeight;
  }
  function connect(socketPath) {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    ws = new WebSocket(scheme + location.host + socketPath);
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === 'bot') add('bot', m.text);
      else if (m.type === 'agent') add('agent', m.text);
      else if (m.type === 'queued') add('system', '已为您排队，请稍候');
      else if (m.type === 'ready') document.body.setAttribute('data-session', m.session);
      else if (m.text) add('system', m.text);
      if (m.type === 'ended') ws.close();  // the server leaves closing to the page
    };
    ws.onclose = function () { add('system', '连接已断开'); };
  }
  fetch('/chat/session', { method: 'POST' }).then(function (r) {
    if (!r.ok) throw new Error('HTTP ' + r.status);
    return r.json();
  }).then(function (s) {
    add('bot', s.welcome);
    connect(s.socket);
  }).catch(function (e) { add('system', '暂时无法连接客服：' + e.message); });
  document.getElementById('f').addEventListener('submit', function (e) {
    e.preventDefault();
    var t = input.value.trim();
    if (!t || !ws || ws.readyState !== 1) return;
    add('customer', t);
    ws.send(JSON.stringify({ type: 'message', text: t }));
    input.value = '';
  });
})();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string chatPage(const std::string& title) {
  std::string page = kPage, t = escapeHtml(title);
  for (size_t at = page.find("@TITLE@"); at != std::string::npos;
       at = page.find("@TITLE@", at + t.size())) {
    page.replace(at, 7, t);
  }
  return page;
}

}  // namespace kefu::webchat
