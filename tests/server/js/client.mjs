// The official JavaScript Socket.IO client against a real Convex server (tests/server/test_js_client.py).
//
// Reads one JSON object on stdin:
//   {"url", "host": {"username", "password"}, "guest": {"username", "password"},
//    "plan": {...}, "frames": {"host": [hex, ...], "guest": [hex, ...]}}
// Both people log in over HTTP with fetch, connect with auth {token} over WebSocket only; the
// host creates a room, the guest tries an unknown room and then joins the real one, the host
// starts it, both send their binary face frames, and both wait for a `frames` batch (the Python
// test ticks the server meanwhile). Prints one JSON object with what was seen on stdout and
// exits 0; on any failure or after DEADLINE_MS prints what it has to stderr and exits 1.

import { io } from "socket.io-client";

const DEADLINE_MS = 15000; // the whole script; the Python test waits a little longer
const STEP_MS = 5000; // one awaited event or ack

const seen = { steps: [] };

function fail(why) {
  process.stderr.write(`client.mjs: ${why}\n${JSON.stringify(seen)}\n`);
  process.exit(1);
}

const deadline = setTimeout(() => fail(`no result within ${DEADLINE_MS} ms`), DEADLINE_MS);

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function login(url, { username, password }) {
  const r = await fetch(`${url}/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`login ${username}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}

// Every event a socket receives, in order, so a wait can look at what already arrived.
function record(socket, events) {
  const log = [];
  const waiters = [];
  for (const name of events) {
    socket.on(name, (data) => {
      const entry = { name, data };
      log.push(entry);
      for (const w of [...waiters]) {
        if (w.name === name && w.test(data)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(data);
        }
      }
    });
  }
  function waitFor(name, test = () => true, after = 0) {
    const found = log.slice(after).find((e) => e.name === name && test(e.data));
    if (found) return Promise.resolve(found.data);
    return new Promise((resolve, reject) => {
      const w = { name, test, resolve };
      waiters.push(w);
      setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) {
          waiters.splice(i, 1);
          reject(new Error(`no ${name} within ${STEP_MS} ms`));
        }
      }, STEP_MS);
    });
  }
  return { log, waitFor };
}

// A connection the server refuses: resolves with the connect_error's message and data.
function refused(url, options) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ["websocket"], reconnection: false, ...options });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no connect_error within ${STEP_MS} ms`));
    }, STEP_MS);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.close();
      reject(new Error("the server accepted a connection it should refuse"));
    });
    socket.on("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      resolve({ message: err.message, data: err.data ?? null });
    });
  });
}

function connected(url, token) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
    const timer = setTimeout(() => reject(new Error(`no connect within ${STEP_MS} ms`)), STEP_MS);
    socket.on("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.on("connect_error", (err) => {
      clearTimeout(timer);
      reject(new Error(`connect refused: ${err.message} ${JSON.stringify(err.data ?? null)}`));
    });
  });
}

// The binary packet as the socket handed it over (Buffer in Node), as hex, plus its JS type.
function binary(data) {
  const kind = Buffer.isBuffer(data) ? "Buffer" : data?.constructor?.name ?? typeof data;
  return { kind, hex: Buffer.from(data).toString("hex") };
}

const EVENTS = ["room:state", "timer", "battle", "room:results", "frames", "error"];

async function main() {
  const config = await readStdin();
  const { url } = config;
  const step = (s) => seen.steps.push(s);

  seen.no_token = await refused(url, {});
  seen.bad_token = await refused(url, { auth: { token: "not-a-valid-token-at-all" } });
  step("refused");

  const hostAuth = await login(url, config.host);
  const guestAuth = await login(url, config.guest);
  seen.login = { host: hostAuth.username, guest: guestAuth.username };
  step("logged in");

  const host = await connected(url, hostAuth.token);
  const guest = await connected(url, guestAuth.token);
  const hostSeen = record(host, EVENTS);
  const guestSeen = record(guest, EVENTS);
  seen.transport = guest.io.engine.transport.name;
  step("connected");

  seen.create_ack = await host.timeout(STEP_MS).emitWithAck("room:create", {
    name: "JS study group",
    subject: "interop",
    plan: config.plan,
  });
  const roomId = seen.create_ack.room_id;
  step("created");

  seen.unknown_join_ack = await guest
    .timeout(STEP_MS)
    .emitWithAck("room:join", { room_id: "NOSUCHROOM" });
  seen.unknown_join_error = await guestSeen.waitFor("error");
  step("unknown room refused");

  const mark = guestSeen.log.length;
  seen.join_ack = await guest.timeout(STEP_MS).emitWithAck("room:join", { room_id: roomId });
  seen.join_state = await guestSeen.waitFor("room:state", (d) => d.members?.length === 2, mark);
  seen.join_timer = await guestSeen.waitFor("timer", () => true, mark);
  step("joined");

  seen.start_ack = await host.timeout(STEP_MS).emitWithAck("room:start");
  const isFocus = (d) => d.phase === "focus";
  seen.focus_timer = await guestSeen.waitFor("timer", isFocus);
  seen.focus_timer_types = {
    end_time: typeof seen.focus_timer.end_time,
    server_time: typeof seen.focus_timer.server_time,
    safe_integers:
      Number.isSafeInteger(seen.focus_timer.end_time) &&
      Number.isSafeInteger(seen.focus_timer.server_time),
  };
  step("started");

  // Frames go out unacknowledged, as a real client sends them; any refusal comes as `error`.
  for (let i = 0; i < config.frames.host.length; i++) {
    host.emit("frame", Buffer.from(config.frames.host[i], "hex"));
    guest.emit("frame", new Uint8Array(Buffer.from(config.frames.guest[i], "hex")));
  }
  const hostLast = config.frames.host.at(-1);
  const guestLast = config.frames.guest.at(-1);
  // Wait until each side has been relayed the other's last frame (entries are slot + frame).
  const carries = (hex) => (data) => Buffer.from(data).toString("hex").includes(hex);
  await guestSeen.waitFor("frames", carries(hostLast));
  await hostSeen.waitFor("frames", carries(guestLast));
  step("frames relayed");

  const batches = (s) => s.log.filter((e) => e.name === "frames").map((e) => binary(e.data));
  seen.guest_batches = batches(guestSeen);
  seen.host_batches = batches(hostSeen);
  seen.guest_errors = guestSeen.log.filter((e) => e.name === "error").map((e) => e.data);
  seen.host_errors = hostSeen.log.filter((e) => e.name === "error").map((e) => e.data);
  seen.guest_events = guestSeen.log.map((e) => e.name);
  seen.last_state = guestSeen.log.filter((e) => e.name === "room:state").at(-1).data;

  host.disconnect();
  guest.disconnect();
  clearTimeout(deadline);
  process.stdout.write(`${JSON.stringify(seen)}\n`);
  process.exit(0);
}

main().catch((err) => fail(err?.stack ?? String(err)));
