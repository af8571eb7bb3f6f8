// Drives an IMAP server with imapflow (an independent IMAP client) and prints what it saw as
// one JSON object. Usage: node imapflow-session.js SCENARIO PORT CA_FILE USER PASSWORD
//   read:  the mailbox list, then every INBOX message: UID, flags, envelope, body structure
//          (attachments with their file names), and the source parsed by mailparser.
//   edit:  creates "Projects/2026", appends a message there with \Seen and a keyword, copies
//          INBOX message 1 there, flags it, moves it back to INBOX; prints the UIDs involved.
//   idle:  selects INBOX, prints {"ready":true} on a line of its own, and waits (IDLE) for the
//          next new message: prints its UID and subject.
//   condstore: with QRESYNC on, selects INBOX (HIGHESTMODSEQ), flags message 1, fetches what
//          changed since, deletes message 2 (VANISHED); prints the mod-sequences and events.
'use strict';
const fs = require('fs');
const { ImapFlow } = require('imapflow');
const { simpleParser } = require('mailparser');

const [scenario, port, ca, user, pass] = process.argv.slice(2);

function attachments(node, out) {
  if (!node) return out;
  if (node.childNodes) for (const c of node.childNodes) attachments(c, out);
  else if (node.disposition === 'attachment' || (node.dispositionParameters && node.dispositionParameters.filename))
    out.push({ part: node.part, type: node.type, filename: (node.dispositionParameters || {}).filename || (node.parameters || {}).name });
  return out;
}

(async () => {
  const client = new ImapFlow({
    host: 'localhost', port: Number(port), secure: true, tls: { ca: [fs.readFileSync(ca)] },
    auth: { user, pass }, logger: false, disableAutoIdle: scenario !== 'idle', qresync: scenario === 'condstore',
  });
  await client.connect();
  const result = { capabilities: [...client.capabilities.keys()] };
  if (scenario === 'read') {
    result.mailboxes = (await client.list()).map((m) => ({ path: m.path, specialUse: m.specialUse || null, flags: [...m.flags] }));
    const lock = await client.getMailboxLock('INBOX');
    try {
      result.exists = client.mailbox.exists;
      result.uidValidity = String(client.mailbox.uidValidity);
      result.messages = [];
      for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, size: true })) {
        const parsed = await simpleParser(m.source);
        result.messages.push({
          uid: m.uid, flags: [...m.flags], size: m.size, sourceLength: m.source.length,
          subject: m.envelope.subject, from: m.envelope.from.map((a) => a.address), to: m.envelope.to.map((a) => a.address),
          messageId: m.envelope.messageId || null,
          attachments: attachments(m.bodyStructure, []),
          parsed: { subject: parsed.subject, text: parsed.text, attachments: parsed.attachments.map((a) => ({ filename: a.filename, size: a.size })) },
        });
      }
    } finally {
      lock.release();
    }
  } else if (scenario === 'edit') {
    await client.mailboxCreate('Projects/2026');
    const appended = await client.append('Projects/2026', 'From: carol@example.net\r\nTo: alice@example.com\r\nSubject: appended by imapflow\r\n\r\nkept\r\n',
      ['\\Seen', 'Work']);
    result.appended = { uid: appended.uid, uidValidity: String(appended.uidValidity) };
    const lock = await client.getMailboxLock('INBOX');
    try {
      const copied = await client.messageCopy('1', 'Projects/2026');
      result.copied = copied ? Object.fromEntries([...copied.uidMap.entries()].map(([a, b]) => [String(a), b])) : null;
    } finally {
      lock.release();
    }
    const lock2 = await client.getMailboxLock('Projects/2026');
    try {
      const uids = await client.search({ all: true }, { uid: true });
      result.projectUids = uids;
      await client.messageFlagsAdd({ uid: uids[uids.length - 1] }, ['\\Flagged'], { uid: true });
      result.flagged = await client.search({ flagged: true }, { uid: true });
      result.seen = await client.search({ seen: true }, { uid: true });
      result.keyword = await client.search({ keyword: 'Work' }, { uid: true });
      const moved = await client.messageMove({ uid: uids[uids.length - 1] }, 'INBOX', { uid: true });
      result.moved = moved ? Object.fromEntries([...moved.uidMap.entries()].map(([a, b]) => [String(a), b])) : null;
      result.left = client.mailbox.exists;
    } finally {
      lock2.release();
    }
  } else if (scenario === 'condstore') {
    const expunges = [];
    client.on('expunge', (e) => expunges.push({ seq: e.seq || null, uid: e.uid || null, vanished: !!e.vanished }));
    const lock = await client.getMailboxLock('INBOX');
    try {
      result.uidValidity = String(client.mailbox.uidValidity);
      result.highestModseq = String(client.mailbox.highestModseq);
      const all = await client.search({ all: true }, { uid: true });
      result.uids = all;
      await client.messageFlagsAdd({ uid: all[0] }, ['\\Flagged'], { uid: true });
      result.changed = [];
      for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: client.mailbox.highestModseq === undefined ? 1n : BigInt(result.highestModseq) }))
        result.changed.push({ uid: m.uid, flags: [...m.flags], modseq: String(m.modseq) });
      await client.messageDelete({ uid: all[1] }, { uid: true });
      await client.noop();
      result.expunges = expunges;
      result.highestAfter = String(client.mailbox.highestModseq);
    } finally {
      lock.release();
    }
  } else if (scenario === 'idle') {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const before = client.mailbox.exists;
      const arrived = new Promise((resolve) => client.on('exists', (d) => { if (d.count > before) resolve(d); }));
      process.stdout.write(JSON.stringify({ ready: true }) + '\n');
      const d = await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no EXISTS in 30 s')), 30000))]);
      const m = await client.fetchOne(String(d.count), { uid: true, envelope: true });
      result.newMessage = { uid: m.uid, subject: m.envelope.subject };
    } finally {
      lock.release();
    }
  }
  await client.logout();
  process.stdout.write(JSON.stringify(result) + '\n');
})().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.message || e), response: e && e.response }) + '\n');
  process.exit(1);
});
