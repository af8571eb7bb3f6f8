// Prints, as one JSON object keyed by file name, what the mailparser peer reads from each .eml
// given on the command line: subject, from, to, cc, text, html presence, attachments.
'use strict';
const fs = require('fs');
const path = require('path');
const { simpleParser } = require('mailparser');

function addresses(a) {
  if (!a) return [];
  const list = Array.isArray(a) ? a : [a];
  const out = [];
  for (const x of list) for (const v of x.value || []) {
    if (v.group && v.group.length === 0 && v.name) out.push({ name: v.name, address: '' });  // "Name:;"
    else if (v.group) for (const g of v.group) out.push({ name: g.name || '', address: g.address || '' });
    else out.push({ name: v.name || '', address: v.address || '' });
  }
  return out;
}

(async () => {
  const result = {};
  for (const file of process.argv.slice(2)) {
    try {
      const m = await simpleParser(fs.readFileSync(file), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
      result[path.basename(file)] = {
        subject: m.subject === undefined ? null : m.subject,
        from: addresses(m.from), to: addresses(m.to), cc: addresses(m.cc),
        text: m.text === undefined ? null : m.text,
        html: typeof m.html === 'string',
        htmlText: typeof m.html === 'string' ? m.html : null,
        messageId: m.messageId || null,
        date: m.date ? m.date.toISOString() : null,
        attachments: (m.attachments || []).map(a => ({ filename: a.filename || null, contentType: a.contentType, size: a.size, related: !!a.related })),
      };
    } catch (e) {
      result[path.basename(file)] = { error: String(e) };
    }
  }
  process.stdout.write(JSON.stringify(result));
})();
