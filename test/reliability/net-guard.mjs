// Preloaded with `node --import` by test/reliability/security.test.ts: every way a Node process can
// open a socket or resolve a name is wrapped to append one JSON line to $RECSYS_NET_LOG and then
// refuse, so a test can assert that a run touched no network at all (and a control run that it did).
import { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import dgram from 'node:dgram';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

const log = process.env.RECSYS_NET_LOG;

function record(kind, args) {
  let target;
  try {
    target = JSON.stringify(args, (_k, v) => (typeof v === 'function' ? undefined : v))?.slice(0, 300);
  } catch {
    target = String(args[0]);
  }
  if (log) appendFileSync(log, JSON.stringify({ kind, target, pid: process.pid }) + '\n');
  const err = new Error(`network access blocked by the test guard (${kind})`);
  err.code = 'ECONNREFUSED';
  return err;
}

/** A Unix domain socket / named pipe (local IPC, e.g. tsx's loader pipe), not the network. */
function ipcPath(args) {
  const a = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof a === 'string') return a;
  return typeof a === 'object' && a !== null && typeof a.path === 'string' ? a.path : undefined;
}

function block(obj, name, kind) {
  const original = obj[name];
  if (typeof original !== 'function') return;
  obj[name] = function guarded(...args) {
    const ipc = kind.startsWith('net.') ? ipcPath(args) : undefined;
    if (ipc !== undefined) {
      if (log) appendFileSync(log, JSON.stringify({ kind: 'ipc', target: ipc, pid: process.pid }) + '\n');
      return original.apply(this, args);
    }
    throw record(kind, args);
  };
}

block(net.Socket.prototype, 'connect', 'net.Socket.connect');
block(net, 'connect', 'net.connect');
block(net, 'createConnection', 'net.createConnection');
block(tls, 'connect', 'tls.connect');
block(dgram, 'createSocket', 'dgram.createSocket');
block(dns, 'lookup', 'dns.lookup');
block(dns, 'resolve', 'dns.resolve');
block(dns.promises, 'lookup', 'dns.promises.lookup');
block(http, 'request', 'http.request');
block(http, 'get', 'http.get');
block(https, 'request', 'https.request');
block(https, 'get', 'https.get');
if (typeof globalThis.fetch === 'function') {
  globalThis.fetch = async (...args) => {
    throw record('fetch', [String(args[0]?.url ?? args[0])]);
  };
}
syncBuiltinESMExports();
