#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# End to end in headless Chromium: a customer opens the chat page that `kefu serve` hosts,
# the FAQ bot answers a question it knows, hands a question it does not know to the chat
# queue, the router gives the contact to the signed-in agent, the agent reads the bot's
# transcript by contact id and replies, and the reply appears on the customer's page.
#
#   webchat_chromium.py KEFU_BINARY DEPLOY_TOML
#
# Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe): no
# debugging port is opened. Exit 0 passed, 1 failed, 77 skipped (no Chromium).
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Kefu:
    def __init__(self, binary, config, data):
        self.binary, self.config, self.data = binary, config, data
        self.proc = None
        self.port = 0

    def add_user(self, uid, role, password):
        subprocess.run([self.binary, "user", "add", "--config", self.config, "--data-dir",
                        self.data, "--id", uid, "--role", role, "--password-stdin"],
                       input=password + "\n", text=True, check=True, capture_output=True)

    def start(self):
        self.log = open(os.path.join(self.data, "serve.out"), "w+")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config,
                                      "--data-dir", self.data], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            self.log.flush()
            with open(self.log.name) as f:
                m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(self.log.name) as f:
            fail("kefu serve did not start:\n" + f.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def call(self, method, path, body=None, token=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     method=method,
                                     data=None if body is None else json.dumps(body).encode())
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


class Chromium:
    """The DevTools protocol over --remote-debugging-pipe: NUL-terminated JSON messages."""

    def __init__(self, exe, profile):
        r_in, w_in = os.pipe()    # we write commands -> chromium reads fd 3
        r_out, w_out = os.pipe()  # chromium writes fd 4 -> we read
        if min(r_in, w_in) < 3:
            fail("standard descriptors must be open")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--user-data-dir=" + profile, "--no-first-run",
             "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             # Only loopback resolves: the page must need nothing from the network.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            # The child gets the pipe ends as fds 3 and 4 (dup2 in preexec_fn); pass_fds
            # keeps those two numbers open when the other descriptors are closed.
            pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(profile, "chromium.log"), "w"),
            preexec_fn=lambda: (os.dup2(r_in, 3), os.dup2(w_out, 4)))
        os.close(r_in)
        os.close(w_out)
        self.w = os.fdopen(w_in, "wb", buffering=0)
        self.r = os.fdopen(r_out, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = self.r.read(65536)
                if not chunk:
                    fail("Chromium closed the DevTools pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})

    def close(self):
        try:
            self.send("Browser.close")
        except SystemExit:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    kefu_bin, deploy = sys.argv[1], sys.argv[2]
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("SKIPPED: no chromium (install Debian's chromium package)")
        return SKIP
    work = tempfile.mkdtemp(prefix="kefu-webchat-e2e-")
    kefu = Kefu(kefu_bin, deploy, work)
    browser = None
    try:
        kefu.add_user("wang", "agent", "agent-password-1")
        kefu.start()
        st, login = kefu.call("POST", "/api/v1/auth/login",
                              {"id": "wang", "password": "agent-password-1"})
        if st != 200:
            fail("agent login: %s %s" % (st, login))
        token = login["token"]
        for action in ("sign-in", "ready"):
            st, body = kefu.call("POST", "/api/v1/agents/wang/" + action, {}, token)
            if st != 200:
                fail("agent %s: %s %s" % (action, st, body))

        profile = os.path.join(work, "chromium")
        os.makedirs(profile)
        browser = Chromium(exe, profile)
        target = browser.send("Target.createTarget",
                              {"url": "http://127.0.0.1:%d/chat" % kefu.port})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]

        def js(expr):
            r = browser.send("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                             session)
            return r.get("result", {}).get("value")

        def wait_for(expr, what, timeout=15):
            deadline = time.time() + timeout
            while time.time() < deadline:
                v = js(expr)
                if v:
                    return v
                time.sleep(0.1)
            fail("timed out waiting for " + what + "; page log: " +
                 str(js("document.getElementById('log') && "
                        "document.getElementById('log').innerText")))

        def say(text):
            # Typed into the input and sent with the page's own button.
            js("document.getElementById('text').focus()")
            browser.send("Input.insertText", {"text": text}, session)
            js("document.getElementById('send').click()")

        def lines(kind):
            return ("Array.from(document.querySelectorAll('[data-kind=%s]'))"
                    ".map(function (e) { return e.textContent; })" % kind)

        dialog = wait_for("document.body.getAttribute('data-session')", "the chat session")
        say("理赔需要准备哪些材料？")
        answer = wait_for(lines("bot") + ".filter(function (t) { return t.indexOf('保单号')"
                          " >= 0; })[0]", "the bot's answer")
        print("bot answered: " + answer)

        say("我的保单号P2026123456被冻结了怎么解冻")
        wait_for(lines("system") + ".filter(function (t) { return t.indexOf('排队') >= 0 ||"
                 " t.indexOf('已接入') >= 0; })[0]", "the hand-off")
        contact = "c-" + dialog
        deadline = time.time() + 10
        while True:
            st, rec = kefu.call("GET", "/api/v1/contacts/" + contact, token=token)
            if st == 200 and rec.get("agent") == "wang":
                break
            if time.time() > deadline:
                fail("contact %s not assigned to wang: %s %s" % (contact, st, rec))
            time.sleep(0.1)
        print("contact %s is with agent wang" % contact)

        st, d = kefu.call("GET", "/api/v1/bot/contacts/%s/dialog" % contact, token=token)
        if st != 200:
            fail("transcript: %s %s" % (st, d))
        said = [t["text"] for t in d["transcript"] if t["speaker"] == "customer"]
        if said[:2] != ["理赔需要准备哪些材料？", "我的保单号P2026123456被冻结了怎么解冻"]:
            fail("the transcript does not carry the customer's questions: %s" % said)
        if not any(t["kind"] == "answer" for t in d["transcript"]):
            fail("the transcript lacks the bot's answer: %s" % d["transcript"])
        print("the agent sees %d transcript lines" % len(d["transcript"]))

        st, body = kefu.call("POST", "/api/v1/webchat/contacts/%s/messages" % contact,
                             {"text": "您好，我是客服小王，马上为您处理解冻。"}, token)
        if st != 201:
            fail("agent message: %s %s" % (st, body))
        reply = wait_for(lines("agent") + "[0]", "the agent's reply on the page")
        if "小王" not in reply:
            fail("unexpected agent line: " + reply)
        print("customer sees the agent: " + reply)
        print("PASSED")
        return 0
    finally:
        if browser:
            browser.close()
        kefu.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
